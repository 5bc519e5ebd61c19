"""Request quotas: a token bucket per calendar, shared by every target of a process.

``clock`` and ``sleep`` are arguments, so that tests never wait for real.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

DEFAULT_REQUESTS_PER_MINUTE = 300.0
DEFAULT_BURST = 50
Ticks = Callable[[], float]
"""Monotonic seconds (paces requests; decides no date)."""
Sleep = Callable[[float], None]


class RateLimiter:
    """A token bucket: ``per_minute`` requests a minute on average, bursts up to ``burst``.

    :meth:`acquire` takes tokens and sleeps (with the injected ``sleep``) while the bucket is
    in debt; :meth:`defer` holds every request until a delay has passed (the server asked for
    it). ``clock`` and ``sleep`` are arguments so that tests never wait for real.
    """

    def __init__(
        self,
        per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
        burst: float | None = None,
        *,
        clock: Ticks = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else min(per_minute, DEFAULT_BURST))
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.stamp = clock()
        self.not_before = self.stamp
        self.waited = 0.0
        self.lock = threading.Lock()

    def acquire(self, tokens: int = 1) -> float:
        """Take ``tokens`` (one per API call); returns the seconds slept."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= tokens
            wait = max(0.0, -self.tokens / self.rate, self.not_before - now)
            self.waited += wait
        if wait > 0:
            self.sleep(wait)
        return wait

    def defer(self, seconds: float) -> None:
        with self.lock:
            self.not_before = max(self.not_before, self.clock() + seconds)


class RateLimiters:
    """The limiters of one process, one per calendar: every target writing to a calendar
    shares its bucket (the process that owns this registry decides its lifetime)."""

    def __init__(self) -> None:
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def get(self, calendar: str, per_minute: float = DEFAULT_REQUESTS_PER_MINUTE) -> RateLimiter:
        with self._lock:
            limiter = self._limiters.get(calendar)
            if limiter is None or limiter.rate != per_minute / 60.0:
                limiter = self._limiters[calendar] = RateLimiter(per_minute)
            return limiter


def jittered_backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    return float(min(cap, base * 2.0 ** (attempt - 1)) * (0.5 + random.random() / 2))
