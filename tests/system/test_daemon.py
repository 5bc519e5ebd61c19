"""`syncsvc run` as a real process: Radicale and aiosmtpd started by the test, config edits
picked up, SIGTERM, kill -9 and a standby taking over."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from syncsvc.state.store import Store
from tests.harness.servers import CalDAVServer, free_port
from tests.system.service import Inbox, Service, wait_for, write_config

ITEMS = 40
"""The Saint-André coordinators' calendar: the two sessions' 34 milestones (agrement_request and
candidate_info_mail do not apply there), their exams as one event per day (5 + 2, where the
milestones count one each) and the centre's annual programming for 2027."""


def remote_dtstart(radicale: CalDAVServer, uid: str) -> str:
    href = (
        f"{radicale.upstream_url}{radicale.username}/examens-st-andre/{uid.replace('@', '%40')}.ics"
    )
    body = httpx.get(href, auth=radicale.auth).content
    event = next(c for c in Calendar.from_ical(body).walk("VEVENT"))
    return str(event.decoded("DTSTART"))


def test_edit_picked_up_then_sigterm(
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
        wait_for(
            "the jury invitations",
            lambda: (
                sum(1 for m in box.messages if str(m["Subject"]).startswith("Invitation")) == 11
            ),
        )
        uid = "sa-2027-03-st-andre.dte_order@syncsvc"
        assert remote_dtstart(radicale, uid) == "2026-12-11"

        path = config / "sessions/sa-2027-03-st-andre.yaml"
        path.write_text(
            path.read_text(encoding="utf-8")
            .replace("start: 2027-03-15", "start: 2027-03-22")
            .replace("end: 2027-03-19", "end: 2027-03-26"),
            encoding="utf-8",
        )
        began = time.monotonic()
        wait_for("the moved event", lambda: remote_dtstart(radicale, uid) == "2026-12-18")
        assert time.monotonic() - began < 15
        wait_for(
            "the update invitation",
            lambda: any(
                str(m["Subject"]).startswith("Modification") and "c.maillot" in str(m["To"])
                for m in box.messages
            ),
        )
        assert service.stop() == 0
        assert "arrêt terminé" in service.text()
        assert "secret" not in service.text()
    finally:
        if service.process and service.process.poll() is None:
            service.process.kill()
        store.close()


def dashboard_session(port: int) -> str:
    """The SA session page, as a logged-in coordinator sees it."""
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, follow_redirects=True, timeout=5) as client:
            page = client.get("/login").text
            csrf = page.split('name="csrf" value="')[1].split('"')[0]
            client.post("/login", data={"login": "test", "password": "motdepasse", "csrf": csrf})
            return client.get("/sessions/sa-2027-03-st-andre").text
    except (httpx.HTTPError, IndexError):
        return ""


def _recorded(store: Store) -> dict[str, Any]:
    try:
        return dict(store.recorded("coordination"))
    except Exception:
        return {}


def test_kill_9_during_push_then_restart_converges(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int]
) -> None:
    box, smtp_port = inbox
    config = write_config(tmp_path, radicale, smtp_port, f"sqlite:///{tmp_path / 'state.db'}")
    first = Service(config, tmp_path / "a.log").start()
    wait_for("some writes", lambda: radicale.proxy.counts["PUT"] >= 5)
    first.stop(signal.SIGKILL)
    second = Service(config, tmp_path / "b.log").start()
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        wait_for("convergence", lambda: len(_recorded(store)) == ITEMS)
        wait_for("the invitations", lambda: len({m["Message-ID"] for m in box.messages}) >= 11)
        wait_for(
            "every queued message sent",
            lambda: all(row.status in ("sent", "skipped") for row in store.messages()),
        )
        listing = httpx.request(
            "PROPFIND",
            f"{radicale.upstream_url}{radicale.username}/examens-st-andre/",
            headers={"Depth": "1"},
            auth=radicale.auth,
        ).text
        assert listing.count(".ics</") == ITEMS
        ids = [m["Message-ID"] for m in box.messages]
        sent = {row.key for row in store.messages() if row.status == "sent"}
        assert len(set(ids)) == len(sent)
        assert len(ids) - len(set(ids)) <= 1  # the documented window, at most once
        assert second.stop() == 0
    finally:
        for service in (first, second):
            if service.process and service.process.poll() is None:
                service.process.kill()
        store.close()


