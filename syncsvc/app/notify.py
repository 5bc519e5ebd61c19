"""The mail shell: what is due now -> rendered once into the outbox -> drained to the relay."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from syncsvc.app.cancellations import observe as observe_cancellations
from syncsvc.app.feeds import person_links
from syncsvc.app.fence import Fence
from syncsvc.app.jury import jury_board
from syncsvc.app.outbox import DrainReport, drain
from syncsvc.app.sync import protected_in
from syncsvc.core import invitations, links
from syncsvc.core.clock import Now, instant
from syncsvc.core.config import Config
from syncsvc.core.jury_notices import jury_notices
from syncsvc.core.model import DirectoryJuror
from syncsvc.core.planner import CentreMilestone, Planned, is_centre_owner, plan_sessions
from syncsvc.core.reminders import (
    JuryNotice,
    Notification,
    Policy,
    Recipient,
    due_notifications,
)
from syncsvc.formats.mail import (
    AnswerLinksOf,
    DoneLink,
    PageLink,
    compose,
    compose_deletion_hold,
    compose_invitation,
    compose_invitation_hold,
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
    zone: tzinfo | None = None
    """The zone of the centre the mail is sent by (its ``send_at`` is that centre's time)."""


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
        overdue_days=r.overdue_days,
        overdue_every_days=r.overdue_every_days,
        escalate_after_days=r.escalate_after_days,
        digest_weekday=r.digest_weekday,
        digest_hour=r.digest_hour,
        digest_horizon_days=r.digest_horizon_days,
        candidate_info_days=r.candidate_info_days,
        jury_answer_days=r.jury_answer_days,
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


def page_link_of(settings: Settings) -> PageLink | None:
    """A session's dashboard page, when the dashboard's public address is set."""
    base = settings.dashboard_url
    if not base:
        return None
    return lambda session_id: links.session_url(base, session_id)


def answer_links_of(settings: Settings, now: datetime) -> AnswerLinksOf | None:
    """A juror's two signed links (« Je serai présent(e) », « Je ne pourrai pas venir ») for
    (session, e-mail, SEQUENCE, exam day — None: every day), when the dashboard and the secret
    key exist (None otherwise); same expiry rule as the done links."""
    secret = os.environ.get(settings.secret_key_env)
    if not settings.dashboard_url or not secret:
        return None
    base, key = settings.dashboard_url, secret.encode()
    expires = now + timedelta(days=settings.reminders.link_days)

    def of(session_id: str, email: str, sequence: int, day: date | None) -> tuple[str, str]:
        accept, decline = (
            links.answer_url(base, key, session_id, email, sequence, answer, expires, day)
            for answer in ("accept", "decline")
        )
        return accept, decline

    return of


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
    if not dry_run:  # what the files say of cancellations, before the jury is told
        observe_cancellations(store, config, now)
    planning = plan_sessions(config, store.done_marks(), now)
    failed = planning.failed
    planned = planning.planned
    report.queued += _queue_notifications(
        settings,
        store,
        planned,
        now,
        dry_run,
        failed,
        planning.centre_milestones,
        config.jury.jurors,
    )
    report.queued += _queue_invitations(settings, config, store, planned, now, dry_run, failed)
    for owner, reason in failed.items():
        if is_centre_owner(owner):
            log.error("échéances annuelles %s : %s ; aucun rappel à ce passage", owner, reason)
        else:
            log.error("session %s : %s ; aucun message pour elle à ce passage", owner, reason)
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
    listed: Mapping[str, DirectoryJuror] | None = None,
) -> list[Queued]:
    """Mails of the day, weekly points and candidate notices due at ``now``, the centres'
    yearly milestones in the management's mails of the day and weekly points. A session (or
    centre year) that cannot be composed is named in ``failed`` and left out of the mails that
    speak of it; the others go on, and so does the rest of each mail."""
    queued = []
    moment = instant(now)
    link = done_link_of(settings, moment)
    answer_links = answer_links_of(settings, moment)
    policy = policy_of(settings)
    active = [p for p in planned if not p.session.cancelled]
    news = _jury_news(store, active, policy, now, listed or {})
    due = due_notifications(active, policy, now, failed, store.has_key, centre_milestones, news)
    feeds = {} if dry_run else _reminder_feed_links(settings, store, due, moment)
    for n in due:
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
            queued.append(Queued(n.key, n.recipient.email, subject, n.send_at, _zone(n)))
            continue
        composed = _composed_apart(
            n,
            settings.mail.sender,
            now,
            (link, answer_links, page_link_of(settings)),
            policy,
            failed,
            feeds.get(n.recipient.email.lower()),
        )
        if composed is None:
            continue
        n, message, data = composed
        subject = str(message["Subject"])
        queued.append(Queued(n.key, n.recipient.email, subject, n.send_at, _zone(n)))
        owners = n.session_ids
        alone = owners[0] if len(owners) == 1 else None
        milestones = {i.milestone.id for i in n.items}
        store.enqueue(
            key=n.key,
            kind=n.kind,
            recipient=str(message["To"]),
            subject=subject,
            message_id=str(message["Message-ID"]),
            message=data,
            now=moment,
            # a mail of one session only; a centre year is no session
            session_id=alone if alone and not is_centre_owner(alone) else None,
            milestone_id=milestones.pop() if len(milestones) == 1 else None,
        )
    return queued


