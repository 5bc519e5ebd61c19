"""One weekly point per person (pure): the coordinators' overview, and the escalation.

On ``digest_weekday`` at ``digest_hour`` (home centre's time), each person concerned gets one
mail, key ``digest:<ISO week>:<address>``:

- a coordinator: the overdue milestones of their sessions, then those due within
  ``digest_horizon_days``, by session;
- a session manager or deputy: the milestones of their sessions overdue for
  ``escalate_after_days`` days or more; the centre's management: the regulatory ones among
  them, for every session of the centre, and the centre's own yearly milestones (the annual
  programming) overdue as long, each centre year as a group of its own.

A person with several roles gets one mail with all of it. A point missed by more than a day
(the service was down) is noted, never sent late.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from syncsvc.core.clock import Now, local_moment
from syncsvc.core.model import Centre, Milestone, Person, Session
from syncsvc.core.planner import CentreMilestone
from syncsvc.core.reminder_model import DigestEntry, Notification, Policy, Recipient, moment

Planned = tuple[Session, Centre, list[Milestone]]


@dataclass
class _Roles:
    """What one person's weekly point covers."""

    recipient: Recipient
    coordinated: list[Planned] = field(default_factory=list)
    managed: list[tuple[Planned, bool]] = field(default_factory=list)
    """Sessions whose overdue milestones escalate to them; True: regulatory ones only."""
    yearly: list[CentreMilestone] = field(default_factory=list)
    """The yearly milestones of the centres they manage (regulatory ones only)."""


def _roles(
    planned: list[Planned], centre_milestones: Sequence[CentreMilestone] = ()
) -> dict[str, _Roles]:
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
    for yearly in centre_milestones:
        for person in yearly.centre.management:
            of(person, "centre_management").yearly.append(yearly)
    return out


def _listed(m: Milestone) -> bool:
    if m.status in ("done", "cancelled"):
        return False
    return m.rule.tracked or m.status == "pending"


def _entries(
    roles: _Roles, day: date, policy: Policy
) -> tuple[list[DigestEntry], list[DigestEntry]]:
    """(overdue, upcoming) of one person's point of the week starting ``day``."""
    overdue: dict[tuple[str, str], DigestEntry] = {}
    escalate = policy.escalate_after_days
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
                and late >= escalate
                and (m.kind == "regulatory" or not regulatory_only)
            ):
                overdue.setdefault((session.id, m.id), DigestEntry(session, m, escalated=True))
    for yearly in roles.yearly:
        m = yearly.milestone
        if m.status == "overdue" and (day - m.due).days >= escalate and m.kind == "regulatory":
            overdue.setdefault(
                (yearly.owner, m.id),
                DigestEntry(None, m, escalated=True, centre=yearly.centre, year=yearly.year),
            )

    def order(e: DigestEntry) -> tuple[date, date, str]:
        start = e.session.start if e.session is not None else date.min
        return (e.milestone.due, start, e.owner)

    return sorted(overdue.values(), key=order), sorted(upcoming, key=order)


def weekly_listed(
    planned: list[Planned],
    homes: dict[str, Centre],
    policy: Policy,
    now: Now,
    centre_milestones: Sequence[CentreMilestone] = (),
) -> frozenset[tuple[str, str, str]]:
    """(address, owner, milestone) of the overdue milestones each person's weekly point
    lists, judged at ``now``: the weekly return of these is the point itself. The owner is
    the session id, or a centre year's owner key for its yearly milestones."""
    out = set()
    for email, roles in _roles(planned, centre_milestones).items():
        today = local_moment(now, homes[email].tz).date()
        overdue, _ = _entries(roles, today, policy)
        out |= {(email, e.owner, e.milestone.id) for e in overdue}
    return frozenset(out)


def weekly_mails(
    planned: list[Planned],
    homes: dict[str, Centre],
    policy: Policy,
    now: Now,
    centre_milestones: Sequence[CentreMilestone] = (),
) -> Iterator[Notification]:
    for email, roles in sorted(_roles(planned, centre_milestones).items()):
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
