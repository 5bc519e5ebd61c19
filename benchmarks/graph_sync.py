"""Benchmark: push to Microsoft 365 calendars (the local Graph emulator) through GraphTarget.

Sessions over 4 centres, one calendar per centre in one mailbox (coordinators' audience),
``--latency-ms`` (20 by default) added to every HTTP request of the emulator as a stand-in for
the round trip to Microsoft. Prints, for the batched target: the first push, a no-op resync and
one session moved (HTTP requests to Graph, writes, seconds), then the same first push with one
request per item (each write alone), and checks the issue's targets: first push at most one
HTTP request per 15 items, a no-op resync at most 2 requests per calendar and no write, a moved
session writing only its own items. Token requests (MSAL, cached across passes) are counted
apart.

    .venv/bin/python benchmarks/graph_sync.py [--sessions 200] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from syncsvc.app.apply import RetryPolicy  # noqa: E402
from syncsvc.app.sync import Syncer  # noqa: E402
from syncsvc.app.targets import make_target  # noqa: E402
from syncsvc.calendars.base import Result, Target, Write  # noqa: E402
from syncsvc.calendars.quota import RateLimiters  # noqa: E402
from syncsvc.core.planner import plan_all  # noqa: E402
from syncsvc.inputs.loader import load_config  # noqa: E402
from syncsvc.inputs.settings import TargetSettings  # noqa: E402
from syncsvc.state.store import Store  # noqa: E402
from tests.harness.graph_emulator import GraphEmulator  # noqa: E402

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
CENTRES = ["centre-a", "centre-b", "centre-c", "centre-d"]
MAILBOX = "examens@centre.example"


class OneByOne:
    """A target writing each item in a request of its own (the baseline)."""

    def __init__(self, inner: Target) -> None:
        self.inner = inner
        self.name = inner.name

    def __getattr__(self, attribute: str) -> object:
        return getattr(self.inner, attribute)

    def write_many(self, writes: Sequence[Write]) -> Iterator[tuple[int, Result]]:
        for index, write in enumerate(writes):
            yield from ((index, r) for _, r in self.inner.write_many([write]))


def settings(emulator: GraphEmulator, centre: str, prefix: str) -> TargetSettings:
    return TargetSettings(
        name=f"{prefix}-{centre}",
        kind="graph",
        audience=f"coordinators:{centre}",
        tenant_id="contoso-tenant",
        client_id="syncsvc-app",
        client_secret_env="SYNCSVC_BENCH_GRAPH_SECRET",
        mailbox=MAILBOX,
        calendar=f"{prefix} {centre}",
        authority=emulator.authority,
        graph_url=emulator.graph_url,
        ca_bundle=emulator.tls.ca_file,
    )


def run(
    emulator: GraphEmulator, store: Store, config_dir: Path, prefix: str, one_by_one: bool = False
) -> tuple[int, int, int, float]:
    """One pass over every centre's calendar: (HTTP requests, writes, items written, seconds)."""
    config = load_config(config_dir)
    planned = plan_all(config, {}, NOW)
    syncer = Syncer(store, RetryPolicy(sleep=time.sleep))
    emulator.reset_counts()
    written = 0
    began = time.perf_counter()
    for centre in CENTRES:
        target_settings = settings(emulator, centre, prefix)
        target = make_target(target_settings, config_dir, RateLimiters())
        used: Target = OneByOne(target) if one_by_one else target  # type: ignore[assignment]
        try:
            report = syncer.sync(target_settings, used, config, planned, NOW)
        finally:
            target.close()
        assert report.ok, report.errors[:3]
        written += sum(report.done.values())
    return emulator.requests, emulator.writes, written, time.perf_counter() - began


def main() -> int:
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    os.environ["SYNCSVC_BENCH_GRAPH_SECRET"] = "s3cret-value"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with GraphEmulator(folder=tmp / "graph") as emulator:
            emulator.mailbox(MAILBOX)
            generate.write_config(tmp / "config", args.sessions, CENTRES)
            store = Store(f"sqlite:///{tmp / 'state.db'}")
            store.migrate()
            emulator.latency = args.latency_ms / 1000
            calendars = len(CENTRES)
            push = run(emulator, store, tmp / "config", "batched")
            items = push[2]
            print(
                f"{args.sessions} sessions, {calendars} calendars in one mailbox, {items} items, "
                f"emulator latency {args.latency_ms:g} ms per HTTP request"
            )
            noop = run(emulator, store, tmp / "config", "batched")
            generate.move_session(tmp / "config" / "sessions" / "bench-0000.yaml", 7)
            moved = run(emulator, store, tmp / "config", "batched")
            tokens = emulator.token_requests
            baseline = run(emulator, store, tmp / "config", "one-by-one", one_by_one=True)
            for label, (requests, writes, done, seconds) in (
                ("first push", push),
                ("no-op resync", noop),
                ("one session moved", moved),
                ("first push, one request per item", baseline),
            ):
                print(
                    f"{label:>33}: {requests:5d} HTTP requests, {writes:5d} writes, "
                    f"{done:5d} items written, {seconds:6.2f} s"
                )
            print(f"token requests in the last pass: {tokens} (MSAL's cache)")
            print(
                f"ratio one-request-per-item/batched: {baseline[0] / push[0]:.1f}x HTTP "
                f"requests, {baseline[3] / push[3]:.2f}x time"
            )
            checks = {
                "first push <= 1 request per 15 items": push[0] <= items / 15,
                "no-op <= 2 requests per calendar, 0 writes": noop[0] <= 2 * calendars
                and noop[1] == 0,
                "moved session writes only its items": 0 < moved[1] == moved[2] <= 40,
            }
            for name, met in checks.items():
                print(f"target {'met' if met else 'NOT MET'}: {name}")
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
