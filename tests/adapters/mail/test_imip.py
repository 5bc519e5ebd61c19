"""Jury invitations as iMIP (RFC 6047 / RFC 5546), as a real relay receives them.

The example configuration is copied to a temporary folder and edited between runs of
``notify`` (fixed ``now`` values, one day apart); the messages are read back from aiosmtpd, i.e.
as mail clients get them (CRLF line endings). Every calendar part, and every ``invite.ics``
attachment, is parsed with icalendar and with ical.js (the parser of Thunderbird).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from syncsvc.app.notify import notify
from syncsvc.core.entries import uid_for
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.inputs.settings import Settings
from syncsvc.state.store import Store
from tests.adapters.mail.conftest import NOW, Received, SmtpServer, mail_settings
from tests.interop.test_icalendar_clients import Validator

SESSION = "sa-2027-03-st-andre"
MEMBER = "c.maillot@jury.example"
OTHER_MEMBER = "p.fontaine@jury.example"
MANAGER = "jl.hoarau@afpar.example"
CANCELLED_SESSION = "tee-2027-04-strasbourg"
CANCELLED_JURY = ("m.schmitt@jury.example", "i.klein@jury.example")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Invitation:
    """One iMIP message, its layout checked; the calendar as the recipient's client reads it."""

    received: Received
    subject: str
    method: str
    calendar: bytes
    attachment: bytes
    event: Any

    @property
    def recipient(self) -> str:
        (address,) = self.received.rcpt_tos
        return address

    @property
    def uid(self) -> str:
        return str(self.event["UID"])

    @property
    def sequence(self) -> int:
        return int(self.event["SEQUENCE"])

    @property
    def status(self) -> str:
        return str(self.event["STATUS"])

    @property
    def start(self) -> datetime:
        value = self.event.decoded("DTSTART")
        assert isinstance(value, datetime)
        return value


def _is_invitation(received: Received) -> bool:
    return any(p.get_content_type() == "text/calendar" for p in received.message.walk())


def _unfolded(calendar: bytes) -> str:
    return re.sub(r"\r\n[ \t]", "", calendar.decode("utf-8"))


