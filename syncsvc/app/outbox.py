"""The durable outbox: queue rendered messages once, send them, never twice, never lose one.

Life of a row: ``pending`` -> ``sent`` (the SMTP answer is recorded in the same transaction), or
-> ``pending`` again later (temporary failure, exponential backoff), or -> ``dead`` (permanent
failure: visible in ``syncsvc outbox --failed``, resendable). Bytes are rendered once, at
enqueue: a retry resends exactly the same message (same Message-ID, same DTSTAMP/SEQUENCE).

The one window for a duplicate is between the relay's "250 accepted" and the commit marking the
row sent (a few milliseconds); a process killed exactly there resends the same bytes at the next
drain, with the same Message-ID, which mail clients and servers use to spot the duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import getaddresses

from syncsvc.app.fence import Fence
from syncsvc.errors import TemporaryError
from syncsvc.mailer.smtp import Envelope, Outcome, Sent, Transport
from syncsvc.state.store import OutboxRow, Store

IN_DOUBT_AFTER_SECONDS = 120.0
"""A message claimed by a dead instance goes back to the queue after this long: more than the
lease's lifetime plus the SMTP timeout, so that its sender cannot still be sending it."""
BASE_DELAY = timedelta(minutes=5)
MAX_DELAY = timedelta(hours=6)


def next_attempt(now: datetime, attempts: int) -> datetime:
    """5 min, 10 min, 20 min… capped at 6 h."""
    return now + min(MAX_DELAY, BASE_DELAY * (1 << min(max(0, attempts), 16)))


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def drain(
    store: Store,
    transport: Transport,
    now: datetime,
    limit: int = 1000,
    fence: Fence | None = None,
) -> DrainReport:
    """Send every pending message whose time has come, oldest first.

    With a ``fence`` (the daemon, the command line), each message is claimed right before it is
    sent, by a conditional update that also requires this process's lease: a message is never
    sent by two processes, and a process that lost its lease sends nothing more.
    """
    report = DrainReport()
    rows = {row.id: row for row in store.due_messages(now, limit)}
    if fence is not None:
        # A sender proved dead (SQLite's lock file) cannot still be sending: no need to wait.
        wait = 0.0 if fence.predecessor_dead else IN_DOUBT_AFTER_SECONDS
        store.requeue_in_doubt(fence.epoch, wait)

    def on_result(envelope: Envelope, outcome: Outcome) -> None:
        row = rows[envelope.ref]
        if isinstance(outcome, Sent):
            store.mark_sent(row.id, outcome.reply, now)
            report.sent += 1
            return
        detail = str(outcome)
        report.errors.append(f"{row.recipient}: {detail}")
        if isinstance(outcome, TemporaryError):
            store.mark_retry(row.id, detail, next_attempt(now, row.attempts))
            report.retried += 1
        else:
            store.mark_dead(row.id, detail)
            report.dead += 1

    envelopes = []
    for row in rows.values():
        try:
            envelopes.append(envelope_of(row))
        except Exception as exc:  # the bulkhead: this message only (a dead letter)
            store.mark_dead(row.id, f"message impossible à transmettre ({type(exc).__name__})")
            report.dead += 1
    if fence is None:
        transport.send(envelopes, on_result)
    else:
        transport.send(envelopes, on_result, lambda envelope: fence.claim(envelope.ref))
    return report


def envelope_of(row: OutboxRow) -> Envelope:
    """What the transport needs of a queued message: its recipients and its bytes."""
    recipients = tuple(addr for _, addr in getaddresses([row.recipient]) if addr)
    return Envelope(row.id, recipients, row.message)
