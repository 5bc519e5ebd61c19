"""Login throttling: delays that grow with failures, per identifier and per client address.

The policy (issue 10, § 5):

- Every login attempt is counted twice: against the identifier typed (case-folded, known or
  not) and against the client's address. Each gets a number of free failures — 5 per
  identifier, 10 per address — after which every new attempt must wait a delay counted from
  the last failure: 1 s, then 2 s, 4 s… doubling at each failure, at most 15 minutes.
- An attempt *reserves* its slot before the password is checked, under a lock: the slot counts
  as a failure until the check proves otherwise. Forty parallel wrong passwords therefore
  check five, never more.
- An attempt refused because of a delay is not counted and does not lengthen the delay: an
  attacker hammering a login cannot keep its owner out. The right password is accepted as soon
  as the current delay has passed — there is no lock-out; the refusal (429) says how long to
  wait (``Retry-After``).
- A success clears the identifier's failures; the address only gets its reserved slot back (a
  known account cannot be used to wipe an address's failures before trying others).
- Failures are forgotten after an hour without a new one. At most 10,000 identifiers and
  addresses are remembered (the oldest go first): a flood of made-up identifiers cannot fill
  the memory.

The address is the TCP peer, or the first ``X-Forwarded-For`` address when the peer is a proxy
uvicorn trusts (``FORWARDED_ALLOW_IPS``, 127.0.0.1 by default): behind a reverse proxy on the
same machine each client keeps its own count.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

FORGET_AFTER: Final = timedelta(hours=1)
MAX_KEYS: Final = 10_000


@dataclass(frozen=True, slots=True)
class Rule:
    """``free`` failures, then a delay of ``first`` doubling at each failure up to ``longest``."""

    free: int
    first: timedelta = timedelta(seconds=1)
    longest: timedelta = timedelta(minutes=15)

    def delay(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 30)
        return min(self.longest, self.first * (1 << doublings))


PER_LOGIN: Final = Rule(free=5)
PER_ADDRESS: Final = Rule(free=10)


@dataclass
class _Record:
    failures: int
    last: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    """A reserved attempt: report it with :meth:`LoginThrottle.succeeded` or give it back."""

    login_key: str
    address_key: str


def retry_after(wait: timedelta) -> int:
    """Whole seconds to wait, rounded up (``Retry-After``)."""
    return max(1, math.ceil(wait.total_seconds()))


def wait_text(wait: timedelta) -> str:
    """« 1 seconde », « 40 secondes », « 2 minutes »: how long to wait, rounded up."""
    seconds = retry_after(wait)
    if seconds < 120:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


class LoginThrottle:
    """The failure counts of identifiers and addresses (thread-safe, in memory)."""

    def __init__(
        self,
        per_login: Rule = PER_LOGIN,
        per_address: Rule = PER_ADDRESS,
        forget_after: timedelta = FORGET_AFTER,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.per_login, self.per_address = per_login, per_address
        self.forget_after, self.max_keys = forget_after, max_keys
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def _record(self, key: str, now: datetime) -> _Record | None:
        found = self._records.get(key)
        if found is not None and now - found.last >= self.forget_after:
            del self._records[key]
            return None
        return found

    def _wait(self, key: str, rule: Rule, now: datetime) -> timedelta:
        found = self._record(key, now)
        if found is None:
            return timedelta(0)
        return max(timedelta(0), found.last + rule.delay(found.failures) - now)

    def _count(self, key: str, now: datetime) -> None:
        found = self._record(key, now)
        if found is None:
            self._records[key] = _Record(1, now)
        else:
            found.failures += 1
            found.last = now
            self._records.move_to_end(key)
        while len(self._records) > self.max_keys:
            self._records.popitem(last=False)

    def reserve(self, login: str, address: str, now: datetime) -> Slot | timedelta:
        """A slot for one password check, or how long to wait before the next attempt."""
        slot = Slot(f"login:{login.strip().casefold()}", f"addr:{address}")
        with self._lock:
            wait = max(
                self._wait(slot.login_key, self.per_login, now),
                self._wait(slot.address_key, self.per_address, now),
            )
            if wait > timedelta(0):
                return wait
            self._count(slot.login_key, now)
            self._count(slot.address_key, now)
        return slot

    def _give_back(self, key: str) -> None:
        found = self._records.get(key)
        if found is not None:
            found.failures -= 1
            if found.failures <= 0:
                del self._records[key]

    def succeeded(self, slot: Slot) -> None:
        """The password was right: the identifier starts afresh, the address gets its slot."""
        with self._lock:
            self._records.pop(slot.login_key, None)
            self._give_back(slot.address_key)

    def cancel(self, slot: Slot) -> None:
        """The password was never checked (the service was too busy): the slot is given back."""
        with self._lock:
            self._give_back(slot.login_key)
            self._give_back(slot.address_key)

    def __len__(self) -> int:
        return len(self._records)