def read_invitation(received: Received, managers: dict[str, tuple[str, str, str]]) -> Invitation:
    """Check the MIME layout and the iMIP rules of one received message.

    ``managers`` maps a calendar UID to its ORGANIZER (the centre's mailbox that syncsvc reads:
    name, e-mail) and CONTACT (the session manager).
    """
    message = received.message
    assert message.get_content_type() == "multipart/mixed"
    top = list(message.iter_parts())
    assert [p.get_content_type() for p in top] == ["multipart/alternative", "application/ics"]
    alternative, attachment = top
    parts = list(alternative.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html", "text/calendar"]
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    calendar_part = parts[2]
    assert calendar_part.get_content_charset() == "utf-8"
    method = str(calendar_part.get_param("method"))
    calendar = calendar_part.get_payload(decode=True)
    ics = attachment.get_payload(decode=True)
    assert isinstance(calendar, bytes)
    assert isinstance(ics, bytes)
    assert calendar == ics, "the attachment must be the calendar part itself"

    parsed = Calendar.from_ical(calendar)
    assert str(parsed["METHOD"]) == method, "MIME method= must equal the METHOD inside"
    assert str(parsed["VERSION"]) == "2.0"
    assert "PRODID" in parsed
    events = parsed.walk("VEVENT")
    (event,) = [e for e in events if "RECURRENCE-ID" not in e]  # the exam, its days recurring
    assert {str(e["UID"]) for e in events} == {str(event["UID"])}, "one UID per iTIP message"
    assert "DTSTAMP" in event

    name, email, contact = managers[str(event["UID"])]
    organizer = event["ORGANIZER"]
    assert str(organizer) == f"mailto:{email}", "ORGANIZER is the centre's inbox, bare address"
    assert str(organizer.params["CN"]) == name
    assert str(event["CONTACT"]) == contact, "the session manager is the contact"
    assert message["Reply-To"] == email, "a plain answer reaches the inbox too"
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == [f"mailto:{received.rcpt_tos[0]}"], "one ATTENDEE"
    if method == "REQUEST":
        (attendee,) = attendees
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert str(event["STATUS"]) == "CONFIRMED"
    else:
        assert method == "CANCEL"
        assert str(event["STATUS"]) == "CANCELLED"

    text = _unfolded(calendar)
    used = set(re.findall(r";TZID=([^:;]+)[:;]", text))
    defined = set(re.findall(r"(?m)^TZID:(.+)\r$", text))
    assert used, "the exam session has times in the centre's zone"
    assert used <= defined, f"VTIMEZONE missing for {used - defined}"
    assert calendar.endswith(b"END:VCALENDAR\r\n")
    return Invitation(received, str(message["Subject"]), method, calendar, ics, event)


def validate_with_icaljs(icaljs: Validator, invitations: list[Invitation], folder: Path) -> None:
    """ical.js parses every calendar part and attachment: no missing property, CRLF lines."""
    files: list[Path] = []
    for n, invitation in enumerate(invitations):
        for kind, data in (("part", invitation.calendar), ("attachment", invitation.attachment)):
            path = folder / f"{n:02d}-{invitation.method.lower()}-{kind}.ics"
            path.write_bytes(data)
            files.append(path)
    results = icaljs.run(files)
    for path in files:
        result = results[path]
        assert result["ok"], (path.name, result["error"])
        assert result["missing"] == [], (path.name, result["missing"])
        assert result["line_problems"] == [], (path.name, result["line_problems"])
        assert result["problems"] == [], (path.name, result["problems"])
        # the exam, and one instance per day whose hours differ from the first day's
        assert result["components"]["VEVENT"] == path.read_bytes().count(b"BEGIN:VEVENT") >= 1
        assert result["components"]["VTIMEZONE"] >= 1


class Runner:
    """``notify`` against the aiosmtpd relay, reloading the config folder at every run."""

    def __init__(self, server: SmtpServer, store: Store, config_dir: Path) -> None:
        self.server, self.store, self.config_dir = server, store, config_dir
        self.settings: Settings = mail_settings(server.port)
        self.managers: dict[str, tuple[str, str, str]] = {}

    def session_file(self, session_id: str = SESSION) -> Path:
        return self.config_dir / "sessions" / f"{session_id}.yaml"

    def edit(self, old: str, new: str, session_id: str = SESSION) -> None:
        path = self.session_file(session_id)
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), encoding="utf-8")

    def run(self, now: datetime, *, problems: bool = False) -> list[Invitation]:
        """The invitations this run sent (other mail ignored)."""
        config = load_config(self.config_dir, load_ruleset(self.settings.ruleset))
        assert bool(config.problems) == problems, config.problems
        for session in config.sessions.values():
            manager, centre = session.session_manager, config.centres[session.centre]
            self.managers[uid_for(session.id, "exam_session")] = (
                f"Examens — {centre.name}",
                centre.organizer_email,
                f"{manager.name} <{manager.email}>"
                + (f", tél. {manager.phone}" if manager.phone else ""),
            )
        before = len(self.server.handler.received)
        report = notify(self.settings, config, self.store, now, transport=self.server.transport())
        assert report.drained is not None
        assert report.drained.errors == []
        new = self.server.handler.received[before:]
        return [read_invitation(r, self.managers) for r in new if _is_invitation(r)]


@pytest.fixture
def runner(smtp_server: SmtpServer, store: Store, config_dir: Path) -> Runner:
    return Runner(smtp_server, store, config_dir)


def _for(invitations: list[Invitation], address: str) -> list[Invitation]:
    return [i for i in invitations if i.recipient == address]


def _of_session(invitations: list[Invitation], session_id: str) -> list[Invitation]:
    return [i for i in invitations if i.uid == uid_for(session_id, "exam_session")]


# --- REQUEST, moved (REQUEST again), member removed (CANCEL) ----------------------------------


def test_request_update_cancel_for_a_jury_member(
    runner: Runner, icaljs: Validator, tmp_path: Path
) -> None:
    uid = uid_for(SESSION, "exam_session")

    first = runner.run(NOW)
    (invited,) = _for(first, MEMBER)
    assert (invited.method, invited.sequence, invited.uid) == ("REQUEST", 0, uid)
    assert invited.subject.startswith("Invitation : ")
    assert invited.start.date().isoformat() == "2027-03-15"
    assert str(invited.start.tzinfo) == "Indian/Reunion"
    assert invited.event.decoded("DTSTAMP") == NOW
    assert str(invited.event["ORGANIZER"]) == "mailto:examen.cfpae@afpar.example"
    assert str(invited.event["CONTACT"]) == f"Jean-Luc Hoarau <{MANAGER}>"
    assert {i.recipient for i in _of_session(first, SESSION)} == {MEMBER, OTHER_MEMBER}

    runner.edit("start: 2027-03-15", "start: 2027-03-22")
    runner.edit("end: 2027-03-19", "end: 2027-03-26")
    moved = runner.run(NOW + DAY)
    (updated,) = _for(moved, MEMBER)
    assert (updated.method, updated.sequence, updated.uid) == ("REQUEST", 1, uid)
    assert updated.subject.startswith("Modification : ")
    assert updated.start.date().isoformat() == "2027-03-22"
    assert updated.event.decoded("DTSTAMP") == NOW + DAY
    assert {i.recipient for i in moved} == {MEMBER, OTHER_MEMBER}, "only that session moved"

    runner.edit(
        '  - {name: "Corinne Maillot", email: c.maillot@jury.example, '
        'habilitation_until: 2028-06-30, company: "Cabinet Maillot"}\n',
        "",
    )
    removed = runner.run(NOW + 2 * DAY)
    (cancelled,) = removed  # the other member's invitation is unchanged: nothing for them
    assert cancelled.recipient == MEMBER
    assert (cancelled.method, cancelled.sequence, cancelled.uid) == ("CANCEL", 2, uid)
    assert cancelled.status == "CANCELLED"
    assert cancelled.subject.startswith("Retrait du jury : ")

    sequences = [i.sequence for i in (invited, updated, cancelled)]
    assert sequences == sorted(set(sequences)), "SEQUENCE strictly increases"
    assert runner.run(NOW + 3 * DAY) == [], "nothing is sent twice"
    states = runner.store.invitation_states()
    assert (states[(SESSION, MEMBER)].status, states[(SESSION, MEMBER)].sequence) == (
        "cancelled",
        2,
    )
    validate_with_icaljs(icaljs, [*first, *moved, cancelled], tmp_path)


