"""The surveillant's and the comédien's own calendar: ``jury:<e-mail>`` is everyone convened.

Reported (README « Pas encore fait »): the surveillant and the comédien had no calendar nor
feed of their own — ``jury:<e-mail>`` only held the sessions the address sat on as a juror, so
a surveillant's feed was empty. An audience ``jury:<e-mail>`` now holds every exam the address
is convened to — as a juror, the surveillant or the comédien — and only what their invitation
says: the days and hours in the centre's zone, the place, the session manager's contact. Never
the organisers' deadlines, reminders or overdue alerts, another person's address, a candidate.

The example configuration is edited as a person would (the session files), then loaded, planned
and rendered as the feeds and calendars are (:class:`~syncsvc.app.desired.Renderer`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syncsvc.app.desired import Renderer
from syncsvc.core import audience
from syncsvc.core.config import Config
from syncsvc.core.entries import Entry
from syncsvc.core.exam_days import exam_days
from syncsvc.core.planner import plan_sessions
from syncsvc.formats.ical import resource_bytes
from syncsvc.inputs.settings import TargetSettings
from tests.harness.convened import (
    CANDIDATES,
    CTRMP,
    LINE,
    MANAGERS,
    PAUL,
    SA,
    TEEE,
    convened_config,
)

# A Monday when the SA session has overdue and due-soon milestones (organisers' alerts exist).
NOW = datetime(2027, 2, 8, 8, 0, tzinfo=UTC)
EMAIL_RE = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]+")


def ics(entries: list[Entry]) -> bytes:
    """The entries as iCalendar, lines unfolded (an address may straddle a fold)."""
    return b"".join(resource_bytes(e, NOW, 0) for e in entries).replace(b"\r\n ", b"")


def addresses(body: bytes) -> set[str]:
    return {m.decode().lower() for m in EMAIL_RE.findall(body)}


def feed_of(config: Config, who: str, items: str = "events") -> list[Entry]:
    target = TargetSettings.model_validate(
        {"name": "flux", "kind": "feed", "audience": f"jury:{who}", "items": items}
    )
    planning = plan_sessions(config, {}, NOW)
    desired = Renderer().desired(
        target, planning.planned, "https://examens.example.org", None, planning.centre_milestones
    )
    return sorted((d.entry for d in desired.values()), key=lambda e: (e.start, e.uid))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return convened_config(tmp_path)


def test_a_surveillant_juror_and_comedien_gets_every_exam_day_in_one_feed(
    config: Config,
) -> None:
    entries = feed_of(config, LINE)
    assert {e.milestone_id for e in entries} == {"exam_session"}  # no organiser deadline
    expected = []
    for session_id in (CTRMP, SA, TEEE):
        session = config.sessions[session_id]
        for day in exam_days(session, config.centres[session.centre]):
            expected.append((session_id, day.starts_at, day.ends_at))
    assert [(e.session_id, e.start, e.end) for e in entries] == expected
    zones = {e.session_id: str(getattr(e.start, "tzinfo", None)) for e in entries}
    assert zones == {SA: "Indian/Reunion", CTRMP: "Europe/Paris", TEEE: "Europe/Paris"}
    first_sa = next(e for e in entries if e.session_id == SA)
    reunion = ZoneInfo("Indian/Reunion")
    assert first_sa.start == datetime(2027, 3, 15, 8, 30, tzinfo=reunion)
    for entry in entries:
        assert [(p.name, p.email) for p in entry.attendees] == [("Line Hoarau", LINE)]
        assert entry.organizer is not None
        assert entry.organizer.email == MANAGERS[entry.session_id]


def test_each_exam_says_what_the_person_is_convened_as_and_no_more(config: Config) -> None:
    entries = feed_of(config, LINE)
    by_session = {e.session_id: e for e in reversed(entries)}  # each session's first day
    sa, ctrmp, teee = by_session[SA], by_session[CTRMP], by_session[TEEE]
    assert sa.description.startswith("Surveillance — TP-00374 Secrétaire assistant (TITRE)\n")
    assert teee.description.startswith("Comédien — TP-00407 ")
    assert ctrmp.description.startswith("Jury — TP-01287 ")
    assert "Jour 1/5 : lun. 15/03/2027, 08:30 – 18:00" in sa.description
    assert "Lieu : AFPAR Saint-André, salle B12" in sa.description
    assert "Responsable de session : Jean-Luc Hoarau <jl.hoarau@afpar.example>" in sa.description
    # as in the invitation: when the jury is welcomed; what a juror brings, for a juror only
    assert "Accueil du jury : lun. 15/03/2027 à 08:00" in sa.description
    assert "pièce d'identité" in ctrmp.description
    assert "pièce d'identité" not in sa.description
    assert "pièce d'identité" not in teee.description


def test_nothing_of_the_organisers_of_others_or_of_candidates_reaches_the_feed(
    config: Config,
) -> None:
    entries = feed_of(config, LINE)
    body = ics(entries)
    for words in ("À faire", "Rappel", "EN RETARD", "⚠", "Tableau de bord", "examens.example"):
        assert words.encode() not in body, words
    for candidate in CANDIDATES:
        assert candidate.encode() not in body, candidate
    # the only addresses: hers, and the session managers of her sessions (her contacts)
    assert addresses(body) == {LINE, *MANAGERS.values()}
    for other in (b"Paul Payet", b"0692 22 22", b"Corinne Maillot", b"Chantal Vidal"):
        assert other not in body
    assert b"0692 11" not in body  # her own phone is not a calendar's business either


def test_a_comedien_only_sees_the_session_they_play_in(config: Config) -> None:
    entries = feed_of(config, PAUL)
    assert {e.session_id for e in entries} == {SA}
    assert all(e.description.startswith("Comédien — ") for e in entries)
    assert all([p.email for p in e.attendees] == [PAUL] for e in entries)
    assert addresses(ics(entries)) == {PAUL, MANAGERS[SA]}  # not Line, not the jurors


def test_a_task_calendar_keeps_the_exam_days_as_events(config: Config) -> None:
    entries = feed_of(config, LINE, items="tasks")
    assert entries
    assert not any(e.task for e in entries)
    assert {e.milestone_id for e in entries} == {"exam_session"}


def test_an_address_convened_nowhere_has_an_empty_feed(config: Config) -> None:
    assert feed_of(config, "personne@nulle-part.example") == []
    # and the organisers are not « convened » by running the session
    assert feed_of(config, MANAGERS[SA]) == []


def test_the_audience_and_its_names_say_a_convened_person(config: Config) -> None:
    session = config.sessions[SA]
    centre = config.centres[session.centre]
    exam = next(m for m in plan_sessions(config, {}, NOW).planned if m.session.id == SA).milestones
    seen = [m.id for m in exam if audience.sees(f"jury:{LINE}", session, m)]
    assert seen == ["exam_session"]
    assert not audience.sees_centre(f"jury:{LINE}", centre.id)
    assert audience.calendar_name(f"jury:{LINE}", {}) == f"Examens TP — convocations de {LINE}"
