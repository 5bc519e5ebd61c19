"""The surveillant and the comédien: invited with iMIP like the jury, their answers tracked and
their own reminders — never counted among the jurors (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar

from syncsvc.core.checks import check_session
from syncsvc.core.invitations import InvitationState, changes, holds
from syncsvc.core.jury import JuryReply, juror_rows, summary
from syncsvc.core.jury_notices import jury_notices
from syncsvc.core.model import Centre, Session
from syncsvc.core.planner import plan_session
from syncsvc.core.reminder_model import Policy
from syncsvc.formats.mail import compose_invitation
from syncsvc.formats.mail_views import notice_texts
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import SESSION, centre, session

RULESET = load_ruleset()
NOW = date(2026, 11, 23)
SURVEILLANT = {"name": "Sabine Morel", "email": "s.morel@centre.example"}
COMEDIEN = {"name": "Karim Benali", "email": "k.benali@theatre.example"}
STAMP = datetime(2026, 11, 23, 8, tzinfo=UTC)


def planned(s: Session, c: Centre) -> tuple[Session, Centre, list[Any]]:
    return s, c, plan_session(s, c, RULESET, NOW)


def test_the_surveillant_and_the_comedien_are_invited_with_their_role() -> None:
    s = session(surveillant=SURVEILLANT, comedien=COMEDIEN)
    found = {c.email: c.role for c in changes([planned(s, centre())], {})}
    assert found == {
        "c@jury.example": "jury",
        "p@jury.example": "jury",
        "s.morel@centre.example": "surveillant",
        "k.benali@theatre.example": "comedien",
    }


def test_a_held_jury_does_not_hold_the_surveillant() -> None:
    s = session(surveillant=SURVEILLANT)
    c = centre(agrements=[])  # no agrément: every juror's invitation is held
    held = {(s.id, h.email) for h in holds(s, check_session(*planned(s, c), NOW))}
    assert held == {(s.id, "c@jury.example"), (s.id, "p@jury.example")}
    sent = [x.email for x in changes([planned(s, c)], {}, held=frozenset(held))]
    assert sent == ["s.morel@centre.example"]


def test_the_surveillant_s_invitation_says_what_they_are_invited_as() -> None:
    s = session(surveillant=SURVEILLANT)
    change = next(c for c in changes([planned(s, centre())], {}) if c.role == "surveillant")
    message, _ = compose_invitation(change, "Examens <examens@centre.example>", STAMP)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Vous êtes convoqué(e) comme surveillant(e) de la session d'examen ci-dessous." in text
    assert "accueil du jury" not in text  # the jury's own welcome is for jurors
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    data = calendar.get_payload(decode=True)
    assert isinstance(data, bytes)
    event = next(iter(Calendar.from_ical(data).walk("VEVENT")))
    assert str(event["SUMMARY"]) == "Surveillance — Secrétaire assistant (TP-00374)"
    assert str(event["ORGANIZER"]) == "mailto:examens@centre.example"
    juror = next(c for c in changes([planned(s, centre())], {}) if c.role == "jury")
    jury_text = compose_invitation(juror, "Examens <examens@centre.example>", STAMP)[0]
    assert "comme membre du jury de la session" in jury_text.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_their_rows_are_followed_but_not_counted_in_the_jury() -> None:
    s = session(surveillant=SURVEILLANT, comedien=COMEDIEN)
    states = {
        (s.id, p["email"]): InvitationState(s.id, p["email"], p["name"], 0, "m", "invited")
        for p in [*SESSION["jury"], SURVEILLANT, COMEDIEN]
    }
    accepted = JuryReply(
        "k",
        "link",
        "reply",
        "applied",
        s.id,
        "s.morel@centre.example",
        "Sabine Morel",
        "ACCEPTED",
        0,
        None,
        STAMP,
        STAMP,
    )
    rows = juror_rows(s, [], states, {(s.id, "s.morel@centre.example"): accepted}, {})
    assert [(r.email, r.role, r.partstat) for r in rows][2:] == [
        ("s.morel@centre.example", "surveillant", "ACCEPTED"),
        ("k.benali@theatre.example", "comedien", "NEEDS-ACTION"),
    ]
    assert summary(rows) == (0, 2)  # jurors only


def test_their_own_reminders_and_a_comedien_who_declines() -> None:
    s = session(surveillant=SURVEILLANT, comedien=COMEDIEN)
    c = centre()
    invited_at = datetime(2027, 1, 4, 9, tzinfo=c.tz)
    states = {
        (s.id, p["email"]): InvitationState(s.id, p["email"], p["name"], 0, "m", "invited")
        for p in [*SESSION["jury"], SURVEILLANT, COMEDIEN]
    }
    declined = JuryReply(
        "d",
        "imip",
        "reply",
        "applied",
        s.id,
        "k.benali@theatre.example",
        "Karim Benali",
        "DECLINED",
        0,
        "En tournée",
        invited_at + timedelta(days=3),
        invited_at + timedelta(days=3),
    )
    answered = {(s.id, "k.benali@theatre.example"): declined}
    sent = {
        (s.id, p["email"], 0): (invited_at, invited_at)
        for p in [*SESSION["jury"], SURVEILLANT, COMEDIEN]
    }
    rows = {s.id: juror_rows(s, [], states, answered, sent)}
    now = datetime(2027, 1, 11, 8, tzinfo=c.tz)
    found = jury_notices([(s, c, [])], rows, answered, [], Policy(), now)
    reminded = {(p.email, p.role) for p, n in found if n.kind == "answer_reminder"}
    assert ("s.morel@centre.example", "surveillant") in reminded
    assert ("k.benali@theatre.example", "comedien") not in reminded  # answered
    (notice,) = [n for p, n in found if n.kind == "declined"]
    assert (notice.role, notice.alternatives) == ("comedien", ())
    (text,) = notice_texts([notice], None)
    assert text.heading.endswith("— le comédien ne pourra pas venir")
    assert not any("habilités" in line for line in text.lines)
    (surveillant_notice,) = [
        n for p, n in found if n.kind == "answer_reminder" and p.email == "s.morel@centre.example"
    ]
    (worded,) = notice_texts([surveillant_notice], None)
    assert worded.lines[0].startswith("Vous êtes invité(e) comme surveillant(e) de la session")
