"""The benchmark scripts still run (on tiny inputs): figures are printed, not asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("plan.py", ["--sessions", "60"], "sessions/s"),
        ("cli.py", ["--sessions", "60"], "targets"),
        ("caldav_sync.py", ["--sessions", "4"], "ratio ours/raw"),
        # 2 sessions: the fewest that the benchmark can move two of (3 servers × 3 levels)
        ("caldav_concurrency.py", ["--sessions", "2", "--repeat", "1"], "xandikos  concurrency 4"),
        ("google_sync.py", ["--sessions", "4"], "ratio one-by-one/batched"),
        ("graph_sync.py", ["--sessions", "4", "--latency-ms", "0"], "target met: no-op"),
        ("outbox.py", ["--messages", "20"], "ratio reuse / per-message"),
        ("daemon.py", ["--sessions", "40"], "p95"),
        ("daemon_pass.py", ["--sessions", "20", "--repeat", "1"], "periodic no-op pass"),
        ("renderer.py", ["--sessions", "20", "--repeat", "1"], "kept by the renderer at rest"),
        ("dashboard.py", ["--sessions", "40", "--clients", "2", "--requests", "3"], "p95"),
        ("person_feeds.py", ["--sessions", "10"], "what pre-rendering all would cost a pass"),
    ],
)
def test_benchmark_script_runs(script: str, args: list[str], expected: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert expected in done.stdout, done.stdout


def test_inbox_benchmark_runs() -> None:
    """benchmarks/inbox.py needs Dovecot (installed like the tests' own, see
    tests/harness/dovecot.py)."""
    import os

    from tests.harness.dovecot import ensure_dovecot

    reason = ensure_dovecot()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Dovecot is needed in CI: {reason}")
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "inbox.py"), "--replies", "30"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "second pass downloads nothing: yes" in done.stdout, done.stdout
