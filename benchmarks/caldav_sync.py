"""Benchmark: push to a local Radicale, compared with raw HTTP PUTs, then no-op and one move.

200 sessions over 4 centres, one calendar per centre (coordinators' audience). Prints:

- initial push: seconds and items/s through syncsvc;
- the floor: the same resources PUT by a plain keep-alive loop (same concurrency: one) into
  fresh calendars of the same server, and the ratio ours/raw (target <= 1.3);
- a no-op resync: writes (target 0) and requests per calendar (target <= 2), seconds (< 1 s);
- one session moved: writes (target: that session's items only).

Radicale's cost per new item grows with the calendar size (see shared/INTEROP.md), so the
default run takes minutes: ``--sessions 40`` gives a quick look.

    .venv/bin/python benchmarks/caldav_sync.py [--sessions 200]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from syncsvc.app.apply import RetryPolicy  # noqa: E402
from syncsvc.app.sync import Renderer, Syncer  # noqa: E402
from syncsvc.calendars.caldav import CalDAVTarget  # noqa: E402
from syncsvc.core.planner import plan_all  # noqa: E402
from syncsvc.formats.ical import resource_bytes  # noqa: E402
from syncsvc.inputs.loader import load_config  # noqa: E402
from syncsvc.inputs.settings import TargetSettings  # noqa: E402
from syncsvc.state.store import Store  # noqa: E402
from tests.harness.servers import radicale_server  # noqa: E402

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
CENTRES = ["centre-a", "centre-b", "centre-c", "centre-d"]


def write_config(directory: Path, count: int) -> None:
    generate.write_config(directory, count, CENTRES)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200)
    count = parser.parse_args().sessions

    with tempfile.TemporaryDirectory() as tmp_name, radicale_server(Path(tmp_name) / "r") as server:
        tmp = Path(tmp_name)
        write_config(tmp / "config", count)
        config = load_config(tmp / "config")
        assert not config.problems, config.problems[:3]
        store = Store(f"sqlite:///{tmp / 'state.db'}")
        store.migrate()
        planned = plan_all(config, {}, NOW)
        syncer = Syncer(store, RetryPolicy(sleep=lambda _: None))
        targets = [
            TargetSettings(
                name=c,
                kind="caldav",
                url=server.url,
                calendar=f"examens-{c}",
                audience=f"coordinators:{c}",
                username=server.username,
            )
            for c in CENTRES
        ]

        def run_all(plan: list[tuple[object, object, list[object]]] | None = None) -> float:
            began = time.perf_counter()
            for settings in targets:
                target = CalDAVTarget(
                    settings.name,
                    server.url,
                    settings.calendar or "",
                    username=server.username,
                    password=server.password,
                )
                report = syncer.sync(settings, target, config, planned, NOW)
                assert report.ok, report.errors[:3]
                target.close()
            return time.perf_counter() - began

        items = sum(len(Renderer().desired(t, planned)) for t in targets)
        print(f"{count} sessions, {len(CENTRES)} calendars, {items} items")

        # The floor: the same bodies, PUT by a plain keep-alive loop into fresh calendars.
        bodies = [
            (t.name, uid, resource_bytes(d.entry, NOW, 0))
            for t in targets
            for uid, d in Renderer().desired(t, planned).items()
        ]

        def raw_push(prefix: str) -> float:
            with httpx.Client(auth=(server.username, server.password), timeout=120) as client:
                for c in CENTRES:
                    client.request("MKCALENDAR", f"{server.home_url}{prefix}-{c}/")
                began = time.perf_counter()
                for centre, uid, body in bodies:
                    response = client.put(
                        f"{server.home_url}{prefix}-{centre}/{uid.replace('@', '%40')}.ics",
                        content=body,
                        headers={
                            "Content-Type": "text/calendar; charset=utf-8",
                            "If-None-Match": "*",
                        },
                    )
                    assert response.status_code in (201, 204), response.status_code
                return time.perf_counter() - began

        # raw, ours, raw again: the server slows down as its storage grows, so the floor is
        # the mean of the runs before and after ours.
        raw_before = raw_push("raw1")
        server.proxy.reset()
        ours = run_all()
        print(
            f"initial push (syncsvc): {ours:.1f} s, {items / ours:.0f} items/s, "
            f"{server.proxy.counts['PUT']} PUT"
        )
        raw_after = raw_push("raw2")
        raw = (raw_before + raw_after) / 2
        print(
            f"raw keep-alive PUT loop: {raw_before:.1f} s before, {raw_after:.1f} s after, "
            f"{items / raw:.0f} items/s"
        )
        print(f"ratio ours/raw: {ours / raw:.2f} (target <= 1.3)")

        server.proxy.reset()
        noop = run_all()
        print(
            f"no-op resync: {noop:.3f} s, writes {server.proxy.writes}, "
            f"requests {server.proxy.total} ({server.proxy.total / len(CENTRES):.1f} per calendar)"
        )

        generate.move_session(tmp / "config" / "sessions" / "bench-0000.yaml", 7)
        config = load_config(tmp / "config")
        planned = plan_all(config, {}, NOW)
        expected = sum(1 for s, _, ms in planned for _ in ms if s.id == "bench-0000")
        server.proxy.reset()
        one = run_all()
        print(
            f"one session moved: {one:.2f} s, writes {server.proxy.writes} "
            f"(its items: {expected}), requests {server.proxy.total}"
        )
        store.close()
        shutil.rmtree(tmp / "config")
    return 0


if __name__ == "__main__":
    sys.exit(main())
