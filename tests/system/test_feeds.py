"""ICS feeds served over real HTTP by uvicorn on 127.0.0.1, read by an HTTP client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from syncsvc.inputs.settings import load_settings
from syncsvc.state.store import Store
from syncsvc.web import create_app
from tests.harness.servers import serve_app

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Served:
    def __init__(self, root: Path, store: Store, clock: Clock, base: str) -> None:
        self.root, self.store, self.clock, self.base = root, store, clock, base

    def url(self, feed: str) -> str:
        return f"{self.base}/feeds/{self.store.feed_token(feed, self.clock.now)}.ics"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    settings = load_settings(tmp_path / "config")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    clock = Clock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    app = create_app(tmp_path / "config", settings, store, clock)
    try:
        with serve_app(app) as url:
            yield Served(tmp_path, store, clock, url)
    finally:
        store.close()


def test_feed_is_valid_icalendar_with_etag_and_304(served: Served) -> None:
    url = served.url("flux-coordination-st-andre")
    with httpx.Client() as client:
        first = client.get(url)
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("text/calendar")
        cal = Calendar.from_ical(first.content)
        assert str(cal["X-WR-CALNAME"]) == "Examens TP — AFPAR Saint-André"
        assert "REFRESH-INTERVAL" in cal
        events = cal.walk("VEVENT")
        sessions = {str(e["X-SYNCSVC-SESSION"]) for e in events}
        # and the centre's annual programming, tied to no session (issue 11)
        assert sessions == {
            "sa-2027-03-st-andre",
            "ccp-ac-2027-05-st-andre",
            "centre:afpar-st-andre:2027",
        }
        assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Indian/Reunion"]
        assert first.content.endswith(b"END:VCALENDAR\r\n")

        etag = first.headers["etag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert client.get(url).content == first.content  # stable body


def test_feed_changes_when_a_session_moves_and_sequence_increases(served: Served) -> None:
    url = served.url("flux-coordination-st-andre")
    with httpx.Client() as client:
        before = client.get(url)
        path = served.root / "config/sessions/sa-2027-03-st-andre.yaml"
        path.write_text(
            path.read_text(encoding="utf-8").replace("start: 2027-03-15", "start: 2027-03-16"),
            encoding="utf-8",
        )
        after = client.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    events = {str(e["UID"]): e for e in Calendar.from_ical(after.content).walk("VEVENT")}
    assert events["sa-2027-03-st-andre.dte_order@syncsvc"]["SEQUENCE"] == 1
    assert events["ccp-ac-2027-05-st-andre.dte_order@syncsvc"]["SEQUENCE"] == 0


def test_jury_feed_carries_only_their_exam_sessions_and_no_candidate(served: Served) -> None:
    path = served.root / "config/sessions/sa-2027-03-st-andre.yaml"
    manager = 'session_manager: {name: "Jean-Luc Hoarau", email: jl.hoarau@afpar.example'
    text = path.read_text(encoding="utf-8")
    assert manager in text
    path.write_text(text.replace(manager, manager + ', phone: "0692 00 00 01"'), encoding="utf-8")
    with httpx.Client() as client:
        body = client.get(served.url("flux-jury-maillot")).content
    events = sorted(Calendar.from_ical(body).walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))
    # Issue 11: one event per exam day with its hours, not one block through the nights.
    reunion = ZoneInfo("Indian/Reunion")
    assert [(str(e["UID"]), e.decoded("DTSTART"), e.decoded("DTEND")) for e in events] == [
        (
            "sa-2027-03-st-andre.exam_session@syncsvc"
            if day == 15
            else f"sa-2027-03-st-andre.exam_session.day{day - 14}@syncsvc",
            datetime(2027, 3, day, 8, 30, tzinfo=reunion),
            datetime(2027, 3, day, 18, 0, tzinfo=reunion),
        )
        for day in range(15, 20)
    ]
    for secret in (b"Benali", b"Perret", b"Transports Dumas"):
        assert secret not in body
    # Reported: the jury feed listed every juror's name and address. Only this juror's now.
    for event in events:
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a) for a in attendees] == ["mailto:c.maillot@jury.example"]
    assert b"p.fontaine@jury.example" not in body
    assert b"Patrick Fontaine" not in body
    # Reported: the exam event carried the 3,944-character organiser checklist. A juror reads
    # the days, the place, the session manager's contact and what to bring.
    for event in events:
        text = str(event["DESCRIPTION"])
        assert len(text) < 1000, len(text)
        assert "À faire" not in text
        assert "Tableau de bord" not in text
        assert "n.techer@afpar.example" not in text
        assert "- ven. 19/03/2027, 08:30 – 18:00" in text
        assert "Lieu : AFPAR Saint-André, salle B12" in text
        assert "Jean-Luc Hoarau <jl.hoarau@afpar.example>, tél. 0692 00 00 01" in text
    assert b"Rappel" not in body


def test_tasks_feed(served: Served) -> None:
    with httpx.Client() as client:
        body = client.get(served.url("flux-coordination-strasbourg")).content
    cal = Calendar.from_ical(body)
    assert len(cal.walk("VTODO")) > 10
    assert len(cal.walk("VEVENT")) == 5  # the exam session, one event per day


@pytest.mark.parametrize(
    "path",
    ["/feeds/not-a-token.ics", "/feeds/" + "A" * 43 + ".ics", "/feeds/../healthz.ics"],
)
def test_a_wrong_token_reveals_nothing(served: Served, path: str) -> None:
    with httpx.Client() as client:
        response = client.get(served.base + path)
    assert response.status_code == 404
    assert b"VCALENDAR" not in response.content
    assert len(response.content) < 40


def test_rotated_token_stops_working(served: Served) -> None:
    old = served.url("flux-coordination-venissieux")
    served.store.rotate_feed_token("flux-coordination-venissieux", served.clock.now)
    new = served.url("flux-coordination-venissieux")
    with httpx.Client() as client:
        assert client.get(old).status_code == 404
        assert client.get(new).status_code == 200


def test_statuses_follow_the_clock(served: Served) -> None:
    url = served.url("flux-coordination-st-andre")
    with httpx.Client() as client:
        client.get(url)
        served.clock.now = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)
        body = client.get(url).content
    events = {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    assert str(events["sa-2027-03-st-andre.dte_order@syncsvc"]["SUMMARY"]).startswith("⚠")
