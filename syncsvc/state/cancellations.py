"""Each session's past cancellations (see :mod:`syncsvc.core.cancellations`): a record opens
when a session is first read cancelled and closes when it is first read active again. Nothing
is ever deleted: a cancellation lifted stays visible."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import insert, select, update

from syncsvc.core.cancellations import CancellationRecord, Seen
from syncsvc.state.base import StorePart
from syncsvc.state.schema import aware, cancellations, utc


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

    def cancellation_history(
        self, session_ids: Iterable[str] | None = None
    ) -> dict[str, list[CancellationRecord]]:
        """Each session's records, oldest first (all sessions when ``session_ids`` is None)."""
        query = select(cancellations).order_by(cancellations.c.seen_at, cancellations.c.id)
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
                    )
                )
        return out
