"""Which mails are due now: reminders, overdue alerts, weekly digests, candidate notices (pure).

Every notification carries an *idempotency key* naming what it is (session, milestone, kind,
occurrence, recipient): the outbox stores each key once, so running this every hour, or twice
for the same ``now``, never sends anything twice. Occurrences include the due date, so when a
session moves, its reminders are due again for the new dates.

Sending times: reminders and alerts go at the policy's hour in the centre's time zone, on working
days of its holiday zone (a reminder that falls on a Sunday goes on the Friday before). At each
run, the latest occurrence whose time has come is due; earlier ones missed while the service was
down are superseded by it, never sent late in a burst.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from syncsvc.core.clock import Now, local_moment
from syncsvc.core.dates import WorkingDays, working_days
from syncsvc.core.model import Centre, Milestone, Person, Session
from syncsvc.core.planner import CentreMilestone

Kind = Literal["reminder", "overdue", "digest", "candidate_info"]


@dataclass(frozen=True, slots=True)
class Policy:
    send_hour: time = time(8, 0)
    overdue_every_days: int = 2
    escalate_after_days: int = 5
    digest_weekday: int = 0
    digest_hour: time = time(8, 0)
    digest_horizon_days: int = 21
    candidate_info_days: int = 3


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str
    role: str


@dataclass(frozen=True, slots=True)
class DigestEntry:
    session: Session
    milestone: Milestone


@dataclass(frozen=True, slots=True)
class Notification:
    kind: Kind
    key: str
    recipient: Recipient
    send_at: datetime
    session: Session | None = None
    centre: Centre | None = None
    milestone: Milestone | None = None
    days: int = 0
    """Days before the due date (reminder) or since it (overdue alert)."""
    escalated: bool = False
    overdue: tuple[DigestEntry, ...] = field(default=())
    upcoming: tuple[DigestEntry, ...] = field(default=())
    skipped: bool = False
    """A digest whose time passed more than a day ago: not to be sent late, only noted."""


Planned = Iterable[tuple[Session, Centre, list[Milestone]]]


def _moment(day: date, hour: time, centre: Centre) -> datetime:
    return datetime.combine(day, hour, centre.tz)


def _working_day_on_or_before(day: date, calendar: WorkingDays) -> date:
    return calendar.shift(day, "previous")


def add_working_days(day: date, count: int, calendar: WorkingDays) -> date:
    """The ``count``-th working day after ``day`` (count >= 1)."""
    while count > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def recipients(session: Session, centre: Centre, roles: Iterable[str]) -> list[Recipient]:
    """The people behind the roles of a rule's audience, each address once."""
    people: list[tuple[Person, str]] = []
    for role in roles:
        if role == "coordinators":
            people += [(p, role) for p in session.coordinators]
        elif role == "session_manager":
            people.append((session.session_manager, role))
        elif role == "deputy_manager" and session.deputy_manager is not None:
            people.append((session.deputy_manager, role))
        elif role == "centre_management":
            people += [(p, role) for p in centre.management]
        elif role == "jury":
            people += [(p, role) for p in session.jury]
    seen: set[str] = set()
    out = []
    for person, role in people:
        if person.email not in seen:
            seen.add(person.email)
            out.append(Recipient(person.name, person.email, role))
    return out


def _reminder(
    session: Session, centre: Centre, m: Milestone, policy: Policy, now: datetime
) -> Iterator[Notification]:
    calendar = working_days(centre.holiday_zone)
    last_day = m.due if m.rule.tracked else session.start
    if now >= _moment(last_day + timedelta(days=1), time(0), centre):
        return  # the due day is over: overdue alerts take over
    due_now = None
    for days in m.rule.reminders:  # descending: J-14, J-7, J-1
        send_day = _working_day_on_or_before(last_day - timedelta(days=days), calendar)
        moment = _moment(send_day, policy.send_hour, centre)
        if moment <= now:
            due_now = (days, moment)
    if due_now is None:
        return
    days, moment = due_now
    for person in recipients(session, centre, m.audience):
        yield Notification(
            "reminder",
            f"reminder:{session.id}:{m.id}:{last_day}:J-{days}:{person.email}",
            person,
            moment,
            session,
            centre,
            m,
            days=days,
        )


