"""Benchmark: the person feeds of ``[feeds] per_person = true``, refreshed when requested.

N sessions over 20 centres, two jurors each (2 N people, each convened once), SQLite store.
Prints, with wall and CPU times:

- what a daemon pass spends on them (:meth:`FeedPublisher.refresh`, with no configured feed):
  nothing is planned nor rendered;
- the first request after the inputs changed (the planning made, one person's feed refreshed
  and served), then one other person's in the same state (the planning reused);
- a request in an unchanged state (the stored feed read and assembled: what a 304 costs);
- every person's feed refreshed once, as a daemon pass would if it pre-rendered them all.

    .venv/bin/python benchmarks/person_feeds.py [--sessions 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from syncsvc.app.feeds import FeedPublisher, person_key  # noqa: E402
from syncsvc.inputs.settings import load_settings  # noqa: E402
from syncsvc.inputs.watcher import ConfigSource  # noqa: E402
from syncsvc.state.store import Store  # noqa: E402

CENTRES = [f"centre-{i:02d}" for i in range(20)]
NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)


def timed(work: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=300)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = tmp / "config"
        generate.write_config(config, args.sessions, CENTRES, spacing_days=7, span_days=600)
        (config / "syncsvc.toml").write_text(
            f'[store]\nurl = "sqlite:///{tmp / "state.db"}"\n'
            '[feeds]\nper_person = true\nbase_url = "https://examens.example.org"\n'
        )
        settings = load_settings(config)
        store = Store(settings.store.url)
        store.migrate()
        source = ConfigSource(config, settings.ruleset)
        source.current()  # loading the files is the watcher's cost, not the feeds'
        publisher = FeedPublisher(settings, store, source, lambda: NOW)
        people = [f"{x}{n}@jury.example" for n in range(args.sessions) for x in "ab"]
        names = [person_key(p) for p in people]

        wall, cpu = timed(publisher.refresh)
        print(f"{len(people)} people; daemon pass: {wall * 1e3:.2f} ms (CPU {cpu * 1e3:.2f} ms)")
        wall, cpu = timed(lambda: publisher.person_feed(names[0]))
        print(f"first request after a change (plans): {wall:.3f} s (CPU {cpu:.3f} s)")
        wall, cpu = timed(lambda: publisher.person_feed(names[1]))
        print(f"another person, same state: {wall * 1e3:.1f} ms (CPU {cpu * 1e3:.1f} ms)")
        again = [timed(lambda: publisher.person_feed(names[0]))[0] for _ in range(20)]
        print(f"unchanged state (a 304's cost): median {statistics.median(again) * 1e3:.1f} ms")
        feed = publisher.person_feed(names[0])
        print(f"one person's feed: {feed.items} events, {len(feed.body)} bytes")
        wall, cpu = timed(lambda: [publisher.person_feed(n) for n in names[2:]])
        print(
            f"every other person refreshed at once (what pre-rendering all would cost a pass): "
            f"{wall:.2f} s (CPU {cpu:.2f} s) for {len(names) - 2} feeds"
        )
        store.close()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
