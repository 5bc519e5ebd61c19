"""Benchmark: the daemon's passes, in-process, with one long-lived :class:`Syncer` (as
``syncsvc run`` keeps it): the periodic pass when nothing changed, and the pass after one
session file changed (one session moved by a week), at N sessions over 20 centres.

One centre's calendar is pushed to a local Radicale (the others' sessions are planned and
fingerprinted but seen by no target audience of this calendar). Medians of wall and CPU time
(this process: ``time.process_time``; Radicale runs in its own process) over ``--repeat``
passes; requests by method for the last one.

    .venv/bin/python benchmarks/daemon_pass.py [--sessions 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from syncsvc.app.sync import Syncer  # noqa: E402
from syncsvc.inputs.loader import load_config, load_ruleset  # noqa: E402
from syncsvc.inputs.settings import load_settings  # noqa: E402
from syncsvc.state.store import Store  # noqa: E402
from tests.harness.servers import radicale_server  # noqa: E402

CENTRES = [f"centre-{i:02d}" for i in range(20)]
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name, radicale_server(Path(tmp_name) / "r") as dav:
        tmp = Path(tmp_name)
        config_dir = tmp / "config"
        generate.write_config(config_dir, args.sessions, CENTRES, spacing_days=7, span_days=600)
        (config_dir / "syncsvc.toml").write_text(
            f'[store]\nurl = "sqlite:///{tmp / "state.db"}"\n\n[[targets]]\n'
            f'name = "coordination"\nkind = "caldav"\nurl = "{dav.url}"\n'
            f'username = "{dav.username}"\npassword_env = "BENCH_CALDAV_PASSWORD"\n'
            'calendar = "examens-centre-00"\naudience = "coordinators:centre-00"\n'
        )
        os.environ["BENCH_CALDAV_PASSWORD"] = dav.password
        settings = load_settings(config_dir)
        ruleset = load_ruleset(settings.ruleset)
        store = Store(settings.store.url)
        store.migrate()
        syncer = Syncer(store)
        config = load_config(config_dir, ruleset)
        [first] = syncer.sync_all(settings, config, NOW)
        assert first.ok, first.errors
        print(
            f"{args.sessions} sessions, {len(CENTRES)} centres; first push: "
            f"{first.done['create']} items"
        )

        def timed_pass() -> tuple[float, float, Counter[str], dict[str, int]]:
            dav.proxy.reset()
            cpu, wall = time.process_time(), time.perf_counter()
            [report] = syncer.sync_all(settings, config, NOW)
            seconds = time.perf_counter() - wall, time.process_time() - cpu
            assert report.ok, report.errors
            return seconds[0], seconds[1], Counter(dav.proxy.counts), report.done

        noop = [timed_pass() for _ in range(args.repeat)]
        moved = []
        for rep in range(args.repeat):
            path = config_dir / "sessions" / "bench-0000.yaml"
            generate.move_session(path, 7 if rep % 2 == 0 else -7)
            config = load_config(config_dir, ruleset)  # the watcher's reload, not timed
            moved.append(timed_pass())
        for name, runs in (("periodic no-op pass", noop), ("one session moved", moved)):
            walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
            methods = ", ".join(f"{n} {m}" for m, n in sorted(runs[-1][2].items()))
            print(
                f"{name:<20}: wall median {statistics.median(walls):.3f} s, CPU median "
                f"{statistics.median(cpus):.3f} s ({', '.join(f'{c:.3f}' for c in cpus)}) — "
                f"{methods}; {runs[-1][3]}"
            )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
