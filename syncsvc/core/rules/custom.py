"""A centre's customisation of a ruleset: overrides, disabled rules, extra rules (pure).

Every change is checked, and a refused one is left out with a French problem (the shipped value
stays), so a mistake never makes a regulatory deadline later nor breaks an ordering constraint
(``after``, see :mod:`.ordering`):

- a regulatory offset may move to the safe side only (earlier for a deadline, later for a
  minimum duration);
- an override that moves a milestone earlier moves the milestones it must follow earlier by the
  same number of days, when they would otherwise come after it (``dte_order: -100d`` moves
  ``ceres_session_create`` from -92d to -100d: the DTE is ordered on the session in CERES);
  when that is impossible — the milestone to move is set by the centre itself, counts in another
  unit, or is a minimum duration — the override is refused, naming the constraint;
- an extra rule may name shipped or extra rules in ``after`` and ``condition.not_done``; one
  that names an unknown rule or could break its order is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from syncsvc.core.rules.ordering import unordered
from syncsvc.core.rules.ruleset import CentreRules, Offset, Rule, RuleOverride, Ruleset

RuleProblem = tuple[str, str]
"""(field path relative to the centre's ``rules`` key, French message)."""


def _no_less_margin(
    override: Offset, regulatory: Offset, later_is_safe: bool, path: str
) -> RuleProblem | None:
    """A regulatory offset may move to the safe side only: earlier for a deadline, later for a
    minimum duration (a rule shifted to the *next* working day, such as archive retention)."""
    if override.unit != regulatory.unit:
        return (
            path,
            f"unité différente de la règle réglementaire {regulatory} "
            f"(attendu : un décalage en {regulatory.unit})",
        )
    if later_is_safe and override.amount < regulatory.amount:
        return (
            path,
            f"{override} raccourcit la durée réglementaire {regulatory} : on peut l'allonger, "
            f"jamais la réduire (attendu : {regulatory} ou plus)",
        )
    if not later_is_safe and override.amount > regulatory.amount:
        return (
            path,
            f"{override} est plus tardif que la valeur réglementaire {regulatory} : on peut "
            f"ajouter de la marge, jamais en retirer (attendu : {regulatory} ou plus tôt)",
        )
    return None


@dataclass
class _Draft:
    """One round of customisation: the rules, what the centre set, and by how much."""

    rules: dict[str, Rule] = field(default_factory=dict)
    problems: list[RuleProblem] = field(default_factory=list)
    moved: dict[str, int] = field(default_factory=dict)
    """Rule id -> days (of its own unit) the offset moved by, when it moved."""
    set_by_centre: set[str] = field(default_factory=set)
    """Rules whose dates the centre wrote itself (an accepted offset override, an extra)."""


def customise(ruleset: Ruleset, custom: CentreRules) -> tuple[Ruleset, list[RuleProblem]]:
    """Apply a centre's overrides, disabled rules and extra rules to ``ruleset``.

    Returns the customised ruleset and the problems found. An ordering conflict refuses one
    change and the customisation starts again without it, until every constraint holds.
    """
    refused: dict[str, RuleProblem] = {}
    for _ in range(len(custom.overrides) + len(custom.extra) + 1):
        draft = _draft(ruleset, custom, frozenset(refused))
        conflict = _keep_order(draft, custom)
        if conflict is None:
            rules = tuple(draft.rules.values())
            problems = draft.problems + list(refused.values())
            return ruleset.model_copy(update={"rules": rules}), problems
        key, problem = conflict
        refused[key] = problem
    raise AssertionError("each round refuses one more change")  # pragma: no cover


def _draft(ruleset: Ruleset, custom: CentreRules, refused: frozenset[str]) -> _Draft:
    draft = _Draft()
    known = {rule.id: rule for rule in ruleset.rules}
    choices = ", ".join(known)
    for rule_id in [*custom.overrides, *custom.disable]:
        if rule_id not in known:
            where = "overrides" if rule_id in custom.overrides else "disable"
            draft.problems.append(
                (f"{where}.{rule_id}", f"règle inconnue (attendu : une de {choices})")
            )
    for rule in ruleset.rules:
        if rule.id in custom.disable:
            if rule.kind == "advice":
                continue
            draft.problems.append(
                (
                    "disable",
                    f"« {rule.id} » est réglementaire et ne peut pas être désactivée "
                    "(attendu : une règle de type conseil)",
                )
            )
        override = custom.overrides.get(rule.id)
        if override is not None:
            rule = _apply_override(
                rule, override, draft, dates=f"override:{rule.id}" not in refused
            )
        draft.rules[rule.id] = rule
    _add_extras(ruleset, custom, refused, draft)
    return draft


def _add_extras(
    ruleset: Ruleset, custom: CentreRules, refused: frozenset[str], draft: _Draft
) -> None:
    names = {*ruleset.ids, *(extra.id for extra in custom.extra)}
    for index, extra in enumerate(custom.extra, start=1):
        if extra.id in ruleset.ids:
            draft.problems.append(
                (
                    f"extra[{index}].id",
                    f"« {extra.id} » existe déjà dans le jeu {ruleset.version} "
                    "(attendu : un identifiant nouveau, ou overrides pour modifier la règle)",
                )
            )
            continue
        named = [*extra.after, *([extra.condition.not_done] if extra.condition else [])]
        unknown = [rule_id for rule_id in named if rule_id is not None and rule_id not in names]
        if unknown:
            draft.problems.append(
                (
                    f"extra[{index}]",
                    f"« {extra.id} » nomme la règle « {unknown[0]} », inconnue "
                    f"(attendu : une de {', '.join(sorted(names))})",
                )
            )
            continue
        if f"extra:{index}" not in refused:
            draft.rules[extra.id] = extra
            draft.set_by_centre.add(extra.id)


def _apply_override(rule: Rule, override: RuleOverride, draft: _Draft, *, dates: bool) -> Rule:
    """``rule`` with the override's accepted changes (its dates only when ``dates``: an
    override refused for the order keeps its reminder days)."""
    changes: dict[str, Any] = {}
    for name in ("offset", "transport_offset") if dates else ():
        new: Offset | None = getattr(override, name)
        if new is None:
            continue
        current: Offset | None = getattr(rule, name) or rule.offset
        assert current is not None
        problem = (
            _no_less_margin(new, current, rule.shift == "next", f"overrides.{rule.id}.{name}")
            if rule.kind == "regulatory"
            else None
        )
        if problem is None:
            changes[name] = new
            draft.set_by_centre.add(rule.id)
            if name == "offset" and new.unit == rule.offset.unit:
                draft.moved[rule.id] = new.amount - rule.offset.amount
        else:
            draft.problems.append(problem)
    if override.reminders is not None:
        changes["reminders"] = tuple(sorted(set(override.reminders), reverse=True))
    return rule.model_copy(update=changes) if changes else rule


def _broken(rules: dict[str, Rule]) -> tuple[Rule, Rule, str] | None:
    """The first (leader, follower, why) whose order could fail."""
    for follower in rules.values():
        for leader_id in follower.after:
            leader = rules.get(leader_id)
            why = None if leader is None else unordered(leader, follower)
            if leader is not None and why is not None:
                return leader, follower, why
    return None


def _keep_order(draft: _Draft, custom: CentreRules) -> tuple[str, RuleProblem] | None:
    """Move leaders earlier with their followers (same margin) until every constraint holds;
    the change to refuse (key, problem) when one cannot be kept."""
    original = dict(draft.rules)
    for _ in range(4 * len(draft.rules) + 1):
        broken = _broken(draft.rules)
        if broken is None:
            return None
        leader, follower, why = broken
        delta = draft.moved.get(follower.id)
        if delta is not None and delta < 0 and leader.id not in draft.set_by_centre:
            moved = _moved_with(original[leader.id], delta, follower.offset.unit)
            if moved is not None and unordered(moved, follower) is None:
                draft.rules[leader.id] = moved
                draft.moved[leader.id] = delta
                continue
        return _refusal(leader, follower, why, draft, custom)
    return _refusal(leader, follower, why, draft, custom)  # pragma: no cover


def _moved_with(leader: Rule, delta: int, unit: str) -> Rule | None:
    """``leader`` moved ``delta`` days earlier, or None when it cannot move: another unit, a
    minimum duration (regulatory, shifted forward), a yearly milestone."""
    if leader.offset.unit != unit or leader.yearly:
        return None
    if leader.kind == "regulatory" and leader.shift == "next":
        return None
    changes: dict[str, Any] = {"offset": leader.offset.moved(delta)}
    if leader.transport_offset is not None:
        if leader.transport_offset.unit != unit:
            return None
        changes["transport_offset"] = leader.transport_offset.moved(delta)
    return leader.model_copy(update=changes)


def _refusal(
    leader: Rule, follower: Rule, why: str, draft: _Draft, custom: CentreRules
) -> tuple[str, RuleProblem]:
    """The centre's change that breaks ``leader`` ≤ ``follower``, and its French problem."""
    for index, extra in enumerate(custom.extra, start=1):
        if extra.id in (follower.id, leader.id) and extra.id in draft.set_by_centre:
            return f"extra:{index}", (
                f"extra[{index}]",
                f"« {extra.id} » : « {follower.title} » doit venir après « {leader.title} » "
                f"(after: {leader.id}) : {why} (attendu : des décalages qui gardent cet ordre)",
            )
    if follower.id in custom.overrides and follower.id in draft.set_by_centre:
        culprit, other, verb = follower, leader, "avant"
        hint = f"pas avant {other.offset}, ou « {other.id} » avancée d'autant dans overrides"
    elif leader.id in custom.overrides and leader.id in draft.set_by_centre:
        culprit, other, verb = leader, follower, "après"
        hint = f"pas après {other.offset}"
    else:  # the follower was moved along by another override, that cannot go on moving
        origin = next(r for r in custom.overrides if r in draft.moved and r in draft.set_by_centre)
        override = custom.overrides[origin]
        name = "offset" if override.offset is not None else "transport_offset"
        return f"override:{origin}", (
            f"overrides.{origin}.{name}",
            f"{getattr(override, name)} avancerait d'autant « {follower.title} », qui doit la "
            f"précéder, mais « {follower.id} » doit venir après « {leader.id} » (after: "
            f"{leader.id} dans le jeu de règles), qui ne peut pas avancer : {why} (attendu : un "
            "décalage qui garde cet ordre)",
        )
    override = custom.overrides[culprit.id]
    name = "offset" if override.offset is not None else "transport_offset"
    set_here = ", réglée par le centre" if other.id in draft.set_by_centre else ""
    swapped = any(
        follower.offset_for(transport=t).amount < leader.offset_for(transport=t).amount
        for t in (False, True)
        if follower.offset_for(transport=t).unit == leader.offset_for(transport=t).unit
    )
    detail = "" if swapped else f" ; {why}"
    return f"override:{culprit.id}", (
        f"overrides.{culprit.id}.{name}",
        f"{getattr(override, name)} placerait « {culprit.title} » {verb} « {other.title} » "
        f"({other.offset}{set_here}), or « {follower.id} » doit venir après « {leader.id} » "
        f"(after: {leader.id} dans le jeu de règles){detail} (attendu : {hint})",
    )