def test_kill_9_during_an_outbox_drain_then_restart_loses_nothing(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int]
) -> None:
    box, smtp_port = inbox
    # 300 messages a minute: the first drain takes seconds, long enough to be killed in it.
    config = write_config(
        tmp_path, radicale, smtp_port, f"sqlite:///{tmp_path / 'state.db'}", rate=300
    )
    first = Service(config, tmp_path / "a.log").start()
    second = Service(config, tmp_path / "b.log")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        wait_for("a drain under way", lambda: len(box.messages) >= 3)
        first.stop(signal.SIGKILL)
        queued = {row.key for row in store.messages() if row.status != "skipped"}
        assert len(box.messages) < len(queued), "the drain was already over"
        second = Service(config, tmp_path / "b.log").start()
        wait_for(
            "every queued message",
            lambda: all(row.status in ("sent", "skipped") for row in store.messages()),
            seconds=60,
        )
        ids = [m["Message-ID"] for m in box.messages]
        sent = {row.message_id for row in store.messages() if row.status == "sent"}
        assert len(set(ids)) == len(sent)
        assert len(ids) - len(set(ids)) <= 1  # only the documented window
        assert second.stop() == 0
    finally:
        for service in (first, second):
            if service.process and service.process.poll() is None:
                service.process.kill()
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_one_active_instance_and_a_standby_that_takes_over(
    tmp_path: Path,
    radicale: CalDAVServer,
    inbox: tuple[Inbox, int],
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    _, smtp_port = inbox
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    config = write_config(tmp_path, radicale, smtp_port, url)
    active = Service(config, tmp_path / "active.log").start()
    standby = Service(config, tmp_path / "standby.log")
    try:
        wait_for("the active instance", lambda: "instance active" in active.text())
        standby.start()
        wait_for("the standby", lambda: "en attente" in standby.text())
        assert "instance active" not in standby.text()
        active.stop(signal.SIGKILL)
        wait_for("the take-over", lambda: "instance active" in standby.text(), seconds=20)
        assert standby.stop() == 0
    finally:
        for service in (active, standby):
            if service.process and service.process.poll() is None:
                service.process.kill()


def test_a_read_only_state_store_is_one_french_line_and_the_service_waits(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int]
) -> None:
    """Reported: a read-only state folder gave a raw ``OSError: [Errno 30]`` traceback at
    start-up. Now one French line, a new attempt later, and a clean stop."""
    _, smtp_port = inbox
    db = tmp_path / "state.db"
    Store(f"sqlite:///{db}").close()  # an empty file the service may read but not write
    url = f"sqlite:///file:{db}?mode=ro&uri=true"
    config = write_config(tmp_path, radicale, smtp_port, url)
    service = Service(config, tmp_path / "run.log").start()
    try:
        wait_for("the French line", lambda: "base d'état inutilisable" in service.text())
        assert "lecture seule" in service.text()
        assert "Traceback" not in service.text()
        assert service.process is not None
        assert service.process.poll() is None
        assert service.stop() == 0
    finally:
        if service.process and service.process.poll() is None:
            service.process.kill()


def test_sigterm_as_soon_as_active_ends_cleanly(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int]
) -> None:
    """Seen in the container tests: a stop right after the lease is taken (first pass still
    running) logged a CancelledError traceback and « No job by the id of reconcile »."""
    _, smtp_port = inbox
    config = write_config(
        tmp_path, radicale, smtp_port, f"sqlite:///{tmp_path / 'state.db'}", free_port()
    )
    service = Service(config, tmp_path / "run.log").start()
    try:
        wait_for("the lease", lambda: "instance active" in service.text())
        assert service.stop() == 0
        log = service.text()
        assert "arrêt terminé" in log
        assert "Traceback" not in log
        assert "JobLookupError" not in log
        assert "No job by the id" not in log
        assert "CancelledError" not in log
    finally:
        if service.process and service.process.poll() is None:
            service.process.kill()
