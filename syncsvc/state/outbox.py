"""The durable outbox: each message queued once per key, with its state."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from syncsvc.state.base import StorePart
from syncsvc.state.schema import (
    aware,
    invitations,
    outbox,
    utc,
)

if TYPE_CHECKING:  # the planner's model stays out of a store opened only to sync
    from syncsvc.core.invitations import InvitationState


class Outbox(StorePart):
    """Messages queued once per key, sent, retried or dead; invitation states with them."""

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
        try:
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
                        next_attempt_at=utc(now),
                        created_at=utc(now),
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
                            updated_at=utc(now),
                        )
                    )
        except IntegrityError:
            return False  # another process queued the same key at the same moment
        return True

    def record_skipped(
        self, *, key: str, kind: str, recipient: str, subject: str, now: datetime
    ) -> None:
        """Note, once, a message that will not be sent (a digest missed by more than a day)."""
        with contextlib.suppress(IntegrityError), self.begin(durable=True) as db:
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
                        next_attempt_at=utc(now),
                        created_at=utc(now),
                        last_error="manqué de plus d'un jour : non envoyé",
                    )
                )

    def due_messages(self, now: datetime, limit: int = 1000) -> list[OutboxRow]:
        """Pending messages whose time has come, oldest first."""
        with self.begin() as db:
            rows = db.execute(
                select(outbox)
                .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= utc(now))
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
                    sent_at=utc(at),
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
                    status="pending",
                    claimed_epoch=None,
                    claimed_at=None,
                    attempts=outbox.c.attempts + 1,
                    last_error=error,
                    next_attempt_at=utc(next_attempt),
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

    def claim(self, message: int, holder: str, epoch: int) -> bool:
        """Take a pending message for sending, only while ``holder`` holds the lease at
        ``epoch`` (one conditional update: two claimants can never both get it)."""
        fence = self.holds(holder, epoch)
        with self.begin(durable=True) as db:
            done = db.execute(
                update(outbox)
                .where(outbox.c.id == message, outbox.c.status == "pending", fence)
                .values(status="sending", claimed_epoch=epoch, claimed_at=self.now_seconds())
            )
        return done.rowcount == 1

    def requeue_in_doubt(self, epoch: int, older_than: float) -> int:
        """Messages claimed by an earlier epoch more than ``older_than`` seconds ago and never
        marked: their sender died between the claim and the record. They go back to the queue
        (the same bytes, the same Message-ID): the one documented window for a second copy."""
        with self.begin(durable=True) as db:
            done = db.execute(
                update(outbox)
                .where(
                    outbox.c.status == "sending",
                    outbox.c.claimed_epoch < epoch,
                    outbox.c.claimed_at < self.now_seconds() - older_than,
                )
                .values(
                    status="pending",
                    claimed_epoch=None,
                    claimed_at=None,
                    last_error="envoi interrompu (instance arrêtée) : nouvel essai",
                )
            )
        return int(done.rowcount or 0)

    def resend(self, message: int, now: datetime) -> bool:
        """Put a dead letter back in the queue (after the address was fixed, say)."""
        with self.begin(durable=True) as db:
            done = db.execute(
                update(outbox)
                .where(outbox.c.id == message, outbox.c.status == "dead")
                .values(status="pending", next_attempt_at=utc(now))
            )
            return bool(done.rowcount)

    def outbox_counts(self) -> dict[str, int]:
        with self.begin() as db:
            rows = db.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
            return {str(status): int(count) for status, count in rows}

    def invitation_states(self) -> dict[tuple[str, str], InvitationState]:
        from syncsvc.core.invitations import InvitationState

        with self.begin() as db:
            return {
                (r.session_id, r.email): InvitationState(
                    r.session_id, r.email, r.name, r.sequence, r.meaning, r.status, r.event
                )
                for r in db.execute(select(invitations))
            }


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
        aware(row.next_attempt_at) or datetime.min.replace(tzinfo=UTC),
        row.last_error,
        row.smtp_reply,
        aware(row.created_at) or datetime.min.replace(tzinfo=UTC),
        aware(row.sent_at),
    )
