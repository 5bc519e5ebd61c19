"""The surveillant's and the comédien's own feed, over real HTTP: listed on the « Calendriers »
page with its secret address, served at that address to a client that subscribes.

A ``jury:<e-mail>`` feed holds every exam its address is convened to (juror, surveillant,
comédien): see tests/app/test_convened_feed.py for what the items say."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar

from tests.harness.convened import CANDIDATES, CTRMP, LINE, MANAGERS, SA, TEEE, convened_config
from tests.web.conftest import SECRET, SECRET_ENV, serve

FEED = "flux-convocations-hoarau"


def _row(page: str, name: str) -> str:
    found = re.search(rf'<tr id="t-{name}">.*?</tr>', page, re.S)
    assert found is not None, name
    return html.unescape(found.group(0))


def test_a_surveillant_s_feed_is_listed_and_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    convened_config(tmp_path)  # Line: surveillant, juror and comédien of three sessions
    settings = tmp_path / "config" / "syncsvc.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8")
        + f'\n[[targets]]\nname = "{FEED}"\nkind = "feed"\naudience = "jury:{LINE.upper()}"\n',
        encoding="utf-8",
    )
    with serve(tmp_path) as running:
        with running.logged_in() as client:
            page = client.get("/targets").text
        row = _row(page, FEED)
        assert f"Convocations (jury, surveillance, comédien) — {LINE}" in row
        found = re.search(r"(https?://\S+/feeds/[A-Za-z0-9_-]+\.ics)", row)
        assert found is not None, row
        path = urlsplit(found.group(1)).path  # the public base_url; the test server's port
        assert path == f"/feeds/{running.store.feed_token(FEED, running.clock.now)}.ics"
        with httpx.Client(base_url=running.base, timeout=30) as client:
            first = client.get(path)
            again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
            # No longer the surveillant of the SA session: its days leave her feed.
            sa_file = running.config / "sessions" / f"{SA}.yaml"
            text = sa_file.read_text(encoding="utf-8")
            kept = [line for line in text.splitlines(True) if not line.startswith("surveillant:")]
            assert len(kept) == len(text.splitlines()) - 1
            sa_file.write_text("".join(kept), encoding="utf-8")
            later = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/calendar")
    assert again.status_code == 304
    body = first.content
    calendar = Calendar.from_ical(body)
    assert str(calendar["X-WR-CALNAME"]) == f"Examens TP — convocations de {LINE}"
    events = calendar.walk("VEVENT")
    assert not calendar.walk("VTODO")
    assert {str(e["X-SYNCSVC-MILESTONE"]) for e in events} == {"exam_session"}
    sessions = [str(e["X-SYNCSVC-SESSION"]) for e in events]
    assert {s: sessions.count(s) for s in sessions} == {SA: 5, CTRMP: 5, TEEE: 5}
    zones = {str(e["X-SYNCSVC-SESSION"]): str(e["DTSTART"].params["TZID"]) for e in events}
    assert zones == {SA: "Indian/Reunion", CTRMP: "Europe/Paris", TEEE: "Europe/Paris"}
    assert sorted(str(t["TZID"]) for t in calendar.walk("VTIMEZONE")) == [
        "Europe/Paris",
        "Indian/Reunion",
    ]
    heads = {str(e["X-SYNCSVC-SESSION"]): str(e["DESCRIPTION"]).partition(" — ")[0] for e in events}
    assert heads == {SA: "Surveillance", CTRMP: "Jury", TEEE: "Comédien"}
    for event in events:
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a) for a in attendees] == [f"mailto:{LINE}"]
        session = str(event["X-SYNCSVC-SESSION"])
        assert str(event["ORGANIZER"]) == f"mailto:{MANAGERS[session]}"
    unfolded = body.replace(b"\r\n ", b"")
    for words in ("À faire", "Rappel", "EN RETARD", "Tableau de bord", *CANDIDATES):
        assert words.encode() not in unfolded, words
    for other in (b"p.payet@afpar.example", b"c.maillot@jury.example", b"n.techer@afpar"):
        assert other not in unfolded
    assert later.status_code == 200
    left = Calendar.from_ical(later.content).walk("VEVENT")
    assert sorted({str(e["X-SYNCSVC-SESSION"]) for e in left}) == [CTRMP, TEEE]
