"""One weekly point per person (pure): the coordinators' overview, and the escalation.

On ``digest_weekday`` at ``digest_hour`` (home centre's time), each person concerned gets one
mail, key ``digest:<ISO week>:<address>``:

- a coordinator: the overdue milestones of their sessions, then those due within
  ``digest_horizon_days``, by session;
- a session manager or deputy: the milestones of their sessions overdue for
  ``escalate_after_days`` days or more; the centre's management: the regulatory ones among
  them, for every session of the centre.

A person with several roles gets one mail with all of it. A point missed by more than a day
(the service was down) is noted, never sent late.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from syncsvc.core.clock import Now, local_moment
from syncsvc.core.model import Centre, Milestone, Person, Session
from syncsvc.core.reminder_model import DigestEntry, Notification, Policy, Recipient, moment

Planned = tuple[Session, Centre, list[Milestone]]


@dataclass
class _Roles:
    """What one person's weekly point covers."""

    recipient: Recipient
    coordinated: list[Planned] = field(default_factory=list)
    managed: list[tuple[Planned, bool]] = field(default_factory=list)
    """Sessions whose overdue milestones escalate to them; True: regulatory ones only."""


def _roles(planned: list[Planned]) -> dict[str, _Roles]:
    out: dict[str, _Roles] = {}

    def of(person: Person, role: str) -> _Roles:
        return out.setdefault(person.email, _Roles(Recipient(person.name, person.email, role)))

    for item in planned:
        session, centre, _ = item
        for person in session.coordinators:
            of(person, "coordinators").coordinated.append(item)
        managers = [(session.session_manager, "session_manager")]
        if session.deputy_manager is not None:
            managers.append((session.deputy_manager, "deputy_manager"))
        for person, role in managers:
            of(person, role).managed.append((item, False))
        for person in centre.management:
            of(person, "centre_management").managed.append((item, True))
    return out


def _listed(m: Milestone) -> bool:
    return m.status != "done" and (m.rule.tracked or m.status == "pending")


def _entries(
    roles: _Roles, day: date, policy: Policy
) -> tuple[list[DigestEntry], list[DigestEntry]]:
    """(overdue, upcoming) of one person's point of the week starting ``day``."""
    overdue: dict[tuple[str, str], DigestEntry] = {}
    upcoming: list[DigestEntry] = []
    horizon = day + timedelta(days=policy.digest_horizon_days)
    for session, _, milestones in roles.coordinated:
        for m in milestones:
            if not _listed(m):
                continue
            if m.due < day and m.status == "overdue":
                overdue[session.id, m.id] = DigestEntry(session, m)
            elif day <= m.due <= horizon:
                upcoming.append(DigestEntry(session, m))
    for (session, _, milestones), regulatory_only in roles.managed:
        for m in milestones:
            late = (day - m.due).days
            if (
                m.status == "overdue"
                and late >= policy.escalate_after_days
                and (m.kind == "regulatory" or not regulatory_only)
            ):
                overdue.setdefault((session.id, m.id), DigestEntry(session, m, escalated=True))

    def order(e: DigestEntry) -> tuple[date, date, str]:
        return (e.milestone.due, e.session.start, e.session.id)

    return sorted(overdue.values(), key=order), sorted(upcoming, key=order)


def weekly_listed(
    planned: list[Planned], homes: dict[str, Centre], policy: Policy, now: Now
) -> frozenset[tuple[str, str, str]]:
    """(address, session, milestone) of the overdue milestones each person's weekly point
    lists, judged at ``now``: the weekly return of these is the point itself."""
    out = set()
    for email, roles in _roles(planned).items():
        today = local_moment(now, homes[email].tz).date()
        overdue, _ = _entries(roles, today, policy)
        out |= {(email, e.session.id, e.milestone.id) for e in overdue}
    return frozenset(out)


def weekly_mails(
    planned: list[Planned], homes: dict[str, Centre], policy: Policy, now: Now
) -> Iterator[Notification]:
    for email, roles in sorted(_roles(planned).items()):
        home = homes[email]
        at = local_moment(now, home.tz)
        today = at.date()
        day = today - timedelta(days=(today.weekday() - policy.digest_weekday) % 7)
        when = moment(day, policy.digest_hour, home)
        if when > at:
            continue  # this week's point is not due yet; last week's is superseded
        overdue, upcoming = _entries(roles, day, policy)
        if not overdue and not upcoming:
            continue
        week = day.isocalendar()
        key = f"digest:{week.year}-W{week.week:02d}:{email}"
        # Missed by more than a day (the service was down): noted, never sent late. When it
        # went out on time, its key is already in the outbox and this changes nothing.
        late = at - when > timedelta(days=1)
        yield Notification(
            "digest",
            key,
            roles.recipient,
            when,
            centre=home,
            overdue=() if late else tuple(overdue),
            upcoming=() if late else tuple(upcoming),
            skipped=late,
        )
