"""Benchmark: push to Google Calendar (the local emulator) with batching vs one call per item.

200 sessions over 4 centres, one calendar per centre (coordinators' audience). For each mode,
into fresh calendars of one emulator, prints the initial push (HTTP requests, API calls,
seconds), then a no-op resync, and the ratios one-by-one / batched. ``--latency-ms`` adds a
delay to every HTTP request of the emulator, a stand-in for the round trip to Google (the
emulator on 127.0.0.1 answers in well under a millisecond, which flatters the one-by-one mode).

The rate limiter is lifted here (the emulator has no quota): with the default 300 requests a
minute, pacing alone would take calls / 5 seconds in *both* modes, because Google counts every
call of a batch against the quota. Batching saves round trips and connections, not quota.

    .venv/bin/python benchmarks/google_sync.py [--sessions 200] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from syncsvc.app.apply import RetryPolicy  # noqa: E402
from syncsvc.app.sync import Renderer, Syncer  # noqa: E402
from syncsvc.calendars.base import (  # noqa: E402
    Changes,
    Item,
    Result,
    SequentialWrites,
    Target,
    Write,
    Written,
)
from syncsvc.calendars.google import GoogleTarget  # noqa: E402
from syncsvc.calendars.quota import DEFAULT_REQUESTS_PER_MINUTE, RateLimiter  # noqa: E402
from syncsvc.core.planner import Planned, plan_all  # noqa: E402
from syncsvc.inputs.loader import load_config  # noqa: E402
from syncsvc.inputs.settings import TargetSettings  # noqa: E402
from syncsvc.state.store import Store  # noqa: E402
from tests.harness.google_emulator import CalendarEmulator  # noqa: E402

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
CENTRES = ["centre-a", "centre-b", "centre-c", "centre-d"]


def write_config(directory: Path, count: int) -> None:
    generate.write_config(directory, count, CENTRES)


class TimedGoogleTarget(GoogleTarget):
    """Adds up the seconds spent in Google calls (the rest is planning and the store)."""

    spent = 0.0

    def _run(self, request: Any, what: str, *, listing: bool = False) -> Any:
        began = time.perf_counter()
        try:
            return super()._run(request, what, listing=listing)
        finally:
            TimedGoogleTarget.spent += time.perf_counter() - began

    def write_many(self, writes: Sequence[Write]) -> Iterator[tuple[int, Result]]:
        began = time.perf_counter()
        try:
            yield from super().write_many(writes)
        finally:
            TimedGoogleTarget.spent += time.perf_counter() - began


class OneByOne(SequentialWrites):
    """The same target writing one call per item (no batch requests)."""

    def __init__(self, inner: TimedGoogleTarget) -> None:
        self.inner = inner
        self.name = inner.name

    def prepare(self, hint: str | None = None) -> str:
        return self.inner.prepare(hint)

    def href_for(self, uid: str) -> str:
        return self.inner.href_for(uid)

    def changes(self, since: str | None) -> Changes:
        return self.inner.changes(since)

    def etag_if_ours(self, href: str, uid: str) -> str | None:
        return self.inner.etag_if_ours(href, uid)

    def create(self, href: str, item: Item) -> Written:
        return self.inner.create(href, item)

    def update(self, href: str, item: Item, etag: str | None) -> Written:
        return self.inner.update(href, item, etag)

    def delete(self, href: str, etag: str | None) -> None:
        self.inner.delete(href, etag)

    def close(self) -> None:
        self.inner.close()


def run(
    emulator: CalendarEmulator,
    store: Store,
    config_dir: Path,
    planned: list[Planned],
    prefix: str,
    batched: bool,
) -> tuple[int, int, float, float]:
    """One sync of every centre's calendar: (HTTP requests, API calls, seconds, of which in
    Google calls)."""
    config = load_config(config_dir)
    syncer = Syncer(store, RetryPolicy(sleep=lambda _: None))
    emulator.reset_counts()
    TimedGoogleTarget.spent = 0.0
    began = time.perf_counter()
    for centre in CENTRES:
        calendar = f"{prefix}-{centre}@group.calendar.google.com"
        emulator.add_calendar(calendar)
        settings = TargetSettings(
            name=f"{prefix}-{centre}",
            kind="google",
            calendar=calendar,
            audience=f"coordinators:{centre}",
            api_endpoint=emulator.api_endpoint,
            batch_uri=emulator.batch_uri,
            token_file=Path("unused.json"),  # the target is built below, with test credentials
        )
        google = TimedGoogleTarget(
            settings.name,
            calendar,
            emulator.credentials(),
            api_endpoint=emulator.api_endpoint,
            batch_uri=emulator.batch_uri,
            limiter=RateLimiter(1e9),
        )
        target: Target = google if batched else OneByOne(google)
        try:
            report = syncer.sync(settings, target, config, planned, NOW)
        finally:
            target.close()
        assert report.ok, report.errors[:3]
    seconds = time.perf_counter() - began
    return emulator.http_requests, sum(emulator.calls.values()), seconds, TimedGoogleTarget.spent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name, CalendarEmulator(token="bench") as emulator:
        tmp = Path(tmp_name)
        write_config(tmp / "config", args.sessions)
        config = load_config(tmp / "config")
        assert not config.problems, config.problems[:3]
        planned = plan_all(config, {}, NOW)
        items = sum(
            len(
                Renderer().desired(
                    TargetSettings(
                        name=c,
                        kind="google",
                        calendar=c,
                        audience=f"coordinators:{c}",
                        token_file=Path("unused.json"),  # the benchmark builds its targets itself
                    ),
                    planned,
                )
            )
            for c in CENTRES
        )
        store = Store(f"sqlite:///{tmp / 'state.db'}")
        store.migrate()
        emulator.latency = args.latency_ms / 1000
        print(
            f"{args.sessions} sessions, {len(CENTRES)} calendars, {items} items, "
            f"emulator latency {args.latency_ms:g} ms per HTTP request"
        )
        figures = {}
        for mode, batched in (("batched", True), ("one-by-one", False)):
            push = run(emulator, store, tmp / "config", planned, mode, batched)
            noop = run(emulator, store, tmp / "config", planned, mode, batched)
            figures[mode] = push
            print(
                f"{mode:>10}: push {push[0]:5d} HTTP requests, {push[1]:5d} calls, "
                f"{push[2]:6.2f} s ({items / push[2]:.0f} items/s) of which {push[3]:5.2f} s "
                "in Google calls; "
                f"no-op resync {noop[0]} requests, {noop[2]:.3f} s"
            )
        one, batch = figures["one-by-one"], figures["batched"]
        print(
            f"ratio one-by-one/batched: {one[0] / batch[0]:.1f}x HTTP requests, "
            f"{one[2] / batch[2]:.2f}x total time, {one[3] / batch[3]:.2f}x time in Google calls"
        )
        pacing = batch[1] / (DEFAULT_REQUESTS_PER_MINUTE / 60)
        print(
            f"at the default {DEFAULT_REQUESTS_PER_MINUTE:g} calls/min, quota pacing alone "
            f"would take {pacing / 60:.1f} min in either mode (Google counts calls in batches)"
        )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
