"""Issue 11, « Every person gets what is true for them »: the checks, each shown by a pair of
session files.

Each test writes two configuration folders in ``tmp_path`` from the factories — one whose session
is clean, one with a single defect — loads them as the service does (YAML files, loader, the one
plan), and asserts that the finding appears in the second only. Messages are read for what a
person must learn from them: what to do, to whom (the centre's own UD, by name and address), and
never a candidate's name or data.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from syncsvc.core.checks import check_session
from syncsvc.core.model import Finding
from syncsvc.core.planner import plan_sessions
from syncsvc.inputs.loader import load_config
from tests.harness.factories import CENTRE, SESSION, write_config

NOW = date(2026, 11, 23)
JURY = [
    *SESSION["jury"],
    {"name": "Yasmina Haddad", "email": "y@jury.example", "habilitation_until": "2030-01-01"},
]
CLEAN: dict[str, Any] = {
    **SESSION,
    "jury": JURY,
    "done": {"agrement_check": date(2026, 7, 1), "agrement_request": date(2026, 9, 1)},
}
"""A session with no finding at NOW: three jurors, so that one bad juror leaves two."""
UD = "ud@ddets.example"
OLD_NAMES = ("Direccte", "DIRECCTE", "DIECCTE", "DRIEETS", "ddcs@", "seine-saint-denis")


def findings_of(folder: Path, session: dict[str, Any], centre: dict[str, Any], now: date) -> Any:
    config = load_config(write_config(folder, [session], centre))
    assert not config.problems, config.problems
    (planned,) = plan_sessions(config, {}, now).planned
    return check_session(planned.session, planned.centre, planned.milestones, now)


class Pair:
    """The findings of the clean file and of the file with the defect."""

    def __init__(self, clean: list[Finding], defect: list[Finding]) -> None:
        self.clean, self.defect = clean, defect

    def only_in_defect(self) -> dict[str, str]:
        """Codes (with severity) found in the second file and not in the first."""
        before = {f.code for f in self.clean}
        return {f.code: f.severity for f in self.defect if f.code not in before}

    def one(self, code: str) -> Finding:
        (found,) = [f for f in self.defect if f.code == code]
        return found


def pair(
    tmp_path: Path,
    defect: dict[str, Any],
    *,
    clean: dict[str, Any] | None = None,
    centre: dict[str, Any] | None = None,
    centre_defect: dict[str, Any] | None = None,
    now: date = NOW,
) -> Pair:
    base = clean or CLEAN
    base_centre = {**CENTRE, **(centre or {})}
    return Pair(
        findings_of(tmp_path / "clean", base, base_centre, now),
        findings_of(
            tmp_path / "defect", {**base, **defect}, {**base_centre, **(centre_defect or {})}, now
        ),
    )


def juror(index: int, **changes: Any) -> list[dict[str, Any]]:
    return [{**j, **changes} if n == index else j for n, j in enumerate(JURY)]


def assert_tells_the_ud(finding: Finding, ud_name: str = "DDETS") -> None:
    assert f"{ud_name} ({UD})" in finding.message, finding.message
    assert not any(word in finding.message for word in OLD_NAMES), finding.message


def test_the_clean_session_has_no_finding(tmp_path: Path) -> None:
    assert findings_of(tmp_path, CLEAN, CENTRE, NOW) == []


# --- 1. title expiry and title version ---------------------------------------------------------


def test_session_created_in_ceres_after_the_title_expiry(tmp_path: Path) -> None:
    title = SESSION["title"]
    found = pair(
        tmp_path,
        {"title": {**title, "expires_on": date(2026, 11, 19)}},  # declared_on: 2026-11-20
        clean={**CLEAN, "title": {**title, "expires_on": date(2026, 11, 20)}},
    )
    assert found.only_in_defect() == {"title_expired": "error"}
    message = found.one("title_expired").message
    assert "article 1.2 de l'arrêté du 21 juillet 2016" in message
    assert "20/11/2026" in message
    assert "19/11/2026" in message
    assert_tells_the_ud(found.one("title_expired"))


def test_session_not_yet_created_after_the_title_expiry_uses_today(tmp_path: Path) -> None:
    title = SESSION["title"]
    undeclared = {**CLEAN, "declared_on": None}
    found = pair(
        tmp_path,
        {"title": {**title, "expires_on": date(2026, 11, 22)}},
        clean={**undeclared, "title": {**title, "expires_on": date(2026, 11, 23)}},
    )
    assert found.only_in_defect() == {"title_expired": "error"}
    assert "ne peut plus être créée" in found.one("title_expired").message


def test_agrement_for_another_version_of_the_title(tmp_path: Path) -> None:
    agrement = CENTRE["agrements"][0]
    found = pair(
        tmp_path,
        {},
        clean={**CLEAN, "title": {**SESSION["title"], "version": "2017"}},
        centre={"agrements": [{**agrement, "title_version": "2017"}]},
        centre_defect={"agrements": [{**agrement, "title_version": "2012"}]},
    )
    assert found.only_in_defect() == {"agrement_wrong_version": "error"}
    message = found.one("agrement_wrong_version").message
    assert "2012" in message
    assert "2017" in message
    assert_tells_the_ud(found.one("agrement_wrong_version"))


def test_the_agrement_for_the_sessions_version_is_the_one_checked(tmp_path: Path) -> None:
    agrement = CENTRE["agrements"][0]
    two = [
        {**agrement, "title_version": "2012", "until": date(2036, 1, 1)},
        {**agrement, "title_version": "2017", "until": date(2030, 1, 1)},
    ]
    session = {**CLEAN, "title": {**SESSION["title"], "version": "2017"}}
    assert findings_of(tmp_path, session, {**CENTRE, "agrements": two}, NOW) == []


# --- 2. jury -----------------------------------------------------------------------------------


def test_juror_habilitated_for_another_title(tmp_path: Path) -> None:
    found = pair(
        tmp_path,
        {"jury": juror(0, title_code="TP-00375")},
        clean={**CLEAN, "jury": juror(0, title_code="TP-00374")},
    )
    assert found.only_in_defect() == {"jury_other_title": "error"}
    finding = found.one("jury_other_title")
    assert finding.juror == "c@jury.example"
    assert "Corinne Maillot" in finding.message
    assert "TP-00375" in finding.message


def test_juror_limited_to_some_ccps_on_a_full_title_session(tmp_path: Path) -> None:
    found = pair(tmp_path, {"jury": juror(1, ccp=["CP-00412"])})
    assert found.only_in_defect() == {"jury_ccp_limited": "error"}
    finding = found.one("jury_ccp_limited")
    assert finding.juror == "p@jury.example"
    assert "CP-00412" in finding.message
    assert "titre complet" in finding.message


def test_the_same_juror_twice(tmp_path: Path) -> None:
    twice = [*JURY, {**JURY[0], "email": "C@Jury.example"}]
    found = pair(tmp_path, {"jury": twice})
    assert found.only_in_defect() == {"jury_duplicate": "error"}
    assert "Corinne Maillot" in found.one("jury_duplicate").message


def test_fewer_than_two_valid_distinct_jurors(tmp_path: Path) -> None:
    # three entries, as many as the clean file, but one juror twice and one expired
    jury = [JURY[0], JURY[0], {**JURY[1], "habilitation_until": "2027-03-18"}]
    found = pair(tmp_path, {"jury": jury})
    assert found.only_in_defect() == {
        "jury_too_small": "error",
        "jury_duplicate": "error",
        "jury_habilitation_expired": "error",
    }
    message = found.one("jury_too_small").message
    assert message.startswith("1 membre de jury peut siéger")
    assert_tells_the_ud(found.one("jury_too_small"))


# --- 3. session manager ------------------------------------------------------------------------


def test_session_manager_not_declared_in_the_agrement(tmp_path: Path) -> None:
    agrement = CENTRE["agrements"][0]
    found = pair(
        tmp_path,
        {},
        centre={"agrements": [{**agrement, "session_managers": ["jean@centre.example"]}]},
        centre_defect={"agrements": [{**agrement, "session_managers": ["rs@centre.example"]}]},
    )
    assert found.only_in_defect() == {"session_manager_not_declared": "error"}
    finding = found.one("session_manager_not_declared")
    assert "Jean Hoarau" in finding.message
    assert "agrément" in finding.message
    assert_tells_the_ud(finding)


def test_session_manager_also_a_juror(tmp_path: Path) -> None:
    manager = {"name": "Jean Hoarau", "email": "jean@centre.example"}
    found = pair(tmp_path, {"jury": [*JURY, {**manager, "habilitation_until": "2030-01-01"}]})
    assert found.only_in_defect() == {"session_manager_in_jury": "error"}
    assert found.one("session_manager_in_jury").juror == "jean@centre.example"


# --- 4. done late ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("milestone", "in_time", "late", "now", "words"),
    [
        pytest.param(
            "dte_order",
            date(2026, 12, 1),
            date(2026, 12, 20),  # due Friday 11 December (92 days before, off the Sunday)
            date(2026, 12, 21),
            ("92 jours", "reporter la session"),
            id="dte-ordered-less-than-92-days-ahead",
        ),
        pytest.param(
            "candidate_convocation",
            date(2027, 2, 10),
            date(2027, 2, 20),  # due Friday 12 February (31 days before)
            date(2027, 2, 21),
            ("31 jours", "reporter la session"),
            id="candidates-convened-less-than-31-days-ahead",
        ),
    ],
)
def test_regulatory_milestone_done_after_its_deadline(
    tmp_path: Path,
    milestone: str,
    in_time: date,
    late: date,
    now: date,
    words: tuple[str, ...],
) -> None:
    found = pair(
        tmp_path,
        {"done": {**CLEAN["done"], milestone: late}},
        clean={**CLEAN, "done": {**CLEAN["done"], milestone: in_time}},
        now=now,
    )
    code = f"done_late:{milestone}"
    assert found.only_in_defect() == {code: "error"}
    assert all(word in found.one(code).message for word in words), found.one(code).message
    assert_tells_the_ud(found.one(code))


# --- 5. results, training end, public holidays -------------------------------------------------


def test_results_posted_before_the_validated_pv(tmp_path: Path) -> None:
    after = {**CLEAN, "pv_validated_on": date(2027, 4, 10)}
    found = pair(
        tmp_path,
        {"done": {**CLEAN["done"], "results_posting": date(2027, 4, 5)}},
        clean={**after, "done": {**CLEAN["done"], "results_posting": date(2027, 4, 10)}},
        now=date(2027, 4, 12),
    )
    assert found.only_in_defect() == {"results_before_pv": "error"}
    assert_tells_the_ud(found.one("results_before_pv"))


def test_results_posted_with_no_validated_pv(tmp_path: Path) -> None:
    found = pair(
        tmp_path,
        {"done": {**CLEAN["done"], "results_posting": date(2027, 4, 5)}},
        now=date(2027, 4, 12),
    )
    assert found.only_in_defect() == {"results_before_pv": "error"}


def test_training_ending_after_the_exam(tmp_path: Path) -> None:
    found = pair(
        tmp_path,
        {"training_end": date(2027, 4, 30)},
        clean={**CLEAN, "training_end": date(2027, 3, 19)},
    )
    assert found.only_in_defect() == {"training_end_after_exam": "warning"}


def test_session_on_a_public_holiday_of_metropolitan_france(tmp_path: Path) -> None:
    found = pair(
        tmp_path,
        {"start": date(2027, 5, 3), "end": date(2027, 5, 7)},  # Thursday 6 May: Ascension
        clean={**CLEAN, "start": date(2027, 5, 10), "end": date(2027, 5, 14)},
    )
    assert found.only_in_defect() == {"session_on_holiday": "warning"}
    assert "06/05/2027" in found.one("session_on_holiday").message
    assert "Ascension" in found.one("session_on_holiday").message


def test_session_on_a_public_holiday_of_its_own_zone_only(tmp_path: Path) -> None:
    # 20 December is a holiday in La Réunion (abolition of slavery), not in Paris.
    december = {**CLEAN, "start": date(2027, 12, 20), "end": date(2027, 12, 21)}
    found = pair(
        tmp_path,
        {},
        clean=december,
        centre_defect={"holiday_zone": "974", "timezone": "Indian/Reunion"},
    )
    assert found.only_in_defect() == {"session_on_holiday": "warning"}
    assert "20/12/2027" in found.one("session_on_holiday").message


# --- 6. VAE recevabilité, accommodations -------------------------------------------------------


def _listed(**vae: Any) -> dict[str, Any]:
    return {
        "training": 1,
        "vae": 1,
        "list": [
            {"name": "Karim Benali", "host_company": "Transports Dumas"},
            {"name": "Julie Perret", "route": "vae", **vae},
        ],
    }


def test_vae_recevabilite_expired_before_the_session(tmp_path: Path) -> None:
    found = pair(
        tmp_path,
        {"candidates": _listed(recevabilite_until=date(2027, 3, 10))},
        clean={**CLEAN, "candidates": _listed(recevabilite_until=date(2027, 3, 19))},
    )
    assert found.only_in_defect() == {"vae_recevabilite_expired": "error"}
    message = found.one("vae_recevabilite_expired").message
    assert "candidat n° 2 de la liste" in message
    assert "Perret" not in message
    assert "2027-03-10" not in message
    assert "10/03/2027" not in message


def test_accommodation_without_the_ud_informed_in_time(tmp_path: Path) -> None:
    candidates = {"training": 1, "list": [{"name": "Karim Benali", "accommodation": True}]}
    informed = {**CLEAN["done"], "ud_session_declaration": date(2026, 12, 1)}
    found = pair(
        tmp_path,
        {"done": CLEAN["done"]},  # the UD was not told: the declaration is overdue
        clean={**CLEAN, "candidates": candidates, "done": informed},
        now=date(2026, 12, 14),
    )
    assert found.only_in_defect() == {
        "accommodation_ud_late": "error",
        "overdue:ud_session_declaration": "error",
    }
    message = found.one("accommodation_ud_late").message
    assert "candidat n° 1 de la liste" in message
    assert "Benali" not in message
    assert "au minimum 3 mois avant" in message  # the seed (S2) it stands on
    assert_tells_the_ud(found.one("accommodation_ud_late"))


# --- 7. conflict of interest -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("company", "host"),
    [
        ("Geodis Corbas", "Géodis Corbas"),
        ("Transports Dumas SAS", "Transports Dumas"),
        ("TRANSPORTS DUMAS S.A.R.L.", "Transports  dumas"),
        ("Dumas & Fils", "SARL Dumas et Fils"),
        ("L'Atelier-Bois (EURL)", "l atelier bois"),
    ],
)
def test_conflict_of_interest_whatever_the_spelling(
    tmp_path: Path, company: str, host: str
) -> None:
    first = {"name": "Karim Benali", "host_company": "Géodis"}
    candidates = {"training": 2, "list": [first, {"name": "Julie Perret"}]}
    hosted = {**candidates, "list": [first, {"name": "Julie Perret", "host_company": host}]}
    found = pair(
        tmp_path,
        {"candidates": hosted},
        clean={**CLEAN, "candidates": candidates, "jury": juror(2, company=company)},
    )
    assert found.only_in_defect() == {"jury_conflict": "error"}
    finding = found.one("jury_conflict")
    assert finding.juror == "y@jury.example"
    assert "le candidat n° 2 de la liste" in finding.message
    assert "Perret" not in finding.message
    assert host not in finding.message


# --- 8. a cancelled session whose DTE was ordered ----------------------------------------------


def test_cancelled_session_whose_dte_was_already_ordered(tmp_path: Path) -> None:
    cancelled = {**CLEAN, "cancelled": True}
    found = pair(
        tmp_path,
        {"done": {**CLEAN["done"], "dte_order": date(2026, 11, 21)}},
        clean=cancelled,
    )
    assert found.clean == []
    assert found.only_in_defect() == {"cancelled_after_dte_order": "warning"}
    message = found.one("cancelled_after_dte_order").message
    assert "supprimer" in message
    assert "21/11/2026" in message
    assert_tells_the_ud(found.one("cancelled_after_dte_order"))


# --- the words ---------------------------------------------------------------------------------


def test_no_message_names_another_ud_or_an_old_administration(tmp_path: Path) -> None:
    """Every finding that can name the UD, for a Paris centre: its own UD, never the DEETS of
    an overseas centre, never the Direccte, never a Seine-Saint-Denis address."""
    session = {
        **CLEAN,
        "declared_on": date(2027, 1, 10),
        "title": {**SESSION["title"], "expires_on": date(2026, 12, 1)},
        "jury": JURY[:1],
        "candidates": {"training": 1, "list": [{"name": "X", "accommodation": True}]},
    }
    paris = {
        **CENTRE,
        "ud_name": "DDETS de Paris",
        "agrements": [{**CENTRE["agrements"][0], "until": date(2027, 3, 1)}],
    }
    found = findings_of(tmp_path, session, paris, date(2027, 1, 20))
    told = {f.code for f in found if "DDETS de Paris" in f.message and UD in f.message}
    assert {"agrement_expired", "ceres_late", "title_expired", "jury_too_small"} <= told
    for finding in found:
        assert "DEETS" not in finding.message, finding.message
        assert not any(word in finding.message for word in OLD_NAMES), finding.message


def test_an_overseas_centre_is_told_its_deets(tmp_path: Path) -> None:
    reunion = {**CENTRE, "holiday_zone": "974", "timezone": "Indian/Reunion"}
    found = findings_of(tmp_path, {**CLEAN, "declared_on": date(2027, 1, 10)}, reunion, NOW)
    (late,) = [f for f in found if f.code == "ceres_late"]
    assert f"DEETS de La Réunion ({UD})" in late.message
    assert "DDETS" not in late.message