def _reminder_feed_links(
    settings: Settings, store: Store, due: Iterable[Notification], now: datetime
) -> dict[str, str]:
    """The own agenda link (``[feeds] per_person``) of each person a reminder to answer an
    invitation is due to, by lower-case address; none without ``per_person``."""
    if not settings.feeds.per_person:
        return {}
    people = {
        n.recipient.email.lower()
        for n in due
        if not n.skipped
        and not store.has_key(n.key)
        and any(x.kind == "answer_reminder" for x in n.notices)
    }
    return person_links(settings, store, sorted(people), now) if people else {}


def _zone(n: Notification) -> tzinfo | None:
    return n.centre.tz if n.centre is not None else None


def _jury_news(
    store: Store,
    active: list[Planned],
    policy: Policy,
    now: Now,
    listed: Mapping[str, DirectoryJuror],
) -> list[tuple[Recipient, JuryNotice]]:
    """The jury's news for the mails of the day; none when it cannot be worked out (the
    reminders go on without it, and the reason is logged)."""
    try:
        board = jury_board(active, store, now)
        counters = [r for r in board.replies if r.kind == "counter"]
        return jury_notices(active, board.rows, board.answers, counters, policy, now, listed)
    except Exception as exc:  # the bulkhead: the jury's news only
        log.error("nouvelles du jury impossibles à calculer (%s) : rappels sans elles", exc)
        return []


Links = tuple[DoneLink | None, AnswerLinksOf | None, PageLink | None]


def _composed_apart(
    n: Notification,
    sender: str,
    now: Now,
    link: Links,
    policy: Policy,
    failed: dict[str, str],
    feed: str | None = None,
) -> tuple[Notification, EmailMessage, bytes] | None:
    """``n`` composed; when that fails, composed without the sessions that fail on their own,
    each named in ``failed``: one session's defect never takes another's lines with it;
    ``feed``: the recipient's own agenda link."""
    outcome = _attempt(n, sender, now, link, policy, feed)
    if not isinstance(outcome, Exception):
        return n, *outcome
    reason = f"composition d'un message impossible ({type(outcome).__name__})"
    ids = n.session_ids
    if len(ids) <= 1:
        failed[ids[0] if ids else n.key] = reason
        return None
    broken = []
    for sid in ids:
        alone = n.without(set(ids) - {sid})
        if alone is not None and isinstance(
            _attempt(alone, sender, now, link, policy, feed), Exception
        ):
            broken.append(sid)
            failed[sid] = reason
    rest = n.without(broken) if broken else None
    if rest is not None:
        retried = _attempt(rest, sender, now, link, policy, feed)
        if not isinstance(retried, Exception):
            return rest, *retried
    failed[n.key] = reason  # it fails as a whole: this message is set apart
    return None


