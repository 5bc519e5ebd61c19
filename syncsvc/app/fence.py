"""One active instance per store: the lease a process holds while it sends and writes.

A :class:`Fence` is this process's proof that it is the active instance (see
:mod:`syncsvc.state.lease`): :meth:`Fence.check` before every batch of calendar writes,
:meth:`Fence.claim` before every message. A :class:`Keeper` renews it in a thread; when a
renewal fails (another instance took over while this one's database link was cut, say), the
fence is *lost*: every later check raises :class:`~syncsvc.errors.NotActive` at once, without
asking the database, and the process stops sending and writing.

On SQLite, a lock file next to the database also tells a standby, at once, that the previous
holder died (the operating system releases the lock with the process): the standby then takes
the lease without waiting for it to expire.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import IO, Protocol

from syncsvc.errors import NotActive


class LeaseURL(Protocol):
    @property
    def drivername(self) -> str: ...

    @property
    def database(self) -> str | None: ...


class LeaseStore(Protocol):
    """What a fence needs of a store: :class:`syncsvc.state.store.Store`, or the
    :class:`syncsvc.state.bare.BareStore` of a sync with nothing to do (same lease, same
    statements)."""

    @property
    def url(self) -> LeaseURL: ...

    def take_lease(self, holder: str, seconds: float, *, force: bool = False) -> int | None: ...

    def renew_lease(self, holder: str, epoch: int, seconds: float) -> bool: ...

    def give_back_lease(self, holder: str, epoch: int) -> None: ...

    def lease_valid(self, holder: str, epoch: int) -> bool: ...

    def claim(self, message: int, holder: str, epoch: int) -> bool: ...


log = logging.getLogger("syncsvc")
NOT_ACTIVE = (
    "cette instance n'est plus l'instance active (une autre a pris le relais) : "
    "aucun envoi, aucune écriture"
)


class Fence:
    """The lease held by this process, at one epoch."""

    def __init__(self, store: LeaseStore, holder: str, epoch: int, seconds: float) -> None:
        self.store = store
        self.holder = holder
        self.epoch = epoch
        self.seconds = seconds
        self.lost = threading.Event()
        self.predecessor_dead = False
        """True when taking the lease proved its previous holder dead (SQLite's lock file)."""
        self._file: IO[str] | None = None

    @classmethod
    def take(cls, store: LeaseStore, seconds: float) -> Fence | None:
        """The lease if no other live instance holds it (never waits)."""
        holder = f"{os.getpid()}-{secrets.token_hex(6)}"
        handle = _lock_file(store)
        epoch = store.take_lease(holder, seconds, force=handle is not None)
        if epoch is None:
            if handle is not None:
                handle.close()
            return None
        fence = cls(store, holder, epoch, seconds)
        fence._file = handle
        fence.predecessor_dead = handle is not None
        return fence

    def check(self) -> None:
        """Raise NotActive unless this process still holds the unexpired lease."""
        if self.lost.is_set() or not self.store.lease_valid(self.holder, self.epoch):
            self.lost.set()
            raise NotActive(NOT_ACTIVE)

    def claim(self, message: int) -> bool:
        """Claim one outbox message for sending (False: someone else has it, or it left the
        queue); NotActive when the lease is no longer ours."""
        if self.lost.is_set():
            raise NotActive(NOT_ACTIVE)
        if self.store.claim(message, self.holder, self.epoch):
            return True
        self.check()
        return False

    def renew(self) -> bool:
        if self.lost.is_set():
            return False
        if self.store.renew_lease(self.holder, self.epoch, self.seconds):
            return True
        self.lost.set()
        return False

    def give_back(self) -> None:
        with contextlib.suppress(Exception):  # the database may be gone: expiry frees it then
            self.store.give_back_lease(self.holder, self.epoch)
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _lock_file(store: LeaseStore) -> IO[str] | None:
    """On SQLite, the lock file next to the database, locked (its previous holder is dead), or
    None (a live process has it, or the store is not a SQLite file)."""
    database = store.url.database
    if not store.url.drivername.startswith("sqlite") or database in (None, "", ":memory:"):
        return None
    path = Path(f"{database}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


class Keeper:
    """Renews a fence every third of its lifetime, in a thread, until stopped or lost."""

    def __init__(self, fence: Fence) -> None:
        self.fence = fence
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="syncsvc-lease", daemon=True)

    def __enter__(self) -> Keeper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        period = self.fence.seconds / 3
        while not self._stop.wait(period):
            try:
                renewed = self.fence.renew()
            except Exception as exc:  # the database is out of reach: the lease runs down
                log.warning("bail d'instance non renouvelé (%s)", type(exc).__name__)
                continue
            if not renewed:
                log.warning("instance remplacée : %s", NOT_ACTIVE)
                return
