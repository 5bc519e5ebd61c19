"""One mail a day at most per person: the milestones that come up for them that day (pure).

A milestone *comes up* for each organiser of its audience (never for the jury, see
:data:`JURY_ROLES`) on its reminder days (J-14, J-7, J-1…
moved to the working day before when they fall on a day off) until its due day is over, then,
when it is overdue, after ``overdue_days`` working days of delay (1, 2, 4, 8, 16) and every
``overdue_every_days`` working days after that (weekly) — never every other day for ever.

Each person gets, on a working day of their home centre at the sending hour, one mail listing
what came up for them since their last mail: key ``daily:<day>:<address>``, so running
``notify`` twice the same day sends nothing the second time. Only the latest occurrence of a
milestone counts (the J-7 reminder supersedes the J-14 one); an occurrence missed while the
service was down goes with the next mail, once: it is carried until a mail to that person has
been queued at or after it (``queued`` says which keys the outbox holds).

A centre's yearly milestone (the annual programming, one per centre and year, tied to no
session) comes up the same way for the centre's management, and goes in the same mail of the
day, as a group of its own: no second mail, no key of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta

from syncsvc.core.clock import Now, local_moment
from syncsvc.core.dates import WorkingDays, working_days
from syncsvc.core.model import Centre, Milestone, Session
from syncsvc.core.planner import CentreMilestone
from syncsvc.core.reminder_model import (
    Item,
    ItemState,
    JuryNotice,
    Notification,
    Policy,
    Queued,
    Recipient,
    add_working_days,
    moment,
    recipients,
)

Candidate = tuple[Recipient, Item]
JURY_ROLES = frozenset({"jury", "surveillant", "comedien"})
"""Roles that never get a reminder or an overdue alert: the exam and the PV signature name the
jury in their audience, but what a juror needs comes with the invitation (its days, hours,
place and contact) and their calendar, and their answer awaited with the jury's news; the
organisers' « à faire » and « EN RETARD » are for the organisers."""


def overdue_schedule(due: date, policy: Policy, calendar: WorkingDays) -> Iterator[date]:
    """The days an overdue milestone comes back: ``overdue_days`` working days after ``due``,
    then every ``overdue_every_days`` working days (an endless, increasing series)."""
    day, counted = due, 0
    for step in policy.overdue_days:
        day = add_working_days(day, step - counted, calendar)
        counted = step
        yield day
    while True:
        day = add_working_days(day, policy.overdue_every_days, calendar)
        yield day


def _last_reminder(
    last_day: date, centre: Centre, m: Milestone, policy: Policy, at: datetime
) -> date | None:
    """The latest reminder day whose time has come; None before the first and once
    ``last_day`` (the due day, or the first day of an untracked item such as the exams) is
    over."""
    if at >= moment(last_day + timedelta(days=1), time(0), centre):
        return None
    calendar = working_days(centre.holiday_zone)
    found = None
    for days in m.rule.reminders:  # descending: J-14, J-7, J-1
        day = calendar.shift(last_day - timedelta(days=days), "previous")
        if moment(day, policy.send_hour, centre) <= at:
            found = day
    return found


def _last_overdue(
    centre: Centre, m: Milestone, policy: Policy, at: datetime
) -> tuple[date, int] | None:
    """The latest day of the overdue schedule whose time has come, with its rank (0: the
    first working day after the due day)."""
    if m.status != "overdue":
        return None
    found = None
    schedule = overdue_schedule(m.due, policy, working_days(centre.holiday_zone))
    for rank, day in enumerate(schedule):
        if moment(day, policy.send_hour, centre) > at:
            return found
        found = day, rank
    raise AssertionError("endless schedule")  # pragma: no cover


def _item(
    session: Session | None,
    centre: Centre,
    m: Milestone,
    policy: Policy,
    at: datetime,
    year: int | None = None,
) -> Item | None:
    """``m`` at its latest occurrence by ``at``, or None when it has not come up (or is
    done)."""
    if m.status in ("done", "cancelled"):
        return None  # nothing is due any more of a cancelled session
    overdue = _last_overdue(centre, m, policy, at)
    last_day = session.start if session is not None and not m.rule.tracked else m.due
    day = overdue[0] if overdue else _last_reminder(last_day, centre, m, policy, at)
    if day is None:
        return None
    today = at.date()
    state: ItemState
    if overdue is not None:
        state, days = "overdue", (today - m.due).days
    else:
        days = max((m.due - today).days, 0)
        state = "today" if days == 0 else "soon"
    since = moment(day, policy.send_hour, centre)
    repeat = overdue is not None and overdue[1] >= len(policy.overdue_days)
    return Item(session, centre, m, state, days, since, repeat, year)


def session_candidates(
    session: Session, centre: Centre, milestones: list[Milestone], policy: Policy, now: Now
) -> list[Candidate]:
    """Each milestone of ``session`` at its latest occurrence, for each person concerned."""
    at = local_moment(now, centre.tz)
    out: list[Candidate] = []
    for m in milestones:
        item = _item(session, centre, m, policy, at)
        if item is not None:
            roles = [role for role in m.audience if role not in JURY_ROLES]
            out += [(person, item) for person in recipients(session, centre, roles)]
    return out


