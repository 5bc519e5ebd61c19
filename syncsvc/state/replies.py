"""The jury's replies ledger and how far the organiser's inbox was read.

A reply is recorded once per key (:class:`~syncsvc.core.jury.JuryReply`): the same message
read twice, or read again after the process died between recording it and moving it out of the
inbox, inserts nothing the second time. What a reply is worth is decided at read time by
:mod:`syncsvc.core.jury`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from syncsvc.core.jury import JuryReply
from syncsvc.state.base import StorePart
from syncsvc.state.schema import (
    EPOCH,
    aware,
    inbox_state,
    invitations,
    jury_replies,
    outbox,
    utc,
)

TEXT_LIMIT = 4000
"""Characters kept of a comment, an excerpt or a subject (the rest is in the mailbox)."""


@dataclass(frozen=True, slots=True)
class SentInvitation:
    """A REQUEST of the outbox: when it was queued, when it left (None: not yet)."""

    queued_at: datetime
    sent_at: datetime | None


def _bounded(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    return text[:limit] if text is not None else None


class Replies(StorePart):
    """The replies ledger (once per key) and the inbox's read position per folder."""

    def record_reply(self, reply: JuryReply) -> bool:
        """Record ``reply`` unless its key is already there; True when it was new."""
        try:
            with self.begin(durable=True) as db:
                return self._insert_reply(db, reply)
        except IntegrityError:
            return False  # recorded at the same moment by another process

    def record_replies(
        self, replies: Sequence[JuryReply], handled: int | None = None, by: str = ""
    ) -> int:
        """Record ``replies`` in one transaction, all or none (one manual entry answering
        several exam days), with the text reply ``handled`` they answer marked handled by
        ``by``: a key already there is skipped; any failure, on any of them, rolls back every
        one. How many were new."""
        with self.begin(durable=True) as db:
            new = sum(self._insert_reply(db, reply) for reply in replies)
            if handled is not None:
                self._mark_handled(db, handled, by)
        return new

    def _insert_reply(self, db: Connection, reply: JuryReply) -> bool:
        """The one write of a reply, inside the caller's transaction; False when its key is
        already in the ledger."""
        values = {
            "key": reply.key[:400],
            "source": reply.source,
            "kind": reply.kind,
            "status": reply.status,
            "session_id": reply.session_id,
            "email": reply.email,
            "name": reply.name[:255],
            "partstat": reply.partstat,
            "sequence": reply.sequence,
            "comment": _bounded(reply.comment),
            "proposed": _bounded(reply.proposed, 500),
            "message_id": _bounded(reply.message_id, 255),
            "subject": _bounded(reply.subject, 500),
            "excerpt": _bounded(reply.excerpt),
            "by": _bounded(reply.by, 255),
            "replied_at": utc(reply.replied_at),
            "recorded_at": utc(reply.recorded_at),
            "day": reply.day,
        }
        found = db.execute(
            select(jury_replies.c.id).where(jury_replies.c.key == values["key"])
        ).first()
        if found is not None:
            return False
        db.execute(insert(jury_replies).values(**values))
        return True

    def has_reply(self, key: str) -> bool:
        with self.begin() as db:
            query = select(jury_replies.c.id).where(jury_replies.c.key == key[:400])
            return db.execute(query).first() is not None

    def jury_replies(self, session_id: str | None = None) -> list[JuryReply]:
        """Every reply (of one session), oldest first."""
        query = select(jury_replies).order_by(jury_replies.c.replied_at, jury_replies.c.id)
        if session_id is not None:
            query = query.where(jury_replies.c.session_id == session_id)
        with self.begin() as db:
            return [_reply(row) for row in db.execute(query)]

    def reply_by_id(self, reply_id: int) -> JuryReply | None:
        with self.begin() as db:
            row = db.execute(select(jury_replies).where(jury_replies.c.id == reply_id)).first()
        return _reply(row) if row is not None else None

    def mark_reply_handled(self, reply_id: int, by: str) -> bool:
        """A text reply whose answer a person recorded: no longer waiting."""
        with self.begin(durable=True) as db:
            return self._mark_handled(db, reply_id, by)

    @staticmethod
    def _mark_handled(db: Connection, reply_id: int, by: str) -> bool:
        done = db.execute(
            update(jury_replies)
            .where(jury_replies.c.id == reply_id, jury_replies.c.status == "pending")
            .values(status="handled", by=by[:255])
        )
        return bool(done.rowcount)

    def jury_version(self) -> tuple[object, ...]:
        """Changes whenever a reply is recorded or handled, or an invitation is queued: a page
        that shows the jury's standing is rebuilt only then."""
        # One statement, each figure its own subquery: each is then read from an index (the
        # primary key, ix_jury_replies_by, ix_invitations_updated_at), never from the rows.
        figures = [
            select(func.count()).select_from(jury_replies),
            select(func.max(jury_replies.c.id)),
            select(func.count(jury_replies.c.by)),
            select(func.count()).select_from(invitations),
            select(func.max(invitations.c.updated_at)),
        ]
        with self.begin() as db:
            return tuple(db.execute(select(*(f.scalar_subquery() for f in figures))).one())

    def invitations_sent(self) -> dict[tuple[str, str, int], SentInvitation]:
        """Each REQUEST queued, by (session, e-mail, SEQUENCE): when it was queued and when it
        left (None while it waits in the outbox)."""
        prefix = "invitation:"
        query = select(outbox.c.key, outbox.c.created_at, outbox.c.sent_at).where(
            outbox.c.kind == "invitation", outbox.c.key.like(f"{prefix}%:REQUEST:%")
        )
        out: dict[tuple[str, str, int], SentInvitation] = {}
        with self.begin() as db:
            for key, created, sent in db.execute(query):
                session_id, _, rest = key.removeprefix(prefix).partition(":")
                email, _, tail = rest.rpartition(":REQUEST:")
                if not tail.isdigit():
                    continue
                out[(session_id, email, int(tail))] = SentInvitation(
                    aware(created) or EPOCH, aware(sent)
                )
        return out

    def invitation_messages(self) -> dict[str, tuple[str, str]]:
        """(session, e-mail) of each invitation by its Message-ID: a plain answer quoting one
        (In-Reply-To, References) is about that invitation."""
        query = select(outbox.c.key, outbox.c.message_id).where(
            outbox.c.kind == "invitation", outbox.c.key.like("invitation:%")
        )
        out: dict[str, tuple[str, str]] = {}
        with self.begin() as db:
            for key, message_id in db.execute(query):
                session_id, _, rest = str(key).removeprefix("invitation:").partition(":")
                email = rest.rsplit(":", 2)[0]
                if message_id:
                    out[str(message_id)] = (session_id, email)
        return out

    # --- the inbox's position ---------------------------------------------------------------

    def inbox_position(self, folder: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, last UID looked at) of ``folder``, or None before the first pass."""
        with self.begin() as db:
            row = db.execute(select(inbox_state).where(inbox_state.c.folder == folder)).first()
        return (int(row.uidvalidity), int(row.last_uid)) if row is not None else None

    def set_inbox_position(
        self, folder: str, uidvalidity: int, last_uid: int, at: datetime
    ) -> None:
        with self.begin(durable=True) as db:
            done = db.execute(
                update(inbox_state)
                .where(inbox_state.c.folder == folder)
                .values(uidvalidity=uidvalidity, last_uid=last_uid, checked_at=utc(at))
            )
            if not done.rowcount:
                db.execute(
                    insert(inbox_state).values(
                        folder=folder,
                        uidvalidity=uidvalidity,
                        last_uid=last_uid,
                        checked_at=utc(at),
                    )
                )


def _reply(row: Any) -> JuryReply:
    return JuryReply(
        key=row.key,
        source=row.source,
        kind=row.kind,
        status=row.status,
        session_id=row.session_id,
        email=row.email,
        name=row.name or "",
        partstat=row.partstat,
        sequence=row.sequence,
        comment=row.comment,
        replied_at=aware(row.replied_at) or EPOCH,
        recorded_at=aware(row.recorded_at) or EPOCH,
        message_id=row.message_id,
        subject=row.subject,
        excerpt=row.excerpt,
        proposed=row.proposed,
        by=row.by,
        id=int(row.id),
        day=row.day,
    )
