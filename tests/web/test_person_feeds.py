"""Every convened person's own agenda feed, with no ``[[targets]]`` block (``[feeds]
per_person = true``), over real HTTP: its secret link on the « Annuaire du jury » page, for
the coordinators of the person's centres; « Nouveau lien » (CSRF, audited) replaces it; the
link serves the same calendar as a ``jury:<e-mail>`` feed (ETag, 304); a person convened
nowhere any more gets an empty calendar.

The example configuration with Line Hoarau convened three times (surveillant at Saint-André,
juror at Vénissieux, comédien at Strasbourg) and Paul Payet comédien at Saint-André
(tests/harness/convened.py)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar

from syncsvc.app.feeds import person_key
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import FeedSettings, Settings
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
from tests.web.conftest import (
    OTHER,
    OTHER_PASSWORD,
    SECRET,
    SECRET_ENV,
    USER,
    Served,
    csrf_of,
    serve,
    web_settings,
)

PUBLIC = "https://examens.example.org"
EMAIL_RE = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]+")
LINK_RE = r'<tr data-person="{email}">.*?<code class="feed-url">([^<]+)</code>'


def per_person(config: Path, **changes: object) -> Settings:
    settings = web_settings(config)
    users = tuple(
        u.model_copy(update=changes[u.login]) if u.login in changes else u  # type: ignore[arg-type]
        for u in settings.web.users
    )
    return settings.model_copy(
        update={
            "feeds": FeedSettings(per_person=True, base_url=PUBLIC + "/"),
            "web": settings.web.model_copy(update={"users": users}),
        }
    )


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    convened_config(tmp_path)
    with serve(tmp_path, per_person) as running:
        yield running


def link_of(page: str, email: str) -> str | None:
    found = re.search(LINK_RE.format(email=re.escape(email)), page, re.S)
    return html.unescape(found.group(1)) if found else None


def path_of(link: str) -> str:
    """The link's path on the test server (the link names the public ``base_url``)."""
    assert link.startswith(f"{PUBLIC}/feeds/"), link
    assert link.endswith(".ics"), link
    return urlsplit(link).path


def convened_addresses(served: Served) -> set[str]:
    config = load_config(served.config)
    return {p.email for s in config.sessions.values() for p, _ in s.convened()}


def test_a_coordinator_finds_each_person_s_link_and_it_serves_their_exam_days(
    served: Served,
) -> None:
    with served.logged_in() as client:
        page = client.get("/annuaire-jury")
    assert page.status_code == 200
    assert 'id="agendas"' in page.text
    line, paul = link_of(page.text, LINE), link_of(page.text, PAUL)
    assert line is not None
    assert paul is not None
    assert line != paul
    # every convened person has one (jurors, surveillants, comédiens), none twice
    listed = set(re.findall(r'<tr data-person="([^"]+)">', page.text))
    assert listed == convened_addresses(served)
    token = path_of(line).removeprefix("/feeds/").removesuffix(".ics")
    assert served.store.feed_for_token(token) == person_key(LINE)
    assert len(token) >= 40  # 256 random bits, as every feed's
    with httpx.Client(base_url=served.base, timeout=30) as client:
        first = client.get(path_of(line))
        again = client.get(path_of(line), headers={"If-None-Match": first.headers["etag"]})
        same = client.get(path_of(line))
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/calendar")
    assert again.status_code == 304
    assert same.content == first.content  # stable body, stable ETag
    calendar = Calendar.from_ical(first.content)
    # one name whatever happens to her sessions (an empty calendar's too): her own agenda
    assert str(calendar["X-WR-CALNAME"]) == "Examens TP — mes convocations"
    events = calendar.walk("VEVENT")
    assert not calendar.walk("VTODO")
    sessions = [str(e["X-SYNCSVC-SESSION"]) for e in events]
    assert {s: sessions.count(s) for s in sessions} == {SA: 5, CTRMP: 5, TEEE: 5}
    heads = {str(e["X-SYNCSVC-SESSION"]): str(e["DESCRIPTION"]).partition(" — ")[0] for e in events}
    assert heads == {SA: "Surveillance", CTRMP: "Jury", TEEE: "Comédien"}


