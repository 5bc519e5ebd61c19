"""The state's tables and their migrations (SQLAlchemy 2 Core), and the UTC rule.

The schema is versioned in ``schema_version``; :meth:`syncsvc.state.store.Store.migrate`
applies the missing steps in order, inside a transaction. Every stored instant is UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
)
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn

from syncsvc.state.versions import CANCELLATIONS_FROM, RESTORES_FROM

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
    Column("epoch", Integer),  # the lease epoch of the instance that wrote it (4)
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
    Column("held_fingerprint", String(32)),  # deletions waiting for confirmation (5)
    Column("held_reason", Text),
    Column("held_at", DateTime(timezone=True)),
    Column("confirmed_fingerprint", String(32)),  # the set a person confirmed (5)
    Column("confirmed_by", String(255)),
    Column("address", Text),  # where the settings said the items go, when they were written (8)
    Column("inputs_stamp", String(64)),  # what a complete pass was made of, see app/quick (9)
    Column("stamp_zones", Text),  # the centres' time zones of that pass, comma-separated (9)
    Column("stamp_parts", Text),  # that pass's session files and shares, as JSON (15)
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
    Column("claimed_epoch", Integer),  # status sending: the lease epoch of the sender (4)
    Column("claimed_at", Float),  # status sending: when, in the database's seconds (4)
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
    # indexed (19): the jury's version, read at every dashboard page, takes its max from the
    # index instead of scanning the rows and their events
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
    Column("briefing", Text),  # what the juror was told, to say later what changed (10)
)

session_fingerprints = Table(
    "session_fingerprints",
    metadata,
    Column("target", String(64), primary_key=True),
    Column("session_id", String(80), primary_key=True),
    # what the session's items were rendered from, with the items the target holds for it
    # (see syncsvc.app.desired.session_fingerprint): equal next time, nothing is rendered
    Column("fingerprint", String(64), nullable=False),
)

known_files = Table(
    "known_files",
    metadata,
    Column("path", String(1024), primary_key=True),
    Column("session_id", String(80), nullable=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 (hex) of the cookie's session id
    Column("login", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
)

password_hashes = Table(
    "password_hashes",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),  # upgraded at a login, never clear text
    Column("replaces", String(64), nullable=False),  # SHA-256 (hex) of the syncsvc.toml hash
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

instance_lease = Table(
    "instance_lease",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(64)),
    Column("epoch", Integer, nullable=False, default=0),
    Column("expires_at", Float, nullable=False, default=0.0),  # the database's seconds
)

jury_replies = Table(
    "jury_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False, unique=True),  # what makes a reply once
    Column("source", String(8), nullable=False),  # imip | link | manual
    Column("kind", String(16), nullable=False),  # reply | counter | text | unreadable
    Column("status", String(16), nullable=False, index=True),  # see core.jury.ReplyStatus
    Column("session_id", String(80), index=True),
    Column("email", String(255)),
    Column("name", String(255), nullable=False, default=""),
    Column("partstat", String(16)),
    Column("sequence", Integer),
    Column("comment", Text),
    Column("proposed", Text),
    Column("message_id", String(255)),
    Column("subject", Text),
    Column("excerpt", Text),
    Column("by", String(255), index=True),  # indexed (19), as invitations.updated_at
    Column("replied_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("day", Date),  # the one exam day answered (RECURRENCE-ID); NULL: the whole session
)

inbox_state = Table(
    "inbox_state",
    metadata,
    Column("folder", String(255), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),  # every message up to it was looked at
    Column("checked_at", DateTime(timezone=True), nullable=False),
)

last_good_sessions = Table(
    "last_good_sessions",
    metadata,
    Column("session_id", String(80), primary_key=True),
    # the session as it last loaded without error (JSON of the model, candidates' list left
    # out: counts only), shown by the dashboard when its file breaks, even after a restart
    Column("data", Text, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user", String(64), nullable=False),  # the dashboard login, or « import », « cli »
    Column("action", String(32), nullable=False),  # see syncsvc.state.audit.ACTIONS
    Column("file", String(512), nullable=False),  # relative to the configuration folder
    Column("session_id", String(80), index=True),  # None for centres.yaml, jury.yaml
    Column("changes", Text, nullable=False),  # JSON: [[field, before, after], …]
    Column("note", Text),  # the reason given (postponement, cancellation), free text
)

cancellations = Table(
    "cancellations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(80), nullable=False, index=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),  # first read cancelled
    Column("cancelled_on", Date),  # the file's day (cancelled: {on: …}); null for « true »
    Column("reason", Text),  # the file's reason
    Column("restored_at", DateTime(timezone=True)),  # first read active again; null meanwhile
    Column("restored_by", String(255)),  # restored from the dashboard: who (18); null by hand
    Column("restored_note", Text),  # and why (the reason given) (18)
)

Step = Callable[[Connection], None]


def index_of(table: Table, column: str) -> Index:
    """The index of ``table`` on ``column`` alone (declared with ``index=True``)."""
    (found,) = (i for i in table.indexes if [c.name for c in i.columns] == [column])
    return found


def tables(*created: Table) -> Step:
    """A migration step that creates tables (the ones that do not exist yet)."""

    def step(db: Connection) -> None:
        for table in created:
            table.create(db, checkfirst=True)

    return step


def indexes(*created: Index) -> Step:
    """A migration step that creates indexes (the ones that do not exist yet: a table created
    by this release has them already)."""

    def step(db: Connection) -> None:
        for index in created:
            index.create(db, checkfirst=True)

    return step


def columns(table: Table, *names: str) -> Step:
    """A migration step that adds columns of ``table`` to a table created by an older release
    (a table created by this release has them already)."""

    def step(db: Connection) -> None:
        present = {c["name"] for c in inspect(db).get_columns(table.name)}
        for name in names:
            if name not in present:
                spec = CreateColumn(table.c[name]).compile(dialect=db.dialect)
                db.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {spec}")

    return step


MIGRATIONS: list[list[Step]] = [
    [tables(pushed_items, target_state, item_errors, feed_tokens, done_marks)],  # 1
    [tables(outbox, invitations)],  # 2: the mailer
    [tables(known_files)],  # 3: which session each file held, to protect it when it breaks
    [  # 4: one active instance, proved by a lease whose epoch fences every send and write
        tables(instance_lease),
        columns(outbox, "claimed_epoch", "claimed_at"),
        columns(pushed_items, "epoch"),
    ],
    [tables(web_sessions)],  # 5: the dashboard's sessions, revocable (logout ends them there)
    [tables(password_hashes)],  # 6: password hashes upgraded to the current cost at a login
    [  # 7: deletions that wait for a person's confirmation
        columns(
            target_state,
            "held_fingerprint",
            "held_reason",
            "held_at",
            "confirmed_fingerprint",
            "confirmed_by",
        ),
    ],
    [columns(target_state, "address")],  # 8: a target's address, to notice when it changes
    # 9: what the last complete pass was made of, so that a no-op sync renders nothing
    [columns(target_state, "inputs_stamp", "stamp_zones")],
    [columns(invitations, "briefing")],  # 10: what each juror was told (no candidate data)
    [tables(jury_replies, inbox_state)],  # 11: the jury's replies, how far the inbox was read
    [tables(audit)],  # 12: who changed which configuration file, when, field by field
    [tables(session_fingerprints)],  # 13: an unchanged session is neither rendered nor hashed
    [tables(last_good_sessions)],  # 14: a broken file's session still shown after a restart
    # 15: the session files of a complete pass, so that a sync renders only the changed ones
    [columns(target_state, "stamp_parts")],
    [columns(jury_replies, "day")],  # 16: a juror's reply to one exam day only
    [tables(cancellations)],  # 17: each session's past cancellations (seen, then restored)
    # 18: a cancellation lifted from the dashboard: who did it and why
    [columns(cancellations, "restored_by", "restored_note")],
    # 19: the jury's version (read at every dashboard page) from indexes, not from the rows
    [indexes(index_of(invitations, "updated_at"), index_of(jury_replies, "by"))],
]
SCHEMA_VERSION = len(MIGRATIONS)
assert SCHEMA_VERSION >= RESTORES_FROM > CANCELLATIONS_FROM  # syncsvc.state.versions

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def aware(moment: datetime | None) -> datetime | None:
    """Read side: SQLite drops the offset of what :func:`utc` wrote (always UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc(moment: datetime) -> datetime:
    """Write side: every stored instant is UTC, whatever offset the caller used."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return moment.astimezone(UTC)
