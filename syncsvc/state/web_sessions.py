"""Dashboard sessions: which session ids are open, for whom, since when (revocable logins).

The signed cookie carries a random session id; this table says whether that id is still open.
Logging out deletes the row, so a copy of the cookie is useless afterwards. Only the SHA-256 of
each id is stored: a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update

from syncsvc.state.base import StorePart
from syncsvc.state.schema import EPOCH, aware, utc, web_sessions


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class OpenWebSession:
    login: str
    created_at: datetime
    last_seen_at: datetime


class WebSessions(StorePart):
    """The open dashboard sessions, by (hashed) session id."""

    def open_web_session(self, session_id: str, login: str, now: datetime) -> None:
        with self.begin() as db:
            db.execute(
                insert(web_sessions).values(
                    id_hash=_id_hash(session_id),
                    login=login,
                    created_at=utc(now),
                    last_seen_at=utc(now),
                )
            )

    def find_web_session(self, session_id: str) -> OpenWebSession | None:
        with self.begin() as db:
            row = db.execute(
                select(web_sessions).where(web_sessions.c.id_hash == _id_hash(session_id))
            ).first()
        if row is None:
            return None
        return OpenWebSession(
            row.login, aware(row.created_at) or EPOCH, aware(row.last_seen_at) or EPOCH
        )

    def touch_web_session(self, session_id: str, now: datetime) -> None:
        with self.begin() as db:
            db.execute(
                update(web_sessions)
                .where(web_sessions.c.id_hash == _id_hash(session_id))
                .values(last_seen_at=utc(now))
            )

    def close_web_session(self, session_id: str) -> bool:
        """Log out: True when the session was open."""
        with self.begin() as db:
            done = db.execute(
                delete(web_sessions).where(web_sessions.c.id_hash == _id_hash(session_id))
            )
            return bool(done.rowcount)

    def close_web_sessions(self, login: str) -> int:
        """Log ``login`` out everywhere; the number of sessions closed."""
        with self.begin() as db:
            return int(
                db.execute(delete(web_sessions).where(web_sessions.c.login == login)).rowcount
            )

    def purge_web_sessions(self, created_before: datetime) -> int:
        """Forget the sessions opened before that moment (expired); how many."""
        with self.begin() as db:
            done = db.execute(
                delete(web_sessions).where(web_sessions.c.created_at < utc(created_before))
            )
            return int(done.rowcount)

    def web_session_count(self) -> int:
        with self.begin() as db:
            return int(db.execute(select(func.count()).select_from(web_sessions)).scalar() or 0)