def test_a_person_s_feed_holds_no_one_else_s_address_and_nothing_of_the_organisers(
    served: Served,
) -> None:
    with served.logged_in() as client:
        page = client.get("/annuaire-jury").text
    everyone = convened_addresses(served)
    assert {LINE, PAUL} <= everyone
    assert len(everyone) > 5
    with httpx.Client(base_url=served.base, timeout=30) as client:
        bodies = {who: client.get(path_of(link_of(page, who) or "")).content for who in everyone}
    for who, body in bodies.items():
        calendar = Calendar.from_ical(body)
        events = calendar.walk("VEVENT")
        assert events, who
        assert {str(e["X-SYNCSVC-MILESTONE"]) for e in events} == {"exam_session"}
        for event in events:
            attendees = event.get("ATTENDEE")
            attendees = attendees if isinstance(attendees, list) else [attendees]
            assert [str(a).lower() for a in attendees] == [f"mailto:{who}"], who
            session = str(event["X-SYNCSVC-SESSION"])
            if session in MANAGERS:
                assert str(event["ORGANIZER"]) == f"mailto:{MANAGERS[session]}"
        unfolded = body.replace(b"\r\n ", b"")
        found = {m.decode().lower() for m in EMAIL_RE.findall(unfolded)}
        managers = {str(e["ORGANIZER"]).removeprefix("mailto:") for e in events}
        # their own address and their session managers' (their contacts), no one else's
        assert found == {who} | managers, who
        assert found & everyone == {who}, who  # no other convened person
        for words in ("À faire", "Rappel", "EN RETARD", "Tableau de bord", PUBLIC, *CANDIDATES):
            assert words.encode() not in unfolded, (who, words)
    # Paul, the comédien of one session, never sees Line, and Line never sees Paul
    assert PAUL not in {m.decode().lower() for m in EMAIL_RE.findall(bodies[LINE])}
    assert LINE not in {m.decode().lower() for m in EMAIL_RE.findall(bodies[PAUL])}


def test_nouveau_lien_replaces_the_link_the_old_one_answers_404(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get("/annuaire-jury")
        old = link_of(page.text, LINE)
        assert old is not None
        assert 'action="/annuaire-jury/agenda/nouveau-lien"' in page.text
        forged = client.post("/annuaire-jury/agenda/nouveau-lien", data={"email": LINE})
        assert forged.status_code == 403  # no CSRF token
        assert link_of(client.get("/annuaire-jury").text, LINE) == old
        done = client.post(
            "/annuaire-jury/agenda/nouveau-lien",
            data={"csrf": csrf_of(page.text), "email": LINE.upper()},
        )
        assert done.status_code == 303, done.text
        after = client.get(done.headers["location"])
    new = link_of(after.text, LINE)
    assert new is not None
    assert new != old
    assert f"Nouveau lien d'agenda pour {LINE}" in html.unescape(after.text)
    assert link_of(after.text, PAUL) == link_of(page.text, PAUL)  # only hers changed
    with httpx.Client(base_url=served.base, timeout=30) as client:
        assert client.get(path_of(old)).status_code == 404
        assert client.get(path_of(new)).status_code == 200
    (entry,) = served.store.audit_trail()
    assert (entry.user, entry.action) == (USER, "person_feed_rotate")
    recorded = repr(entry)
    assert LINE in recorded
    for link in (old, new):
        assert path_of(link).removeprefix("/feeds/").removesuffix(".ics") not in recorded


def test_a_person_convened_nowhere_any_more_gets_an_empty_calendar(served: Served) -> None:
    with served.logged_in() as client:
        link = link_of(client.get("/annuaire-jury").text, LINE)
    assert link is not None
    with httpx.Client(base_url=served.base, timeout=30) as client:
        first = client.get(path_of(link))
        assert len(Calendar.from_ical(first.content).walk("VEVENT")) == 15
        for path in (served.config / "sessions").glob("*.yaml"):
            text = path.read_text(encoding="utf-8")
            kept = [x for x in text.splitlines(True) if f"email: {LINE}" not in x.lower()]
            path.write_text("".join(kept), encoding="utf-8")
        assert LINE not in convened_addresses(served)
        later = client.get(path_of(link), headers={"If-None-Match": first.headers["etag"]})
    assert later.status_code == 200
    calendar = Calendar.from_ical(later.content)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["X-WR-CALNAME"]) == "Examens TP — mes convocations"
    with served.logged_in() as client:
        page = client.get("/annuaire-jury").text
    assert link_of(page, LINE) is None  # no longer listed
    assert link_of(page, PAUL) is not None


