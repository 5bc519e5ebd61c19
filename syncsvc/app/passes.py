"""What a long-lived process needs to keep its passes boring when things break.

- :func:`reason_of` turns an unexpected exception of a pass (the state store's disk full or read
  only, the database out of reach, a defect) into one French line, never a traceback in the log
  and never a value from the data (candidates' data must not reach a log);
- :class:`Backoff` spaces the attempts of a pass that keeps failing (seconds, then minutes), and
  forgets as soon as one goes through.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from syncsvc.errors import SyncsvcError


def reason_of(exc: BaseException) -> str:
    """One French line saying what went wrong, without the data involved."""
    text = str(getattr(exc, "orig", exc)).lower()
    if isinstance(exc, SyncsvcError):
        return str(exc).splitlines()[0][:300]
    if "disk is full" in text or "no space left" in text or getattr(exc, "errno", 0) == 28:
        return "disque plein : la base d'état ne peut plus rien enregistrer"
    if "readonly" in text or "read-only" in text or getattr(exc, "errno", 0) == 30:
        return "base d'état en lecture seule (droits ou système de fichiers)"
    if "unable to open database" in text:
        return "base d'état impossible à ouvrir (dossier en lecture seule, droits ou chemin)"
    if isinstance(exc, OperationalError | DBAPIError) and (
        "connect" in text or "closed" in text or "terminat" in text
    ):
        return "base d'état injoignable"
    if isinstance(exc, SQLAlchemyError):
        return f"erreur de la base d'état ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"erreur du système ({exc.strerror or type(exc).__name__})"
    return f"erreur interne ({type(exc).__name__})"


class Backoff:
    """After ``n`` failures in a row, the next attempt waits ``first × 2ⁿ⁻¹`` seconds (at most
    ``longest``); a success resets it. ``clock`` is monotonic time (it paces, it decides no
    business date)."""

    def __init__(
        self,
        first: float = 10.0,
        longest: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first, self.longest, self.clock = first, longest, clock
        self.failures = 0
        self.not_before = float("-inf")

    def ready(self) -> bool:
        return self.clock() >= self.not_before

    def remaining(self) -> float:
        """Seconds until the next attempt may run (0 when it may run now)."""
        return max(0.0, self.not_before - self.clock())

    def failed(self) -> float:
        """Note a failure; returns the seconds until the next attempt."""
        self.failures += 1
        delay = float(min(self.longest, self.first * 2.0 ** (self.failures - 1)))
        self.not_before = self.clock() + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.not_before = float("-inf")
