"""The store without SQLAlchemy: what a sync with nothing to do reads and writes, on SQLite,
through the standard library (see :mod:`syncsvc.app.unchanged`).

Only a few statements, each the same as the :class:`~syncsvc.state.store.Store`'s on the same
tables (tests/state/test_bare_store.py holds them side by side):

- the instance lease — take, renew, give back, check — exactly as :mod:`syncsvc.state.lease`
  does it (same row, same epoch, the database's clock), so that a :class:`~syncsvc.app.fence.
  Fence` over this store fences as it does over the full one;
- the reads of a target's stamp (its state, its recorded items) and of the done marks;
- one write, fenced: a target found unchanged has its new change token and its success
  recorded only while this process still holds the lease.

Anything else (PostgreSQL, a database not made yet, a statement failing) is declined: the
caller then takes the full path, which has the whole store.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from urllib.parse import quote

from syncsvc.core.reconcile import Recorded

NOW_SQL: Final = {
    "postgresql": "extract(epoch from clock_timestamp())",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}
"""The database's clock, in seconds since 1970 (fractional), as SQL."""
MARKS_SQL: Final = "SELECT count(*), max(marked_at) FROM done_marks"
"""The done marks' version (count and latest change), as the driver gives it."""
LEASE: Final = "active"
_NOW = NOW_SQL["sqlite"]
_OURS = "name = ? AND holder = ? AND epoch = ?"


@dataclass(frozen=True)
class BareURL:
    """The parts of a database URL the lease's lock file needs (see
    :func:`syncsvc.app.fence._lock_file`)."""

    drivername: str
    database: str | None


@dataclass(frozen=True)
class BareTargetState:
    address: str | None
    location: str | None
    sync_token: str | None
    inputs_stamp: str | None
    stamp_zones: tuple[str, ...]


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///…`` URL (relative to the working directory, as the store
    opens it), or None for any other URL (another database, options, in memory)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            if not rest or "?" in rest or rest == ":memory:":
                return None
            return Path(rest)
    return None


def stored_instant(moment: datetime) -> str:
    """An instant as the store writes it on SQLite (UTC, SQLAlchemy's DateTime format)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class BareStore:
    """A SQLite store's lease, a target's stamp, one fenced write (see the module)."""

    def __init__(self, path: Path) -> None:
        self.url = BareURL("sqlite", str(path))
        self._lock = threading.Lock()  # the lease keeper renews from its own thread
        self._db = sqlite3.connect(
            f"file:{quote(str(path))}?mode=rw",
            uri=True,
            timeout=5.0,
            isolation_level=None,
            check_same_thread=False,
        )
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("PRAGMA busy_timeout=5000")

    @classmethod
    def open(cls, url: str) -> BareStore | None:
        """The store at ``url`` when it is an existing SQLite file, else None."""
        path = sqlite_path(url)
        if path is None or not path.is_file():
            return None
        try:
            return cls(path)
        except sqlite3.Error:
            return None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, *args: object) -> int:
        """One statement in its own write transaction; the rows it changed."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                count = self._db.execute(sql, args).rowcount
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return count

    def _one(self, sql: str, *args: object) -> tuple[object, ...] | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return tuple(row) if row is not None else None

    # --- the lease (the statements of syncsvc.state.lease) -----------------------------------

    def take_lease(self, holder: str, seconds: float, *, force: bool = False) -> int | None:
        self._write(
            "INSERT OR IGNORE INTO instance_lease (name, holder, epoch, expires_at) "
            "VALUES (?, NULL, 0, 0.0)",
            LEASE,
        )
        condition = "name = ?" if force else f"name = ? AND (expires_at < {_NOW} OR holder IS NULL)"
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                done = self._db.execute(
                    f"UPDATE instance_lease SET holder = ?, epoch = epoch + 1, "
                    f"expires_at = {_NOW} + ? WHERE {condition}",
                    (holder, seconds, LEASE),
                ).rowcount
                row = self._db.execute(
                    "SELECT epoch FROM instance_lease WHERE name = ?", (LEASE,)
                ).fetchone()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return int(row[0]) if done == 1 and row is not None else None

    def renew_lease(self, holder: str, epoch: int, seconds: float) -> bool:
        sql = f"UPDATE instance_lease SET expires_at = {_NOW} + ? WHERE {_OURS}"
        return self._write(sql, seconds, LEASE, holder, epoch) == 1

    def give_back_lease(self, holder: str, epoch: int) -> None:
        sql = f"UPDATE instance_lease SET holder = NULL, expires_at = 0.0 WHERE {_OURS}"
        self._write(sql, LEASE, holder, epoch)

    def lease_valid(self, holder: str, epoch: int) -> bool:
        row = self._one(
            f"SELECT EXISTS (SELECT 1 FROM instance_lease WHERE {_OURS} AND expires_at >= {_NOW})",
            LEASE,
            holder,
            epoch,
        )
        return bool(row and row[0])

    def claim(self, message: int, holder: str, epoch: int) -> bool:
        """Never: this store sends nothing (a sync with nothing to do has no outbox)."""
        raise TypeError("the bare store has no outbox")

    # --- a target's stamp -------------------------------------------------------------------

    def target_state(self, target: str) -> BareTargetState | None:
        row = self._one(
            "SELECT address, location, sync_token, inputs_stamp, stamp_zones FROM target_state "
            "WHERE target = ?",
            target,
        )
        if row is None:
            return None
        address, location, token, inputs_stamp, zones = row
        return BareTargetState(
            None if address is None else str(address),
            None if location is None else str(location),
            None if token is None else str(token),
            None if inputs_stamp is None else str(inputs_stamp),
            tuple(z for z in str(zones or "").split(",") if z),
        )

    def recorded(self, target: str) -> dict[str, Recorded]:
        with self._lock:
            rows = self._db.execute(
                "SELECT uid, session_id, href, etag, content_hash, sequence FROM pushed_items "
                "WHERE target = ?",
                (target,),
            ).fetchall()
        return {row[0]: Recorded(*row) for row in rows}

    def marks_stamp(self) -> tuple[object, ...]:
        """See :data:`MARKS_SQL`."""
        row = self._one(MARKS_SQL)
        assert row is not None
        return row

    def record_unchanged(
        self, target: str, token: str | None, at: datetime, holder: str, epoch: int
    ) -> bool:
        """The target's new change token and its success, recorded only while ``holder``
        holds the unexpired lease at ``epoch``; False when it does not (nothing written)."""
        return (
            self._write(
                "UPDATE target_state SET sync_token = ?, last_success_at = ?, last_error = NULL, "
                "last_error_at = NULL WHERE target = ? AND EXISTS (SELECT 1 FROM instance_lease "
                f"WHERE {_OURS} AND expires_at >= {_NOW})",
                token,
                stored_instant(at),
                target,
                LEASE,
                holder,
                epoch,
            )
            == 1
        )