def test_a_coordinator_of_some_centres_sees_and_renews_only_their_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    convened_config(tmp_path)
    strasbourg = {USER: {"centres": ("afpa-strasbourg",)}, OTHER: {"role": "viewer"}}
    with serve(tmp_path, lambda c: per_person(c, **strasbourg)) as running:
        config = load_config(running.config)
        theirs = {
            p.email
            for s in config.sessions.values()
            if s.centre == "afpa-strasbourg"
            for p, _ in s.convened()
        }
        with running.logged_in() as client:
            page = client.get("/annuaire-jury").text
            listed = set(re.findall(r'<tr data-person="([^"]+)">', page))
            assert listed == theirs
            assert LINE in listed
            assert PAUL not in listed
            refused = client.post(
                "/annuaire-jury/agenda/nouveau-lien", data={"csrf": csrf_of(page), "email": PAUL}
            )
            assert refused.status_code == 403
        with running.logged_in(OTHER, OTHER_PASSWORD) as client:  # a viewer
            page = client.get("/annuaire-jury").text
            assert 'id="agendas"' in page
            assert "/feeds/" not in page
            assert "nouveau-lien" not in page
            refused = client.post(
                "/annuaire-jury/agenda/nouveau-lien", data={"csrf": csrf_of(page), "email": LINE}
            )
            assert refused.status_code == 403
        assert running.store.audit_trail() == []


def test_without_per_person_no_link_and_a_person_token_opens_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    convened_config(tmp_path)
    with serve(tmp_path) as running:
        token = running.store.feed_token(person_key(LINE), running.clock.now)
        with running.logged_in() as client:
            page = client.get("/annuaire-jury").text
            refused = client.post(
                "/annuaire-jury/agenda/nouveau-lien", data={"csrf": csrf_of(page), "email": LINE}
            )
        with httpx.Client(base_url=running.base, timeout=30) as client:
            served = client.get(f"/feeds/{token}.ics")
    assert 'id="agendas"' not in page
    assert "/feeds/" not in page
    assert refused.status_code == 404
    assert served.status_code == 404


def test_a_broken_session_file_does_not_empty_a_person_s_feed(served: Served) -> None:
    with served.logged_in() as client:
        link = link_of(client.get("/annuaire-jury").text, PAUL)
    assert link is not None
    with httpx.Client(base_url=served.base, timeout=30) as client:
        first = client.get(path_of(link))
        before = Calendar.from_ical(first.content).walk("VEVENT")
        assert {str(e["X-SYNCSVC-SESSION"]) for e in before} == {SA}
        sa = served.config / "sessions" / f"{SA}.yaml"
        text = sa.read_text(encoding="utf-8")
        sa.write_text(text.replace("session_manager:", "session_manger:", 1), encoding="utf-8")
        assert SA not in load_config(served.config).sessions  # the file no longer loads
        later = client.get(path_of(link), headers={"If-None-Match": first.headers["etag"]})
    assert later.status_code == 304  # his exam days stay as they were, named as they were
