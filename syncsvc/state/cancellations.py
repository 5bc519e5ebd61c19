"""Each session's past cancellations (see :mod:`syncsvc.core.cancellations`): a record opens
when a session is first read cancelled and closes when it is first read active again, or when
the dashboard restores it (with who and why). Nothing is ever deleted: a cancellation lifted
stays visible."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import insert, select, update

from syncsvc.core.cancellations import CancellationRecord, Seen
from syncsvc.state.base import StorePart
from syncsvc.state.schema import aware, cancellations, utc

BASE_COLUMNS = (
    cancellations.c.session_id,
    cancellations.c.seen_at,
    cancellations.c.cancelled_on,
    cancellations.c.reason,
    cancellations.c.restored_at,
)
"""The columns of a store of schema 17 (before who restored and why)."""


class Cancellations(StorePart):
    """What syncsvc saw of the sessions' cancellations."""

    def observe_cancellations(self, sessions: Mapping[str, Seen], now: datetime) -> int:
        """Note what the files say at ``now`` (session id → (day, reason) when cancelled, None
        when active): a cancellation newly seen opens a record, a day or reason changed is
        updated, an active session closes its open record. Sessions not given (a broken
        file) change nothing. Returns how many records changed."""
        if not sessions:
            return 0
        changed = 0
        with self.begin() as db:
            open_rows = {
                str(r.session_id): r
                for r in db.execute(
                    select(cancellations).where(cancellations.c.restored_at.is_(None))
                )
            }
            for session_id, what in sorted(sessions.items()):
                row = open_rows.get(session_id)
                if what is None:
                    if row is not None:
                        db.execute(
                            update(cancellations)
                            .where(cancellations.c.id == row.id)
                            .values(restored_at=utc(now))
                        )
                        changed += 1
                    continue
                on, reason = what
                if row is None:
                    db.execute(
                        insert(cancellations).values(
                            session_id=session_id,
                            seen_at=utc(now),
                            cancelled_on=on,
                            reason=reason,
                        )
                    )
                    changed += 1
                elif (row.cancelled_on, row.reason) != (on, reason):
                    db.execute(
                        update(cancellations)
                        .where(cancellations.c.id == row.id)
                        .values(cancelled_on=on, reason=reason)
                    )
                    changed += 1
        return changed

    def record_restore(
        self,
        session_id: str,
        cancelled: tuple[date | None, str | None],
        by: str,
        note: str,
        *,
        since: datetime,
        now: datetime,
    ) -> None:
        """The dashboard restored ``session_id`` (``cancelled``: what its file said, day and
        reason), by ``by`` for ``note``: its open record closes at ``now`` with who and why.

        The daemon's pass may read the file between the write and this call and close the
        record first: a record closed at or after ``since`` (when the restore began; the file
        was still cancelled then, the write checked it) without anyone's name is this restore's.
        With no such record (the cancellation was never seen), one is opened and closed now."""
        with self.begin() as db:
            rows = list(
                db.execute(
                    select(cancellations)
                    .where(cancellations.c.session_id == session_id)
                    .order_by(cancellations.c.seen_at.desc(), cancellations.c.id.desc())
                )
            )
            who = {"restored_by": by[:255], "restored_note": note}
            open_row = next((r for r in rows if r.restored_at is None), None)
            last = rows[0] if rows else None
            if open_row is not None:
                db.execute(
                    update(cancellations)
                    .where(cancellations.c.id == open_row.id)
                    .values(restored_at=utc(now), **who)
                )
            elif (
                last is not None
                and last.restored_by is None
                and (aware(last.restored_at) or now) >= utc(since)
            ):
                db.execute(update(cancellations).where(cancellations.c.id == last.id).values(**who))
            else:
                on, reason = cancelled
                db.execute(
                    insert(cancellations).values(
                        session_id=session_id,
                        seen_at=utc(now),
                        cancelled_on=on,
                        reason=reason,
                        restored_at=utc(now),
                        **who,
                    )
                )

    def cancellation_history(
        self, session_ids: Iterable[str] | None = None, *, attributed: bool = True
    ) -> dict[str, list[CancellationRecord]]:
        """Each session's records, oldest first (all sessions when ``session_ids`` is None).
        ``attributed`` False: a store not yet migrated to say who restored (read only, as
        ``validate`` reads it), read without who nor why."""
        wanted_columns = (
            [*BASE_COLUMNS, cancellations.c.restored_by, cancellations.c.restored_note]
            if attributed
            else list(BASE_COLUMNS)
        )
        query = select(*wanted_columns).order_by(cancellations.c.seen_at, cancellations.c.id)
        if session_ids is not None:
            wanted = list(session_ids)
            if not wanted:
                return {}
            query = query.where(cancellations.c.session_id.in_(wanted))
        out: dict[str, list[CancellationRecord]] = {}
        with self.begin() as db:
            for r in db.execute(query):
                seen_at = aware(r.seen_at)
                assert seen_at is not None  # not null in the schema
                out.setdefault(str(r.session_id), []).append(
                    CancellationRecord(
                        str(r.session_id),
                        seen_at,
                        r.cancelled_on,
                        r.reason,
                        aware(r.restored_at),
                        r.restored_by if attributed else None,
                        r.restored_note if attributed else None,
                    )
                )
        return out
