"""Benchmark: the command line as a user runs it, whole process, start to exit.

Writes N session files (default 10,000) into a temporary configuration folder, then runs, each
as its own process with its output to a file: ``syncsvc plan --format json``, ``syncsvc plan
--format jsonl``, ``syncsvc validate`` and ``syncsvc --help``. For each: wall seconds and the
peak RSS of the process (``getrusage`` of the child). Baseline in the same run: the same
commands on a tenth of the sessions, so the ratio shows how the cost per session holds at scale
(1.0: linear; the fixed start-up cost makes it lower). CPU is user + system time of the process
and of the child it forks to share the work (from 500 sessions, see syncsvc.inputs.forked): on a
loaded machine the wall time depends on what else runs, the CPU time much less.

Targets (issue « Operations for real »): ``plan --format json`` and ``validate`` on 10,000
sessions in ≤ 5 s and ≤ 300 MB on a 2-core machine.

    .venv/bin/python benchmarks/cli.py [--sessions N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.plan import write_config

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-23"
COMMANDS = {
    "plan json": ["plan", "--format", "json"],
    "plan jsonl": ["plan", "--format", "jsonl"],
    "validate": ["validate"],
}


def run(args: list[str], out: Path, cwd: Path) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MB, exit code) of one ``syncsvc`` process.

    ``wait4`` gives the process's own figures plus those of the children it waited for (the
    forked child that shares the work on many sessions): CPU is their sum (user + system),
    the peak is the larger of the two peaks (Linux's ``ru_maxrss`` of a waited-for process).
    """
    syncsvc = Path(sys.executable).with_name("syncsvc")
    started = time.perf_counter()
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [str(syncsvc), *args], stdout=sink, stderr=subprocess.DEVNULL, cwd=cwd
        )
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        big, small = tmp / "config", tmp / "small"
        big.mkdir()
        small.mkdir()
        write_config(big, args.sessions)
        tenth = max(1, args.sessions // 10)
        write_config(small, tenth)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        env_note = f"{os.cpu_count()} CPU, load average {load} before"
        print(f"{args.sessions} sessions generated ({env_note}); whole process, output to a file")
        seconds, cpu, peak, code = run(["--help"], tmp / "help.txt", tmp)
        print(f"syncsvc --help: {seconds:.2f} s (CPU {cpu:.2f} s), {peak:.0f} MB")
        for name, command in COMMANDS.items():
            base_s, *_ = run([*command, "--config", str(small), "--now", NOW], tmp / "b", tmp)
            seconds, cpu, peak, code = run(
                [*command, "--config", str(big), "--now", NOW], tmp / f"{name}.out", tmp
            )
            size = (tmp / f"{name}.out").stat().st_size / 1e6
            per_session = seconds / args.sessions * 1000
            base_per = base_s / tenth * 1000
            ratio = per_session / base_per
            print(
                f"{name:<11}: {seconds:6.2f} s (CPU {cpu:5.2f} s), peak {peak:5.0f} MB, output "
                f"{size:6.1f} MB, exit {code}; {per_session:.2f} ms/session against "
                f"{base_per:.1f} ms/session at {tenth} sessions (ratio {ratio:.2f})"
            )
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average {load} after")
        print("targets: plan json and validate ≤ 5 s and ≤ 300 MB at 10,000 sessions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
