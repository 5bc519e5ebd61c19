"""The store without SQLAlchemy: what a sync with little or nothing to do reads and writes, on
SQLite, through the standard library (see :mod:`syncsvc.app.unchanged` and
:mod:`syncsvc.app.changed`), and what ``plan``, ``validate``, ``jury`` and ``export`` read
(:mod:`syncsvc.app.marks`, :mod:`syncsvc.app.cancellations`).

Only a few statements, each the same as the :class:`~syncsvc.state.store.Store`'s on the same
tables (tests/state/test_bare_store.py holds them side by side):

- the instance lease — take, renew, give back, check — exactly as :mod:`syncsvc.state.lease`
  does it (same row, same epoch, the database's clock), so that a :class:`~syncsvc.app.fence.
  Fence` over this store fences as it does over the full one;
- the reads of a target's stamp (its state, its recorded items, its sessions' fingerprints),
  of the done marks, of the schema's version and of the cancellations' history;
- the writes of a pass: each item written (or its error), its sessions' fingerprints, and,
  fenced — only while this process still holds the lease —, the target's new change token,
  its success or failure and its new stamp.

Anything else (PostgreSQL, a database not made yet, a statement failing) is declined: the
caller then takes the full path, which has the whole store.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from syncsvc.core.reconcile import Recorded

if TYPE_CHECKING:  # the quick sync loads no session model (syncsvc.core.model)
    from syncsvc.core.cancellations import CancellationRecord

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
    stamp_parts: str | None = None
    held_fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class DoneMark:
    """A milestone marked done: the day, who, their note, and when it was marked."""

    done_on: date
    by: str
    note: str | None
    marked_at: datetime


def _text(value: object) -> str | None:
    return None if value is None else str(value)


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


def _instant(stored: object) -> datetime:
    """An instant as the store reads it back on SQLite (written UTC, without an offset)."""
    moment = datetime.fromisoformat(str(stored))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
        # As the full store: WAL + NORMAL (a power loss may lose the last pushed-item records,
        # which the next sync adopts), the lease written through FULL.
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
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

    @contextlib.contextmanager
    def _transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction (``durable``: committed through ``synchronous=FULL``, as the
        full store writes the lease)."""
        with self._lock:
            if durable:
                self._db.execute("PRAGMA synchronous=FULL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            finally:
                if durable:
                    self._db.execute("PRAGMA synchronous=NORMAL")

    def _write(self, sql: str, *args: object, durable: bool = False) -> int:
        """One statement in its own write transaction; the rows it changed."""
        with self._transaction(durable=durable) as db:
            return db.execute(sql, args).rowcount

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
        with self._transaction(durable=True) as db:
            done = db.execute(
                f"UPDATE instance_lease SET holder = ?, epoch = epoch + 1, "
                f"expires_at = {_NOW} + ? WHERE {condition}",
                (holder, seconds, LEASE),
            ).rowcount
            row = db.execute("SELECT epoch FROM instance_lease WHERE name = ?", (LEASE,)).fetchone()
        return int(row[0]) if done == 1 and row is not None else None

    def renew_lease(self, holder: str, epoch: int, seconds: float) -> bool:
        sql = f"UPDATE instance_lease SET expires_at = {_NOW} + ? WHERE {_OURS}"
        return self._write(sql, seconds, LEASE, holder, epoch, durable=True) == 1

    def give_back_lease(self, holder: str, epoch: int) -> None:
        sql = f"UPDATE instance_lease SET holder = NULL, expires_at = 0.0 WHERE {_OURS}"
        self._write(sql, LEASE, holder, epoch, durable=True)

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
            "SELECT address, location, sync_token, inputs_stamp, stamp_zones, stamp_parts, "
            "held_fingerprint FROM target_state WHERE target = ?",
            target,
        )
        if row is None:
            return None
        address, location, token, inputs_stamp, zones, parts, held = row
        return BareTargetState(
            _text(address),
            _text(location),
            _text(token),
            _text(inputs_stamp),
            tuple(z for z in str(zones or "").split(",") if z),
            _text(parts),
            _text(held),
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

    def done_marks(self, sessions: Iterable[str] | None = None) -> dict[str, dict[str, date]]:
        """The done days of ``sessions`` (None: every session), by session then milestone (as
        :meth:`syncsvc.state.store.Store.done_marks` gives them for every session)."""
        query = "SELECT session_id, milestone_id, done_on FROM done_marks"
        wanted: list[str] = []
        if sessions is not None:
            wanted = sorted(set(sessions))
            if not wanted:
                return {}
            query += f" WHERE session_id IN ({', '.join('?' for _ in wanted)})"
        marks: dict[str, dict[str, date]] = {}
        with self._lock:
            rows = self._db.execute(query, wanted).fetchall()
        for session, milestone, done_on in rows:
            marks.setdefault(str(session), {})[str(milestone)] = date.fromisoformat(str(done_on))
        return marks

    def done_mark_details(self) -> dict[tuple[str, str], DoneMark]:
        """Every done mark by (session, milestone), as
        :meth:`syncsvc.state.store.Store.done_mark_details` gives them."""
        query = "SELECT session_id, milestone_id, done_on, by, note, marked_at FROM done_marks"
        with self._lock:
            rows = self._db.execute(query).fetchall()
        return {
            (str(session), str(milestone)): DoneMark(
                date.fromisoformat(str(done_on)), str(by), _text(note), _instant(marked_at)
            )
            for session, milestone, done_on, by, note, marked_at in rows
        }

    def version(self) -> int:
        """The schema's version (0: no schema yet), as :meth:`Store.version` reads it."""
        with self._lock:
            if not self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone():
                return 0
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0] or 0) if row else 0

    def cancellation_history(
        self, *, attributed: bool = True
    ) -> dict[str, list[CancellationRecord]]:
        """Each session's cancellation records, oldest first, as
        :meth:`Store.cancellation_history` gives them (``attributed``: the store has the
        columns of who restored and why)."""
        from syncsvc.core.cancellations import CancellationRecord

        who = "restored_by, restored_note" if attributed else "NULL, NULL"
        with self._lock:
            rows = self._db.execute(
                "SELECT session_id, seen_at, cancelled_on, reason, restored_at, "
                f"{who} FROM cancellations ORDER BY seen_at, id"
            ).fetchall()
        out: dict[str, list[CancellationRecord]] = {}
        for session, seen_at, on, reason, restored_at, by, note in rows:
            out.setdefault(str(session), []).append(
                CancellationRecord(
                    str(session),
                    _instant(seen_at),
                    None if on is None else date.fromisoformat(str(on)),
                    _text(reason),
                    None if restored_at is None else _instant(restored_at),
                    _text(by),
                    _text(note),
                )
            )
        return out

    def session_fingerprints(self, target: str) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT session_id, fingerprint FROM session_fingerprints WHERE target = ?",
                (target,),
            ).fetchall()
        return {str(session): str(fingerprint) for session, fingerprint in rows}

    def record_session_fingerprints(
        self, target: str, fingerprints: Mapping[str, str | None]
    ) -> None:
        """Set (or, for None, remove) the fingerprints of the given sessions on ``target``; the
        others' stay as they are."""
        with self._transaction() as db:
            for session, fingerprint in sorted(fingerprints.items()):
                db.execute(
                    "DELETE FROM session_fingerprints WHERE target = ? AND session_id = ?",
                    (target, session),
                )
                if fingerprint is not None:
                    db.execute(
                        "INSERT INTO session_fingerprints (target, session_id, fingerprint) "
                        "VALUES (?, ?, ?)",
                        (target, session, fingerprint),
                    )

    # --- the items of a pass (the statements of syncsvc.state.items) -------------------------

    def record_push(
        self,
        target: str,
        uid: str,
        *,
        session_id: str,
        milestone_id: str,
        href: str,
        etag: str | None,
        content_hash: str,
        sequence: int,
        at: datetime,
        content: str | None = None,
        epoch: int | None = None,
    ) -> None:
        values = (
            epoch, session_id, milestone_id, href, etag, content_hash, sequence,
            stored_instant(at), content,
        )  # fmt: skip
        with self._transaction() as db:
            done = db.execute(
                "UPDATE pushed_items SET epoch = ?, session_id = ?, milestone_id = ?, "
                "href = ?, etag = ?, content_hash = ?, sequence = ?, pushed_at = ?, "
                "content = ? WHERE target = ? AND uid = ?",
                (*values, target, uid),
            ).rowcount
            if done == 0:
                db.execute(
                    "INSERT INTO pushed_items (epoch, session_id, milestone_id, href, etag, "
                    "content_hash, sequence, pushed_at, content, target, uid) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, target, uid),
                )
            db.execute("DELETE FROM item_errors WHERE target = ? AND uid = ?", (target, uid))

    def record_etag(self, target: str, uid: str, etag: str | None) -> None:
        self._write(
            "UPDATE pushed_items SET etag = ? WHERE target = ? AND uid = ?", etag, target, uid
        )

    def forget(self, target: str, uid: str) -> None:
        with self._transaction() as db:
            for table in ("pushed_items", "item_errors"):
                db.execute(f"DELETE FROM {table} WHERE target = ? AND uid = ?", (target, uid))

    def record_item_error(self, target: str, uid: str, error: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM item_errors WHERE target = ? AND uid = ?", (target, uid))
            db.execute(
                "INSERT INTO item_errors (target, uid, error, at) VALUES (?, ?, ?, ?)",
                (target, uid, error, stored_instant(at)),
            )

    # --- a target's pass, fenced ----------------------------------------------------------

    def record_pass(
        self,
        target: str,
        holder: str,
        epoch: int,
        *,
        token: str | None,
        at: datetime,
        stamp: str | None,
        zones: tuple[str, ...],
        parts: str | None,
    ) -> bool:
        """A successful pass: its change token, its success and its stamp (None: none),
        recorded only while ``holder`` holds the unexpired lease at ``epoch``; False when it
        does not (nothing written)."""
        return (
            self._write(
                "UPDATE target_state SET sync_token = ?, last_success_at = ?, last_error = NULL, "
                "last_error_at = NULL, inputs_stamp = ?, stamp_zones = ?, stamp_parts = ? "
                "WHERE target = ? AND EXISTS (SELECT 1 FROM instance_lease "
                f"WHERE {_OURS} AND expires_at >= {_NOW})",
                token,
                stored_instant(at),
                stamp,
                ",".join(zones),
                parts if stamp is not None else None,
                target,
                LEASE,
                holder,
                epoch,
            )
            == 1
        )

    def record_failure(self, target: str, error: str, at: datetime) -> None:
        """As :meth:`syncsvc.state.store.Store.record_failure` (the stamp forgotten)."""
        self._write(
            "UPDATE target_state SET last_error = ?, last_error_at = ?, inputs_stamp = NULL "
            "WHERE target = ?",
            error,
            stored_instant(at),
            target,
        )

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
