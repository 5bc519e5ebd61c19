"""The mail shell: what is due now -> rendered once into the outbox -> drained to the relay."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.policy import SMTP
from pathlib import Path

from syncsvc.app.fence import Fence
from syncsvc.app.outbox import DrainReport, drain
from syncsvc.app.sync import protected_in
from syncsvc.core import invitations, links
from syncsvc.core.clock import Now, instant, local_today
from syncsvc.core.config import Config
from syncsvc.core.planner import CentreMilestone, Planned, plan_sessions
from syncsvc.core.reminders import Policy, due_notifications
from syncsvc.formats.mail import (
    DoneLink,
    compose,
    compose_deletion_hold,
    compose_invitation,
    subject_for,
)
from syncsvc.inputs.settings import Settings, mail_credentials
from syncsvc.mailer.smtp import MaildirTransport, RateLimit, SmtpTransport, Transport
from syncsvc.state.store import Store

log = logging.getLogger("syncsvc.mailer")


@dataclass(frozen=True, slots=True)
class Queued:
    """One message that the run queued (or, in a dry run, would queue)."""

    key: str
    recipient: str
    subject: str
    send_at: datetime


@dataclass
class NotifyReport:
    queued: list[Queued] = field(default_factory=list)
    drained: DrainReport | None = None
    failed: dict[str, str] = field(default_factory=dict)
    """Sessions (or messages) set apart this pass, with a French reason."""


def policy_of(settings: Settings) -> Policy:
    r = settings.reminders
    return Policy(
        send_hour=settings.mail.send_hour,
        overdue_every_days=r.overdue_every_days,
        escalate_after_days=r.escalate_after_days,
        digest_weekday=r.digest_weekday,
        digest_hour=r.digest_hour,
        digest_horizon_days=r.digest_horizon_days,
        candidate_info_days=r.candidate_info_days,
    )


def done_link_of(settings: Settings, now: datetime) -> DoneLink | None:
    """Signed "Marquer comme fait" links, when the dashboard and the secret key exist."""
    secret = os.environ.get(settings.secret_key_env)
    if not settings.dashboard_url or not secret:
        return None
    base, key = settings.dashboard_url, secret.encode()
    expires = now + timedelta(days=settings.reminders.link_days)
    return lambda session_id, milestone_id: links.done_url(
        base, key, session_id, milestone_id, expires
    )


def transport_of(
    settings: Settings, base: Path, sleep: Callable[[float], None] = time.sleep
) -> Transport:
    mail = settings.mail
    if mail.transport == "maildir":
        return MaildirTransport(mail.maildir)
    user, password = mail_credentials(mail, base)
    return SmtpTransport(
        mail.host,
        mail.port,
        mail.sender,
        security=mail.security,
        username=user,
        password=password,
        timeout=mail.timeout,
        rate=RateLimit(mail.rate_per_minute, sleep),
    )


def notify(
    settings: Settings,
    config: Config,
    store: Store,
    now: Now,
    *,
    dry_run: bool = False,
    transport: Transport | None = None,
    fence: Fence | None = None,
) -> NotifyReport:
    """Queue what is due at ``now`` (each key once), then send what is pending (each message
    claimed under ``fence``, the instance lease, when given)."""
    report = NotifyReport()
    if fence is not None and not dry_run:
        fence.check()
    planning = plan_sessions(config, store.done_marks(), now)
    failed = planning.failed
    planned = planning.planned
    report.queued += _queue_notifications(
        settings, store, planned, now, dry_run, failed, planning.centre_milestones
    )
    report.queued += _queue_invitations(settings, config, store, planned, now, dry_run, failed)
    for session_id, reason in failed.items():
        log.error("session %s : %s ; aucun message pour elle à ce passage", session_id, reason)
    report.failed = failed
    report.queued += _queue_alerts(settings, store, now, dry_run)
    if not dry_run:
        mailer = transport or transport_of(settings, config.directory)
        report.drained = drain(store, mailer, instant(now), fence=fence)
    return report


def _queue_notifications(
    settings: Settings,
    store: Store,
    planned: list[Planned],
    now: Now,
    dry_run: bool,
    failed: dict[str, str],
    centre_milestones: Sequence[CentreMilestone] = (),
) -> list[Queued]:
    """Reminders, overdue alerts, digests and candidate notices due at ``now`` (and those of
    the centres' yearly milestones); one that cannot be composed is named in ``failed`` (by its
    session) and the others go on."""
    queued = []
    moment = instant(now)
    link = done_link_of(settings, moment)
    r = settings.reminders
    active = [p for p in planned if not p.session.cancelled]
    for n in due_notifications(active, policy_of(settings), now, failed, centre_milestones):
        if store.has_key(n.key):
            continue
        subject = subject_for(n, now)
        if n.skipped:
            log.warning(
                "%s pour %s non envoyé : manqué de plus d'un jour", subject, n.recipient.email
            )
            if not dry_run:
                store.record_skipped(
                    key=n.key, kind=n.kind, recipient=n.recipient.email, subject=subject, now=moment
                )
            continue
        if dry_run:
            queued.append(Queued(n.key, n.recipient.email, subject, n.send_at))
            continue
        try:
            message = compose(
                n, settings.mail.sender, now, link, r.escalate_after_days, r.digest_horizon_days
            )
            data = message.as_bytes(policy=SMTP)
        except Exception as exc:  # the bulkhead: this message only
            failed[n.session.id if n.session else n.key] = (
                f"composition d'un message impossible ({type(exc).__name__})"
            )
            continue
        queued.append(Queued(n.key, n.recipient.email, subject, n.send_at))
        store.enqueue(
            key=n.key,
            kind=n.kind,
            recipient=str(message["To"]),
            subject=subject,
            message_id=str(message["Message-ID"]),
            message=data,
            now=moment,
            session_id=n.session.id if n.session else None,
            milestone_id=n.milestone.id if n.milestone else None,
        )
    return queued


def _queue_alerts(settings: Settings, store: Store, now: Now, dry_run: bool) -> list[Queued]:
    """Tell the administrators, once per set, that deletions wait for their confirmation."""
    queued = []
    moment = instant(now)
    for state in store.held_deletions():
        for email in settings.mail.alerts_to:
            key = f"deletion_hold:{state.target}:{state.held_fingerprint}:{email}"
            if store.has_key(key):
                continue
            message = compose_deletion_hold(
                state.target,
                state.held_reason or "",
                settings.mail.sender,
                email,
                key,
                moment,
                settings.dashboard_url,
            )
            queued.append(Queued(key, email, str(message["Subject"]), moment))
            if not dry_run:
                store.enqueue(
                    key=key,
                    kind="alert",
                    recipient=str(message["To"]),
                    subject=str(message["Subject"]),
                    message_id=str(message["Message-ID"]),
                    message=message.as_bytes(policy=SMTP),
                    now=moment,
                )
    return queued


def _queue_invitations(
    settings: Settings,
    config: Config,
    store: Store,
    planned: list[Planned],
    now: Now,
    dry_run: bool,
    failed: dict[str, str],
) -> list[Queued]:
    """Jury invitations, updates and cancellations for sessions still to come; past sessions,
    broken files and sessions that failed (``failed``) change nothing."""
    queued = []
    moment = instant(now)
    upcoming = [p for p in planned if p.session.end >= local_today(now, p.centre.tz)]
    past = {p.session.id for p in planned if p.session.end < local_today(now, p.centre.tz)}
    protected = protected_in(config, store) | past | failed.keys()
    for change in invitations.changes(upcoming, store.invitation_states(), frozenset(protected)):
        if store.has_key(change.key) or change.session_id in failed:
            continue
        try:
            message, event = compose_invitation(change, settings.mail.sender, moment)
            data = message.as_bytes(policy=SMTP)
        except Exception as exc:  # the bulkhead: this message only
            failed[change.session_id] = (
                f"composition d'une invitation impossible ({type(exc).__name__})"
            )
            continue
        subject = str(message["Subject"])
        queued.append(Queued(change.key, change.email, subject, moment))
        if dry_run:
            continue
        store.enqueue(
            key=change.key,
            kind="invitation",
            recipient=str(message["To"]),
            subject=subject,
            message_id=str(message["Message-ID"]),
            message=data,
            now=moment,
            session_id=change.session_id,
            milestone_id="exam_session",
            invitation=change.state(event),
        )
    return queued