def _overdue(
    session: Session, centre: Centre, m: Milestone, policy: Policy, now: datetime
) -> Iterator[Notification]:
    if m.status != "overdue":
        return
    calendar = working_days(centre.holiday_zone)
    day = add_working_days(m.due, 1, calendar)
    index, due_now = 0, None
    while (moment := _moment(day, policy.send_hour, centre)) <= now:
        due_now = (index, day, moment)
        index += 1
        day = add_working_days(day, policy.overdue_every_days, calendar)
    if due_now is None:
        return
    index, day, moment = due_now
    late = (day - m.due).days
    escalated = late >= policy.escalate_after_days
    roles = list(m.audience)
    if escalated:
        roles += ["session_manager", "deputy_manager"]
        if m.kind == "regulatory":
            roles.append("centre_management")
    for person in recipients(session, centre, roles):
        yield Notification(
            "overdue",
            f"overdue:{session.id}:{m.id}:{m.due}:#{index + 1}:{person.email}",
            person,
            moment,
            session,
            centre,
            m,
            days=late,
            escalated=escalated,
        )


def _candidate_info(
    session: Session, centre: Centre, policy: Policy, now: datetime
) -> Iterator[Notification]:
    if not centre.candidate_info_mail:
        return
    calendar = working_days(centre.holiday_zone)
    send_day = _working_day_on_or_before(
        session.start - timedelta(days=policy.candidate_info_days), calendar
    )
    moment = _moment(send_day, policy.send_hour, centre)
    if not moment <= now < _moment(session.start, time(0), centre):
        return
    for candidate in session.candidates.named:
        if candidate.email:
            yield Notification(
                "candidate_info",
                f"candidate_info:{session.id}:{session.start}:{candidate.email}",
                Recipient(candidate.name, candidate.email, "candidate"),
                moment,
                session,
                centre,
            )


def _digests(
    planned: list[tuple[Session, Centre, list[Milestone]]], policy: Policy, now: Now
) -> Iterator[Notification]:
    by_coordinator: dict[str, list[tuple[Session, Centre, list[Milestone]]]] = {}
    names: dict[str, str] = {}
    for session, centre, milestones in planned:
        for person in session.coordinators:
            by_coordinator.setdefault(person.email, []).append((session, centre, milestones))
            names.setdefault(person.email, person.name)
    for email, items in sorted(by_coordinator.items()):
        centre = items[0][1]
        at = local_moment(now, centre.tz)
        today = at.date()
        day = today - timedelta(days=(today.weekday() - policy.digest_weekday) % 7)
        moment = _moment(day, policy.digest_hour, centre)
        if moment > at:
            continue  # this week's digest is not due yet; last week's is superseded
        horizon = day + timedelta(days=policy.digest_horizon_days)
        overdue, upcoming = [], []
        for session, _, milestones in items:
            for m in milestones:
                if m.status == "done" or (not m.rule.tracked and m.status != "pending"):
                    continue
                if m.due < day and m.status == "overdue":
                    overdue.append(DigestEntry(session, m))
                elif day <= m.due <= horizon:
                    upcoming.append(DigestEntry(session, m))
        if not overdue and not upcoming:
            continue
        week = day.isocalendar()
        key = f"digest:{week.year}-W{week.week:02d}:{email}"
        if at - moment > timedelta(days=1):
            # Missed by more than a day (the service was down): noted, never sent late. When
            # it went out on time, its key is already in the outbox and this changes nothing.
            yield Notification(
                "digest",
                key,
                Recipient(names[email], email, "coordinators"),
                moment,
                centre=centre,
                skipped=True,
            )
            continue
        yield Notification(
            "digest",
            key,
            Recipient(names[email], email, "coordinators"),
            moment,
            centre=centre,
            overdue=tuple(sorted(overdue, key=lambda e: (e.milestone.due, e.session.id))),
            upcoming=tuple(sorted(upcoming, key=lambda e: (e.milestone.due, e.session.id))),
        )


