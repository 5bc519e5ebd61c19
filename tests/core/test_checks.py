"""Findings for every check of the catalogue."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from syncsvc.core.checks import check_session
from syncsvc.core.model import Centre, Session
from syncsvc.core.planner import plan_session
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import SESSION, centre, session

RULESET = load_ruleset()
NOW = date(2026, 11, 23)
DONE_EARLY = {"agrement_check": date(2026, 7, 1), "agrement_request": date(2026, 9, 1)}


def codes(s: Session, c: Centre | None = None, now: date = NOW) -> dict[str, str]:
    c = c or centre()
    findings = check_session(s, c, plan_session(s, c, RULESET, now), now)
    return {f.code: f.severity for f in findings}


def test_a_good_session_has_no_findings() -> None:
    assert codes(session(done=DONE_EARLY)) == {}


def test_missing_first_day_start() -> None:
    assert codes(session(first_day_start=None, done=DONE_EARLY)) == {
        "first_day_start_missing": "warning"
    }


def test_agrement_missing() -> None:
    assert codes(session(done=DONE_EARLY), centre(agrements=[]))["agrement_missing"] == "error"


@pytest.mark.parametrize(
    ("until", "code"),
    [(date(2027, 3, 1), "agrement_expired"), (date(2027, 3, 17), "agrement_ends_during_session")],
)
def test_agrement_ends_before_or_during_session(until: date, code: str) -> None:
    c = centre(agrements=[{"title_code": "TP-00374", "until": until, "max_candidates": 15}])
    assert codes(session(done=DONE_EARLY), c) == {code: "error"}


def test_too_many_candidates() -> None:
    s = session(candidates={"training": 14, "vae": 2}, done=DONE_EARLY)
    assert codes(s) == {"too_many_candidates": "error"}


def test_ceres_declared_late() -> None:
    assert codes(session(declared_on=date(2026, 12, 20), done=DONE_EARLY))["ceres_late"] == "error"


def test_ceres_not_declared_and_deadline_passed() -> None:
    s = session(declared_on=None, done=DONE_EARLY)
    assert "ceres_late" not in codes(s, now=date(2026, 12, 13))
    assert codes(s, now=date(2026, 12, 14))["ceres_late"] == "error"


def test_jury_too_small() -> None:
    s = session(jury=SESSION["jury"][:1], done=DONE_EARLY)
    assert codes(s) == {"jury_too_small": "error"}


def test_jury_habilitation_expired() -> None:
    jury: list[dict[str, Any]] = [dict(j) for j in SESSION["jury"]]
    jury[1]["habilitation_until"] = date(2027, 3, 18)
    # with two jurors, one who cannot sit leaves the jury too small (issue 11)
    assert codes(session(jury=jury, done=DONE_EARLY)) == {
        "jury_habilitation_expired": "error",
        "jury_too_small": "error",
    }


def test_jury_ccp_not_covered() -> None:
    jury: list[dict[str, Any]] = [dict(j) for j in SESSION["jury"]]
    jury[0]["ccp"] = ["CP-00001"]
    jury[1]["ccp"] = ["CP-00412", "CP-00001"]
    s = session(nature="ccp", ccp_code="CP-00412", jury=jury, done=DONE_EARLY)
    findings = check_session(s, centre(), plan_session(s, centre(), RULESET, NOW), NOW)
    assert [f.code for f in findings] == ["jury_ccp_not_covered", "jury_too_small"]
    assert "Corinne Maillot" in findings[0].message


def test_jury_member_from_a_host_company_never_names_the_candidate() -> None:
    jury: list[dict[str, Any]] = [dict(j) for j in SESSION["jury"]]
    jury[0]["company"] = "Transports  DUMAS"
    s = session(
        jury=jury,
        candidates={
            "training": 2,
            "list": [
                {"name": "Karim Benali", "host_company": "Géodis"},
                {"name": "Julie Perret", "host_company": "Transports Dumas"},
            ],
        },
        done=DONE_EARLY,
    )
    findings = check_session(s, centre(), plan_session(s, centre(), RULESET, NOW), NOW)
    assert [f.code for f in findings] == ["jury_conflict", "jury_too_small"]
    assert "n° 2" in findings[0].message
    assert "Perret" not in findings[0].message


def test_overdue_milestones_by_kind() -> None:
    found = codes(session(), now=date(2026, 12, 14))
    assert found["overdue:dte_order"] == "error"
    assert found["overdue:agrement_check"] == "warning"  # advice
    assert "overdue:final_preparation" not in found
