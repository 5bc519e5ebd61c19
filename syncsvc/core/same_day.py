"""Milestones of one session due the same day, as one calendar event (pure).

A target with ``group_same_day = true`` (events only) shows the deadlines of one session that
fall on the same day as one all-day event, « J-92 · CERES + DTE + Déclaration UD — SA
St-André », whose description lists them one after the other with their status.

Identity: the group's UID is the UID of its *leader*, the first of its milestones in the
ruleset's order (``<session>.<leader>@syncsvc``), so an event keeps its UID for as long as its
leader is due that day. When a milestone leaves the group (a centre's override moves it, it no
longer applies), it gets back its own UID; when one joins, its own item is deleted and the
leader's is updated — the reconciler's ordinary create, update and delete, never a duplicate:
each milestone is in exactly one item at any time. Tasks are never grouped (a task is one thing
to tick), nor the exam (a timed event with the jury).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from syncsvc.core.entries import EXAM, Entry, as_cancelled, description_for, uid_for
from syncsvc.core.labels import STATUS_LABELS
from syncsvc.core.model import Centre, Milestone, Session, Status
from syncsvc.core.titles import session_name, short_label, title_for

SEPARATOR = "—" * 24


def groupable(milestone: Milestone) -> bool:
    """A deadline of one day (not the exam, not a multi-day or timed item)."""
    return (
        milestone.id != EXAM
        and milestone.starts_at is None
        and (milestone.ends_on is None or milestone.ends_on == milestone.due)
    )


def same_day_groups(milestones: Sequence[Milestone]) -> list[tuple[Milestone, ...]]:
    """``milestones`` (of one session, in the planner's order) in groups: the groupable ones by
    due day, every other alone; the leader of a group is its first."""
    groups: dict[date | str, list[Milestone]] = {}
    for milestone in milestones:
        key: date | str = milestone.due if groupable(milestone) else milestone.id
        groups.setdefault(key, []).append(milestone)
    return [tuple(g) for g in groups.values()]


def group_status(milestones: Sequence[Milestone]) -> Status:
    """Overdue when one is, done when all are, due soon when one is, else pending."""
    statuses = {m.status for m in milestones}
    if "cancelled" in statuses:
        return "cancelled"
    if "overdue" in statuses:
        return "overdue"
    if statuses == {"done"}:
        return "done"
    return "due_soon" if "due_soon" in statuses else "pending"


def grouped_entry(
    session: Session,
    centre: Centre,
    milestones: Sequence[Milestone],
    dashboard_url: str | None = None,
) -> Entry:
    """One all-day event for several milestones of ``session`` due the same day."""
    leader = milestones[0]
    due = leader.due
    status = group_status(milestones)
    lines = ["Échéances de ce jour :"]
    lines += [f"- {m.title} ({STATUS_LABELS[m.status]})" for m in milestones]
    for m in milestones:
        lines += ["", f"{SEPARATOR} {short_label(m.rule)} {SEPARATOR}", ""]
        lines.append(description_for(session, m, None))
    if dashboard_url:
        lines += ["", f"Tableau de bord : {dashboard_url.rstrip('/')}/sessions/{session.id}"]
    warned = [m.rule.reminders[0] for m in milestones if m.rule.reminders and m.status != "done"]
    done = [m.done_on for m in milestones]
    entry = Entry(
        uid=uid_for(session.id, leader.id),
        session_id=session.id,
        milestone_id=leader.id,
        summary=title_for(milestones, session_name(session, centre), session.title.transport),
        description="\n".join(lines),
        kind="regulatory" if any(m.kind == "regulatory" for m in milestones) else "advice",
        status=status,
        tracked=any(m.rule.tracked for m in milestones),
        task=False,
        start=due,
        end=due + timedelta(days=1),
        done_on=max(d for d in done if d is not None) if None not in done else None,
        alarm_days=max(warned) if warned else None,
    )
    return as_cancelled(entry, session)
