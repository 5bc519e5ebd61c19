"""Issue 11, « impossible orders »: ``after`` constraints in the ruleset, held for every session,
and kept (or the override refused) when a centre moves a milestone earlier.

Seen: with the README's own override ``dte_order: {offset: "-100d"}``, « Commander le pli
(DTE) » fell on 26/02/2027, before « Créer la session dans CERES » on 05/03/2027 (the DTE is
ordered in CERES, on the session); and « Pli d'examen reçu ? Sinon contacter… » (15/02) came
before « Réception du pli » (22/02).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from syncsvc.core.dates import HOLIDAY_ZONES, MAX_SHIFT_DAYS
from syncsvc.core.planner import plan_session
from syncsvc.core.rules import CentreRules, Ruleset, customise
from syncsvc.core.rules.ordering import SHIFT_REACH_DAYS
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.harness.factories import centre, session

ROOT = Path(__file__).resolve().parents[2]
RULESET = load_ruleset()
NOW = date(2026, 11, 23)


def due(milestones: list[Any]) -> dict[str, date]:
    return {m.id: m.due for m in milestones}


def test_dwwm_with_the_readme_override_creates_the_session_before_ordering_the_dte() -> None:
    config = load_config(ROOT / "config")
    assert not config.problems
    dwwm = config.sessions["dwwm-2027-06-venissieux"]
    greta = config.centres[dwwm.centre]
    assert str(greta.rules.overrides["dte_order"].offset) == "-100d"
    days = due(plan_session(dwwm, greta, config.rulesets[greta.id], NOW))
    assert days["dte_order"] == date(2027, 2, 26)  # 7 June 2027 - 100 d = Sat 27 Feb -> Fri 26
    # was Fri 5 March (-92 d = Sunday 7 March): now moved with the order, the same 8 days
    assert days["ceres_session_create"] == date(2027, 2, 26)
    assert days["ceres_session_create"] <= days["dte_order"]
    assert str(config.rulesets[greta.id].rule("ceres_session_create").offset) == "-100d"


def test_sa_dte_reception_check_comes_after_the_expected_reception() -> None:
    days = due(plan_session(session(), centre(holiday_zone="974"), RULESET, NOW))
    assert days["dte_reception"] == date(2027, 2, 22)
    assert days["dte_reception_check"] == date(2027, 2, 23)  # was 15/02, before the reception
    assert days["dte_reception_check"] > days["dte_reception"]


def test_the_constraints_of_the_shipped_ruleset() -> None:
    after = {rule.id: rule.after for rule in RULESET.rules if rule.after}
    assert after == {
        "dte_order": ("ceres_session_create",),
        "candidate_convocation": ("candidates_registration",),
        "dte_reception_check": ("dte_reception",),
        "final_preparation": ("dte_reception",),
        "pv_signature": ("results_entry",),
        "ceres_session_close": ("results_entry",),
        "pv_transmission": ("pv_signature",),
    }


def test_an_override_is_refused_when_the_milestone_to_move_is_set_by_the_centre() -> None:
    custom, problems = customise(
        RULESET,
        CentreRules.model_validate(
            {
                "overrides": {
                    "ceres_session_create": {"offset": "-95d"},
                    "dte_order": {"offset": "-100d", "reminders": [21]},
                }
            }
        ),
    )
    assert problems == [
        (
            "overrides.dte_order.offset",
            "-100d placerait « Commander le pli d'examen (DTE) » avant « Créer la session dans "
            "CERES » (-95d, réglée par le centre), or « dte_order » doit venir après "
            "« ceres_session_create » (after: ceres_session_create dans le jeu de règles) "
            "(attendu : pas avant -95d, ou « ceres_session_create » avancée d'autant dans "
            "overrides)",
        )
    ]
    assert str(custom.rule("dte_order").offset) == "-92d"  # the regulatory value stays
    assert custom.rule("dte_order").reminders == (21,)  # the rest of the override applies
    assert str(custom.rule("ceres_session_create").offset) == "-95d"


def test_an_override_in_another_unit_cannot_keep_the_order() -> None:
    custom, problems = customise(
        RULESET,
        CentreRules.model_validate({"overrides": {"dte_reception_check": {"offset": "-1mo"}}}),
    )
    assert [path for path, _ in problems] == ["overrides.dte_reception_check.offset"]
    assert "ne comptent pas dans la même unité" in problems[0][1]
    assert str(custom.rule("dte_reception_check").offset) == "-20d"


def test_moving_a_follower_earlier_moves_its_leaders_by_the_same_margin_transitively() -> None:
    data = RULESET.model_dump()
    for rule in data["rules"]:
        if rule["id"] == "ud_session_declaration":
            rule["after"] = ["dte_order"]
    ruleset = Ruleset.model_validate(data)
    custom, problems = customise(
        ruleset,
        CentreRules.model_validate({"overrides": {"ud_session_declaration": {"offset": "-99d"}}}),
    )
    assert problems == []
    offsets = {r.id: str(r.offset) for r in custom.rules}
    assert offsets["ud_session_declaration"] == "-99d"
    assert offsets["dte_order"] == "-99d"
    assert offsets["ceres_session_create"] == "-99d"


def test_the_loader_reports_a_refused_override_as_one_line(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    (config_dir / "sessions").mkdir(parents=True)
    text = (ROOT / "config" / "centres.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '      dte_order: {offset: "-100d"}',
        '      dte_order: {offset: "-100d"}\n      ceres_session_create: {offset: "-93d"}',
    )
    (config_dir / "centres.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index('      dte_order: {offset: "-100d"}') + 1
    config = load_config(config_dir)
    lines = [str(p) for p in config.problems]
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"{config_dir / 'centres.yaml'}: ligne {line}, "
        "greta-lyon-venissieux.rules.overrides.dte_order.offset: "
        "-100d placerait « Commander le pli d'examen (DTE) » avant « Créer la session dans CERES »"
    ), lines[0]


def _ruleset_with(rule_id: str, **changes: Any) -> dict[str, Any]:
    data = RULESET.model_dump()
    for rule in data["rules"]:
        if rule["id"] == rule_id:
            rule.update(changes)
    return data


@pytest.mark.parametrize(
    ("rule_id", "changes", "message"),
    [
        ("dte_order", {"offset": "-93d"}, "tomberait avant « ceres_session_create »"),
        ("dte_order", {"after": ["nope"]}, "règle « nope » inconnue"),
        ("dte_reception_check", {"offset": "-1mo"}, "pas dans la même unité"),
        ("dte_order", {"after": ["results_entry"]}, "leur ordre ne peut pas être garanti"),
        # the same day, but the creation moved to the next working day and the order to the
        # previous one: a Sunday swaps them
        ("ceres_session_create", {"shift": "next"}, "le report au jour ouvré"),
    ],
)
def test_a_ruleset_whose_order_could_fail_is_refused_at_load(
    rule_id: str, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Ruleset.model_validate(_ruleset_with(rule_id, **changes))


def test_the_shift_reach_is_the_calendar_s() -> None:
    assert SHIFT_REACH_DAYS == MAX_SHIFT_DAYS


@st.composite
def sessions(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
    return {
        "start": start,
        "end": start + timedelta(days=draw(st.integers(min_value=0, max_value=12))),
        "title": {
            "code": "TP-00374",
            "acronym": "SA",
            "label": "SA",
            "transport": draw(st.booleans()),
        },
        "declared_on": None,
    }


CUSTOMS = [
    CentreRules(),
    CentreRules.model_validate({"overrides": {"dte_order": {"offset": "-100d"}}}),
    CentreRules.model_validate({"overrides": {"dte_reception_check": {"offset": "-26d"}}}),
    CentreRules.model_validate({"overrides": {"pv_transmission": {"transport_offset": "+1d"}}}),
]


@given(
    changes=sessions(),
    zone=st.sampled_from(HOLIDAY_ZONES),
    shift=st.booleans(),
    custom=st.sampled_from(CUSTOMS),
)
def test_every_constraint_holds_for_every_session(
    changes: dict[str, Any], zone: str, shift: bool, custom: CentreRules
) -> None:
    ruleset, problems = customise(RULESET, custom)
    assert problems == []
    c = centre(holiday_zone=zone, working_day_shift=shift, candidate_info_mail=True)
    days = due(plan_session(session(**changes), c, ruleset, date(2000, 1, 1)))
    for rule in ruleset.rules:
        for leader in rule.after:
            if rule.id in days and leader in days:
                assert days[leader] <= days[rule.id], (leader, rule.id)


def test_a_centre_s_extra_rule_may_name_others_and_is_refused_when_it_breaks_the_order() -> None:
    extra = {
        "id": "reservation_salle",
        "title": "Réserver la salle d'examen",
        "kind": "advice",
        "audience": ["coordinators"],
        "anchor": "start",
        "offset": "-90d",
        "after": ["ceres_session_create"],
        "condition": {"not_done": "dte_order"},
    }
    custom, problems = customise(RULESET, CentreRules.model_validate({"extra": [extra]}))
    assert problems == []
    assert custom.ids[-1] == "reservation_salle"
    _, early = customise(
        RULESET, CentreRules.model_validate({"extra": [{**extra, "offset": "-95d"}]})
    )
    assert [path for path, _ in early] == ["extra[1]"]
    assert "tomberait avant « ceres_session_create »" in early[0][1]
    _, unknown = customise(
        RULESET, CentreRules.model_validate({"extra": [{**extra, "after": ["salle"]}]})
    )
    assert [path for path, _ in unknown] == ["extra[1]"]
    assert "nomme la règle « salle », inconnue" in unknown[0][1]


def test_an_override_is_refused_when_a_leader_further_up_cannot_move() -> None:
    """candidate_convocation -> candidates_registration moves along -> but the creation in CERES
    (here a minimum duration, shifted forward: it cannot move earlier) would come after it."""
    data = RULESET.model_dump()
    for rule in data["rules"]:
        if rule["id"] == "ceres_session_create":
            rule["shift"] = "next"
        if rule["id"] == "dte_order":
            rule["after"] = []
        if rule["id"] == "candidates_registration":
            rule["after"] = ["ceres_session_create"]
    ruleset = Ruleset.model_validate(data)
    custom, problems = customise(
        ruleset,
        CentreRules.model_validate({"overrides": {"candidate_convocation": {"offset": "-95d"}}}),
    )
    assert [path for path, _ in problems] == ["overrides.candidate_convocation.offset"]
    assert problems[0][1].startswith(
        "-95d avancerait d'autant « Inscrire les candidats sur la session dans CERES », qui doit "
        "la précéder, mais « candidates_registration » doit venir après « ceres_session_create »"
    )
    assert str(custom.rule("candidate_convocation").offset) == "-31d"
    assert str(custom.rule("candidates_registration").offset) == "-31d"
