"""Rule and ruleset value types, and a centre's customisation of a ruleset (pure).

Vocabulary:

- *anchor*: the session date a rule counts from (``start``, ``end``, an event date such as
  ``pv_validated_on``, or a ``fixed`` day of the start's year).
- *offset*: signed calendar days (``-92d``) or calendar months (``+2mo``, clamped to month end).
- *shift*: what happens when the computed day is not a working day of the centre's holiday zone:
  ``previous`` (the safe side for a deadline), ``next`` (for minimum durations such as an
  archive retention period) or ``none``.
- *regulatory* rules come from the regulation (the seeds mark them "Réglementaire"); *advice*
  rules are good practice ("Conseil"). A centre may add margin to a regulatory rule, never remove
  it, and may disable advice rules only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_serializer,
    model_validator,
)

DEFAULT_RULESET = "tp-2025"

Kind = Literal["regulatory", "advice"]
Role = Literal["coordinators", "session_manager", "deputy_manager", "centre_management", "jury"]
Anchor = Literal[
    "start", "end", "fixed", "pv_validated_on", "parchemins_received_on", "training_end"
]
Shift = Literal["previous", "next", "none"]

RULE_ID_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
_OFFSET_RE = re.compile(r"^\s*([+-]?)\s*(\d{1,4})\s*(d|mo)\s*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offset(_Frozen):
    """A signed distance from an anchor, in calendar days (``d``) or months (``mo``)."""

    amount: int
    unit: Literal["d", "mo"]

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = _OFFSET_RE.match(value)
            if match is None:
                raise ValueError(
                    f"décalage « {value} » illisible (attendu : un nombre signé suivi de d "
                    "pour des jours ou mo pour des mois, ex. -92d ou +2mo)"
                )
            sign, digits, unit = match.groups()
            return {"amount": -int(digits) if sign == "-" else int(digits), "unit": unit}
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(
                f'décalage {value} sans unité (attendu : texte entre guillemets, ex. "{value:+d}d")'
            )
        return value

    @model_serializer
    def _to_str(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return f"{self.amount:+d}{self.unit}" if self.amount else f"0{self.unit}"


class FixedDate(_Frozen):
    """A day of the year (of the session's start), e.g. 30 January."""

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class RuleSource(_Frozen):
    ref: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class Rule(_Frozen):
    """When one milestone is due, who acts, and where the rule comes from."""

    id: Annotated[str, Field(pattern=RULE_ID_PATTERN)]
    title: str = Field(min_length=3, max_length=120)
    kind: Kind
    audience: tuple[Role, ...] = Field(min_length=1)
    anchor: Anchor
    offset: Offset = Offset(amount=0, unit="d")
    fixed_date: FixedDate | None = None
    transport_offset: Offset | None = None
    shift: Shift = "previous"
    reminders: tuple[Annotated[int, Field(ge=0, le=400)], ...] = ()
    tracked: bool = True
    sources: tuple[RuleSource, ...] = ()
    note: str | None = None
    description: str = ""

    @field_validator("reminders")
    @classmethod
    def _descending(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(sorted(set(value), reverse=True))

    @model_validator(mode="after")
    def _fixed_date_iff_fixed_anchor(self) -> Rule:
        if self.anchor == "fixed" and self.fixed_date is None:
            raise ValueError("l'ancre « fixed » demande fixed_date (attendu : {month: 1, day: 30})")
        if self.anchor != "fixed" and self.fixed_date is not None:
            raise ValueError("fixed_date n'a de sens qu'avec anchor: fixed")
        return self

    def offset_for(self, *, transport: bool) -> Offset:
        if transport and self.transport_offset is not None:
            return self.transport_offset
        return self.offset


class Ruleset(_Frozen):
    """A versioned list of rules. Rule ids are unique."""

    version: str = Field(min_length=1)
    label: str = ""
    sources: dict[str, str] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids_and_known_sources(self) -> Ruleset:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"règle « {rule.id} » définie deux fois")
            seen.add(rule.id)
            for source in rule.sources:
                if self.sources and source.ref not in self.sources:
                    raise ValueError(
                        f"règle « {rule.id} » : source « {source.ref} » inconnue "
                        f"(attendu : une de {', '.join(sorted(self.sources))})"
                    )
        return self

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)


class RuleOverride(_Frozen):
    """A centre's change to one rule: an earlier offset, other reminder days."""

    offset: Offset | None = None
    transport_offset: Offset | None = None
    reminders: tuple[Annotated[int, Field(ge=0, le=400)], ...] | None = None


class CentreRules(_Frozen):
    """A centre's customisation of the ruleset (``rules:`` in centres.yaml)."""

    overrides: dict[str, RuleOverride] = Field(default_factory=dict)
    disable: tuple[str, ...] = ()
    extra: tuple[Rule, ...] = ()


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


def customise(ruleset: Ruleset, custom: CentreRules) -> tuple[Ruleset, list[RuleProblem]]:
    """Apply a centre's overrides, disabled rules and extra rules to ``ruleset``.

    Returns the customised ruleset and the problems found; a rejected change is left out (the
    regulatory value stays), so a mistake never makes a deadline later.
    """
    problems: list[RuleProblem] = []
    known = {rule.id: rule for rule in ruleset.rules}
    choices = ", ".join(known)

    for rule_id in [*custom.overrides, *custom.disable]:
        if rule_id not in known:
            where = "overrides" if rule_id in custom.overrides else "disable"
            problems.append((f"{where}.{rule_id}", f"règle inconnue (attendu : une de {choices})"))

    rules: list[Rule] = []
    for rule in ruleset.rules:
        if rule.id in custom.disable:
            if rule.kind == "regulatory":
                problems.append(
                    (
                        "disable",
                        f"« {rule.id} » est réglementaire et ne peut pas être désactivée "
                        "(attendu : une règle de type conseil)",
                    )
                )
            else:
                continue
        override = custom.overrides.get(rule.id)
        if override is not None:
            rule = _apply_override(rule, override, problems)
        rules.append(rule)

    for index, extra in enumerate(custom.extra, start=1):
        if extra.id in known:
            problems.append(
                (
                    f"extra[{index}].id",
                    f"« {extra.id} » existe déjà dans le jeu {ruleset.version} "
                    "(attendu : un identifiant nouveau, ou overrides pour modifier la règle)",
                )
            )
            continue
        rules.append(extra)

    return ruleset.model_copy(update={"rules": tuple(rules)}), problems


def _apply_override(rule: Rule, override: RuleOverride, problems: list[RuleProblem]) -> Rule:
    changes: dict[str, Any] = {}
    for name in ("offset", "transport_offset"):
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
        else:
            problems.append(problem)
    if override.reminders is not None:
        changes["reminders"] = tuple(sorted(set(override.reminders), reverse=True))
    return rule.model_copy(update=changes) if changes else rule


def parse_ruleset(data: Mapping[str, Any]) -> Ruleset:
    """Validate a ruleset from its parsed data (raises pydantic.ValidationError)."""
    return Ruleset.model_validate(data)
