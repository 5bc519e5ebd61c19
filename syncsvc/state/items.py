"""Pushed items and target state: what syncsvc wrote where, and each target's bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from syncsvc.core.reconcile import Recorded
from syncsvc.state.base import StorePart
from syncsvc.state.schema import (
    aware,
    item_errors,
    pushed_items,
    session_fingerprints,
    target_state,
    utc,
)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One stamped component of a feed, as :meth:`Items.record_feed` stores it."""

    uid: str
    session_id: str
    milestone_id: str
    href: str
    content_hash: str
    sequence: int
    content: str


_CHUNK = 500

# One write per pushed item, in its own transaction (recorded as it succeeds): the statements
# are made once, their parameters bound at each call (building and keying a new statement
# cost more than the write itself).
_PUSHED_COLUMNS = (
    "epoch",
    "session_id",
    "milestone_id",
    "href",
    "etag",
    "content_hash",
    "sequence",
    "pushed_at",
    "content",
)
_UPDATE_PUSHED = (
    update(pushed_items)
    .where(
        pushed_items.c.target == bindparam("key_target"),
        pushed_items.c.uid == bindparam("key_uid"),
    )
    .values({name: bindparam(name) for name in _PUSHED_COLUMNS})
)
_DELETE_ERRORS = delete(item_errors).where(
    item_errors.c.target == bindparam("key_target"), item_errors.c.uid == bindparam("key_uid")
)
"""UIDs per ``IN (…)`` list (SQLite's limit on bound parameters is far above)."""


@dataclass(frozen=True, slots=True)
class TargetState:
    target: str
    location: str | None
    sync_token: str | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    held_fingerprint: str | None = None
    """Deletions waiting for a person's confirmation (see :func:`deletion_hold`)."""
    held_reason: str | None = None
    held_at: datetime | None = None
    confirmed_fingerprint: str | None = None
    confirmed_by: str | None = None
    address: str | None = None
    """Where the settings said this target's items go, when they were written."""
    inputs_stamp: str | None = None
    """What the last complete pass was made of (see :mod:`syncsvc.app.quick`)."""
    stamp_zones: tuple[str, ...] = ()
    """The centres' time zones of that pass (their local days are part of the stamp)."""
    stamp_parts: str | None = None
    """That pass's session files and what each session gives its centre's year, as JSON
    (see :mod:`syncsvc.app.changed`)."""


