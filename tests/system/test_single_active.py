"""Issue « never two active daemons »: one instance sends and writes, proved by its lease.

Reproduced first: with the active daemon's database link cut for 30 s, a standby became active,
and when the link came back the old daemon went on sending (10 new jurors → 18 deliveries);
``syncsvc notify`` run by hand during ``syncsvc run`` sent 50 messages for 40. Each test here
counts deliveries and Message-IDs at a real SMTP server: none may arrive twice.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from syncsvc.app.fence import Fence
from syncsvc.errors import NotActive
from syncsvc.state.store import Store
from tests.harness.servers import CalDAVServer, free_port
from tests.harness.tcp_proxy import TcpProxy
from tests.system.service import NOW, Inbox, Service, wait_for, write_config

SA = "sa-2027-03-st-andre.yaml"
JURORS = [(f"Juré {n:02d}", f"jure{n:02d}@jury.example") for n in range(1, 11)]


def add_jurors(config: Path) -> None:
    path = config / "sessions" / SA
    text = path.read_text(encoding="utf-8")
    lines = "".join(
        f'  - {{name: "{name}", email: {email}, habilitation_until: 2029-12-31}}\n'
        for name, email in JURORS
    )
    text = text.replace("declared_on:", lines + "declared_on:", 1)
    path.write_text(text, encoding="utf-8")


def deliveries(box: Inbox) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in box.messages)


def invitations_to_new_jurors(box: Inbox) -> Counter[str]:
    new = {email for _, email in JURORS}
    return Counter(
        str(m["To"]).rsplit("<", 1)[-1].rstrip(">")
        for m in box.messages
        if str(m["To"]).rsplit("<", 1)[-1].rstrip(">") in new
    )


def drained(store_url: str) -> bool:
    store = Store(store_url)
    try:
        if store.version() == 0:
            return False
        rows = store.messages()
        return bool(rows) and all(r.status in ("sent", "skipped") for r in rows)
    finally:
        store.close()


def test_a_cut_database_link_never_makes_two_senders(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int], pg_url: str
) -> None:
    box, smtp_port = inbox
    direct = make_url(pg_url)
    with TcpProxy((direct.host or "127.0.0.1", direct.port or 5432)) as proxy:
        through_proxy = direct.set(port=proxy.port).render_as_string(hide_password=False)
        # 120 messages a minute: a drain of the 10 invitations lasts 5 s, long enough for two
        # senders to overlap if the service lets them.
        config_a = write_config(tmp_path / "a", radicale, smtp_port, through_proxy, rate=120)
        config_b = write_config(tmp_path / "b", radicale, smtp_port, pg_url, rate=120)
        first = Service(config_a, tmp_path / "a.log").start()
        second = Service(config_b, tmp_path / "b.log")
        try:
            wait_for("A active", lambda: "instance active" in first.text())
            wait_for("A's first mails", lambda: drained(pg_url), seconds=60)
            second.start()
            wait_for("B waiting", lambda: "en attente" in second.text())
            before = len(box.messages)

            proxy.cut()  # A's database link goes down; A itself keeps running
            wait_for("B active", lambda: "instance active" in second.text(), seconds=30)
            time.sleep(3)  # the link stays down a while (30 s in the report)
            proxy.restore()  # A sees the database again: it must step down, never send
            wait_for(
                "A back to waiting", lambda: "retour en attente" in first.text(), service=first
            )
            for config in (config_a, config_b):
                add_jurors(config)  # both watch their folder: whoever is active invites
            wait_for(
                "the 10 invitations",
                lambda: len(invitations_to_new_jurors(box)) == len(JURORS),
                seconds=60,
            )
            # A's jobs run every 5 s: 6 s more is enough for a wrong-doer to send again (the
            # reported bug did within seconds).
            time.sleep(6)
            assert invitations_to_new_jurors(box) == Counter({e: 1 for _, e in JURORS})
            duplicated = {mid: n for mid, n in deliveries(box).items() if n > 1}
            assert duplicated == {}, duplicated
            assert len(box.messages) - before == len(JURORS)
            assert "retour en attente" in first.text()
            assert second.stop() == 0
            assert first.stop() == 0
        finally:
            for service in (first, second):
                if service.process and service.process.poll() is None:
                    service.process.kill()


def test_two_daemons_started_together_on_sqlite_send_each_message_once(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int]
) -> None:
    box, smtp_port = inbox
    url = f"sqlite:///{tmp_path / 'state.db'}"
    config = write_config(tmp_path, radicale, smtp_port, url, rate=120)
    services = [Service(config, tmp_path / f"{n}.log") for n in "ab"]
    try:
        for service in services:
            service.start()
        wait_for("the first mails", lambda: drained(url), seconds=60)
        add_jurors(config)
        wait_for("the invitations", lambda: len(invitations_to_new_jurors(box)) == 10, seconds=60)
        time.sleep(2)
        # One active at a time: on a machine loaded enough for the active one to miss its
        # renewals (4 s here), the other may take over, and then the first says it was replaced
        # (seen at load 12); what must never happen is two sending at once (checked below).
        activations = sum(s.text().count("instance active") for s in services)
        replaced = sum(s.text().count("instance remplacée") for s in services)
        assert activations >= 1
        assert activations == 1 + replaced, [s.text()[-500:] for s in services]
        duplicated = {mid: n for mid, n in deliveries(box).items() if n > 1}
        assert duplicated == {}, duplicated
        assert invitations_to_new_jurors(box) == Counter({e: 1 for _, e in JURORS})
    finally:
        for service in services:
            if service.process and service.process.poll() is None:
                service.stop()


def test_notify_by_hand_during_run_is_refused_and_nothing_is_sent_twice(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int]
) -> None:
    box, smtp_port = inbox
    url = f"sqlite:///{tmp_path / 'state.db'}"
    config = write_config(tmp_path, radicale, smtp_port, url, rate=60)
    service = Service(config, tmp_path / "run.log").start()
    try:
        wait_for("the service", lambda: "instance active" in service.text())
        command = [
            sys.executable,
            "-c",
            "from syncsvc.cli import main; raise SystemExit(main())",
            "--config",
            str(config),
            "--now",
            NOW,
        ]
        for args in (["notify"], ["sync", "--once"]):
            done = subprocess.run(
                [*command[:3], args[0], *command[3:], *args[1:]],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=60,
            )
            assert done.returncode == 2, done.stderr
            assert "le service (syncsvc run) est actif" in done.stderr
            assert "Traceback" not in done.stderr
        dry = subprocess.run(
            [*command[:3], "notify", *command[3:], "--dry-run"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert dry.returncode == 0, dry.stderr
        wait_for("the mails", lambda: drained(url), seconds=90)
        duplicated = {mid: n for mid, n in deliveries(box).items() if n > 1}
        assert duplicated == {}, duplicated
        assert service.stop() == 0
    finally:
        if service.process and service.process.poll() is None:
            service.process.kill()


def test_a_standby_whose_web_port_is_taken_keeps_the_lease_and_serves_later(
    tmp_path: Path, radicale: CalDAVServer, inbox: tuple[Inbox, int]
) -> None:
    """Reported: a standby taking over while its web port was still bound exited with
    ``SystemExit: 3``. It must keep working and serve once the port is free."""
    _, smtp_port = inbox
    port = free_port()
    config = write_config(
        tmp_path, radicale, smtp_port, f"sqlite:///{tmp_path / 'state.db'}", web_port=port
    )
    squatter = socket.create_server(("127.0.0.1", port))
    service = Service(config, tmp_path / "run.log").start()
    try:
        wait_for("the service", lambda: "instance active" in service.text())
        wait_for("the port message", lambda: "occupé" in service.text())
        time.sleep(1)
        assert service.process is not None
        assert service.process.poll() is None, service.text()
        squatter.close()
        wait_for("the dashboard", lambda: _answers(port), seconds=20)
        assert re.search(r"port 127\.0\.0\.1:\d+ occupé", service.text())
        assert service.stop() == 0
    finally:
        squatter.close()
        if service.process and service.process.poll() is None:
            service.process.kill()


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_lease_fences_claims_in_the_database(tmp_path: Path) -> None:
    """The unit of all the above: a message is claimed only under the lease at its epoch; after
    a take-over the old epoch can claim nothing, even if it does not know it lost."""
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    now = datetime(2027, 1, 4, tzinfo=UTC)
    for n in range(2):
        store.enqueue(
            key=f"k{n}",
            kind="reminder",
            recipient="a@b.example",
            subject="s",
            message_id=f"<{n}@x>",
            message=b"x",
            now=now,
        )
    ids = [r.id for r in store.due_messages(now)]
    old = Fence.take(store, 30)
    assert old is not None
    assert Fence.take(store, 30) is None  # held
    assert old.claim(ids[0])
    assert not old.claim(ids[0])  # claimed once only
    old.give_back()
    new = Fence.take(store, 30)
    assert new is not None
    assert new.epoch == old.epoch + 1
    with pytest.raises(NotActive):
        old.claim(ids[1])
    assert new.claim(ids[1])
    new.give_back()
    store.close()
