"""The scheduler's jobs, counted so that a stop can wait for them (bounded) without reaching
into the scheduler's executor."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Jobs:
    """Counts the jobs running in the scheduler's threads, so that a stop can wait for them
    (bounded) without reaching into the scheduler's executor."""

    def __init__(self) -> None:
        self._running = 0
        self._idle = threading.Condition()

    def wrap(self, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with self._idle:
                self._running += 1
            try:
                job()
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        run.__name__ = job.__name__
        return run

    def wait_idle(self, seconds: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, seconds)
