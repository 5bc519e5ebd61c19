"""docker-compose.postgres.yml: two syncsvc replicas on one PostgreSQL. The active one is killed
(``docker kill``, no goodbye) in the middle of sending the examples' mail; the standby takes over
within the instance lease (``[daemon] lease_seconds``, 30 s by default, :data:`LEASE` here), and
no message arrives twice and no event is published twice. CI runs it on local stand-ins for the
upstream images (``compose.postgres.ci.yml``)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.container.engine import HERE, ROOT, Docker, Images, wait_for
from tests.container.stack import NOW, Stack, due_mail, events, running

SETTINGS = "syncsvc.compose-postgres.toml"
#: The replicas' instance lease: shorter than the default 30 s, which the takeover would wait out.
LEASE = 10
REPLICAS = ("syncsvc-a", "syncsvc-b")
CALENDARS = ("examens-st-andre", "examens-venissieux")
SYNCED = tuple(
    f"synchronisation {t} : " for t in ("coordination-st-andre", "coordination-venissieux")
)


def first_pass_done(lines: list[str], after: int = 0) -> bool:
    """Both calendars synchronised in ``lines[after:]``."""
    return all(any(line.startswith(s) for line in lines[after:]) for s in SYNCED)


def snapshot(stack: Stack) -> dict[str, list[tuple[str, str, str]]]:
    radicale = stack.url("radicale", 5232)
    return {calendar: sorted(events(radicale, "coordination", calendar)) for calendar in CALENDARS}


def settings_with_lease(folder: Path) -> Path:
    """The stack's settings file with ``[daemon] lease_seconds = LEASE`` added."""
    text = (ROOT / "config" / SETTINGS).read_text(encoding="utf-8")
    assert "[daemon]" not in text
    path = folder / SETTINGS
    path.write_text(f"{text}\n[daemon]\nlease_seconds = {LEASE}\n", encoding="utf-8")
    path.chmod(0o644)  # read by the replicas' user
    return path


def test_the_standby_takes_over_a_killed_replica_and_nothing_is_sent_or_published_twice(
    docker: Docker, images: Images, tmp_path: Path
) -> None:
    images.get("syncsvc", "radicale", "catcher", "postgres")
    expected_mail = due_mail(SETTINGS)
    files = (ROOT / "docker-compose.postgres.yml", HERE / "compose.postgres.ci.yml")
    env = {
        "SYNCSVC_TEST_NOW": NOW,
        "POSTGRES_PASSWORD": "ci-only-password",
        "SYNCSVC_TEST_SETTINGS": str(settings_with_lease(tmp_path)),
    }
    with running(docker, files, env) as stack:
        # One replica holds the lease, the other waits.
        def roles() -> dict[str, str]:
            found = {}
            for replica in REPLICAS:
                lines = stack.messages(replica)
                if any(line.startswith("instance active") for line in lines):
                    found[replica] = "active"
                elif "une autre instance est active : en attente" in lines:
                    found[replica] = "standby"
            return found

        wait_for("one active replica and one standby", lambda: len(roles()) == 2, seconds=60)
        assert sorted(roles().values()) == ["active", "standby"], roles()
        active = next(r for r, role in roles().items() if role == "active")
        standby = next(r for r in REPLICAS if r != active)
        wait_for("the first pass", lambda: first_pass_done(stack.messages(active)), seconds=60)
        before = snapshot(stack)
        assert all(before.values()), before

        # Kill the active replica between two messages (30 a minute: one every 2 s), with mail
        # still queued.
        wait_for("a few messages", lambda: sum(stack.caught().values()) >= 3, seconds=60)
        sent = sum(stack.caught().values())
        wait_for("one more message", lambda: sum(stack.caught().values()) > sent, 10, every=0.2)
        time.sleep(0.8)
        killed = stack.container(active)
        start = time.monotonic()
        docker.run("kill", killed)
        assert sum(stack.caught().values()) < expected_mail, "the kill came after the last mail"
        lines_before = len(stack.messages(standby))

        # The standby takes over within the lease (LEASE), well within a minute.
        wait_for(
            "the standby to become active",
            lambda: any(line.startswith("instance active") for line in stack.messages(standby)),
            seconds=60,
        )
        took = time.monotonic() - start
        print(f"standby active {took:.1f} s after the kill")
        assert took < 60
        assert docker.inspect(killed, "{{.State.Running}} {{.State.ExitCode}}") == "false 137"

        # Mail: every message due arrives, each once.
        wait_for(
            f"{expected_mail} messages at the catcher",
            lambda: sum(stack.caught().values()) >= expected_mail,
            seconds=90,
        )
        time.sleep(3)
        caught = stack.caught()
        assert {mid: n for mid, n in caught.items() if n > 1} == {}
        assert len(caught) == expected_mail

        # Events: the new active replica's first pass finds every event where it is and
        # creates none; Radicale holds exactly what it held before the kill.
        wait_for(
            "the new active replica's first pass",
            lambda: first_pass_done(stack.messages(standby), lines_before),
            seconds=60,
        )
        for line in stack.messages(standby)[lines_before:]:
            if line.startswith(SYNCED):
                assert " : 0 création(s), " in line, line
        assert snapshot(stack) == before
        for found in before.values():
            assert len({uid for uid, _, _ in found}) == len(found)
            assert len({(summary, start) for _, summary, start in found}) == len(found)

        # The dashboard now answers on the new active replica's port.
        dashboard = stack.url(standby, 8080)
        assert httpx.get(f"{dashboard}/healthz", timeout=10).status_code == 200
