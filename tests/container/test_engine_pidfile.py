"""The harness makes room for its dockerd when an earlier run's engine still holds the pid file.

Seen in CI: a clean clone started right after another run; the earlier dockerd was still
shutting down, the new one refused to start (« pid file found, ensure docker is not running »)
and the compose test errored. These tests use a ``sleep`` process in the earlier engine's place.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.container.engine import _alive, clear_previous_dockerd


def _sleeper(pidfile: Path, trap_term: bool = False) -> int:
    script = "trap '' TERM; " if trap_term else ""
    started = subprocess.Popen(["sh", "-c", f"{script}exec sleep 300"])
    pidfile.write_text(f"{started.pid}\n")
    deadline = time.monotonic() + 10
    while not _alive(started.pid, "sleep"):  # until the exec is done
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return started.pid


def test_a_pidfile_naming_another_process_is_dropped_without_waiting(tmp_path: Path) -> None:
    pidfile = tmp_path / "docker.pid"
    pid = _sleeper(pidfile)  # the engine was killed without notice and its pid reused
    try:
        started = time.monotonic()
        assert not clear_previous_dockerd(lambda: False, wait=30, pidfile=pidfile)
        assert time.monotonic() - started < 5
        assert not pidfile.exists()
        assert _alive(pid, "sleep"), "a process that is not an engine is never stopped"
    finally:
        subprocess.run(["kill", str(pid)], check=False)


def test_an_engine_that_answers_after_a_while_is_used(tmp_path: Path) -> None:
    pidfile = tmp_path / "docker.pid"
    pid = _sleeper(pidfile)
    calls: list[float] = []

    def answers() -> bool:
        calls.append(time.monotonic())
        return len(calls) >= 3

    try:
        assert clear_previous_dockerd(answers, wait=30, pidfile=pidfile, name="sleep")
        assert len(calls) == 3
        assert pidfile.exists()
        assert _alive(pid, "sleep")
    finally:
        subprocess.run(["kill", str(pid)], check=False)


def test_an_engine_that_never_answers_is_stopped_and_its_pidfile_dropped(tmp_path: Path) -> None:
    pidfile = tmp_path / "docker.pid"
    pid = _sleeper(pidfile, trap_term=True)  # like a hung engine: SIGTERM is not enough
    assert not clear_previous_dockerd(lambda: False, wait=1, pidfile=pidfile, name="sleep", grace=1)
    assert not _alive(pid, "sleep")
    assert not pidfile.exists()


def test_no_pidfile_means_nothing_to_wait_for(tmp_path: Path) -> None:
    started = time.monotonic()
    assert not clear_previous_dockerd(lambda: True, pidfile=tmp_path / "docker.pid")
    assert time.monotonic() - started < 1
