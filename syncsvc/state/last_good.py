"""The last good state of each session: what its file held the last time it loaded.

When a session file breaks, its calendar events are kept and the dashboard keeps showing the
session as it last loaded, with the file's errors. That state is kept here (not only in the
process's memory) so that it survives a restart. The candidates' list is never kept (counts
only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, insert, select

from syncsvc.state.base import StorePart
from syncsvc.state.schema import last_good_sessions, utc


class LastGood(StorePart):
    """Sessions as they last loaded, by id (JSON texts)."""

    def save_last_good(self, sessions: Mapping[str, str], now: datetime) -> None:
        """Keep these sessions' JSON (replacing what was kept for them)."""
        if not sessions:
            return
        with self.begin() as db:
            db.execute(
                delete(last_good_sessions).where(
                    last_good_sessions.c.session_id.in_(list(sessions))
                )
            )
            db.execute(
                insert(last_good_sessions),
                [
                    {"session_id": sid, "data": data, "saved_at": utc(now)}
                    for sid, data in sorted(sessions.items())
                ],
            )

    def last_good(self, session_ids: Iterable[str]) -> dict[str, str]:
        """The JSON kept for each of ``session_ids`` that has one."""
        wanted = list(session_ids)
        if not wanted:
            return {}
        with self.begin() as db:
            rows = db.execute(
                select(last_good_sessions.c.session_id, last_good_sessions.c.data).where(
                    last_good_sessions.c.session_id.in_(wanted)
                )
            )
            return {str(sid): str(data) for sid, data in rows}