class Items(StorePart):
    """What was pushed to each target, the targets' own state, and failed writes."""

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
        epoch: int | None = None,
    ) -> None:
        values = {
            "epoch": epoch,
            "session_id": session_id,
            "milestone_id": milestone_id,
            "href": href,
            "etag": etag,
            "content_hash": content_hash,
            "sequence": sequence,
            "pushed_at": utc(at),
            "content": content,
        }
        key = {"key_target": target, "key_uid": uid}
        with self.begin() as db:
            done = db.execute(_UPDATE_PUSHED, {**key, **values})
            if done.rowcount == 0:
                db.execute(insert(pushed_items), {"target": target, "uid": uid, **values})
            db.execute(_DELETE_ERRORS, key)

    def record_feed(
        self, target: str, forgotten: Sequence[str], items: Sequence[FeedItem], at: datetime
    ) -> None:
        """One feed refresh in one transaction: the items ``forgotten`` removed, ``items``
        written (as :meth:`record_push` then :meth:`forget` each would, without an epoch: a
        feed leaves no trace outside the store). A first fill writes thousands of items: one
        transaction each cost most of a daemon's first pass."""
        uids = [*forgotten, *(item.uid for item in items)]
        pushed_at = utc(at)
        with self.begin() as db:
            for start in range(0, len(uids), _CHUNK):
                chunk = uids[start : start + _CHUNK]
                for table in (pushed_items, item_errors):
                    where = (table.c.target == target, table.c.uid.in_(chunk))
                    db.execute(delete(table).where(*where))
            if items:
                db.execute(
                    insert(pushed_items),
                    [
                        {
                            "target": target,
                            "uid": item.uid,
                            "epoch": None,
                            "session_id": item.session_id,
                            "milestone_id": item.milestone_id,
                            "href": item.href,
                            "etag": None,
                            "content_hash": item.content_hash,
                            "sequence": item.sequence,
                            "pushed_at": pushed_at,
                            "content": item.content,
                        }
                        for item in items
                    ],
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
            db.execute(insert(item_errors).values(target=target, uid=uid, error=error, at=utc(at)))

    def session_fingerprints(self, target: str) -> dict[str, str]:
        """Each session's fingerprint on ``target`` (see
        :func:`syncsvc.app.desired.session_fingerprint`)."""
        with self.begin() as db:
            rows = db.execute(
                select(session_fingerprints.c.session_id, session_fingerprints.c.fingerprint).where(
                    session_fingerprints.c.target == target
                )
            )
            return {str(session): str(fingerprint) for session, fingerprint in rows}

    def record_session_fingerprints(self, target: str, fingerprints: dict[str, str]) -> None:
        """Replace the sessions' fingerprints on ``target`` (the sessions left out have
        none: they are rendered next time)."""
        with self.begin() as db:
            db.execute(delete(session_fingerprints).where(session_fingerprints.c.target == target))
            if fingerprints:
                db.execute(
                    insert(session_fingerprints),
                    [
                        {"target": target, "session_id": session, "fingerprint": fingerprint}
                        for session, fingerprint in sorted(fingerprints.items())
                    ],
                )

    def item_errors(self, target: str) -> dict[str, str]:
        with self.begin() as db:
            rows = db.execute(select(item_errors).where(item_errors.c.target == target))
            return {row.uid: row.error for row in rows}

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


class Targets(StorePart):
    """Each target's location, change token, last success and last failure."""

    def target_state(self, target: str) -> TargetState:
        with self.begin() as db:
            row = db.execute(select(target_state).where(target_state.c.target == target)).first()
        if row is None:
            return TargetState(target, None, None, None, None, None)
        return TargetState(
            target,
            row.location,
            row.sync_token,
            aware(row.last_success_at),
            row.last_error,
            aware(row.last_error_at),
            row.held_fingerprint,
            row.held_reason,
            aware(row.held_at),
            row.confirmed_fingerprint,
            row.confirmed_by,
            row.address,
            row.inputs_stamp,
            tuple(z for z in (row.stamp_zones or "").split(",") if z),
            row.stamp_parts,
        )

    def _upsert_target(self, db: Connection, target: str, **values: Any) -> None:
        done = db.execute(
            update(target_state).where(target_state.c.target == target).values(**values)
        )
        if done.rowcount == 0:
            db.execute(insert(target_state).values(target=target, **values))

    def record_address(self, target: str, address: str, *, moved: bool) -> None:
        """Where the settings send this target's items; ``moved``: a new address, whose
        calendar is found again (the stored location and change token are forgotten)."""
        with self.begin() as db:
            if moved:
                self._upsert_target(db, target, address=address, location=None, sync_token=None)
            else:
                self._upsert_target(db, target, address=address)

    def record_location(self, target: str, location: str | None) -> None:
        with self.begin() as db:
            self._upsert_target(db, target, location=location)

    def record_sync_token(self, target: str, token: str | None) -> None:
        with self.begin() as db:
            self._upsert_target(db, target, sync_token=token)

    def record_success(self, target: str, at: datetime) -> None:
        with self.begin() as db:
            self._upsert_target(
                db, target, last_success_at=utc(at), last_error=None, last_error_at=None
            )

    def record_failure(self, target: str, error: str, at: datetime) -> None:
        with self.begin() as db:
            self._upsert_target(
                db, target, last_error=error, last_error_at=utc(at), inputs_stamp=None
            )

    def record_stamp(
        self,
        target: str,
        stamp: str | None,
        zones: tuple[str, ...] = (),
        parts: str | None = None,
    ) -> None:
        """What a complete pass was made of (None: forget it, the next pass is a full one);
        ``parts``: its session files and shares (see :mod:`syncsvc.app.changed`)."""
        with self.begin() as db:
            self._upsert_target(
                db,
                target,
                inputs_stamp=stamp,
                stamp_zones=",".join(zones),
                stamp_parts=parts if stamp is not None else None,
            )

    def record_held(
        self, target: str, fingerprint: str | None, reason: str | None, at: datetime
    ) -> None:
        """Note the deletions now waiting for confirmation (None: none wait any more)."""
        with self.begin() as db:
            if fingerprint is None:
                self._upsert_target(
                    db,
                    target,
                    held_fingerprint=None,
                    held_reason=None,
                    held_at=None,
                    confirmed_fingerprint=None,
                    confirmed_by=None,
                )
                return
            self._upsert_target(
                db, target, held_fingerprint=fingerprint, held_reason=reason, held_at=utc(at)
            )

    def confirm_deletions(self, target: str, fingerprint: str, by: str) -> bool:
        """A person confirms the deletions waiting on ``target`` (exactly the set they saw)."""
        with self.begin() as db:
            done = db.execute(
                update(target_state)
                .where(
                    target_state.c.target == target,
                    target_state.c.held_fingerprint == fingerprint,
                )
                .values(confirmed_fingerprint=fingerprint, confirmed_by=by)
            )
        return bool(done.rowcount)

    def held_deletions(self) -> list[TargetState]:
        """Every target whose deletions wait for confirmation."""
        with self.begin() as db:
            names = [
                r.target
                for r in db.execute(
                    select(target_state.c.target).where(
                        target_state.c.held_fingerprint.is_not(None)
                    )
                )
            ]
        return [self.target_state(name) for name in names]
