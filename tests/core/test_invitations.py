"""Which jurors an invitation may go to, and which are held (pure: findings in, holds out)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from syncsvc.core.checks import check_session
from syncsvc.core.invitations import InvitationState, changes, holds
from syncsvc.core.model import Centre, Session
from syncsvc.core.planner import plan_session
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import SESSION, centre, session

RULESET = load_ruleset()
NOW = date(2026, 11, 23)
JURY = SESSION["jury"]
THIRD = {"name": "Yasmina Haddad", "email": "y@jury.example", "habilitation_until": "2030-01-01"}


def planned(s: Session, c: Centre) -> tuple[Session, Centre, list[Any]]:
    return s, c, plan_session(s, c, RULESET, NOW)


def held_of(s: Session, c: Centre) -> dict[str, set[str]]:
    """Held jurors' e-mails -> codes of the reasons."""
    out: dict[str, set[str]] = {}
    for hold in holds(s, check_session(*planned(s, c), NOW)):
        out.setdefault(hold.email, set()).add(hold.code)
    return out


@pytest.mark.parametrize(
    ("first", "changes_to_centre", "codes"),
    [
        pytest.param(
            {"habilitation_until": "2027-03-18"},
            {},
            {"jury_habilitation_expired"},
            id="habilitation",
        ),
        pytest.param({"company": "Transports Dumas SAS"}, {}, {"jury_conflict"}, id="conflict"),
        pytest.param({"ccp": ["CP-00412"]}, {}, {"jury_ccp_limited"}, id="ccp-limited"),
        pytest.param({"title_code": "TP-00375"}, {}, {"jury_other_title"}, id="other-title"),
    ],
)
def test_a_juror_who_cannot_sit_is_held_for_that_reason_only(
    first: dict[str, Any], changes_to_centre: dict[str, Any], codes: set[str]
) -> None:
    s = session(
        jury=[{**JURY[0], **first}, JURY[1], THIRD],
        candidates={
            "training": 1,
            "list": [{"name": "Julie Perret", "host_company": "Transports Dumas"}],
        },
    )
    assert held_of(s, centre(**changes_to_centre)) == {"c@jury.example": codes}


def test_every_juror_is_held_when_the_session_has_no_agrement() -> None:
    s = session(jury=[*JURY, THIRD])
    held = held_of(s, centre(agrements=[]))
    assert held == {
        "c@jury.example": {"agrement_missing"},
        "p@jury.example": {"agrement_missing"},
        "y@jury.example": {"agrement_missing"},
    }


def test_a_clean_session_holds_nobody() -> None:
    assert held_of(session(jury=[*JURY, THIRD]), centre()) == {}


def test_a_held_juror_gets_no_request_and_no_cancel() -> None:
    s, c = session(), centre()
    plan = [planned(s, c)]
    fresh = {
        (r.method, r.email) for r in changes(plan, {}, held=frozenset({(s.id, "c@jury.example")}))
    }
    assert fresh == {("REQUEST", "p@jury.example")}

    # already invited before the problem appeared: neither updated nor cancelled by syncsvc
    moved = s.model_copy(update={"location": "Salle C4"})
    state = InvitationState(s.id, "c@jury.example", "Corinne Maillot", 0, "old", "invited")
    later = changes(
        [planned(moved, c)],
        {(s.id, "c@jury.example"): state},
        held=frozenset({(s.id, "c@jury.example")}),
    )
    assert {(r.method, r.email) for r in later} == {("REQUEST", "p@jury.example")}


def test_a_juror_listed_twice_gets_one_invitation() -> None:
    s = session(jury=[*JURY, {**JURY[0], "email": "C@jury.example"}])
    requests = [r.email for r in changes([planned(s, centre())], {})]
    assert sorted(requests) == ["c@jury.example", "p@jury.example"]


def test_the_key_of_a_hold_is_per_session_juror_reason_and_coordinator() -> None:
    s = session(jury=[{**JURY[0], "habilitation_until": "2027-01-01"}, JURY[1], THIRD])
    (hold,) = holds(s, check_session(*planned(s, centre()), NOW))
    keys = {hold.key("a@centre.example"), hold.key("b@centre.example")}
    assert len(keys) == 2
    assert all(k.startswith(f"invitation_hold:{s.id}:") and len(k) <= 400 for k in keys)
    assert hold.key("a@centre.example") == holds(s, check_session(*planned(s, centre()), NOW))[
        0
    ].key("a@centre.example")
    assert hold.name == "Corinne Maillot"
    assert "prend fin le 01/01/2027" in hold.reason
