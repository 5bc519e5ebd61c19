"""Session + centre + ruleset + done marks + now -> milestones (pure).

The planner never reads the clock: ``now`` is an argument (see :mod:`syncsvc.core.clock` for
what a date, an aware and a naive date-time mean). :func:`plan_all` is the one plan every face
uses (``plan``, ``validate``, ``sync``, ``notify``, feeds, dashboard): same sessions, same marks,
same statuses everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from syncsvc.core.clock import Now, local_today
from syncsvc.core.config import Config
from syncsvc.core.dates import add_offset, working_days
from syncsvc.core.model import Centre, Milestone, Session, Status
from syncsvc.core.rules import Rule, Ruleset

DEFAULT_DUE_SOON_DAYS = 7
"""Window for a rule without reminder days: due soon a week before."""


def anchor_date(rule: Rule, session: Session) -> date | None:
    """The day ``rule`` counts from, or None when the session does not give it (yet)."""
    match rule.anchor:
        case "start":
            return session.start
        case "end":
            return session.end
        case "training_end":
            return session.training_end or session.end
        case "pv_validated_on":
            return session.pv_validated_on
        case "parchemins_received_on":
            return session.parchemins_received_on
        case "fixed":
            assert rule.fixed_date is not None
            # The day of the start's year; a session early in the year whose fixed day is not
            # before its start counts from the previous year's (the programme was due then).
            for year in (session.start.year, session.start.year - 1):
                day = _clamped(year, rule.fixed_date.month, rule.fixed_date.day)
                if day < session.start:
                    return day
            return day
    raise AssertionError(rule.anchor)


def _clamped(year: int, month: int, day: int) -> date:
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def implicit_marks(session: Session) -> dict[str, date]:
    """Done marks the session file implies: ``declared_on`` is the day the session was created
    in CERES."""
    return {"ceres_session_create": session.declared_on} if session.declared_on else {}


def status_of(rule: Rule, due: date, last_day: date, today: date, done_on: date | None) -> Status:
    """``done`` when marked (or, for an untracked item, when over), ``overdue`` after the due
    day, ``due_soon`` once its first reminder day is reached, else ``pending``."""
    if done_on is not None:
        return "done"
    if not rule.tracked:
        if today > last_day:
            return "done"
    elif today > due:
        return "overdue"
    window = rule.reminders[0] if rule.reminders else DEFAULT_DUE_SOON_DAYS
    return "due_soon" if today >= due - timedelta(days=window) else "pending"


def plan_session(
    session: Session,
    centre: Centre,
    ruleset: Ruleset,
    now: Now,
    done: Mapping[str, date] | None = None,
) -> list[Milestone]:
    """Every milestone of ``session`` whose anchor is known, in due order.

    ``done`` maps milestone ids to the day they were marked done (the store's marks); marks
    written in the session file count too.
    """
    today = local_today(now, centre.tz)
    marks = {**implicit_marks(session), **session.done, **(done or {})}
    calendar = working_days(centre.holiday_zone)
    transport = session.title.transport
    milestones: list[Milestone] = []
    for rule in ruleset.rules:
        anchor = anchor_date(rule, session)
        if anchor is None:
            continue
        unshifted = add_offset(anchor, rule.offset_for(transport=transport))
        due = calendar.shift(unshifted, rule.shift) if centre.working_day_shift else unshifted
        is_session = rule.id == "exam_session"
        last_day = session.end if is_session else due
        starts_at = ends_at = None
        if is_session and session.first_day_start is not None:
            starts_at = datetime.combine(session.start, session.first_day_start, centre.tz)
            ends_at = datetime.combine(session.end, session.last_day_end, centre.tz)
        milestones.append(
            Milestone(
                session_id=session.id,
                rule=rule,
                due=due,
                unshifted=unshifted,
                status=status_of(rule, due, last_day, today, marks.get(rule.id)),
                done_on=marks.get(rule.id),
                starts_at=starts_at,
                ends_at=ends_at,
                ends_on=last_day,
            )
        )
    order = {rule_id: index for index, rule_id in enumerate(ruleset.ids)}
    milestones.sort(key=lambda m: (m.due, order[m.id]))
    return milestones


Marks = Mapping[str, Mapping[str, date]]
"""Done days by session id, then milestone id (the store's marks)."""


class Planned(NamedTuple):
    """One session with its centre and its milestones, as planned at one moment."""

    session: Session
    centre: Centre
    milestones: list[Milestone]


@dataclass
class Planning:
    """Every session planned at one moment, and the sessions whose planning failed."""

    planned: list[Planned] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """Session id -> a French reason. Such a session is kept as it is everywhere (protected),
    exactly like a session whose file fails to load: one session never stops the others."""


def plan_sessions(config: Config, marks: Marks, now: Now) -> Planning:
    """Every loaded session with its milestones, by start date then id; a session whose
    planning raises (a defect, or input no check foresaw) is set apart in ``failed``."""
    planning = Planning()
    for session in sorted(config.sessions.values(), key=lambda s: (s.start, s.id)):
        centre = config.centres[session.centre]
        try:
            milestones = plan_session(
                session, centre, config.rulesets[centre.id], now, marks.get(session.id)
            )
        except Exception as exc:  # the bulkhead: this session only
            planning.failed[session.id] = f"calcul des échéances impossible ({type(exc).__name__})"
            continue
        planning.planned.append(Planned(session, centre, milestones))
    return planning


def plan_all(config: Config, marks: Marks, now: Now) -> list[Planned]:
    """The planned sessions of :func:`plan_sessions` (for faces that only show them)."""
    return plan_sessions(config, marks, now).planned