def test_a_cancelled_session_sends_cancel_to_all_its_jury(
    runner: Runner, icaljs: Validator, tmp_path: Path
) -> None:
    first = _of_session(runner.run(NOW), CANCELLED_SESSION)
    assert sorted(i.recipient for i in first) == sorted(CANCELLED_JURY)

    path = runner.session_file(CANCELLED_SESSION)
    path.write_text(path.read_text(encoding="utf-8") + "cancelled: true\n", encoding="utf-8")
    cancels = runner.run(NOW + DAY)

    assert sorted(i.recipient for i in cancels) == sorted(CANCELLED_JURY)
    for cancel in cancels:
        (request,) = _for(first, cancel.recipient)
        assert (cancel.method, cancel.status) == ("CANCEL", "CANCELLED")
        assert cancel.uid == request.uid == uid_for(CANCELLED_SESSION, "exam_session")
        assert cancel.sequence == request.sequence + 1 == 1
        assert str(cancel.start.tzinfo) == "Europe/Paris"
    assert runner.run(NOW + 2 * DAY) == []
    validate_with_icaljs(icaljs, [*first, *cancels], tmp_path)


def test_a_deleted_session_file_sends_cancel_built_from_the_last_invitation(
    runner: Runner, icaljs: Validator, tmp_path: Path
) -> None:
    first = _of_session(runner.run(NOW), SESSION)
    runner.session_file().unlink()

    cancels = runner.run(NOW + DAY)

    assert sorted(i.recipient for i in cancels) == sorted((MEMBER, OTHER_MEMBER))
    for cancel in cancels:
        (request,) = _for(first, cancel.recipient)
        assert (cancel.method, cancel.sequence, cancel.uid) == ("CANCEL", 1, request.uid)
        assert cancel.start == request.start
        assert cancel.event.decoded("DTSTAMP") == NOW + DAY
    validate_with_icaljs(icaljs, cancels, tmp_path)


# --- a broken session file changes nothing ----------------------------------------------------

BREAKAGES = {
    "yaml-syntax": ("jury:\n", "jury: [\n"),
    "schema": ("nature: titre", "nature: inconnue"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_session_file_sends_nothing(runner: Runner, breakage: str) -> None:
    first = _of_session(runner.run(NOW), SESSION)
    assert len(first) == 2
    original = runner.session_file().read_text(encoding="utf-8")

    runner.edit(*BREAKAGES[breakage])
    assert runner.run(NOW + DAY, problems=True) == []  # no CANCEL for a file that fails to load
    states = runner.store.invitation_states()
    assert states[(SESSION, MEMBER)].status == "invited"

    runner.session_file().write_text(original, encoding="utf-8")
    assert runner.run(NOW + 2 * DAY) == [], "repaired, unchanged: nothing to send"


def test_a_file_named_differently_from_its_session_is_refused_and_sends_nothing(
    runner: Runner,
) -> None:
    """The file name is what protects a session whose file breaks, so it must be the id."""
    assert len(_of_session(runner.run(NOW), SESSION)) == 2
    renamed = runner.session_file().with_name("session-sa.yaml")
    runner.session_file().rename(renamed)
    assert runner.run(NOW + DAY, problems=True) == []  # refused: no CANCEL, nothing at all
    renamed.write_text(
        renamed.read_text(encoding="utf-8").replace("jury:\n", "jury: [\n"), encoding="utf-8"
    )
    assert runner.run(NOW + 2 * DAY, problems=True) == []
