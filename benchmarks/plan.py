"""Benchmark: load and plan 10,000 generated sessions.

Writes N session files (default 10,000) spread over the example centres into a temporary
config folder, then times ``load_config`` and ``plan_session`` for all of them, and prints
sessions/s and peak RSS. Baseline measured in the same run: loading + planning the 5 example
sessions, scaled per session, so the ratio shows how the cost per session holds at scale.

Target (issue #2): the whole 10,000 in under 5 s and 300 MB on a 2-core machine.

    .venv/bin/python benchmarks/plan.py [--sessions N]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from syncsvc.core.planner import plan_session
from syncsvc.inputs.loader import load_config

ROOT = Path(__file__).resolve().parents[1]
NOW = date(2026, 11, 23)

SESSION = """\
id: bench-{n:05d}
title: {{code: {code}, acronym: B{n}, label: "Titre de test", transport: {transport}}}
nature: titre
centre: {centre}
start: {start}
end: {end}
first_day_start: "08:30"
candidates: {{training: 8, vae: 1}}
session_manager: {{name: "Responsable {n}", email: rs{n}@centre.example}}
coordinators:
  - {{name: "Coordination {n}", email: coord{n}@centre.example}}
jury:
  - {{name: "Jury A{n}", email: a{n}@jury.example, habilitation_until: 2031-12-31}}
  - {{name: "Jury B{n}", email: b{n}@jury.example, habilitation_until: 2031-12-31}}
"""
CENTRES = [
    ("afpar-st-andre", "TP-00374"),
    ("greta-lyon-venissieux", "TP-01280"),
    ("afpa-strasbourg", "TP-00407"),
]


def write_config(directory: Path, count: int) -> None:
    shutil.copy(ROOT / "config" / "centres.yaml", directory / "centres.yaml")
    sessions = directory / "sessions"
    sessions.mkdir()
    for n in range(count):
        centre, code = CENTRES[n % len(CENTRES)]
        start = date(2027, 1, 4) + timedelta(days=n % 700)
        text = SESSION.format(
            n=n,
            code=code,
            centre=centre,
            transport=str(n % 7 == 0).lower(),
            start=start,
            end=start + timedelta(days=n % 5),
        )
        (sessions / f"bench-{n:05d}.yaml").write_text(text, encoding="utf-8")


def load_and_plan(directory: Path) -> tuple[int, int, float]:
    began = time.perf_counter()
    config = load_config(directory)
    assert not config.problems, config.problems[:3]
    milestones = 0
    for session in config.sessions.values():
        centre = config.centres[session.centre]
        milestones += len(plan_session(session, centre, config.rulesets[centre.id], NOW))
    return len(config.sessions), milestones, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10_000)
    count = parser.parse_args().sessions

    # Warm-up and baseline: the example config (5 sessions), best of 5 runs.
    load_and_plan(ROOT / "config")
    base_n, _, base_s = min((load_and_plan(ROOT / "config") for _ in range(5)), key=lambda r: r[2])
    per_session_baseline = base_s / base_n

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_config(directory, count)
        n, milestones, seconds = load_and_plan(directory)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_session = seconds / n
    print(f"sessions: {n}, milestones: {milestones}")
    print(f"load + plan: {seconds:.2f} s, {n / seconds:,.0f} sessions/s")
    print(f"peak RSS: {peak_mb:.0f} MB")
    ratio = per_session / per_session_baseline
    print(
        f"baseline (5 example sessions): {per_session_baseline * 1e3:.3f} ms/session; "
        f"at {n}: {per_session * 1e3:.3f} ms/session (ratio {ratio:.2f})"
    )
    target = seconds < 5 and peak_mb < 300
    print(f"target (<5 s, <300 MB for 10,000): {'met' if target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