def centre_candidates(yearly: CentreMilestone, policy: Policy, now: Now) -> list[Candidate]:
    """A centre's yearly milestone (one per centre and year, tied to no session) at its
    latest occurrence — due soon, due today, overdue on the same schedule as a session's —
    for the centre's management when its audience names them."""
    centre, m = yearly.centre, yearly.milestone
    item = _item(None, centre, m, policy, local_moment(now, centre.tz), yearly.year)
    if item is None:
        return []
    return [(person, item) for person in recipients(None, centre, m.audience)]


def mail_day(at: datetime, home: Centre, policy: Policy) -> date:
    """The person's latest mail day at ``at``: the last working day of their home centre
    whose sending hour has come."""
    calendar = working_days(home.holiday_zone)
    day = at.astimezone(home.tz).date()
    while not (calendar.is_working_day(day) and moment(day, policy.send_hour, home) <= at):
        day -= timedelta(days=1)
    return day


def _first_mail_day(since: datetime, home: Centre, policy: Policy) -> date:
    """The person's first mail day whose sending time is at or after ``since``."""
    calendar = working_days(home.holiday_zone)
    day = since.astimezone(home.tz).date()
    while not (calendar.is_working_day(day) and moment(day, policy.send_hour, home) >= since):
        day += timedelta(days=1)
    return day


def daily_key(day: date, email: str) -> str:
    return f"daily:{day.isoformat()}:{email}"


class _Mailed:
    """Which of one person's mail days already have their mail in the outbox (asked once)."""

    def __init__(self, email: str, home: Centre, queued: Queued) -> None:
        self.email, self.queued = email, queued
        self.calendar = working_days(home.holiday_zone)
        self.known: dict[date, bool] = {}

    def between(self, first: date, last: date) -> bool:
        """Whether a mail went on a mail day from ``first`` to ``last`` (included)."""
        day = first
        while day <= last:
            if self.calendar.is_working_day(day):
                if day not in self.known:
                    self.known[day] = self.queued(daily_key(day, self.email))
                if self.known[day]:
                    return True
            day += timedelta(days=1)
        return False


def daily_mails(
    candidates: list[Candidate],
    homes: dict[str, Centre],
    policy: Policy,
    now: Now,
    queued: Queued,
    weekly: frozenset[tuple[str, str, str]] = frozenset(),
    notices: Iterable[tuple[Recipient, JuryNotice]] = (),
) -> Iterator[Notification]:
    """Each person's mail of the day, when something came up for them since their last one.

    ``weekly`` names (address, owner, milestone) that the person's weekly point lists: past
    its schedule, an overdue milestone comes back there once a week, not in the mail of the
    day too. ``notices`` (:mod:`syncsvc.core.jury_notices`) join the same mail, by the same
    rule: once, in the first mail of the person at or after they came up."""
    by_person: dict[str, list[Candidate]] = {}
    people: dict[str, Recipient] = {}
    for person, item in candidates:
        if item.repeat and (person.email, item.owner, item.milestone.id) in weekly:
            continue
        by_person.setdefault(person.email, []).append((person, item))
        people.setdefault(person.email, person)
    news: dict[str, list[JuryNotice]] = {}
    for person, notice in notices:
        news.setdefault(person.email, []).append(notice)
        people.setdefault(person.email, person)
    for email in sorted(set(by_person) | set(news)):
        theirs, told = by_person.get(email, []), news.get(email, [])
        home = homes.get(email) or (told[0].centre if told else theirs[0][1].centre)
        day = mail_day(local_moment(now, home.tz), home, policy)
        key = daily_key(day, email)
        if queued(key):
            continue
        mailed = _Mailed(email, home, queued)
        items = [item for _, item in theirs if _due(item.since, day, home, policy, mailed)]
        fresh = sorted(
            (n for n in told if _due(n.since, day, home, policy, mailed)), key=lambda n: n.urgency
        )
        if items or fresh:
            yield Notification(
                "reminder",
                key,
                people[email],
                moment(day, policy.send_hour, home),
                centre=home,
                items=_by_session(items),
                notices=tuple(fresh),
            )


def _due(since: datetime, day: date, home: Centre, policy: Policy, mailed: _Mailed) -> bool:
    """Up to this mail (``day``), and not already in a mail sent at or after it came up."""
    first = _first_mail_day(since, home, policy)
    return first <= day and not mailed.between(first, day - timedelta(days=1))


def _by_session(items: list[Item]) -> tuple[Item, ...]:
    """Grouped by session (a centre year's yearly milestones as one more group), the most
    urgent group first, then each group's items by urgency (overdue, most overdue first; due
    today; due soon, soonest first)."""
    groups: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda i: i.urgency):
        groups.setdefault(item.owner, []).append(item)
    return tuple(item for group in groups.values() for item in group)