def _attempt(
    n: Notification, sender: str, now: Now, link: Links, policy: Policy, feed: str | None = None
) -> tuple[EmailMessage, bytes] | Exception:
    """The message and its bytes (rendered once: every retry sends exactly these), or why
    not."""
    try:
        message = compose(n, sender, now, link[0], policy, link[1], link[2], feed)
        return message, message.as_bytes(policy=SMTP)
    except Exception as exc:  # the bulkhead: this message (the caller narrows it)
        return exc


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
    moment = instant(now)
    upcoming = [p for p in planned if invitations.upcoming(p.session, p.centre, now)]
    past = {p.session.id for p in planned if not invitations.upcoming(p.session, p.centre, now)}
    states = store.invitation_states()
    held, queued = _hold_invitations(settings, store, upcoming, states, now, dry_run, failed)
    protected = protected_in(config, store) | past | failed.keys()
    answer_links = answer_links_of(settings, moment)
    for change in invitations.changes(upcoming, states, frozenset(protected), held):
        if store.has_key(change.key) or change.session_id in failed:
            continue
        try:
            feed = _feed_link(settings, store, change, moment, dry_run)
            message, event = compose_invitation(
                change, settings.mail.sender, moment, answer_links, feed
            )
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


def _feed_link(
    settings: Settings,
    store: Store,
    change: invitations.InvitationChange,
    now: datetime,
    dry_run: bool,
) -> str | None:
    """The recipient's own agenda link for an invitation or an update (``[feeds]
    per_person``); none in a dry run, which creates no token."""
    if not settings.feeds.per_person or change.method != "REQUEST" or dry_run:
        return None
    return person_links(settings, store, [change.email], now)[change.email]


def _hold_invitations(
    settings: Settings,
    store: Store,
    upcoming: list[Planned],
    states: Mapping[tuple[str, str], invitations.InvitationState],
    now: Now,
    dry_run: bool,
    failed: dict[str, str],
) -> tuple[frozenset[tuple[str, str]], list[Queued]]:
    """Jurors who cannot sit (per the checks) get no invitation; each coordinator of their
    session is told why, once per juror and reason. Returns the held (session, juror) pairs."""
    held: set[tuple[str, str]] = set()
    queued: list[Queued] = []
    moment = instant(now)
    for session, centre, milestones in upcoming:
        if session.id in failed:
            continue
        try:  # the bulkhead: this session only
            found = invitations.session_holds(session, centre, milestones, now)
        except Exception as exc:
            failed[session.id] = f"contrôle des invitations impossible ({type(exc).__name__})"
            continue
        held |= {(session.id, hold.email) for hold in found}
        for hold, to in ((hold, to) for hold in found for to in session.coordinators):
            key = hold.key(to.email)
            if store.has_key(key):
                continue
            state = states.get((session.id, hold.email))
            invited = state is not None and state.status == "invited"
            try:
                message = compose_invitation_hold(
                    hold,
                    session,
                    centre,
                    to,
                    invited,
                    settings.mail.sender,
                    moment,
                    page_link_of(settings),
                )
                data = message.as_bytes(policy=SMTP)
            except Exception as exc:  # the bulkhead: this session only
                failed[session.id] = f"composition d'un message impossible ({type(exc).__name__})"
                break
            queued.append(Queued(key, to.email, str(message["Subject"]), moment))
            if not dry_run:
                store.enqueue(
                    key=key,
                    kind="invitation",
                    recipient=str(message["To"]),
                    subject=str(message["Subject"]),
                    message_id=str(message["Message-ID"]),
                    message=data,
                    now=moment,
                    session_id=session.id,
                    milestone_id="exam_session",
                )
    return frozenset(held), queued
