"""Session + centre + ruleset + done marks + now -> milestones (pure).

The planner never reads the clock: ``now`` is an argument (see :mod:`syncsvc.core.clock` for
what a date, an aware and a naive date-time mean). :func:`plan_sessions` (and :func:`plan_all`)
is the one plan every face uses (``plan``, ``validate``, ``sync``, ``notify``, feeds,
dashboard): same sessions, same marks, same statuses everywhere. It holds three things:

- each session's milestones — only those that apply (a rule whose ``condition`` does not hold is
  set apart in :attr:`Planning.not_applicable` with its French reason, for ``plan`` to show as
  « sans objet »; nothing else sees it);
- the *yearly centre milestones* (rules with a ``fixed`` anchor, such as the annual programming
  « avant le 31 janvier »): one per centre and calendar year of its sessions that are not
  cancelled, in :attr:`Planning.centre_milestones`, never one per session. Such a milestone is
  done when it is marked done for any session of that centre starting that year (or under its
  owner key, :func:`centre_owner`);
- the sessions whose planning failed.

Words: every planned rule has its placeholders filled for its session and centre and its
sources titled (:func:`syncsvc.core.words.filled`), so every face shows the centre's own service
and addresses.

Cancelled and postponed sessions: every milestone of a cancelled session has the status
``cancelled`` (its done day kept), whatever its date: nothing of it is due any more. A milestone
whose rule is ``redo_on_postpone``, marked done before the session's latest postponement, is
« à refaire » (:attr:`~syncsvc.core.model.Milestone.redo_of`): not done, its status counted from
its new due day, until marked done again on or after the postponement day.

Working days: the due day moves by the rule's ``shift``; an after-event rule (counted forward
from the end, a PV validated…) is never due before its event — a ``previous`` shift that would
cross it becomes the next working day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from syncsvc.core.clock import Now, local_today
from syncsvc.core.config import Config
from syncsvc.core.dates import add_offset, working_days
from syncsvc.core.exam_days import exam_days
from syncsvc.core.model import Centre, Milestone, Session, Status
from syncsvc.core.rules import Rule, Ruleset
from syncsvc.core.rules.applicability import why_not
from syncsvc.core.words import filled, filler, words_for

DEFAULT_DUE_SOON_DAYS = 7
"""Window for a rule without reminder days: due soon a week before."""


def anchor_date(rule: Rule, session: Session) -> date | None:
    """The day ``rule`` counts from, or None when the session does not give it (yet) or the
    rule is a yearly centre milestone (see :func:`plan_centre_year`)."""
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
        case "postponed_on":
            return session.postponed_on
        case "fixed":
            return None
    raise AssertionError(rule.anchor)


def due_day(rule: Rule, anchor: date, centre: Centre, *, transport: bool) -> tuple[date, date]:
    """(due, unshifted): the computed day, moved to a working day by the rule's shift; an
    after-event rule never lands before its event (the next working day instead)."""
    unshifted = add_offset(anchor, rule.offset_for(transport=transport))
    if not centre.working_day_shift:
        return unshifted, unshifted
    calendar = working_days(centre.holiday_zone)
    due = calendar.shift(unshifted, rule.shift)
    if due < anchor and rule.after_event:
        due = calendar.shift(unshifted, "next")
    return due, unshifted


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


def redo_split(
    rule: Rule, session: Session, done_on: date | None
) -> tuple[date | None, date | None]:
    """(done_on, redo_of): a mark made before the session's latest postponement on a rule whose
    meaning depended on the old dates no longer counts (it becomes ``redo_of``)."""
    postponed_on = session.postponed_on
    if (
        done_on is not None
        and postponed_on is not None
        and rule.redo_on_postpone
        and done_on < postponed_on
    ):
        return None, done_on
    return done_on, None


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


@dataclass(frozen=True, slots=True)
class NotApplicable:
    """A milestone of a session whose ``condition`` does not hold: not planned, with why."""

    session_id: str
    rule: Rule
    reason: str
    """French, e.g. « l'agrément du centre pour TP-01280 court jusqu'au 31/03/2028… »."""
    due: date | None = None
    """The day it would have been due (None when its anchor is not known yet)."""

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def title(self) -> str:
        return self.rule.title


def _marks(session: Session, done: Mapping[str, date] | None) -> dict[str, date]:
    return {**implicit_marks(session), **session.done, **(done or {})}


def plan_session(
    session: Session,
    centre: Centre,
    ruleset: Ruleset,
    now: Now,
    done: Mapping[str, date] | None = None,
) -> list[Milestone]:
    """Every milestone of ``session`` that applies and whose anchor is known, in due order
    (the ones that do not apply are :func:`not_applicable`).

    ``done`` maps milestone ids to the day they were marked done (the store's marks); marks
    written in the session file count too.
    """
    return plan_one(session, centre, ruleset, now, done)[0]


def not_applicable(
    session: Session,
    centre: Centre,
    ruleset: Ruleset,
    done: Mapping[str, date] | None = None,
) -> list[NotApplicable]:
    """The milestones of ``session`` whose condition does not hold, each with its reason and
    the day it would have been due."""
    marks = _marks(session, done)
    fill = filler(words_for(centre, session), ruleset.sources)
    apart = []
    for rule in ruleset.rules:
        reason = None if rule.yearly else why_not(rule, session, centre, marks, ruleset)
        if reason is not None:
            apart.append(_set_apart(rule, session, centre, reason, fill))
    return apart


def _set_apart(
    rule: Rule, session: Session, centre: Centre, reason: str, fill: Callable[[Rule], Rule]
) -> NotApplicable:
    anchor = anchor_date(rule, session)
    transport = session.title.transport
    due = None if anchor is None else due_day(rule, anchor, centre, transport=transport)[0]
    return NotApplicable(session.id, fill(rule), reason, due)


def plan_one(
    session: Session,
    centre: Centre,
    ruleset: Ruleset,
    now: Now,
    done: Mapping[str, date] | None,
) -> tuple[list[Milestone], list[NotApplicable]]:
    """(:func:`plan_session`, :func:`not_applicable`) in one pass over the rules, each rule's
    condition decided once: what :func:`plan_sessions` plans each session with."""
    today = local_today(now, centre.tz)
    marks = _marks(session, done)
    transport = session.title.transport
    fill = filler(words_for(centre, session), ruleset.sources)
    milestones: list[Milestone] = []
    apart: list[NotApplicable] = []
    for rule in ruleset.rules:
        if rule.yearly:  # a centre's, never a session's (its anchor is no session's day)
            continue
        reason = why_not(rule, session, centre, marks, ruleset)
        if reason is not None:
            apart.append(_set_apart(rule, session, centre, reason, fill))
            continue
        anchor = anchor_date(rule, session)
        if anchor is None:
            continue
        due, unshifted = due_day(rule, anchor, centre, transport=transport)
        rule = fill(rule)
        is_session = rule.id == "exam_session"
        last_day = session.end if is_session else due
        starts_at = ends_at = None
        if is_session:  # from the first day's start to the last day's end, when known
            days = exam_days(session, centre)
            starts_at, ends_at = days[0].starts_at, days[-1].ends_at
        done_on, redo_of = redo_split(rule, session, marks.get(rule.id))
        status = status_of(rule, due, last_day, today, done_on)
        milestones.append(
            Milestone(
                session_id=session.id,
                rule=rule,
                due=due,
                unshifted=unshifted,
                status="cancelled" if session.cancelled else status,
                done_on=done_on,
                starts_at=starts_at,
                ends_at=ends_at,
                ends_on=last_day,
                redo_of=redo_of,
            )
        )
    order = _order(ruleset)
    milestones.sort(key=lambda m: (m.due, order[m.id]))
    return milestones, apart


_ORDERS: dict[int, tuple[Ruleset, dict[str, int]]] = {}
"""Each ruleset's rule positions, by the ruleset's identity (the entry holds the ruleset, so
its id cannot be reused while the entry lives)."""


def _order(ruleset: Ruleset) -> dict[str, int]:
    hit = _ORDERS.get(id(ruleset))
    if hit is not None and hit[0] is ruleset:
        return hit[1]
    if len(_ORDERS) >= 64:
        _ORDERS.clear()
    order = {rule_id: index for index, rule_id in enumerate(ruleset.ids)}
    _ORDERS[id(ruleset)] = (ruleset, order)
    return order


Marks = Mapping[str, Mapping[str, date]]
"""Done days by session id (or a centre's owner key), then milestone id (the store's marks)."""


def centre_owner(centre_id: str, year: int) -> str:
    """The owner of a centre's yearly items, where a session id goes for a session's (the store,
    the calendars' X-SYNCSVC-SESSION marker, reminder keys): ``centre:<centre>:<year>``. The
    colon keeps it apart from every session id."""
    return f"centre:{centre_id}:{year}"


def is_centre_owner(owner: str) -> bool:
    """Whether an item's owner (a session id, or :func:`centre_owner`) is a centre year."""
    return owner.startswith("centre:")


@dataclass(frozen=True, slots=True)
class CentreMilestone:
    """A yearly milestone of a centre (one per centre and year), tied to no session."""

    centre: Centre
    year: int
    milestone: Milestone
    """Its ``session_id`` is the owner key (:func:`centre_owner`)."""

    @property
    def owner(self) -> str:
        return self.milestone.session_id


def plan_centre_year(
    centre: Centre, year: int, ruleset: Ruleset, now: Now, done: Mapping[str, date]
) -> list[Milestone]:
    """The yearly milestones of ``centre`` for ``year``: each ``fixed`` rule's day of that
    year, moved by its offset and shift. ``done``: marks by milestone id."""
    today = local_today(now, centre.tz)
    owner = centre_owner(centre.id, year)
    words = words_for(centre)
    milestones = []
    for rule in ruleset.rules:
        if not rule.yearly:
            continue
        assert rule.fixed_date is not None
        anchor = _clamped(year, rule.fixed_date.month, rule.fixed_date.day)
        due, unshifted = due_day(rule, anchor, centre, transport=False)
        done_on = done.get(rule.id)
        milestones.append(
            Milestone(
                session_id=owner,
                rule=filled(rule, words, ruleset.sources),
                due=due,
                unshifted=unshifted,
                status=status_of(rule, due, due, today, done_on),
                done_on=done_on,
                ends_on=due,
            )
        )
    return milestones


class Planned(NamedTuple):
    """One session with its centre and its milestones, as planned at one moment."""

    session: Session
    centre: Centre
    milestones: list[Milestone]


@dataclass
class Planning:
    """Every session planned at one moment, the centres' yearly milestones, and what failed."""

    planned: list[Planned] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """Session id -> a French reason. Such a session is kept as it is everywhere (protected),
    exactly like a session whose file fails to load: one session never stops the others."""
    not_applicable: dict[str, list[NotApplicable]] = field(default_factory=dict)
    """Session id -> its milestones that do not apply (for ``plan`` to show, nothing else)."""
    centre_milestones: list[CentreMilestone] = field(default_factory=list)
    """The yearly milestones of each centre, for the years of its sessions, by due day."""
    centre_failed: dict[str, str] = field(default_factory=dict)
    """Owner key (:func:`centre_owner`) -> a French reason: its items are kept as they are."""


def session_order(config: Config) -> list[Session]:
    """The loaded sessions in the plan's order: by start date, then id."""
    return sorted(config.sessions.values(), key=lambda s: (s.start, s.id))


def plan_sessions(
    config: Config,
    marks: Marks,
    now: Now,
    sessions: Sequence[Session] | None = None,
    *,
    centres: bool = True,
) -> Planning:
    """Every loaded session with its milestones, by start date then id, and the centres' yearly
    milestones; a session (or centre year) whose planning raises is set apart.

    ``sessions``: only these, in this order (a part of :func:`session_order`, for a command
    that shares the work between two processes); ``centres=False``: without the centres'
    yearly milestones (the other part has them)."""
    planning = Planning()
    for session in session_order(config) if sessions is None else sessions:
        centre = config.centres[session.centre]
        try:
            ruleset, done = config.rulesets[centre.id], marks.get(session.id)
            milestones, apart = plan_one(session, centre, ruleset, now, done)
        except Exception as exc:  # the bulkhead: this session only
            planning.failed[session.id] = f"calcul des échéances impossible ({type(exc).__name__})"
            continue
        planning.planned.append(Planned(session, centre, milestones))
        if apart:
            planning.not_applicable[session.id] = apart
    if centres:
        _plan_centre_years(config, marks, now, planning)
    return planning


def centre_year_share(session: Session) -> str:
    """What ``session`` gives its centre's yearly milestones (:func:`_plan_centre_years`):
    its centre, the year it starts, whether it is cancelled, the done marks of its file. Two
    versions of a session file with the same share leave every centre year as it was (with
    the same store marks); keep it in step with :func:`_plan_centre_years` and
    :func:`_year_marks`."""
    marks = sorted(implicit_marks(session).items()), sorted(session.done.items())
    return repr((session.centre, session.start.year, session.cancelled, marks))


def _plan_centre_years(config: Config, marks: Marks, now: Now, planning: Planning) -> None:
    years: dict[tuple[str, int], list[Session]] = {}
    for session in config.sessions.values():
        if not session.cancelled and session.centre in config.centres:
            years.setdefault((session.centre, session.start.year), []).append(session)
    found = []
    for (centre_id, year), sessions in sorted(years.items()):
        centre = config.centres[centre_id]
        owner = centre_owner(centre_id, year)
        try:
            done = _year_marks(sessions, marks, owner)
            milestones = plan_centre_year(centre, year, config.rulesets[centre_id], now, done)
        except Exception as exc:  # the bulkhead: this centre year only
            reason = f"calcul des échéances annuelles impossible ({type(exc).__name__})"
            planning.centre_failed[owner] = reason
            continue
        found += [CentreMilestone(centre, year, m) for m in milestones]
    planning.centre_milestones = sorted(
        found, key=lambda c: (c.milestone.due, c.owner, c.milestone.id)
    )


def _year_marks(sessions: list[Session], marks: Marks, owner: str) -> dict[str, date]:
    """The earliest day each milestone was marked done for a centre year: under its owner key,
    or for any of its sessions (in the store or in the session file)."""
    found: dict[str, date] = {}
    sources: list[Mapping[str, date]] = [marks.get(owner, {})]
    for session in sessions:
        sources += [implicit_marks(session), session.done, marks.get(session.id, {})]
    for source in sources:
        for milestone_id, day in source.items():
            if milestone_id not in found or day < found[milestone_id]:
                found[milestone_id] = day
    return found


def plan_all(config: Config, marks: Marks, now: Now) -> list[Planned]:
    """The planned sessions of :func:`plan_sessions` (for faces that only show them)."""
    return plan_sessions(config, marks, now).planned
