"""Benchmark: one connection or several, per CalDAV server (the `concurrency` setting).

For each server that runs here (Radicale, Xandikos, Cyrus when installed) and for
``concurrency`` 1, 2 and 4: a fresh calendar (a new user on Radicale and Cyrus, an emptied
home on Xandikos), the first push of N sessions (one centre, one calendar), then two sessions
moved and synced again. Each timing is the whole of ``Syncer.sync`` through the real
``CalDAVTarget``, passes repeated until nothing is left (Xandikos answers 423 Locked to
concurrent writes: retried, and what still fails is left for the next pass). Repetitions
alternate the order of the concurrency values; medians are printed with the number of passes
and of 423 answers, and the ratio to one connection in the same run.

    .venv/bin/python benchmarks/caldav_concurrency.py [--sessions 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from syncsvc.app.apply import RetryPolicy  # noqa: E402
from syncsvc.app.sync import Syncer  # noqa: E402
from syncsvc.calendars.caldav import CalDAVTarget  # noqa: E402
from syncsvc.core.planner import plan_all  # noqa: E402
from syncsvc.inputs.loader import load_config  # noqa: E402
from syncsvc.inputs.settings import TargetSettings  # noqa: E402
from syncsvc.state.store import Store  # noqa: E402
from tests.harness.servers import (  # noqa: E402
    CalDAVServer,
    cyrus_available,
    cyrus_server,
    radicale_server,
    xandikos_server,
)

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
CENTRE = "centre-a"
LEVELS = (1, 2, 4)
MAX_PASSES = 10


def _sync(
    server: CalDAVServer, store: Store, config_dir: Path, concurrency: int
) -> tuple[float, int, int]:
    """(seconds, passes, 423 answers seen by the proxy) until a pass leaves nothing to do."""
    settings = TargetSettings(
        name="coordination",
        kind="caldav",
        url=server.url,
        calendar="examens",
        audience=f"coordinators:{CENTRE}",
        username=server.username or None,
        concurrency=concurrency,
    )
    config = load_config(config_dir)
    planned = plan_all(config, {}, NOW)
    syncer = Syncer(store, RetryPolicy(sleep=lambda _: None))
    server.proxy.reset()
    began = time.perf_counter()
    for passes in range(1, MAX_PASSES + 1):
        target = CalDAVTarget(
            "coordination",
            server.url,
            "examens",
            username=server.username or None,
            password=server.password or None,
            concurrency=concurrency,
        )
        try:
            report = syncer.sync(settings, target, config, planned, NOW)
        finally:
            target.close()
        if report.ok:
            seconds = time.perf_counter() - began
            locked = sum(1 for _, _, status in server.proxy.log if status == 423)
            server.proxy.reset()
            return seconds, passes, locked
    raise RuntimeError(f"{server.name}: still failing after {MAX_PASSES} passes")


def _one_run(
    server: CalDAVServer, tmp: Path, sessions: int, concurrency: int
) -> tuple[float, float, int, int]:
    """(first push s, two moved s, passes, 423 answers) in a fresh calendar."""
    run = Path(tempfile.mkdtemp(dir=tmp))
    generate.write_config(run / "config", sessions, [CENTRE])
    store = Store(f"sqlite:///{run / 'state.db'}")
    store.migrate()
    try:
        with server.fresh() as view:
            first, passes, locked = _sync(view, store, run / "config", concurrency)
            for name in ("bench-0000.yaml", "bench-0001.yaml"):
                generate.move_session(run / "config" / "sessions" / name, 7)
            moved, more, locked_more = _sync(view, store, run / "config", concurrency)
    finally:
        store.close()
        shutil.rmtree(run)
    return first, moved, passes + more, locked + locked_more


def _servers(tmp: Path) -> Iterator[tuple[str, Callable[[Path], AbstractContextManager[Any]]]]:
    yield "radicale", radicale_server
    yield "xandikos", xandikos_server
    reason = cyrus_available()
    if reason is None:
        yield "cyrus", cyrus_server
    else:
        print(f"cyrus: not measured ({reason})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{args.sessions} sessions in one calendar, concurrency {LEVELS}, {args.repeat} "
        f"repetitions (alternating order), medians; load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name, start in _servers(tmp):
            with start(tmp / name) as server:
                figures: dict[int, list[tuple[float, float, int, int]]] = {c: [] for c in LEVELS}
                for repetition in range(args.repeat):
                    order = LEVELS if repetition % 2 == 0 else tuple(reversed(LEVELS))
                    for concurrency in order:
                        figures[concurrency].append(
                            _one_run(server, tmp, args.sessions, concurrency)
                        )
                base_first = statistics.median(f[0] for f in figures[1])
                base_moved = statistics.median(f[1] for f in figures[1])
                for concurrency in LEVELS:
                    runs = figures[concurrency]
                    first = statistics.median(r[0] for r in runs)
                    moved = statistics.median(r[1] for r in runs)
                    print(
                        f"{name:<9} concurrency {concurrency}: first push {first:6.2f} s "
                        f"({first / base_first:.2f}x), two sessions moved {moved:5.2f} s "
                        f"({moved / base_moved:.2f}x); passes (both) {max(r[2] for r in runs)}, "
                        f"423 answers {sum(r[3] for r in runs)}"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
