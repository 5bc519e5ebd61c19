"""The state: what was pushed where, feed tokens, done marks, the outbox (SQLAlchemy 2 Core).

SQLite by default (WAL journal, foreign keys on), PostgreSQL by URL
(``postgresql+psycopg://user@host/db``). :class:`Store` is assembled from small parts, one
concern each: :class:`~syncsvc.state.items.Items` and :class:`~syncsvc.state.items.Targets`,
:class:`~syncsvc.state.feeds.FeedTokens`, :class:`~syncsvc.state.outbox.Outbox` (with the
jury's invitation states), :class:`~syncsvc.state.files.KnownFiles`,
:class:`~syncsvc.state.marks.Marks`, :class:`~syncsvc.state.lease.Leases` (the active instance's
lease), :class:`~syncsvc.state.web_sessions.WebSessions` (the dashboard's revocable sessions),
:class:`~syncsvc.state.password_hashes.PasswordHashes` (password hashes upgraded at a login),
:class:`~syncsvc.state.replies.Replies` (the jury's replies ledger, the inbox's read position),
:class:`~syncsvc.state.audit.Audit` (who changed which configuration file, field by field),
:class:`~syncsvc.state.last_good.LastGood` (each session as it last loaded),
:class:`~syncsvc.state.cancellations.Cancellations` (each session's past cancellations).
The tables are in :mod:`syncsvc.state.schema`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, text, update
from sqlalchemy.engine import Connection, make_url

from syncsvc.state.audit import Audit, AuditEntry
from syncsvc.state.cancellations import Cancellations
from syncsvc.state.feeds import FeedTokens
from syncsvc.state.files import KnownFiles
from syncsvc.state.items import Items, Targets, TargetState
from syncsvc.state.last_good import LastGood
from syncsvc.state.lease import Leases
from syncsvc.state.marks import DoneMark, Marks
from syncsvc.state.outbox import Outbox, OutboxRow
from syncsvc.state.password_hashes import PasswordHashes, UpgradedHash
from syncsvc.state.replies import Replies, SentInvitation
from syncsvc.state.schema import MIGRATIONS, SCHEMA_VERSION, schema_version
from syncsvc.state.web_sessions import OpenWebSession, WebSessions

__all__ = [
    "AuditEntry",
    "DoneMark",
    "OpenWebSession",
    "OutboxRow",
    "SentInvitation",
    "Store",
    "TargetState",
    "UpgradedHash",
]


def _sqlite_pragmas(synchronous: str) -> Any:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=5000")
        _write_ahead_log(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return apply


def _write_ahead_log(cursor: Any, seconds: float = 10.0) -> None:
    """Turn a database to WAL (it stays so: later connections find it done). Turning a fresh
    one is refused at once, busy timeout or not, while another connection holds a lock on it:
    two replicas starting together on a new database (« database is locked », seen in 4 of 10
    tries). Tried again after a short growing pause, for ``seconds`` at most."""
    deadline = time.monotonic() + seconds
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


# The advisory lock key of schema migrations (any constant shared by every replica).
_MIGRATE_LOCK = 0x5359_4E43


class Store(
    Items,
    Targets,
    FeedTokens,
    Outbox,
    KnownFiles,
    Marks,
    Leases,
    WebSessions,
    PasswordHashes,
    Replies,
    Audit,
    LastGood,
    Cancellations,
):
    def __init__(self, url: str, base: Path | None = None) -> None:
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
            path = Path(parsed.database)
            if not path.is_absolute() and base is not None:
                path = base / path
            path.parent.mkdir(parents=True, exist_ok=True)
            parsed = parsed.set(database=str(path))
        self.url = parsed
        # pre_ping: a connection cut (database restarted, network) is replaced, not reused; a
        # SQLite file has no server to lose (no « SELECT 1 » before each read of a page).
        sqlite = parsed.drivername.startswith("sqlite")
        self.engine: Engine = create_engine(parsed, future=True, pool_pre_ping=not sqlite)
        self.dialect = self.engine.dialect.name
        self.durable_engine = self.engine
        if sqlite:
            # WAL + NORMAL: a crash loses nothing committed; a power loss may lose the last
            # pushed-item records, which the next sync adopts (412 -> ours -> recorded).
            event.listen(self.engine, "connect", _sqlite_pragmas("NORMAL"))
            # The outbox is written through FULL: a mail promised survives a power loss too.
            self.durable_engine = create_engine(parsed, future=True)
            event.listen(self.durable_engine, "connect", _sqlite_pragmas("FULL"))

    def close(self) -> None:
        self.engine.dispose()
        self.durable_engine.dispose()

    @contextmanager
    def begin(self, durable: bool = False) -> Iterator[Connection]:
        with (self.durable_engine if durable else self.engine).begin() as connection:
            yield connection

    # --- schema ---------------------------------------------------------------------------

    def version(self) -> int:
        with self.begin() as db:
            if not self.engine.dialect.has_table(db, "schema_version"):
                return 0
            return int(db.execute(select(schema_version.c.version)).scalar() or 0)

    def migrate(self) -> int:
        """Bring the schema to :data:`SCHEMA_VERSION`; returns the version found before.

        Serialised between processes (two replicas starting on a fresh database): PostgreSQL
        takes a transaction-scoped advisory lock, SQLite a write lock (BEGIN IMMEDIATE), before
        reading the version; the second one waits, then finds the schema complete.
        """
        with self.begin() as db:
            if self.dialect == "postgresql":
                db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK})
            elif self.dialect == "sqlite":
                db.exec_driver_sql("BEGIN IMMEDIATE")
            schema_version.create(db, checkfirst=True)
            found = int(db.execute(select(schema_version.c.version)).scalar() or 0)
            for steps in MIGRATIONS[found:]:
                for step in steps:
                    step(db)
            if found == 0:
                db.execute(insert(schema_version).values(version=SCHEMA_VERSION))
            elif found < SCHEMA_VERSION:
                db.execute(update(schema_version).values(version=SCHEMA_VERSION))
        return found
