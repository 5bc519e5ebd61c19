"""Calendar titles a month view can scan (pure): « J-92 · CERES + DTE — SA St-André ».

A title has three parts:

- *when*, counted from the rule's anchor with the rule's own offset (the regulatory figure
  people know, « J-92 », whatever working-day shift moved the day): ``J-92`` and ``J-8 mois``
  before the session, ``Fin+5`` after its last day, ``PV validé``, ``Parchemins+2 mois``,
  ``Fin de formation+12 mois``, or the day of the year of a yearly milestone (``30/01``); the
  exam itself has none;
- *what*: the rule's ``short`` label (its title when it has none), several joined by « + » when
  milestones of the same day share one event;
- *whose*: the session's short name, its title's acronym and its site (``SA St-André``, ``CCP AC
  St-André``), or the centre's site for a yearly milestone.

It starts with ✓ when done, ⚠ when overdue, ↻ when to redo after a postponement.
"""

from __future__ import annotations

from collections.abc import Sequence

from syncsvc.core.model import Centre, Milestone, Session
from syncsvc.core.rules import Offset, Rule

STATUS_MARKS = {"done": "✓ ", "overdue": "⚠ ", "redo": "↻ "}
ANCHOR_WORDS = {
    "start": "J",
    "end": "Fin",
    "pv_validated_on": "PV validé",
    "parchemins_received_on": "Parchemins",
    "training_end": "Fin de formation",
    "postponed_on": "Report",
}


def _distance(offset: Offset) -> str:
    if offset.amount == 0:
        return ""
    return f"{offset.amount:+d}" + (" mois" if offset.unit == "mo" else "")


def when_label(rule: Rule, transport: bool = False) -> str:
    """``J-92``, ``Fin+5``, ``30/01``; empty for the exam itself."""
    if rule.id == "exam_session":
        return ""
    if rule.fixed_date is not None:
        return f"{rule.fixed_date.day:02d}/{rule.fixed_date.month:02d}"
    return ANCHOR_WORDS[rule.anchor] + _distance(rule.offset_for(transport=transport))


def short_label(rule: Rule) -> str:
    return rule.short or rule.title


def session_name(session: Session, centre: Centre) -> str:
    """``SA St-André``; ``CCP AC St-André`` for a CCP session."""
    nature = {"ccp": "CCP ", "ccs": "CCS "}.get(session.nature, "")
    return f"{nature}{session.title.acronym} {centre.short_name}"


def mark_of(milestones: Sequence[Milestone]) -> str:
    """✓ when every tracked milestone is done, ⚠ when one is overdue, ↻ when one is to redo
    (done before the session was postponed)."""
    tracked = [m for m in milestones if m.rule.tracked]
    if not tracked:
        return ""
    if any(m.status == "overdue" for m in tracked):
        return STATUS_MARKS["overdue"]
    if any(m.redo for m in tracked):
        return STATUS_MARKS["redo"]
    return STATUS_MARKS["done"] if all(m.status == "done" for m in tracked) else ""


def _mark_of_one(milestone: Milestone) -> str:
    """:func:`mark_of` for a single milestone (the common case, without lists)."""
    if not milestone.rule.tracked:
        return ""
    if milestone.status == "overdue":
        return STATUS_MARKS["overdue"]
    if milestone.redo_of is not None:
        return STATUS_MARKS["redo"]
    return STATUS_MARKS["done"] if milestone.status == "done" else ""


def title_for(milestones: Sequence[Milestone], whose: str, transport: bool = False) -> str:
    """The title of one calendar item holding ``milestones`` (one, or several of one day)."""
    if len(milestones) == 1:  # most items: the same title, built without the joins
        rule = milestones[0].rule
        when = when_label(rule, transport)
        what = rule.short or rule.title
        return f"{_mark_of_one(milestones[0])}{when + ' · ' if when else ''}{what} — {whose}"
    whens = list(dict.fromkeys(when_label(m.rule, transport) for m in milestones))
    what = " + ".join(dict.fromkeys(short_label(m.rule) for m in milestones))
    when = ", ".join(w for w in whens if w)
    return f"{mark_of(milestones)}{when + ' · ' if when else ''}{what} — {whose}"
