"""The dashboard, a session's page and its checklist forms, the outbox and targets pages."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import httpx
import yaml

from syncsvc.core.planner import plan_all
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.web.conftest import NAME, NOW, OTHER, OTHER_PASSWORD, SESSION_ID, Served, csrf_of

SVG = "{http://www.w3.org/2000/svg}"


def _svg(html: str) -> ET.Element:
    found = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert found is not None, "no inline <svg> in the page"
    return ET.fromstring(found.group(0))


def _row(page: str, milestone: str) -> str:
    found = re.search(rf'<tr id="m-{milestone}".*?</tr>', page, re.S)
    assert found is not None, milestone
    return html.unescape(found.group(0))


def _mark(
    client: httpx.Client, milestone: str, *, session: str = SESSION_ID, **fields: str
) -> httpx.Response:
    page = client.get(f"/sessions/{session}")
    data = {"csrf": csrf_of(page.text), **fields}
    return client.post(f"/sessions/{session}/milestones/{milestone}/done", data=data)


# --- dashboard ------------------------------------------------------------------------------


def test_dashboard_lists_every_session_in_start_order(served: Served) -> None:
    files = sorted((served.config / "sessions").glob("*.yaml"))
    starts = {}
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        starts[data["id"]] = data["start"]
    with served.logged_in() as client:
        page = html.unescape(client.get("/").text)
    shown = re.findall(r'<tr id="s-([a-z0-9-]+)"', page)
    assert shown == sorted(starts, key=lambda s: (starts[s], s))
    for session_id in starts:
        assert f'href="/sessions/{session_id}"' in page
    assert "Sessions d'examen" in page
    # The SA session: its next milestone is overdue, with findings from the checks.
    row = re.search(rf'<tr id="s-{SESSION_ID}".*?</tr>', page, re.S)
    assert row is not None
    assert "Commander le pli d'examen (DTE)" in row.group(0)
    assert "En retard" in row.group(0)
    # overdue milestones are counted in their column, listed on the session page only
    assert "n'est pas marqué fait" not in row.group(0)


def test_dashboard_sent_gzip_is_the_same_page_per_user_and_follows_marks(served: Served) -> None:
    """The sessions table is compressed once and shared; each user's header is their own, and
    a done mark shows at the next request."""
    with served.logged_in() as client, served.logged_in(OTHER, OTHER_PASSWORD) as other:
        plain = client.get("/", headers={"accept-encoding": "identity"})
        packed = client.get("/", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.headers["vary"] == "Accept-Encoding"
        assert int(packed.headers["content-length"]) < len(plain.content)
        assert packed.text == plain.text
        theirs = other.get("/", headers={"accept-encoding": "gzip"}).text
        assert csrf_of(theirs) != csrf_of(packed.text)
        assert NAME in packed.text
        assert NAME not in theirs
        row = re.search(rf'<tr id="s-{SESSION_ID}".*?</tr>', html.unescape(packed.text), re.S)
        assert row is not None
        assert "fait le 05/02/2027" not in row.group(0)

        assert _mark(client, "dte_order", done_on="2027-02-05").status_code == 303
        for who in (client, other):
            page = html.unescape(who.get("/", headers={"accept-encoding": "gzip"}).text)
            row = re.search(rf'<tr id="s-{SESSION_ID}".*?</tr>', page, re.S)
            assert row is not None
            assert "fait le 05/02/2027" in row.group(0)


def test_dashboard_shows_load_problems_and_follows_file_changes(served: Served) -> None:
    sessions = served.config / "sessions"
    with served.logged_in() as client:
        assert "Problèmes de chargement" not in client.get("/").text
        (sessions / "cassee.yaml").write_text("id: cassee\nstart: [\n", encoding="utf-8")
        path = sessions / f"{SESSION_ID}.yaml"
        path.write_text(
            path.read_text(encoding="utf-8").replace("end: 2027-03-19", "end: 2027-03-26"),
            encoding="utf-8",
        )
        page = client.get("/").text
    assert "Problèmes de chargement (1)" in page
    assert "cassee.yaml" in page
    assert "26/03/2027" in page
    with served.logged_in() as client:
        broken = client.get("/sessions/cassee")
    # listed and shown with its error, not a 404 (issue 12: tests/web/test_small_things.py)
    assert broken.status_code == 200
    assert "cassee.yaml" in broken.text
    assert "Fichier en erreur" in broken.text


def test_unknown_session_is_a_french_404(served: Served) -> None:
    with served.logged_in() as client:
        response = client.get("/sessions/nexiste-pas", headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert "Session introuvable" in response.text
        other = client.get("/nulle-part", headers={"Accept": "text/html"})
        assert other.status_code == 404
        assert "Page introuvable" in other.text


# --- session page ---------------------------------------------------------------------------


def test_session_page_header_timeline_and_checklist(served: Served) -> None:
    config = load_config(served.config, load_ruleset())
    milestones = next(m for s, _, m in plan_all(config, {}, NOW) if s.id == SESSION_ID)
    with served.logged_in() as client:
        raw = client.get(f"/sessions/{SESSION_ID}").text
    page = html.unescape(raw)
    for text in (
        "SA 15/03 — Secrétaire assistant",
        "du lun. 15/03/2027 au ven. 19/03/2027",
        "AFPAR Saint-André",
        "Jean-Luc Hoarau",
    ):
        assert text in page
    svg = _svg(raw)
    rows = svg.findall(f"{SVG}g[@class='milestone']")
    assert [g.get("data-milestone") for g in rows] == [m.id for m in milestones]
    assert [g.get("data-status") for g in rows] == [m.status for m in milestones]
    today = svg.findall(f"{SVG}line[@class='today']")
    assert len(today) == 1
    assert "Aujourd'hui 08/02/2027" in page
    assert {"overdue", "due_soon", "done", "pending"} <= {g.get("data-status") for g in rows}
    assert re.findall(r'<tr id="m-([a-z_]+)"', page) == [m.id for m in milestones]
    # The seeds' checklist of a rule, under its milestone.
    row = _row(page, "dte_order")
    assert "À faire" in row
    assert "<li>" in row
    assert 'name="done_on" value="2027-02-08"' in row  # today in Réunion
    assert f'value="{NAME}"' in row  # who: the logged-in user


def test_mark_done_then_undone_through_the_forms(served: Served) -> None:
    with served.logged_in() as client:
        response = _mark(client, "dte_order", done_on="2027-02-05", by="", note="Pli commandé")
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"/sessions/{SESSION_ID}?fait=dte_order")
        marks = served.store.done_marks()
        assert marks[SESSION_ID]["dte_order"] == date(2027, 2, 5)
        assert served.marked == ["marque"]  # the daemon is asked to update the calendars
        page = client.get(response.headers["location"]).text
        assert "« Commander le pli d'examen (DTE) » est marqué fait." in html.unescape(page)
        row = _row(page, "dte_order")
        assert 'data-status="done"' in row
        assert "Fait le 05/02/2027" in row
        assert f"par {NAME}" in row
        assert ">Pli commandé</textarea>" in row
        svg_row = _svg(page).find(f"{SVG}g[@data-milestone='dte_order']")
        assert svg_row is not None
        assert svg_row.get("data-status") == "done"
        assert svg_row.find(f"{SVG}path[@class='done-mark']") is not None

        # Editing keeps one mark with the new values.
        _mark(client, "dte_order", done_on="2027-02-06", by="  Jean   Hoarau ", note="")
        assert served.store.done_marks()[SESSION_ID]["dte_order"] == date(2027, 2, 6)
        assert "par Jean Hoarau" in _row(client.get(f"/sessions/{SESSION_ID}").text, "dte_order")

        page = client.get(f"/sessions/{SESSION_ID}").text
        response = client.post(
            f"/sessions/{SESSION_ID}/milestones/dte_order/undone",
            data={"csrf": csrf_of(page)},
        )
        assert response.status_code == 303
        assert SESSION_ID not in served.store.done_marks()
        assert served.marked == ["marque"] * 3
        page = html.unescape(client.get(response.headers["location"]).text)
        assert "La marque « fait » de « Commander le pli d'examen (DTE) » est retirée." in page
        assert 'data-status="overdue"' in _row(page, "dte_order")


def test_mark_done_refuses_bad_input(served: Served) -> None:
    tomorrow = (NOW.date() + timedelta(days=1)).isoformat()
    with served.logged_in() as client:
        future = _mark(client, "dte_order", done_on=tomorrow)
        assert future.status_code == 400
        assert "Date dans le futur" in future.text
        garbled = _mark(client, "dte_order", done_on="08/02/2027x")
        assert garbled.status_code == 400
        unknown = _mark(client, "pas_un_jalon")
        assert unknown.status_code == 404
        other = _mark(client, "dte_order", session="nexiste-pas")
        assert other.status_code == 404
    assert served.store.done_marks() == {}


def test_default_date_is_today_at_the_centre(served: Served) -> None:
    with served.logged_in() as client:
        assert _mark(client, "dte_order").status_code == 303
    assert served.store.done_marks()[SESSION_ID]["dte_order"] == date(2027, 2, 8)


# --- outbox ---------------------------------------------------------------------------------


def _enqueue(served: Served, n: int, recipient: str) -> int:
    served.store.enqueue(
        key=f"test:{n}",
        kind="reminder",
        recipient=recipient,
        subject=f"Rappel n° {n}",
        message_id=f"<{n}@test>",
        message=b"Subject: x\r\n\r\nx\r\n",
        now=NOW,
        session_id=SESSION_ID,
        milestone_id="dte_order",
    )
    return next(r.id for r in served.store.messages() if r.key == f"test:{n}")


def test_outbox_page_and_resend(served: Served) -> None:
    sent = _enqueue(served, 1, "n.techer@afpar.example")
    dead = _enqueue(served, 2, "adresse@inconnue.example")
    _enqueue(served, 3, "jl.hoarau@afpar.example")
    served.store.mark_sent(sent, "250 OK", NOW)
    served.store.mark_dead(dead, "550 5.1.1 boîte inconnue")
    with served.client() as anonymous:
        assert anonymous.get("/outbox").status_code == 303  # addresses need a login
    with served.logged_in() as client:
        page = client.get("/outbox").text
        for text in (
            "En échec (1)",
            "En attente (1)",
            "Envoyé (1)",
            "adresse@inconnue.example",
            "550 5.1.1 boîte inconnue",
            "Rappel n° 3",
            "08/02/2027 09:00",  # the service's zone (Europe/Paris), not UTC
            "250 OK",
        ):
            assert text in page
        assert page.count("Renvoyer<") == 1
        response = client.post(f"/outbox/{dead}/resend", data={"csrf": csrf_of(page)})
        assert response.status_code == 303
        assert response.headers["location"] == f"/outbox?renvoye={dead}"
        assert [r.id for r in served.store.messages("pending")] == sorted([dead, 3], reverse=True)
        after = client.get(response.headers["location"]).text
        assert f"Le message n° {dead} est remis en file" in after
        assert "En échec (0)" in after
        again = client.post(f"/outbox/{dead}/resend", data={"csrf": csrf_of(after)})
        assert again.headers["location"] == f"/outbox?introuvable={dead}"


# --- targets --------------------------------------------------------------------------------


def test_targets_page(served: Served) -> None:
    store = served.store
    store.record_success("flux-coordination-st-andre", NOW - timedelta(minutes=5))
    store.record_failure("flux-jury-maillot", "serveur injoignable", NOW - timedelta(hours=1))
    store.record_item_error("flux-jury-maillot", "x@syncsvc", "refusé", NOW)
    store.record_push(
        "flux-coordination-st-andre",
        "a@syncsvc",
        session_id=SESSION_ID,
        milestone_id="dte_order",
        href="a.ics",
        etag=None,
        content_hash="0" * 64,
        sequence=0,
        at=NOW,
    )
    with served.client() as anonymous:
        assert anonymous.get("/targets").status_code == 303  # feed tokens need a login
    with served.logged_in() as client:
        page = client.get("/targets").text
    token = store.feed_token("flux-coordination-st-andre", NOW)
    assert f"http://127.0.0.1:8080/feeds/{token}.ics" in page
    st_andre = re.search(r'<tr id="t-flux-coordination-st-andre">.*?</tr>', page, re.S)
    jury = re.search(r'<tr id="t-flux-jury-maillot">.*?</tr>', page, re.S)
    assert st_andre is not None
    assert jury is not None
    assert "08/02/2027 08:55" in st_andre.group(0)  # in Paris time, not « 07:55 UTC »
    assert "Coordination — AFPAR Saint-André" in st_andre.group(0)
    assert re.search(r'class="num">1</td>', st_andre.group(0))
    assert "serveur injoignable" in jury.group(0)
    assert "Convocations (jury, surveillance, comédien) — c.maillot@jury.example" in html.unescape(
        jury.group(0)
    )
    assert 'class="count status-overdue">1<' in jury.group(0)
    for target in served.settings.targets:
        assert f'id="t-{target.name}"' in page


def test_deletions_waiting_are_shown_and_confirmed_from_the_targets_page(served: Served) -> None:
    target = served.settings.targets[0].name
    served.store.record_held(target, "abc123", "2 suppression(s) : la session « x »", NOW)
    with served.logged_in() as client:
        page = client.get("/targets").text
        assert "Suppressions en attente de confirmation" in page
        assert "la session « x »" in html.unescape(page)
        stale = client.post(
            f"/targets/{target}/confirm-deletions",
            data={"csrf": csrf_of(page), "fingerprint": "another-set"},
        )
        assert stale.status_code == 409  # a set the person did not see is never confirmed
        assert served.store.target_state(target).confirmed_fingerprint is None
        done = client.post(
            f"/targets/{target}/confirm-deletions",
            data={"csrf": csrf_of(page), "fingerprint": "abc123"},
        )
        assert done.status_code == 303
        state = served.store.target_state(target)
        assert state.confirmed_fingerprint == "abc123"
        assert state.confirmed_by == "coordination"
        assert served.marked == ["marque"]  # the calendars are reconciled at once
        assert "Suppressions confirmées" in html.unescape(client.get(done.headers["location"]).text)
