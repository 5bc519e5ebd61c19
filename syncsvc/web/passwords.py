"""Checking a password at login: which hash counts, and its upgrade to the current cost.

The hashes live in ``syncsvc.toml`` (``[[web.users]]``), which the service never writes. When a
user logs in successfully with a hash below the service's cost (:data:`auth.DEFAULT_COST`, e.g.
one made with N=2^14 before), the password — known at that moment only — is hashed again at
the current cost and the new hash is kept in the store (table ``password_hashes``), with the
SHA-256 of the ``syncsvc.toml`` hash it replaces. From then on it is the one checked, as long
as ``syncsvc.toml`` keeps the same hash for that login: a password reset there (a new hash from
``syncsvc hash-password``) always wins, and the old password stops working. A French log line
says so once, with the way to put the strong hash in ``syncsvc.toml`` too.

Hashing is costly by design (128 MiB and a few hundred milliseconds at the default cost), so
it runs in a :class:`HashPool`: at most two hashes at a time, eight more logins waiting, and
any further login refused at once (429) without hashing. A flood of logins then costs at most
two hashes' memory and never takes the threads that /healthz and the pages need.

:class:`LoginGuard` gathers what protects the login form: the throttle, the pool, the target
cost.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from starlette.concurrency import run_in_threadpool

from syncsvc.inputs.settings import WebUser
from syncsvc.state.store import Store
from syncsvc.web import auth
from syncsvc.web.common import Web, log
from syncsvc.web.throttle import LoginThrottle

T = TypeVar("T")
HASH_WORKERS: Final = 2
HASH_QUEUE: Final = 8


class PoolFull(Exception):
    """Too many password checks already running or waiting: refuse this one."""


class HashPool:
    """At most ``workers`` password checks at once in the threadpool, ``queue`` more waiting;
    beyond that :meth:`run` refuses at once. Used from the event loop only."""

    def __init__(self, workers: int = HASH_WORKERS, queue: int = HASH_QUEUE) -> None:
        self.workers, self.queue = workers, queue
        self._admitted = 0
        self._running = 0
        self.peak = 0
        """The most checks that ran at once (for tests and curiosity)."""
        self._semaphore: asyncio.Semaphore | None = None

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` in a worker thread when there is room; PoolFull otherwise."""
        if self._admitted >= self.workers + self.queue:
            raise PoolFull
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.workers)
        self._admitted += 1
        try:
            async with self._semaphore:
                self._running += 1
                self.peak = max(self.peak, self._running)
                try:
                    return await run_in_threadpool(work, *args)
                finally:
                    self._running -= 1
        finally:
            self._admitted -= 1


@dataclass
class LoginGuard:
    """What protects the login form (one per application; tests inject their own)."""

    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    pool: HashPool = field(default_factory=HashPool)
    cost: auth.Cost = auth.DEFAULT_COST
    """The cost of new and upgraded hashes, and of the stand-in hash of unknown logins."""


def fingerprint(encoded: str) -> str:
    """SHA-256 (hex) of a ``syncsvc.toml`` hash: names it without repeating it."""
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def effective_hash(store: Store, user: WebUser) -> str:
    """The upgraded hash when it replaces the current ``syncsvc.toml`` one, else that one."""
    upgraded = store.upgraded_hash(user.login)
    if upgraded is not None and hmac.compare_digest(
        upgraded.replaces, fingerprint(user.password_hash)
    ):
        return upgraded.password_hash
    return user.password_hash


def _upgrade(web: Web, user: WebUser, password: str, cost: auth.Cost) -> None:
    upgraded = auth.hash_password(password, n=cost.work, r=cost.block_size, p=cost.parallelism)
    web.store.save_upgraded_hash(user.login, upgraded, fingerprint(user.password_hash), web.clock())
    log.info(
        "empreinte du mot de passe de %s mise à niveau (scrypt N=%d, r=%d, p=%d) et gardée "
        "dans la base d'état ; pour la mettre aussi dans syncsvc.toml : syncsvc hash-password",
        user.login,
        cost.work,
        cost.block_size,
        cost.parallelism,
    )


def check_password(web: Web, guard: LoginGuard, login: str, password: str) -> auth.User | None:
    """The user when ``password`` is theirs, else None (blocking: one scrypt, two on upgrade).

    An unknown login pays for one scrypt of the guard's cost too.
    """
    found = web.users.get(login)
    encoded = effective_hash(web.store, found) if found else auth.dummy_hash(guard.cost)
    ok = auth.verify_password(password, encoded)
    if found is None or not ok:
        return None
    cost = auth.cost_of(encoded)
    if cost is not None and cost.below(guard.cost):
        _upgrade(web, found, password, guard.cost)
    return auth.user_of(found)
