"""Benchmark: syncsvc against its closest peer, vdirsyncer, and the floor, on one Radicale.

The same items for everyone: the exact ``.ics`` resources syncsvc pushed, exported one file per
item. Each contender writes into its own fresh calendar of the same Radicale (behind the
counting proxy of the tests), three repetitions in alternating order; medians and ratios are
printed, with the requests by method:

- **first push** of every item;
- **no-op**: nothing changed (syncsvc: ``sync --once``; vdirsyncer: ``vdirsyncer sync``; the
  floor: one sync-collection REPORT);
- **change**: two sessions moved (their items changed: 40 with the default sessions), three
  times per repetition (``--moves``), the contenders in an order that turns from one move to
  the next; medians over every move.

Every command runs as a user runs it: a whole process, start to exit. Besides the wall time,
the CPU time of that process (user + system, from ``getrusage(RUSAGE_CHILDREN)``) is printed:
on a machine loaded by other work, it is the steadier figure. vdirsyncer is installed with pip
into the benchmark's own virtual environment (in the temporary folder). ``PYTHONPATH``, when
set, reaches the syncsvc processes (to measure another checkout with the same environment).

    .venv/bin/python benchmarks/caldav_vs_peer.py [--sessions 40] [--repeat 3] [--moves 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import unquote

import httpx
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from tests.harness.servers import CalDAVServer, radicale_server  # noqa: E402

NOW = "2026-11-23"
CENTRE = "centre-a"
VDIRSYNCER = "vdirsyncer==0.21.*"
MOVED = ("bench-0000.yaml", "bench-0001.yaml")
Figure = tuple[float, float | None, Counter[str]]


def settings_toml(server: CalDAVServer, calendar: str, store: Path) -> str:
    return (
        f'[store]\nurl = "sqlite:///{store}"\n\n[[targets]]\nname = "bench"\nkind = "caldav"\n'
        f'url = "{server.url}"\nusername = "{server.username}"\n'
        f'password_env = "BENCH_PASSWORD"\ncalendar = "{calendar}"\n'
        f'audience = "coordinators:{CENTRE}"\n'
    )


def children_cpu() -> float:
    """User + system seconds of the finished child processes so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


#: The CPU seconds of the last :func:`timed` command (the raw loop runs in this process: none).
LAST_CPU: list[float | None] = [None]