def due_notifications(
    planned: Iterable[tuple[Session, Centre, list[Milestone]]],
    policy: Policy,
    now: Now,
    failed: dict[str, str] | None = None,
    centre_milestones: Iterable[CentreMilestone] = (),
) -> list[Notification]:
    """Everything that should have been sent by ``now`` (the outbox drops what already was),
    the centres' yearly milestones included (:func:`centre_notifications`).

    A session whose notifications cannot be worked out is named in ``failed`` and left out;
    the others go on (and it stays out of the digests)."""
    planned = list(planned)
    out: list[Notification] = []
    fine = []
    for session, centre, milestones in planned:
        try:
            out += _session_notifications(session, centre, milestones, policy, now)
        except Exception as exc:  # the bulkhead: this session only
            if failed is not None:
                failed[session.id] = f"calcul des rappels impossible ({type(exc).__name__})"
            continue
        fine.append((session, centre, milestones))
    out += _digests(fine, policy, now)
    out += centre_notifications(centre_milestones, policy, now, failed)
    return out


def _session_notifications(
    session: Session, centre: Centre, milestones: list[Milestone], policy: Policy, now: Now
) -> list[Notification]:
    at = local_moment(now, centre.tz)
    out: list[Notification] = []
    for m in milestones:
        if m.status == "done" or (not m.rule.reminders and m.status != "overdue"):
            continue
        out += _reminder(session, centre, m, policy, at)
        out += _overdue(session, centre, m, policy, at)
    out += _candidate_info(session, centre, policy, at)
    return out


# --- a centre's yearly milestones (issue 11) ---------------------------------------------------
# Kept apart from the sessions' notifications on purpose: one milestone per centre and year, no
# session, so no session manager, coordinators or jury to ask — the people behind its roles are
# the centre's (its management). Keys name the owner ``centre:<centre>:<year>`` where a session's
# name the session. Same sending hours, same occurrences as a session's milestone.


def centre_notifications(
    centre_milestones: Iterable[CentreMilestone],
    policy: Policy,
    now: Now,
    failed: dict[str, str] | None = None,
) -> list[Notification]:
    """The reminders and overdue alerts of the centres' yearly milestones due by ``now``; a
    centre year whose notifications cannot be worked out is named in ``failed``."""
    out: list[Notification] = []
    for yearly in centre_milestones:
        m, centre = yearly.milestone, yearly.centre
        if m.status == "done" or (not m.rule.reminders and m.status != "overdue"):
            continue
        try:
            at = local_moment(now, centre.tz)
            people = [Recipient(p.name, p.email, "centre_management") for p in centre.management]
            if "centre_management" not in m.audience:
                people = []
            out += _centre_reminders(yearly, people, policy, at)
            out += _centre_overdue(yearly, people, policy, at)
        except Exception as exc:  # the bulkhead: this centre year only
            if failed is not None:
                failed[yearly.owner] = f"calcul des rappels impossible ({type(exc).__name__})"
    return out


def _centre_reminders(
    yearly: CentreMilestone, people: list[Recipient], policy: Policy, now: datetime
) -> list[Notification]:
    m, centre = yearly.milestone, yearly.centre
    calendar = working_days(centre.holiday_zone)
    if now >= _moment(m.due + timedelta(days=1), time(0), centre):
        return []
    latest = None
    for days in m.rule.reminders:  # descending: J-30, J-14, J-7
        send_day = _working_day_on_or_before(m.due - timedelta(days=days), calendar)
        if (moment := _moment(send_day, policy.send_hour, centre)) <= now:
            latest = (days, moment)
    if latest is None:
        return []
    days, moment = latest
    return [
        Notification(
            "reminder",
            f"reminder:{yearly.owner}:{m.id}:{m.due}:J-{days}:{person.email}",
            person,
            moment,
            centre=centre,
            milestone=m,
            days=days,
        )
        for person in people
    ]


def _centre_overdue(
    yearly: CentreMilestone, people: list[Recipient], policy: Policy, now: datetime
) -> list[Notification]:
    m, centre = yearly.milestone, yearly.centre
    if m.status != "overdue":
        return []
    calendar = working_days(centre.holiday_zone)
    day, index, latest = add_working_days(m.due, 1, calendar), 0, None
    while (moment := _moment(day, policy.send_hour, centre)) <= now:
        latest = (index, day, moment)
        index += 1
        day = add_working_days(day, policy.overdue_every_days, calendar)
    if latest is None:
        return []
    index, day, moment = latest
    late = (day - m.due).days
    return [
        Notification(
            "overdue",
            f"overdue:{yearly.owner}:{m.id}:{m.due}:#{index + 1}:{person.email}",
            person,
            moment,
            centre=centre,
            milestone=m,
            days=late,
            escalated=late >= policy.escalate_after_days,
        )
        for person in people
    ]
