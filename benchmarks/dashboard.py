"""Benchmark: the dashboard ``/`` of `syncsvc run` with 1,000 sessions, under concurrent clients.

The daemon of ``benchmarks/daemon.py`` without its targets (no Radicale push, no feeds to fill:
ready in seconds), so the dashboard can be measured alone and often. Prints the latency of ``/``
for one client and for 20 concurrent ones (median, p95; target p95 < 100 ms), the bytes sent
per page, and the daemon's CPU time (user+sys) per request, from /proc.

    .venv/bin/python benchmarks/dashboard.py [--sessions 1000] [--clients 20] [--requests 25]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from benchmarks.daemon import CENTRES, DAEMON, daemon_settings, rss_mb  # noqa: E402
from tests.harness.servers import free_port  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = tmp / "config"
        generate.write_config(config, args.sessions, CENTRES, spacing_days=7, span_days=600)
        port = free_port()
        (config / "syncsvc.toml").write_text(daemon_settings(tmp, port))
        log = (tmp / "daemon.log").open("wb")
        daemon = subprocess.Popen(
            [*DAEMON, "run", "--config", str(config), "--now", "2026-12-01T09:00+01:00"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            began = time.monotonic()
            while True:
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert daemon.poll() is None, (tmp / "daemon.log").read_text()
                assert time.monotonic() - began < 300, "not ready in 300 s"
                time.sleep(0.2)
            # Ready is not idle: the first mails (reminders of 1,000 sessions) are still being
            # written; measure once the daemon's CPU is quiet, as in benchmarks/daemon.py after
            # its long first pass.
            quiet = 0
            while quiet < 3:
                cpu0 = cpu_seconds(daemon.pid)
                time.sleep(1)
                quiet = quiet + 1 if cpu_seconds(daemon.pid) - cpu0 < 0.2 else 0
                assert time.monotonic() - began < 300, "not quiet in 300 s"
            print(f"ready and quiet after {time.monotonic() - began:.0f} s")
            with httpx.Client(base_url=base, follow_redirects=True) as client:
                page = client.get("/login")
                token = page.text.split('name="csrf" value="')[1].split('"')[0]
                client.post("/login", data={"login": "bench", "password": "bench", "csrf": token})
                cookies = dict(client.cookies)
                first = client.get("/")
                assert first.status_code == 200
                sent = first.headers.get("content-length", "?")
                print(
                    f"{args.sessions} sessions: page of {len(first.content)} bytes, "
                    f"{sent} bytes sent ({first.headers.get('content-encoding', 'identity')})"
                )
                alone = []
                for _ in range(50):
                    t0 = time.perf_counter()
                    assert client.get("/").status_code == 200
                    alone.append(time.perf_counter() - t0)
            print(f"one client: median {statistics.median(alone) * 1000:.1f} ms")
            latencies: list[float] = []
            lock = threading.Lock()

            def worker() -> None:
                with httpx.Client(base_url=base, cookies=cookies) as c:
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        response = c.get("/")
                        elapsed = time.perf_counter() - t0
                        assert response.status_code == 200
                        with lock:
                            latencies.append(elapsed)

            threads = [threading.Thread(target=worker) for _ in range(args.clients)]
            cpu0, t0 = cpu_seconds(daemon.pid), time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - t0
            cpu = cpu_seconds(daemon.pid) - cpu0
            p95 = statistics.quantiles(latencies, n=20)[18]
            print(
                f"{args.clients} concurrent clients: {len(latencies)} requests in {wall:.1f} s, "
                f"median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
                f"(target < 100 ms); daemon CPU {cpu * 1000 / len(latencies):.1f} ms per request"
            )
            print(f"daemon RSS: {rss_mb(daemon.pid):.0f} MB")
            if os.environ.get("BENCH_HOLD"):  # look at it by hand: curl, /proc
                print(f"holding {base} (cookie {cookies}) for {os.environ['BENCH_HOLD']} s")
                time.sleep(float(os.environ["BENCH_HOLD"]))
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                print(f"SIGTERM -> exit {daemon.wait(30)}")
            except subprocess.TimeoutExpired:
                daemon.kill()
                print("SIGTERM: still running after 30 s, killed")
            log.close()
            if os.environ.get("BENCH_SHOW_LOG"):
                print((tmp / "daemon.log").read_text()[-5000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
