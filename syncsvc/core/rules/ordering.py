"""Ordering constraints between rules (``after: [ids]``), proved for every session (pure).

``after`` says a milestone is never due before another one: the DTE is ordered in CERES, on a
session already created (``dte_order`` after ``ceres_session_create``); « Pli reçu ? Sinon
contacter… » asks once the pli was expected (``dte_reception_check`` after ``dte_reception``).

A constraint is checked on the rules, not on one session: it must hold whatever the session's
dates, its title (transport or not), the centre's holiday zone and whether the centre shifts
to working days. That is provable when both rules count from the same anchor in the same unit,
the follower's offset is not smaller, and the working-day shifts cannot swap them:

- the same policy on both sides is monotone (moving both days to the previous, or both to the
  next, working day keeps their order); so are *previous* before *none* or *next*, and *none*
  before *next*; an after-event rule shifted to the previous working day is *guarded* (never
  before its event, else the next working day), which keeps it monotone with itself, after a
  plain *previous* and before a *next*;
- any other pair holds only when the follower's earliest possible day (its offset, minus the
  longest shift for *previous*, and never before the event for a guarded rule) is not before
  the leader's latest possible day (its offset, plus the longest shift for *next* or guarded).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from syncsvc.core.rules.ruleset import Offset, Rule

SHIFT_REACH_DAYS = 5
"""The longest run of non-working days a shift can cross (``syncsvc.core.dates.MAX_SHIFT_DAYS``,
checked equal by the tests; this package may not import the calendar)."""

Policy = Literal["previous", "guarded", "none", "next"]
_MONOTONE: frozenset[tuple[Policy, Policy]] = frozenset(
    {
        ("previous", "previous"),
        ("guarded", "guarded"),
        ("none", "none"),
        ("next", "next"),
        ("previous", "none"),
        ("previous", "next"),
        ("none", "next"),
        ("previous", "guarded"),
        ("guarded", "next"),
    }
)
"""(leader, follower) shift policies that never swap two ordered days."""


def policy(rule: Rule) -> Policy:
    """The rule's shift as the order sees it (``guarded``: previous, never before its event)."""
    if rule.shift == "previous" and rule.after_event:
        return "guarded"
    return rule.shift


def _earliest(rule: Rule, offset: Offset) -> int:
    kind = policy(rule)
    if kind == "previous":
        return offset.amount - SHIFT_REACH_DAYS
    if kind == "guarded":
        return max(offset.amount - SHIFT_REACH_DAYS, 0)
    return offset.amount


def _latest(rule: Rule, offset: Offset) -> int:
    return offset.amount + (SHIFT_REACH_DAYS if policy(rule) in ("next", "guarded") else 0)


def unordered(leader: Rule, follower: Rule) -> str | None:
    """Why ``follower`` could be due before ``leader`` for some session (French), or None."""
    if leader.anchor != follower.anchor or leader.yearly:
        return (
            f"« {follower.id} » compte depuis {follower.anchor} et « {leader.id} » depuis "
            f"{leader.anchor} : leur ordre ne peut pas être garanti"
        )
    for transport in (False, True):
        lead, follow = (
            leader.offset_for(transport=transport),
            follower.offset_for(transport=transport),
        )
        if lead.unit != follow.unit:
            return (
                f"« {follower.id} » ({follow}) et « {leader.id} » ({lead}) ne comptent pas dans "
                "la même unité : leur ordre ne peut pas être garanti"
            )
        if follow.amount < lead.amount:
            return f"« {follower.id} » ({follow}) tomberait avant « {leader.id} » ({lead})"
        if (policy(leader), policy(follower)) in _MONOTONE:
            continue
        if lead.unit == "d" and _earliest(follower, follow) >= _latest(leader, lead):
            continue
        return (
            f"le report au jour ouvré ({leader.shift} pour « {leader.id} », {follower.shift} pour "
            f"« {follower.id} ») pourrait placer « {follower.id} » avant « {leader.id} »"
        )
    return None


def reference_problems(rules: Iterable[Rule]) -> list[tuple[str, str]]:
    """(rule id, French message) for each rule id named by ``after`` or ``not_done`` that the
    ruleset does not hold."""
    rules = list(rules)
    known = {rule.id for rule in rules}
    problems = []
    for rule in rules:
        named = [*rule.after, *([rule.condition.not_done] if rule.condition else [])]
        for other in named:
            if other is not None and other not in known:
                problems.append(
                    (
                        rule.id,
                        f"règle « {other} » inconnue (attendu : une de {', '.join(sorted(known))})",
                    )
                )
    return problems


def order_problems(rules: Iterable[Rule]) -> list[tuple[str, str]]:
    """(rule id, French message) for each ``after`` constraint that could fail (rules it names
    that are absent are left out: a disabled rule constrains nothing)."""
    by_id = {rule.id: rule for rule in rules}
    problems = []
    for rule in by_id.values():
        for leader_id in rule.after:
            leader = by_id.get(leader_id)
            why = None if leader is None else unordered(leader, rule)
            if why is not None:
                problems.append((rule.id, f"after: {leader_id} : {why}"))
    return problems
