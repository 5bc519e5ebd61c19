"""State: what was pushed where, feed tokens, done marks (SQLAlchemy 2 Core).

SQLite by default (WAL journal, foreign keys on), PostgreSQL by URL
(``postgresql+psycopg://user@host/db``). The schema is versioned in ``schema_version``;
:func:`Store.migrate` applies the missing steps in order, inside a transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, make_url

from syncsvc.core.invitations import InvitationState
from syncsvc.core.reconcile import Recorded

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))

pushed_items = Table(
    "pushed_items",
    metadata,
    Column("target", String(64), primary_key=True),
    Column("uid", String(255), primary_key=True),
    Column("session_id", String(80), nullable=False, index=True),
    Column("milestone_id", String(64), nullable=False),
    Column("href", Text, nullable=False),
    Column("etag", Text),
    Column("content_hash", String(64), nullable=False),
    Column("sequence", Integer, nullable=False, default=0),
    Column("pushed_at", DateTime(timezone=True), nullable=False),
    Column("content", Text),  # feeds only: the stamped component, served as is
)

target_state = Table(
    "target_state",
    metadata,
    Column("target", String(64), primary_key=True),
    Column("location", Text),
    Column("sync_token", Text),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("last_error_at", DateTime(timezone=True)),
)

item_errors = Table(
    "item_errors",
    metadata,
    Column("target", String(64), primary_key=True),
    Column("uid", String(255), primary_key=True),
    Column("error", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

feed_tokens = Table(
    "feed_tokens",
    metadata,
    Column("target", String(64), primary_key=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

done_marks = Table(
    "done_marks",
    metadata,
    Column("session_id", String(80), primary_key=True),
    Column("milestone_id", String(64), primary_key=True),
    Column("done_on", Date, nullable=False),
    Column("by", String(255), nullable=False),
    Column("note", Text),
    Column("marked_at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("session_id", String(80)),
    Column("milestone_id", String(64)),
    Column("recipient", String(255), nullable=False),
    Column("subject", Text, nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("message", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # pending|sent|dead|skipped
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("smtp_reply", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)

invitations = Table(
    "invitations",
    metadata,
    Column("session_id", String(80), primary_key=True),
    Column("email", String(255), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("meaning", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # invited | cancelled
    Column("event", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

known_files = Table(
    "known_files",
    metadata,
    Column("path", String(1024), primary_key=True),
    Column("session_id", String(80), nullable=False),
)

MIGRATIONS: list[list[Table]] = [
    [pushed_items, target_state, item_errors, feed_tokens, done_marks],  # 1
    [outbox, invitations],  # 2: the mailer
    [known_files],  # 3: which session each file held, to protect it when it breaks
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class TargetState:
    target: str
    location: str | None
    sync_token: str | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


def _sqlite_pragmas(synchronous: str) -> Any:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return apply


class Store:
    def __init__(self, url: str, base: Path | None = None) -> None:
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
            path = Path(parsed.database)
            if not path.is_absolute() and base is not None:
                path = base / path
            path.parent.mkdir(parents=True, exist_ok=True)
            parsed = parsed.set(database=str(path))
        self.url = parsed
        self.engine: Engine = create_engine(parsed, future=True)
        self.durable_engine = self.engine
        if parsed.drivername.startswith("sqlite"):
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
        """Bring the schema to :data:`SCHEMA_VERSION`; returns the version found before."""
        with self.begin() as db:
            schema_version.create(db, checkfirst=True)
            found = int(db.execute(select(schema_version.c.version)).scalar() or 0)
            for step in MIGRATIONS[found:]:
                for table in step:
                    table.create(db, checkfirst=True)
            if found == 0:
                db.execute(insert(schema_version).values(version=SCHEMA_VERSION))
            elif found < SCHEMA_VERSION:
                db.execute(update(schema_version).values(version=SCHEMA_VERSION))
        return found

    # --- pushed items ---------------------------------------------------------------------

    def recorded(self, target: str) -> dict[str, Recorded]:
        with self.begin() as db:
            rows = db.execute(select(pushed_items).where(pushed_items.c.target == target))
            return {
                row.uid: Recorded(
                    row.uid, row.session_id, row.href, row.etag, row.content_hash, row.sequence
                )
                for row in rows
            }

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
    ) -> None:
        values = {
            "session_id": session_id,
            "milestone_id": milestone_id,
            "href": href,
            "etag": etag,
            "content_hash": content_hash,
            "sequence": sequence,
            "pushed_at": _utc(at),
            "content": content,
        }
        with self.begin() as db:
            done = db.execute(
                update(pushed_items)
                .where(pushed_items.c.target == target, pushed_items.c.uid == uid)
                .values(**values)
            )
            if done.rowcount == 0:
                db.execute(insert(pushed_items).values(target=target, uid=uid, **values))
            db.execute(
                delete(item_errors).where(item_errors.c.target == target, item_errors.c.uid == uid)
            )

    def contents(self, target: str) -> list[str]:
        """The stored components of a feed target, in UID order."""
        with self.begin() as db:
            rows = db.execute(
                select(pushed_items.c.content)
                .where(pushed_items.c.target == target, pushed_items.c.content.is_not(None))
                .order_by(pushed_items.c.uid)
            )
            return [str(row.content) for row in rows]

    def record_etag(self, target: str, uid: str, etag: str | None) -> None:
        with self.begin() as db:
            db.execute(
                update(pushed_items)
                .where(pushed_items.c.target == target, pushed_items.c.uid == uid)
                .values(etag=etag)
            )

    def forget(self, target: str, uid: str) -> None:
        with self.begin() as db:
            db.execute(
                delete(pushed_items).where(
                    pushed_items.c.target == target, pushed_items.c.uid == uid
                )
            )
            db.execute(
                delete(item_errors).where(item_errors.c.target == target, item_errors.c.uid == uid)
            )

    def record_item_error(self, target: str, uid: str, error: str, at: datetime) -> None:
        with self.begin() as db:
            db.execute(
                delete(item_errors).where(item_errors.c.target == target, item_errors.c.uid == uid)
            )
            db.execute(insert(item_errors).values(target=target, uid=uid, error=error, at=_utc(at)))

    def item_errors(self, target: str) -> dict[str, str]:
        with self.begin() as db:
            rows = db.execute(select(item_errors).where(item_errors.c.target == target))
            return {row.uid: row.error for row in rows}

    # --- targets --------------------------------------------------------------------------

    def target_state(self, target: str) -> TargetState:
        with self.begin() as db:
            row = db.execute(select(target_state).where(target_state.c.target == target)).first()
        if row is None:
            return TargetState(target, None, None, None, None, None)
        return TargetState(
            target,
            row.location,
            row.sync_token,
            _aware(row.last_success_at),
            row.last_error,
            _aware(row.last_error_at),
        )

    def _upsert_target(self, db: Connection, target: str, **values: Any) -> None:
        done = db.execute(
            update(target_state).where(target_state.c.target == target).values(**values)
        )
        if done.rowcount == 0:
            db.execute(insert(target_state).values(target=target, **values))

    def record_location(self, target: str, location: str | None) -> None:
        with self.begin() as db:
            self._upsert_target(db, target, location=location)

    def record_sync_token(self, target: str, token: str | None) -> None:
        with self.begin() as db:
            self._upsert_target(db, target, sync_token=token)

    def record_success(self, target: str, at: datetime) -> None:
        with self.begin() as db:
            self._upsert_target(
                db, target, last_success_at=_utc(at), last_error=None, last_error_at=None
            )

    def record_failure(self, target: str, error: str, at: datetime) -> None:
        with self.begin() as db:
            self._upsert_target(db, target, last_error=error, last_error_at=_utc(at))

    # --- feed tokens ----------------------------------------------------------------------

    def feed_token(self, target: str, now: datetime) -> str:
        """The feed's token, created (unguessable, 256 bits) on first use."""
        with self.begin() as db:
            token = db.execute(
                select(feed_tokens.c.token).where(feed_tokens.c.target == target)
            ).scalar()
            if token is None:
                token = secrets.token_urlsafe(32)
                db.execute(
                    insert(feed_tokens).values(target=target, token=token, created_at=_utc(now))
                )
            return str(token)

    def rotate_feed_token(self, target: str, now: datetime) -> str:
        with self.begin() as db:
            db.execute(delete(feed_tokens).where(feed_tokens.c.target == target))
        return self.feed_token(target, now)

    def feed_for_token(self, token: str) -> str | None:
        with self.begin() as db:
            found = db.execute(
                select(feed_tokens.c.target).where(feed_tokens.c.token == token)
            ).scalar()
        return None if found is None else str(found)

    # --- outbox ---------------------------------------------------------------------------

    def has_key(self, key: str) -> bool:
        with self.begin() as db:
            return db.execute(select(outbox.c.id).where(outbox.c.key == key)).first() is not None

    def enqueue(
        self,
        *,
        key: str,
        kind: str,
        recipient: str,
        subject: str,
        message_id: str,
        message: bytes,
        now: datetime,
        session_id: str | None = None,
        milestone_id: str | None = None,
        invitation: InvitationState | None = None,
    ) -> bool:
        """Queue a rendered message once per key; False when the key was already queued.

        An invitation's new state is written in the same transaction as its message.
        """
        with self.begin(durable=True) as db:
            if db.execute(select(outbox.c.id).where(outbox.c.key == key)).first() is not None:
                return False
            db.execute(
                insert(outbox).values(
                    key=key,
                    kind=kind,
                    session_id=session_id,
                    milestone_id=milestone_id,
                    recipient=recipient,
                    subject=subject,
                    message_id=message_id,
                    message=message,
                    status="pending",
                    attempts=0,
                    next_attempt_at=_utc(now),
                    created_at=_utc(now),
                )
            )
            if invitation is not None:
                where = (
                    invitations.c.session_id == invitation.session_id,
                    invitations.c.email == invitation.email,
                )
                db.execute(delete(invitations).where(*where))
                db.execute(
                    insert(invitations).values(
                        session_id=invitation.session_id,
                        email=invitation.email,
                        name=invitation.name,
                        sequence=invitation.sequence,
                        meaning=invitation.meaning,
                        status=invitation.status,
                        event=invitation.event,
                        updated_at=_utc(now),
                    )
                )
        return True

    def record_skipped(
        self, *, key: str, kind: str, recipient: str, subject: str, now: datetime
    ) -> None:
        """Note, once, a message that will not be sent (a digest missed by more than a day)."""
        with self.begin(durable=True) as db:
            if db.execute(select(outbox.c.id).where(outbox.c.key == key)).first() is None:
                db.execute(
                    insert(outbox).values(
                        key=key,
                        kind=kind,
                        recipient=recipient,
                        subject=subject,
                        message_id="",
                        message=b"",
                        status="skipped",
                        attempts=0,
                        next_attempt_at=_utc(now),
                        created_at=_utc(now),
                        last_error="manqué de plus d'un jour : non envoyé",
                    )
                )

    def due_messages(self, now: datetime, limit: int = 1000) -> list[OutboxRow]:
        """Pending messages whose time has come, oldest first."""
        with self.begin() as db:
            rows = db.execute(
                select(outbox)
                .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= _utc(now))
                .order_by(outbox.c.id)
                .limit(limit)
            )
            return [_outbox_row(r) for r in rows]

    def messages(self, status: str | None = None, limit: int = 500) -> list[OutboxRow]:
        query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(outbox.c.status == status)
        with self.begin() as db:
            return [_outbox_row(r) for r in db.execute(query)]

    def mark_sent(self, message: int, reply: str, at: datetime) -> None:
        with self.begin(durable=True) as db:
            db.execute(
                update(outbox)
                .where(outbox.c.id == message)
                .values(
                    status="sent",
                    sent_at=_utc(at),
                    smtp_reply=reply,
                    attempts=outbox.c.attempts + 1,
                    last_error=None,
                )
            )

    def mark_retry(self, message: int, error: str, next_attempt: datetime) -> None:
        with self.begin(durable=True) as db:
            db.execute(
                update(outbox)
                .where(outbox.c.id == message)
                .values(
                    attempts=outbox.c.attempts + 1,
                    last_error=error,
                    next_attempt_at=_utc(next_attempt),
                )
            )

    def mark_dead(self, message: int, error: str) -> None:
        with self.begin(durable=True) as db:
            db.execute(
                update(outbox)
                .where(outbox.c.id == message)
                .values(
                    status="dead",
                    attempts=outbox.c.attempts + 1,
                    last_error=error,
                )
            )

    def resend(self, message: int, now: datetime) -> bool:
        """Put a dead letter back in the queue (after the address was fixed, say)."""
        with self.begin(durable=True) as db:
            done = db.execute(
                update(outbox)
                .where(outbox.c.id == message, outbox.c.status == "dead")
                .values(status="pending", next_attempt_at=_utc(now))
            )
            return bool(done.rowcount)

    def outbox_counts(self) -> dict[str, int]:
        with self.begin() as db:
            rows = db.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
            return {str(status): int(count) for status, count in rows}

    def invitation_states(self) -> dict[tuple[str, str], InvitationState]:
        with self.begin() as db:
            return {
                (r.session_id, r.email): InvitationState(
                    r.session_id, r.email, r.name, r.sequence, r.meaning, r.status, r.event
                )
                for r in db.execute(select(invitations))
            }

    # --- session files ----------------------------------------------------------------------

    def remember_files(self, ids: Mapping[str, str]) -> None:
        """Note the session id each file holds (only changes are written)."""
        with self.begin() as db:
            known = {r.path: r.session_id for r in db.execute(select(known_files))}
            for path, session_id in ids.items():
                if known.get(path) == session_id:
                    continue
                db.execute(delete(known_files).where(known_files.c.path == path))
                db.execute(insert(known_files).values(path=path, session_id=session_id))

    def file_ids(self, paths: Iterable[str]) -> set[str]:
        wanted = list(paths)
        if not wanted:
            return set()
        with self.begin() as db:
            rows = db.execute(
                select(known_files.c.session_id).where(known_files.c.path.in_(wanted))
            )
            return {str(r.session_id) for r in rows}

    # --- done marks -----------------------------------------------------------------------

    def mark_done(
        self,
        session_id: str,
        milestone_id: str,
        done_on: date,
        by: str,
        note: str | None,
        at: datetime,
    ) -> None:
        with self.begin() as db:
            db.execute(
                delete(done_marks).where(
                    done_marks.c.session_id == session_id, done_marks.c.milestone_id == milestone_id
                )
            )
            db.execute(
                insert(done_marks).values(
                    session_id=session_id,
                    milestone_id=milestone_id,
                    done_on=done_on,
                    by=by,
                    note=note,
                    marked_at=_utc(at),
                )
            )

    def mark_undone(self, session_id: str, milestone_id: str) -> None:
        with self.begin() as db:
            db.execute(
                delete(done_marks).where(
                    done_marks.c.session_id == session_id, done_marks.c.milestone_id == milestone_id
                )
            )

    def done_mark_details(self) -> dict[tuple[str, str], DoneMark]:
        """Every done mark by (session, milestone), with who made it, when, and the note."""
        with self.begin() as db:
            return {
                (row.session_id, row.milestone_id): DoneMark(
                    row.done_on, row.by, row.note, _aware(row.marked_at) or _EPOCH
                )
                for row in db.execute(select(done_marks))
            }

    def done_marks(self) -> dict[str, dict[str, date]]:
        """The done days, by session then milestone (what the planner needs)."""
        marks: dict[str, dict[str, date]] = {}
        for (session_id, milestone_id), mark in self.done_mark_details().items():
            marks.setdefault(session_id, {})[milestone_id] = mark.done_on
        return marks

    def _count_by_target(self, table: Table) -> dict[str, int]:
        with self.begin() as db:
            rows = db.execute(select(table.c.target, func.count()).group_by(table.c.target))
            return {str(target): int(count) for target, count in rows}

    def item_counts(self) -> dict[str, int]:
        """Recorded items per target."""
        return self._count_by_target(pushed_items)

    def item_error_counts(self) -> dict[str, int]:
        """Items whose last write failed, per target."""
        return self._count_by_target(item_errors)


@dataclass(frozen=True, slots=True)
class DoneMark:
    """A milestone marked done: the day, who, their note, and when it was marked."""

    done_on: date
    by: str
    note: str | None
    marked_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    key: str
    kind: str
    session_id: str | None
    milestone_id: str | None
    recipient: str
    subject: str
    message_id: str
    message: bytes
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    smtp_reply: str | None
    created_at: datetime
    sent_at: datetime | None


def _outbox_row(row: Any) -> OutboxRow:
    return OutboxRow(
        row.id,
        row.key,
        row.kind,
        row.session_id,
        row.milestone_id,
        row.recipient,
        row.subject,
        row.message_id,
        bytes(row.message),
        row.status,
        row.attempts,
        _aware(row.next_attempt_at) or datetime.min.replace(tzinfo=UTC),
        row.last_error,
        row.smtp_reply,
        _aware(row.created_at) or datetime.min.replace(tzinfo=UTC),
        _aware(row.sent_at),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """Read side: SQLite drops the offset of what :func:`_utc` wrote (always UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    """Write side: every stored instant is UTC, whatever offset the caller used."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return moment.astimezone(UTC)
