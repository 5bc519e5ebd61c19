"""The shipped ruleset implements the milestone catalogue, and centres cannot weaken it."""

from __future__ import annotations

import re
from pathlib import Path

from syncsvc.core.rules import CentreRules, customise
from syncsvc.inputs.loader import load_ruleset

RULESET = load_ruleset()
CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "domain" / "milestones.md"
"""The milestone catalogue distilled from the seed documents (a copy kept in the repository)."""


def catalogue_rows() -> list[list[str]]:
    rows = []
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("`"):
            rows.append(cells)
    return rows


def catalogue_offset(text: str) -> str:
    match = re.search(r"([+−-]?)(\d+)\s*(years|mo|d)\b", text)
    if match is None:
        return "0d"
    sign, number, unit = match.groups()
    amount = int(number) * (12 if unit == "years" else 1)
    amount = -amount if sign in "−-" and sign else amount
    return f"{amount:+d}{'d' if unit == 'd' else 'mo'}" if amount else f"0{unit}"


def test_every_catalogue_milestone_is_a_rule_with_its_anchor_offset_and_kind() -> None:
    rows = catalogue_rows()
    assert len(rows) == 22
    expected_ids = [row[0].strip("`") for row in rows]
    assert [r for r in RULESET.ids if r != "exam_session"] == expected_ids
    for cells in rows:
        rule = RULESET.rule(cells[0].strip("`"))
        anchor, offset, kind = cells[2], cells[3], cells[4]
        assert rule.kind == kind, rule.id
        if rule.anchor == "fixed":
            assert "30 January" in anchor
            assert rule.fixed_date is not None
            assert (rule.fixed_date.month, rule.fixed_date.day) == (1, 30)
        else:
            assert anchor.startswith(rule.anchor), rule.id
            assert str(rule.offset) == catalogue_offset(offset), rule.id
    transport = RULESET.rule("pv_transmission").transport_offset
    assert transport is not None
    assert str(transport) == "+2d"


def test_every_rule_is_sourced_and_described_in_french() -> None:
    for rule in RULESET.rules:
        assert rule.sources, rule.id
        assert all(s.ref in RULESET.sources for s in rule.sources), rule.id
        assert "À faire" in rule.description, rule.id
        assert rule.reminders, rule.id


def test_checklists_land_under_the_nearest_milestone() -> None:
    assert "inventaire" in RULESET.rule("final_preparation").description
    assert "identité" in RULESET.rule("exam_session").description
    assert "CNI" in RULESET.rule("candidate_info_mail").description or (
        "identité" in RULESET.rule("candidate_info_mail").description
    )


def test_regulatory_offsets_cannot_be_made_later() -> None:
    _, problems = customise(
        RULESET,
        CentreRules.model_validate(
            {
                "overrides": {
                    "dte_order": {"offset": "-80d"},
                    "candidate_convocation": {"offset": "-1mo"},
                    "pv_transmission": {"offset": "+3d", "transport_offset": "+3d"},
                }
            }
        ),
    )
    paths = [p for p, _ in problems]
    assert paths == [
        "overrides.dte_order.offset",
        "overrides.candidate_convocation.offset",
        "overrides.pv_transmission.transport_offset",
    ]


def test_advice_rules_can_be_changed_or_disabled_but_not_regulatory_ones() -> None:
    custom, problems = customise(
        RULESET,
        CentreRules.model_validate(
            {
                "overrides": {"candidate_info_mail": {"offset": "-2d"}, "nope": {"offset": "-1d"}},
                "disable": ["dte_reception_check", "dte_order"],
            }
        ),
    )
    assert [p for p, _ in problems] == ["overrides.nope", "disable"]
    assert str(custom.rule("candidate_info_mail").offset) == "-2d"
    assert "dte_reception_check" not in custom.ids
    assert "dte_order" in custom.ids


def test_a_centre_can_add_its_own_rule() -> None:
    extra = {
        "id": "salle_reservation",
        "title": "Réserver les salles",
        "kind": "advice",
        "audience": ["coordinators"],
        "anchor": "start",
        "offset": "-60d",
    }
    custom, problems = customise(RULESET, CentreRules.model_validate({"extra": [extra]}))
    assert problems == []
    assert custom.ids[-1] == "salle_reservation"
    _, clash = customise(
        RULESET, CentreRules.model_validate({"extra": [{**extra, "id": "dte_order"}]})
    )
    assert [p for p, _ in clash] == ["extra[1].id"]
