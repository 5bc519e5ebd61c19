"""A session created from the dashboard of a running `syncsvc run`: the service's own watcher
plans it, its events reach Radicale and its jury is invited within seconds."""

from __future__ import annotations

import html
import time
from pathlib import Path

import httpx

from syncsvc.state.store import Store
from tests.harness.servers import CalDAVServer, free_port
from tests.system.service import Inbox, Service, wait_for, write_config
from tests.system.test_daemon import ITEMS, _recorded, remote_dtstart

NEW_ID = "sa-2027-09-st-andre"
FORM = {
    "centre": "afpar-st-andre",
    "title_code": "TP-00374",
    "nature": "titre",
    "start": "13/09/2027",
    "end": "17/09/2027",
    "first_day_start": "08:30",
    "training": "9",
    "vae": "1",
    "manager_name": "Jean-Luc Hoarau",
    "manager_email": "jl.hoarau@afpar.example",
    "coord_name_1": "Nathalie Técher",
    "coord_email_1": "n.techer@afpar.example",
    "jury_name_1": "Corinne Maillot",
    "jury_email_1": "c.maillot@jury.example",
    "jury_until_1": "30/06/2028",
}


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def test_a_session_created_in_the_dashboard_is_published_within_seconds(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int]
) -> None:
    box, smtp_port = inbox
    web_port = free_port()
    config = write_config(
        tmp_path, radicale, smtp_port, f"sqlite:///{tmp_path / 'state.db'}", web_port
    )
    service = Service(config, tmp_path / "run.log").start()
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        wait_for("the first push", lambda: len(_recorded(store)) == ITEMS)
        base = f"http://127.0.0.1:{web_port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            login = client.get("/login").text
            client.post(
                "/login", data={"login": "test", "password": "motdepasse", "csrf": _csrf(login)}
            )
            form = client.get("/nouvelle-session")
            assert form.status_code == 200
            created = client.post("/nouvelle-session", data={**FORM, "csrf": _csrf(form.text)})
            assert created.status_code == 303, html.unescape(created.text)
            assert created.headers["location"] == f"/sessions/{NEW_ID}?cree=1"
        began = time.monotonic()
        uid = f"{NEW_ID}.exam_session@syncsvc"
        wait_for("the new session's exam event", lambda: _has(radicale, uid), seconds=30)
        assert time.monotonic() - began < 15
        assert remote_dtstart(radicale, uid).startswith("2027-09-13 08:30")
        wait_for(
            "the new session's jury invitation",
            lambda: any(
                str(m["Subject"]).endswith("lundi 13 septembre 2027")
                and "c.maillot" in str(m["To"])
                for m in box.messages
            ),
        )
        (entry,) = store.audit_trail(NEW_ID)
        assert (entry.user, entry.action) == ("test", "create")
        assert service.stop() == 0
    finally:
        if service.process and service.process.poll() is None:
            service.process.kill()
        store.close()


def _has(radicale: CalDAVServer, uid: str) -> bool:
    href = (
        f"{radicale.upstream_url}{radicale.username}/examens-st-andre/{uid.replace('@', '%40')}.ics"
    )
    return httpx.get(href, auth=radicale.auth).status_code == 200
