"""What a juror was told (a briefing), and what an update changes (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from syncsvc.core.invitations import Briefing, InvitationState, changes, differences
from syncsvc.core.model import Centre, Session
from syncsvc.core.planner import plan_session
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

RULESET = load_ruleset()
TODAY = date(2026, 11, 23)


def briefing(s: Session, c: Centre | None = None) -> Briefing:
    c = c or centre()
    (exam,) = [m for m in plan_session(s, c, RULESET, TODAY) if m.id == "exam_session"]
    return Briefing.of(s, c, exam)


def fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [d.field for d in differences(briefing(session(**before)), briefing(session(**after)))]


def test_a_briefing_says_title_days_hours_place_and_manager_and_nothing_of_candidates() -> None:
    s = session(
        location="Salle B12",
        candidates={"training": 1, "list": [{"name": "Julie Perret", "host_company": "Géodis"}]},
    )
    kept = briefing(s)
    assert kept == Briefing(
        title="TP-00374 Secrétaire assistant (TITRE)",
        start="2027-03-15T08:30:00+01:00",
        end="2027-03-19T18:00:00+01:00",
        place="Salle B12",
        manager="Jean Hoarau",
        manager_email="jean@centre.example",
        days=" ".join(
            f"2027-03-{day}T08:30:00+01:00/2027-03-{day}T18:00:00+01:00" for day in range(15, 20)
        ),
    )
    text = kept.dumps()
    assert "Julie" not in text
    assert "Géodis" not in text
    assert Briefing.loads(text) == kept
    assert Briefing.loads("") is None
    assert Briefing.loads("pas du JSON") is None
    assert Briefing.loads('{"v": 99, "title": "x"}') is None


def test_what_changed_dates_hours_place_manager_title() -> None:
    later = {"start": date(2027, 3, 22), "end": date(2027, 3, 26)}
    assert fields({}, later) == ["dates"]
    assert fields({}, {"first_day_start": "09:00"}) == ["hours"]
    assert fields({}, {"last_day_end": "17:00", "location": "Salle C3"}) == ["hours", "place"]
    assert fields({}, {**later, "first_day_start": "09:00"}) == ["dates", "hours"]
    manager = {"name": "Sandrine Grondin", "email": "s.grondin@centre.example"}
    assert fields({}, {"session_manager": manager}) == ["manager"]
    assert fields({}, {"nature": "ccp", "ccp_code": "CP-00412"}) == ["title"]
    assert fields({"first_day_start": None}, {}) == ["hours"]
    assert fields({}, {}) == []


def test_an_update_knows_the_previous_briefing_and_a_re_invitation_is_not_an_update() -> None:
    s, c = session(), centre()
    plan = [(s, c, plan_session(s, c, RULESET, TODAY))]
    moved = session(start=date(2027, 3, 22), end=date(2027, 3, 26))
    moved_plan = [(moved, c, plan_session(moved, c, RULESET, TODAY))]
    state = {
        (s.id, "c@jury.example"): InvitationState(
            s.id, "c@jury.example", "Corinne Maillot", 0, "old", "invited", "", briefing(s).dumps()
        )
    }
    (update,) = [ch for ch in changes(moved_plan, state) if ch.email == "c@jury.example"]
    assert update.update
    assert [d.field for d in update.differences()] == ["dates"]
    assert update.state("EVT").briefing == briefing(moved).dumps()
    cancelled = {k: replace(v, status="cancelled") for k, v in state.items()}
    (again,) = [ch for ch in changes(plan, cancelled) if ch.email == "c@jury.example"]
    assert not again.update
    assert again.differences() == []


def test_a_cancel_says_what_happened() -> None:
    s, c = session(), centre()
    invited = {
        (s.id, email): InvitationState(s.id, email, "x", 0, "m", "invited", "", briefing(s).dumps())
        for email in ("c@jury.example", "p@jury.example")
    }
    one_left = session(jury=[s.jury[1]])
    planned = [(one_left, c, plan_session(one_left, c, RULESET, TODAY))]
    (removed,) = [ch for ch in changes(planned, invited) if ch.method == "CANCEL"]
    assert (removed.method, removed.email, removed.happened) == (
        "CANCEL",
        "c@jury.example",
        "removed",
    )
    off = session(cancelled=True)
    cancels = changes([(off, c, plan_session(off, c, RULESET, TODAY))], invited)
    assert {ch.happened for ch in cancels} == {"cancelled"}
    gone = changes([], invited)
    assert {ch.happened for ch in gone} == {"withdrawn"}
    assert all(ch.briefing == briefing(s) for ch in gone), "told from what was kept"
