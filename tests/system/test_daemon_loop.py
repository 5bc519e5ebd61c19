"""An edit that arrives during a reconcile pass is not lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncsvc.daemon import Daemon
from syncsvc.inputs.settings import Settings
from syncsvc.state.store import Store
from tests.harness.servers import free_port


def test_a_change_during_a_pass_triggers_another_pass(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    daemon = Daemon(tmp_path / "config", Settings(), store, serve_web=False)
    passes: list[int] = []

    def once() -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            daemon.request_reconcile()  # the watcher fires while the pass runs

    daemon._reconcile_once = once  # type: ignore[method-assign]
    daemon.reconcile()
    assert passes == [0, 1]
    daemon.reconcile()
    assert passes == [0, 1, 2]
    store.close()


class _Scheduler:
    """Records the rescheduling the daemon asks of APScheduler."""

    def __init__(self) -> None:
        self.moved: list[tuple[str, datetime]] = []

    def modify_job(self, job_id: str, next_run_time: datetime) -> None:
        self.moved.append((job_id, next_run_time))


def test_an_inbox_out_of_reach_is_tried_again_after_its_backoff_not_an_hour_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that fails (here: nothing listens on the port) moves the job to the backoff
    delay (10 s, then 20 s…); woken by IDLE while backing off, it keeps that retry time."""
    (tmp_path / "config").mkdir()
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    settings = Settings.model_validate(
        {
            "mail": {
                "inboxes": {
                    "st-andre": {
                        "host": "127.0.0.1",
                        "port": free_port(),
                        "security": "none",
                        "username": "examens",
                        "password_env": "SYNCSVC_TEST_IMAP_PASSWORD",
                        "poll_seconds": 3600,
                        "timeout": 5,
                    }
                }
            }
        }
    )
    monkeypatch.setenv("SYNCSVC_TEST_IMAP_PASSWORD", "x")
    daemon = Daemon(tmp_path / "config", settings, store, serve_web=False)
    scheduler = _Scheduler()
    daemon.scheduler = scheduler
    try:
        before = datetime.now(UTC)
        daemon.inbox("st-andre")
        ((job, when),) = scheduler.moved
        assert job == "inbox:st-andre"
        assert before + timedelta(seconds=9) <= when <= datetime.now(UTC) + timedelta(seconds=10)
        daemon.inbox("st-andre")  # IDLE wakes it meanwhile: no attempt, the retry time stays
        assert len(scheduler.moved) == 2
        assert abs((scheduler.moved[1][1] - when).total_seconds()) < 1
        assert daemon.inbox_backoffs["st-andre"].failures == 1
    finally:
        store.close()
