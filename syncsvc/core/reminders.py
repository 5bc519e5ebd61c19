"""Which mails are due now: the mail of the day, the weekly point, candidate notices (pure).

A person reads at most one reminder mail a day (:mod:`syncsvc.core.daily_mail`: every
milestone that comes up for them that day, across sessions — due soon, due today, overdue —
an overdue one coming back less and less often; for the centre's management, the centre's
yearly milestones too, such as the annual programming, one per centre and year, as a group of
their own), plus the weekly point on its day
(:mod:`syncsvc.core.weekly_mail`: the coordinators' overview, and the escalation of what is
overdue for long to session managers, deputies and the centre's management). Jury invitations
are decided elsewhere (:mod:`syncsvc.core.invitations`) and stay one message each.

Every mail carries an *idempotency key* naming what it is (kind, day or week, recipient): the
outbox stores each key once, so running this every minute, or twice for the same ``now``,
never sends anything twice. Mails go at the policy's hour in the time zone of the person's
home centre, on its working days; one missed while the service was down is not sent late in a
burst: what it would have carried goes with the next mail of the day, once (see
:mod:`syncsvc.core.daily_mail`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import time, timedelta

from syncsvc.core.clock import Now, local_moment
from syncsvc.core.daily_mail import (
    Candidate,
    centre_candidates,
    daily_mails,
    session_candidates,
)
from syncsvc.core.dates import working_days
from syncsvc.core.model import Centre, Milestone, Session
from syncsvc.core.planner import CentreMilestone
from syncsvc.core.reminder_model import (
    DigestEntry,
    Item,
    ItemState,
    JuryNotice,
    Kind,
    Notification,
    Planned,
    Policy,
    Queued,
    Recipient,
    add_working_days,
    homes,
    moment,
    recipients,
)
from syncsvc.core.weekly_mail import weekly_listed, weekly_mails

__all__ = [
    "DigestEntry",
    "Item",
    "ItemState",
    "JuryNotice",
    "Kind",
    "Notification",
    "Planned",
    "Policy",
    "Queued",
    "Recipient",
    "add_working_days",
    "due_notifications",
    "recipients",
]


def _nothing_queued(_: str) -> bool:
    return False


def due_notifications(
    planned: Iterable[tuple[Session, Centre, list[Milestone]]],
    policy: Policy,
    now: Now,
    failed: dict[str, str] | None = None,
    queued: Queued = _nothing_queued,
    centre_milestones: Iterable[CentreMilestone] = (),
    jury: Iterable[tuple[Recipient, JuryNotice]] = (),
) -> list[Notification]:
    """Everything that should have been sent by ``now`` (the outbox drops what already was),
    the centres' yearly milestones (``Planning.centre_milestones``) included: they go in the
    management's mails of the day and weekly points, never in a mail of their own.

    ``queued`` tells which keys the outbox already holds (the store's ``has_key``): the mail
    of the day carries what a missed one would have. A session whose notifications cannot be
    worked out is named in ``failed`` and left out; the others go on (and it stays out of the
    mails of the day and the weekly points). So is a centre year, by its owner key
    (``centre:<centre>:<year>``). ``jury``: the jury's news for the mails of the day
    (:mod:`syncsvc.core.jury_notices`)."""
    # A cancelled session gets nothing: no reminder, no alert, no weekly line, no notice.
    planned = [p for p in planned if not p[0].cancelled]
    out: list[Notification] = []
    candidates: list[Candidate] = []
    fine = []
    for session, centre, milestones in planned:
        try:
            found = session_candidates(session, centre, milestones, policy, now)
            notices = list(_candidate_info(session, centre, policy, now))
        except Exception as exc:  # the bulkhead: this session only
            if failed is not None:
                failed[session.id] = f"calcul des rappels impossible ({type(exc).__name__})"
            continue
        candidates += found
        out += notices
        fine.append((session, centre, milestones))
    yearly = []
    for centre_milestone in centre_milestones:
        try:
            found = centre_candidates(centre_milestone, policy, now)
        except Exception as exc:  # the bulkhead: this centre year only
            if failed is not None:
                failed[centre_milestone.owner] = (
                    f"calcul des rappels impossible ({type(exc).__name__})"
                )
            continue
        candidates += found
        yearly.append(centre_milestone)
    where = homes(fine, (c.centre for c in yearly))
    weekly = weekly_listed(fine, where, policy, now, yearly)
    news = [(person, n) for person, n in jury if n.session.id not in (failed or {})]
    out += daily_mails(candidates, where, policy, now, queued, weekly, news)
    out += weekly_mails(fine, where, policy, now, yearly)
    return out


def _candidate_info(
    session: Session, centre: Centre, policy: Policy, now: Now
) -> Iterator[Notification]:
    """To each listed candidate with an address: what to bring, a few days before."""
    if not centre.candidate_info_mail:
        return
    at = local_moment(now, centre.tz)
    calendar = working_days(centre.holiday_zone)
    send_day = calendar.shift(
        session.start - timedelta(days=policy.candidate_info_days), "previous"
    )
    when = moment(send_day, policy.send_hour, centre)
    if not when <= at < moment(session.start, time(0), centre):
        return
    for candidate in session.candidates.named:
        if candidate.email:
            yield Notification(
                "candidate_info",
                f"candidate_info:{session.id}:{session.start}:{candidate.email}",
                Recipient(candidate.name, candidate.email, "candidate"),
                when,
                session,
                centre,
            )