def timed(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    """Wall seconds of ``command``, a whole process; its CPU seconds go to :data:`LAST_CPU`."""
    cpu = children_cpu()
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    seconds = time.perf_counter() - began
    LAST_CPU[0] = children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


class Contenders:
    """The three ways to write the same items, each into calendars of its own."""

    def __init__(self, tmp: Path, server: CalDAVServer, venv: Path) -> None:
        self.tmp, self.server, self.venv = tmp, server, venv
        self.config = tmp / "config"
        self.env = {"BENCH_PASSWORD": server.password, "PATH": "/usr/bin:/bin"}
        if os.environ.get("PYTHONPATH"):
            self.env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        self.client = httpx.Client(auth=(server.username, server.password), timeout=300)
        self.tokens: dict[str, str] = {}

    def calendar_url(self, name: str) -> str:
        return f"{self.server.home_url}{name}/"

    # -- syncsvc ----------------------------------------------------------------------------

    def syncsvc(self, calendar: str) -> float:
        (self.config / "syncsvc.toml").write_text(
            settings_toml(self.server, calendar, self.tmp / f"{calendar}.db"), encoding="utf-8"
        )
        command = [str(Path(sys.executable).with_name("syncsvc")), "sync", "--once"]
        return timed([*command, "--config", str(self.config), "--now", NOW], self.env, self.tmp)

    def export(self, calendar: str, folder: Path, only: set[str] | None = None) -> None:
        """The resources syncsvc wrote, one file per item (the same bytes for the others)."""
        folder.mkdir(parents=True, exist_ok=True)
        body = (
            '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop>'
            "</d:propfind>"
        )
        listing = self.client.request(
            "PROPFIND", self.calendar_url(calendar), content=body, headers={"Depth": "1"}
        )
        hrefs = [h for h in _hrefs(listing.text) if h.endswith(".ics")]
        for href in hrefs:
            name = unquote(href.rsplit("/", 1)[1])
            if only is None or name in only:
                response = self.client.get(f"{self.server.url.rstrip('/')}{href}")
                (folder / name).write_bytes(response.content)

    # -- vdirsyncer ---------------------------------------------------------------------------

    def vdirsyncer(self, calendar: str, folder: Path) -> float:
        conf = self.tmp / f"vdir-{calendar}.conf"
        conf.write_text(
            f'[general]\nstatus_path = "{self.tmp / ("status-" + calendar)}"\n\n'
            '[pair bench]\na = "local"\nb = "remote"\ncollections = null\n'
            'conflict_resolution = "a wins"\n\n'
            f'[storage local]\ntype = "filesystem"\npath = "{folder}"\nfileext = ".ics"\n\n'
            f'[storage remote]\ntype = "caldav"\nurl = "{self.calendar_url(calendar)}"\n'
            f'username = "{self.server.username}"\npassword = "{self.server.password}"\n',
            encoding="utf-8",
        )
        binary = str(self.venv / "bin" / "vdirsyncer")
        if not (self.tmp / f"status-{calendar}").exists():
            timed([binary, "-c", str(conf), "discover", "bench"], cwd=self.tmp)
        return timed([binary, "-c", str(conf), "sync"], cwd=self.tmp)

    # -- the floor: a keep-alive loop of conditional PUTs, one REPORT --------------------------

    def raw(self, calendar: str, folder: Path, names: list[str] | None = None) -> float:
        began = time.perf_counter()
        for path in sorted(folder.iterdir()) if names is None else [folder / n for n in names]:
            headers = {"Content-Type": "text/calendar; charset=utf-8"}
            if names is None:
                headers["If-None-Match"] = "*"
            response = self.client.put(
                f"{self.calendar_url(calendar)}{path.name.replace('@', '%40')}",
                content=path.read_bytes(),
                headers=headers,
            )
            assert response.status_code in (201, 204), response.status_code
        return time.perf_counter() - began

    def raw_noop(self, calendar: str) -> float:
        began = time.perf_counter()
        body = (
            '<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>'
            f"{self.tokens.get(calendar, '')}</d:sync-token><d:sync-level>1</d:sync-level>"
            "<d:prop><d:getetag/></d:prop></d:sync-collection>"
        )
        response = self.client.request("REPORT", self.calendar_url(calendar), content=body)
        seconds = time.perf_counter() - began
        found = etree.fromstring(response.content).find("{DAV:}sync-token")
        self.tokens[calendar] = found.text or "" if found is not None else ""
        return seconds

    def mkcalendar(self, calendar: str) -> None:
        response = self.client.request("MKCALENDAR", self.calendar_url(calendar))
        assert response.status_code in (201, 405), response.status_code


def figure(seconds: float, counts: Counter[str]) -> Figure:
    """One measured step: wall seconds, CPU seconds (None for the raw loop), requests."""
    cpu, LAST_CPU[0] = LAST_CPU[0], None
    return (seconds, cpu, counts)


def _hrefs(xml: str) -> list[str]:
    tree = etree.fromstring(xml.encode())
    return [e.text or "" for e in tree.iter("{DAV:}href")]


def install_vdirsyncer(tmp: Path) -> Path:
    venv = tmp / "peer-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", VDIRSYNCER], check=True, timeout=600
    )
    return venv


def measure(
    bench: Contenders, server: CalDAVServer, rep: int, order: list[str]
) -> dict[tuple[str, str], Figure]:
    """One repetition: each contender in ``order`` into fresh calendars."""
    figures: dict[tuple[str, str], Figure] = {}
    items = bench.tmp / "items"
    for who in order:
        calendar = f"{who}-{rep}"
        folder = bench.tmp / f"items-{calendar}"
        steps: dict[str, Callable[[], float]]
        if who == "syncsvc":
            push = partial(bench.syncsvc, calendar)
            steps = {"first push": push, "no-op": push}
        elif who == "vdirsyncer":
            subprocess.run(["cp", "-r", str(items), str(folder)], check=True)
            bench.mkcalendar(calendar)
            push = partial(bench.vdirsyncer, calendar, folder)
            steps = {"first push": push, "no-op": push}
        else:
            bench.mkcalendar(calendar)
            steps = {
                "first push": partial(bench.raw, calendar, items),
                "no-op": partial(bench.raw_noop, calendar),
            }
        for step, action in steps.items():
            if who == "raw" and step == "no-op":
                bench.raw_noop(calendar)  # take a token after the writes
            server.proxy.reset()
            LAST_CPU[0] = None
            seconds = action()
            figures[(who, step)] = figure(seconds, Counter(server.proxy.counts))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--moves", type=int, default=3, help="sessions moved this many times per repetition"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name, radicale_server(Path(tmp_name) / "r") as server:
        tmp = Path(tmp_name)
        generate.write_config(tmp / "config", args.sessions, [CENTRE])
        bench = Contenders(tmp, server, install_vdirsyncer(tmp))
        bench.syncsvc("export")
        bench.export("export", tmp / "items")
        count = len(list((tmp / "items").iterdir()))
        print(f"{args.sessions} sessions, {count} items, Radicale, {args.repeat} repetitions")
        results: dict[tuple[str, str], list[Figure]] = {}
        contenders = ["syncsvc", "vdirsyncer", "raw"]
        for rep in range(args.repeat):
            order = contenders[rep % 3 :] + contenders[: rep % 3]
            for key, value in measure(bench, server, rep, order).items():
                results.setdefault(key, []).append(value)
            for key, values in change(bench, server, rep, args.moves).items():
                results.setdefault(key, []).extend(values)
        report(results)
    return 0


