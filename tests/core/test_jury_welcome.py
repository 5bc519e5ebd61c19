"""When the jury is welcomed on the first day (``jury_welcome``): validated, told to the jury in
its calendar and its invitation, and an update when it changes (pure, mail composed in memory)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from syncsvc.core.entries import juror_description
from syncsvc.core.exam_days import exam_days
from syncsvc.core.invitations import Briefing, InvitationState, changes, meaning
from syncsvc.core.planner import plan_session
from syncsvc.formats.mail import compose_invitation
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

RULESET = load_ruleset()
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_welcome_comes_before_the_first_day_starts() -> None:
    assert session(jury_welcome="08:00").jury_welcome is not None
    with pytest.raises(ValidationError, match=r"jury_welcome \(09:00\) après le début du premier"):
        session(jury_welcome="09:00")  # the first day starts at 08:30
    days = [{"date": date(2027, 3, 15), "start": "10:00", "end": "17:00"}]
    assert session(days=days, jury_welcome="09:30").jury_welcome is not None


def test_a_jurors_day_says_when_the_jury_is_welcomed() -> None:
    s, c = session(jury_welcome="08:00"), centre()
    text = juror_description(s, c, exam_days(s, c), 2)
    assert "Accueil du jury : lun. 15/03/2027 à 08:00, avant le début des épreuves" in text
    plain = juror_description(session(), c, exam_days(session(), c), 0)
    assert "Accueil du jury" not in plain


def _invited(briefing_of: str) -> dict[tuple[str, str], InvitationState]:
    return {
        ("sa-test", "c@jury.example"): InvitationState(
            "sa-test", "c@jury.example", "Corinne Maillot", 0, "old", "invited", "", briefing_of
        )
    }


def test_the_invitation_says_it_and_a_new_time_is_an_update_old_to_new() -> None:
    c = centre()
    first = session(jury_welcome="08:00")
    exam = next(m for m in plan_session(first, c, RULESET, TODAY) if m.id == "exam_session")
    told = Briefing.of(first, c, exam)
    assert told.welcome == "08:00"
    later = session(jury_welcome="08:15")
    planned = [(later, c, plan_session(later, c, RULESET, TODAY))]
    sent = changes(planned, _invited(told.dumps()))
    (update,) = [ch for ch in sent if ch.email == "c@jury.example"]
    assert update.update
    assert [d.field for d in update.differences()] == ["welcome"]
    message, _ics = compose_invitation(update, "examens@centre.example", NOW)
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "- Accueil du jury : 08:00 → 08:15" in text
    assert "Accueil du jury : 08:15, le premier jour, avant les épreuves" in text


def test_a_session_without_a_welcome_time_keeps_its_invitations_as_they_were() -> None:
    c = centre()
    s = session()
    exam = next(m for m in plan_session(s, c, RULESET, TODAY) if m.id == "exam_session")
    told = Briefing.of(s, c, exam)
    assert told.welcome == ""
    assert Briefing.loads(told.dumps()) == told
    # an invitation sent with the meaning of today's code: nothing to send again
    state = {
        ("sa-test", "c@jury.example"): InvitationState(
            "sa-test", "c@jury.example", "Corinne Maillot", 0, meaning(s, c, exam), "invited"
        ),
        ("sa-test", "p@jury.example"): InvitationState(
            "sa-test", "p@jury.example", "Patrick Fontaine", 0, meaning(s, c, exam), "invited"
        ),
    }
    assert changes([(s, c, plan_session(s, c, RULESET, TODAY))], state) == []
    assert meaning(session(jury_welcome="08:00"), c, exam) != meaning(s, c, exam)
