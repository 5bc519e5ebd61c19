"""An edit that arrives during a reconcile pass is not lost."""

from __future__ import annotations

from pathlib import Path

from syncsvc.daemon import Daemon
from syncsvc.inputs.settings import Settings
from syncsvc.state.store import Store


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