def change(
    bench: Contenders, server: CalDAVServer, rep: int, moves: int
) -> dict[tuple[str, str], list[Figure]]:
    """``moves`` times: move two sessions, then each contender writes the changed items into
    its calendar, in an order that turns from one move to the next (the first to write after
    a move is not always the same). The changed items are first written by syncsvc into the
    export calendar, whose bytes the others write."""
    figures: dict[tuple[str, str], list[Figure]] = {}
    contenders = ["syncsvc", "vdirsyncer", "raw"]
    for move in range(moves):
        days = 7 if (rep * moves + move) % 2 == 0 else -7
        for name in MOVED:
            generate.move_session(bench.config / "sessions" / name, days)
        moved = {f"{n.removesuffix('.yaml')}." for n in MOVED}
        bench.syncsvc("export")
        changed = bench.tmp / f"changed-{rep}-{move}"
        bench.export("export", changed)
        names = sorted(
            p.name for p in changed.iterdir() if any(p.name.startswith(m) for m in moved)
        )
        peer_folder = bench.tmp / f"items-vdirsyncer-{rep}"
        for name in names:
            (peer_folder / name).write_bytes((changed / name).read_bytes())
        turn = (rep * moves + move) % 3
        for who in contenders[turn:] + contenders[:turn]:
            server.proxy.reset()
            LAST_CPU[0] = None
            if who == "syncsvc":
                seconds = bench.syncsvc(f"syncsvc-{rep}")
            elif who == "vdirsyncer":
                seconds = bench.vdirsyncer(f"vdirsyncer-{rep}", peer_folder)
            else:
                seconds = bench.raw(f"raw-{rep}", changed, names)
            figures.setdefault((who, "change"), []).append(
                figure(seconds, Counter(server.proxy.counts))
            )
        print(f"repetition {rep + 1}, move {move + 1}: {len(names)} items changed")
    return figures


def report(results: dict[tuple[str, str], list[Figure]]) -> None:
    for step in ("first push", "no-op", "change"):
        medians: dict[str, float] = {}
        cpus: dict[str, float] = {}
        for who in ("syncsvc", "vdirsyncer", "raw"):
            runs = results.get((who, step), [])
            if not runs:
                continue
            medians[who] = statistics.median(s for s, _, _ in runs)
            methods = runs[-1][2]
            shown = ", ".join(f"{n} {m}" for m, n in sorted(methods.items()))
            spread = ", ".join(f"{s:.2f}" for s, _, _ in runs)
            used = [c for _, c, _ in runs if c is not None]
            cpu = ""
            if used:
                cpus[who] = statistics.median(used)
                cpu = f"; CPU median {cpus[who]:5.2f} s ({', '.join(f'{c:.2f}' for c in used)})"
            print(f"{step:<10} {who:<10}: median {medians[who]:7.2f} s ({spread}){cpu} — {shown}")
        if "vdirsyncer" in medians and "syncsvc" in medians:
            print(
                f"{step:<10} ratio syncsvc/vdirsyncer: "
                f"{medians['syncsvc'] / medians['vdirsyncer']:.2f} wall"
                + (
                    f", {cpus['syncsvc'] / cpus['vdirsyncer']:.2f} CPU"
                    if "syncsvc" in cpus and "vdirsyncer" in cpus
                    else ""
                )
                + f"; syncsvc/raw: {medians['syncsvc'] / medians['raw']:.2f} wall"
            )


if __name__ == "__main__":
    sys.exit(main())
