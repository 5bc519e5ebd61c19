"""A login flood: password hashing runs in a bounded pool, the rest is refused at once (429),
and /healthz keeps answering.

The password check is replaced by a gate that counts the checks running at once and holds
them until the test lets them go: the flood is observed while it is at its peak, without
sleeping, and the memory bound is asserted as "at most two hashes at a time"."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

import httpx
import pytest

from syncsvc.web import auth
from syncsvc.web.passwords import HashPool, LoginGuard, PoolFull
from syncsvc.web.throttle import LoginThrottle, Rule
from tests.web.conftest import SECRET, SECRET_ENV, TEST_COST, serve
from tests.web.test_login_guard import attempt

FLOOD = 40
WORKERS, QUEUE = 2, 8


class Gate:
    """Counts the password checks running at once and holds them until :meth:`open`."""

    def __init__(self) -> None:
        self.running = self.peak = self.calls = 0
        self._lock = threading.Condition()
        self._open = threading.Event()

    def wrap(self, real: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
        def held(password: str, encoded: str) -> bool:
            with self._lock:
                self.running += 1
                self.calls += 1
                self.peak = max(self.peak, self.running)
                self._lock.notify_all()
            try:
                self._open.wait(timeout=30)
                return real(password, encoded)
            finally:
                with self._lock:
                    self.running -= 1

        return held

    def wait_for(self, running: int, timeout: float = 10) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self.running >= running, timeout=timeout)

    def open(self) -> None:
        self._open.set()


def permissive() -> LoginThrottle:
    """A throttle that lets the whole flood through to the pool (the pool is under test)."""
    return LoginThrottle(per_login=Rule(free=10_000), per_address=Rule(free=10_000))


def test_a_login_flood_runs_two_hashes_at_most_and_healthz_stays_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    gate = Gate()
    monkeypatch.setattr(auth, "verify_password", gate.wrap(auth.verify_password))
    guard = LoginGuard(throttle=permissive(), cost=TEST_COST)
    with serve(tmp_path, guard=guard) as served, ThreadPoolExecutor(FLOOD) as pool:
        futures: list[Future[httpx.Response]] = [
            pool.submit(attempt, served, f"inconnu{i}", "faux") for i in range(FLOOD)
        ]
        try:
            assert gate.wait_for(WORKERS), "the hashing never started"
            refused = []
            for future in as_completed(futures, timeout=20):  # answered while hashes are held
                refused.append(future.result())
                if len(refused) == FLOOD - WORKERS - QUEUE:
                    break
            assert {r.status_code for r in refused} == {429}
            assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
            assert "très sollicité" in refused[0].text
            with served.client() as client:
                for _ in range(5):
                    began = time.monotonic()
                    assert client.get("/healthz", timeout=5).status_code == 200
                    assert time.monotonic() - began < 1.0
            assert gate.running == WORKERS
        finally:
            gate.open()
        answers = [f.result(timeout=30) for f in futures]
    assert sorted(a.status_code for a in answers).count(200) == WORKERS + QUEUE
    assert gate.peak == WORKERS
    assert gate.calls == WORKERS + QUEUE


def test_the_pool_refuses_beyond_its_queue_and_gives_slots_back() -> None:
    """The pool on its own: one worker, one waiting, the third refused at once."""
    import asyncio

    pool = HashPool(workers=1, queue=1)
    release = threading.Event()

    def work(n: int) -> int:
        release.wait(timeout=10)
        return n

    async def scenario() -> None:
        first = asyncio.create_task(pool.run(work, 1))
        second = asyncio.create_task(pool.run(work, 2))
        await asyncio.sleep(0)  # both admitted
        with pytest.raises(PoolFull):
            await pool.run(work, 3)
        release.set()
        assert await first == 1
        assert await second == 2
        assert await pool.run(work, 4) == 4  # room again
        assert pool.peak == 1

    asyncio.run(scenario())
