"""What the running process has done lately, for /readyz and /metrics (in memory, thread-safe).

Durable facts (last success per target, outbox rows, done marks) live in the store; this holds
the counters a Prometheus scrape reads and the outcome of the last passes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ProcessStatus:
    reconcile_runs: Counter[str] = field(default_factory=Counter)
    reconcile_errors: Counter[str] = field(default_factory=Counter)
    reconcile_seconds: dict[str, float] = field(default_factory=dict)
    """Duration of the last pass, per target."""
    reconcile_seconds_total: dict[str, float] = field(default_factory=dict)
    last_reconcile_at: datetime | None = None
    last_reconcile_ok: bool | None = None
    mails_sent: int = 0
    mails_failed: int = 0
    notify_runs: int = 0
    last_notify_at: datetime | None = None
    last_reconcile_problem: str | None = None
    """Why the last reconcile pass failed (French), or None."""
    last_notify_problem: str | None = None
    """Why the last notify pass failed (French), or None."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_reconcile(
        self, results: Iterable[tuple[str, bool, float]], finished_at: datetime
    ) -> None:
        """``results``: (target name, ok, seconds) of one pass over the targets."""
        with self._lock:
            all_ok = True
            for name, ok, seconds in results:
                self.reconcile_runs[name] += 1
                self.reconcile_seconds[name] = seconds
                self.reconcile_seconds_total[name] = (
                    self.reconcile_seconds_total.get(name, 0.0) + seconds
                )
                if not ok:
                    self.reconcile_errors[name] += 1
                    all_ok = False
            self.last_reconcile_at = finished_at
            self.last_reconcile_ok = all_ok
            if all_ok:
                self.last_reconcile_problem = None

    def reconcile_failed(self, reason: str, at: datetime) -> None:
        """The pass could not run or complete (state store unusable, a defect…)."""
        with self._lock:
            self.last_reconcile_at = at
            self.last_reconcile_ok = False
            self.last_reconcile_problem = reason

    def notify_failed(self, reason: str | None) -> None:
        """The last notify pass failed (``reason``), or went through (None)."""
        with self._lock:
            self.last_notify_problem = reason

    def record_notify(self, sent: int, failed: int, finished_at: datetime) -> None:
        with self._lock:
            self.notify_runs += 1
            self.mails_sent += sent
            self.mails_failed += failed
            self.last_notify_at = finished_at
