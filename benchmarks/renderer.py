"""Benchmark: what the daemon's long-lived :class:`~syncsvc.app.desired.Renderer` holds at rest,
and the cost of a pass over every target when nothing changed (every item a hit).

N sessions over 20 centres, the targets of ``benchmarks/daemon.py`` (one centre's calendar and
one feed per centre: 21 targets, ~21 items per session), rendered once (every item a miss),
then ``--repeat`` times (every item a hit, as a feed refresh after one edited file). Prints
the memory the renderer keeps (the process's RSS growth, then tracemalloc for a second
renderer), wall and CPU times, and the machine's load.

    .venv/bin/python benchmarks/renderer.py [--sessions 300] [--repeat 20]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from syncsvc.app.desired import Renderer  # noqa: E402
from syncsvc.core.planner import Planning, plan_sessions  # noqa: E402
from syncsvc.inputs.loader import load_config, load_ruleset  # noqa: E402
from syncsvc.inputs.settings import TargetSettings, load_settings  # noqa: E402

CENTRES = [f"centre-{i:02d}" for i in range(20)]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_pass(
    renderer: Renderer, targets: tuple[TargetSettings, ...], planning: Planning
) -> tuple[int, float, float]:
    """Items, wall and CPU seconds of one pass over every target (its results dropped)."""
    items = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for target in targets:
        failed: dict[str, str] = {}
        items += len(
            renderer.desired(target, planning.planned, None, failed, planning.centre_milestones)
        )
    return items, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = tmp / "config"
        generate.write_config(config, args.sessions, CENTRES, spacing_days=7, span_days=600)
        feeds = "".join(
            f'\n[[targets]]\nname = "flux-{c}"\nkind = "feed"\naudience = "coordinators:{c}"\n'
            for c in CENTRES
        )
        (config / "syncsvc.toml").write_text(
            f'[store]\nurl = "sqlite:///{tmp / "state.db"}"\n[[targets]]\n'
            'name = "coordination"\nkind = "feed"\naudience = "coordinators:centre-00"\n'
            f"{feeds}"
        )
        settings = load_settings(config)
        loaded = load_config(config, load_ruleset(settings.ruleset))
    planning = plan_sessions(loaded, {}, date(2026, 12, 1))
    targets = settings.targets

    gc.collect()
    before = rss_mb()
    renderer = Renderer()
    items, wall, cpu = one_pass(renderer, targets, planning)
    gc.collect()
    grown = rss_mb() - before
    tracemalloc.start()  # a second renderer, alone traced
    traced = Renderer()
    one_pass(traced, targets, planning)
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    gc.collect()
    print(
        f"{args.sessions} sessions, {len(targets)} targets, {items} items; "
        f"first pass (every item rendered): {wall:.2f} s (CPU {cpu:.2f} s)"
    )
    print(
        f"kept by the renderer at rest: {kept / 1e6:.1f} MB (tracemalloc; peak {peak / 1e6:.1f} "
        f"MB), RSS growth {grown:.0f} MB"
    )
    hits = [one_pass(renderer, targets, planning) for _ in range(args.repeat)]
    print(
        f"pass with every item a hit: wall median {statistics.median(h[1] for h in hits):.3f} s, "
        f"CPU median {statistics.median(h[2] for h in hits):.3f} s, "
        f"min {min(h[2] for h in hits):.3f} s ({args.repeat} passes)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
