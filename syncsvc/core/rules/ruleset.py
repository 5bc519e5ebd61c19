"""Rule and ruleset value types (pure); a centre's customisation is in :mod:`.custom`.

Vocabulary:

- *anchor*: the session date a rule counts from (``start``, ``end``, an event date such as
  ``pv_validated_on``), or a ``fixed`` day of the year. A rule with a ``fixed`` anchor is a
  *yearly centre milestone*: one per centre and calendar year of its sessions (« programmer les
  sessions de l'année N avant le 31 janvier »), never one per session.
- *offset*: signed calendar days (``-92d``) or calendar months (``+2mo``, clamped to month end).
- *shift*: what happens when the computed day is not a working day of the centre's holiday zone:
  ``previous`` (the safe side for a deadline counted *before* an event), ``next`` (for a step
  that follows an event, or a minimum duration such as an archive retention period) or ``none``
  (keep the day: the step happens during the session itself, with the jury). ``shift_reason``
  says why, in French, for each shipped rule.
- *after-event* rule: counted with a non-negative offset from an event that has happened by
  then (``end``, ``pv_validated_on``, ``parchemins_received_on``, ``training_end``). It is never
  due before that event: the planner rolls a ``previous`` shift that would cross the event
  forward to the next working day instead, and the model refuses ``shift: previous`` on such a
  rule unless ``shift_reason`` justifies it (a maximal delay, « sous 5 jours », where the day
  before still keeps the delay). Without ``shift``, such a rule shifts to the ``next`` working
  day, any other to the ``previous`` one.
- *regulatory* rules come from the regulation (the seeds mark them "Réglementaire"); *advice*
  rules are good practice ("Conseil"). A centre may add margin to a regulatory rule, never remove
  it, and may disable advice rules only.

Applicability — ``condition`` (a closed vocabulary; every part given must hold, each evaluated
by the planner from the session, its centre and the done marks, never from the clock). A rule
whose condition does not hold is *not applicable*: it is not planned (so never pushed, reminded
or alerted); the planner returns it apart with a French reason, and ``syncsvc plan`` shows it as
« sans objet ».

- ``agrement_missing: true`` — no agrément of the centre covers the session's title on the
  session's last day (same title code, ``until`` on or after ``end``; when both the session's
  ``title.version`` and the agrément's ``title_version`` are given, they must match too);
- ``not_done: <rule id>`` — the named milestone of the same session is not marked done;
- ``centre_enables: candidate_info_mail`` — the centre sets this option (``true``) in
  centres.yaml;
- ``postponed: true`` — the session was postponed (its file lists a ``postponed:`` entry).

Postponement — ``redo_on_postpone: true``: the milestone's meaning depends on the session's
dates (the UD told of them, candidates and jury convened for them). Marked done before the
session's latest postponement, it is « à refaire » (:attr:`~syncsvc.core.model.Milestone.redo_of`)
until marked done again on or after the postponement day. The ``postponed_on`` anchor is the day
of the latest postponement (an event: milestones counted from it follow it).

Order — ``after: [rule ids]``: this milestone is never due before any of the named ones, for
every session, holiday zone and working-day shift (same day allowed). A ruleset whose offsets or
shifts could break such a constraint is refused at load (:mod:`.ordering`). When a centre's
override moves a milestone earlier, the milestones it must follow move earlier by the same
number of days when they would otherwise come after it; when that is impossible (one of them is
set by the centre itself, counts in other units, or is a minimum duration), the override is
refused with a French message naming the constraint.
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

from syncsvc.core.rules.ordering import order_problems, reference_problems
from syncsvc.core.rules.words import TEXT_FIELDS, placeholder_problems

DEFAULT_RULESET = "tp-2025"

Kind = Literal["regulatory", "advice"]
Role = Literal["coordinators", "session_manager", "deputy_manager", "centre_management", "jury"]
Anchor = Literal[
    "start",
    "end",
    "fixed",
    "pv_validated_on",
    "parchemins_received_on",
    "training_end",
    "postponed_on",
]
Shift = Literal["previous", "next", "none"]
CentreOption = Literal["candidate_info_mail"]
"""Centre options (booleans of centres.yaml) a condition may name."""

AFTER_EVENT_ANCHORS = frozenset(
    {"end", "pv_validated_on", "parchemins_received_on", "training_end", "postponed_on"}
)
"""Anchors that are events a milestone counted from them follows (see *after-event* above)."""

RULE_ID_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
_OFFSET_RE = re.compile(r"^\s*([+-]?)\s*(\d{1,4})\s*(d|mo)\s*$")

RuleId = Annotated[str, Field(pattern=RULE_ID_PATTERN)]


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

    def moved(self, days: int) -> Offset:
        """This offset moved by ``days`` of its own unit."""
        return Offset(amount=self.amount + days, unit=self.unit)


class FixedDate(_Frozen):
    """A day of the year, e.g. 30 January."""

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class Source(_Frozen):
    """One entry of a ruleset's sources table: a document (the seeds) or a legal text.

    ``title`` is the document's own title, word for word (None when it has none: then
    ``about`` says what it is); ``issuer`` and ``date`` are what the document itself shows
    (None: not said — never guessed); ``note`` says what can be inferred and from what (« il
    nomme la Direccte : antérieur au 1er avril 2021 »), so that a reader of an old quote knows
    why it names a service by its old name.
    """

    kind: Literal["document", "legal"] = "document"
    title: str | None = Field(default=None, min_length=3, max_length=300)
    about: str | None = Field(default=None, min_length=3, max_length=300)
    issuer: str | None = Field(default=None, min_length=2, max_length=200)
    date: str | None = Field(default=None, min_length=4, max_length=100)
    note: str | None = Field(default=None, min_length=3, max_length=600)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """A bare text is a document that describes itself (``S9: "Note du centre"``)."""
        return {"about": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _named(self) -> Source:
        if self.title is None and self.about is None:
            raise ValueError("source sans titre ni description (attendu : title ou about)")
        if self.kind == "legal" and self.title is None:
            raise ValueError("texte réglementaire sans son titre exact (attendu : title)")
        return self

    @property
    def label(self) -> str:
        """How a reader identifies it: the full title, what it is, who issued it and when."""
        if self.kind == "legal":
            assert self.title is not None
            return self.title + (f" ({self.note})" if self.note else "")
        name = f"« {self.title} »" if self.title else ""
        if self.about:
            name = f"{name} — {self.about}" if name else self.about[:1].upper() + self.about[1:]
        facts = [self.issuer or "émetteur non indiqué", self.date or "non daté"]
        details = ", ".join(facts) + (f" ; {self.note}" if self.note else "")
        return f"{name} ({details})"


class RuleSource(_Frozen):
    """Where a rule comes from: a quote of a source of the table (verbatim, never filled), or a
    legal text's article (``article``, with or without a quote). ``title`` is the source's full
    label: the planner sets it from the ruleset's table; a centre's own rule may write it."""

    ref: str = Field(min_length=1)
    quote: str | None = Field(default=None, min_length=1)
    article: str | None = Field(default=None, min_length=1, max_length=120)
    title: str | None = Field(default=None, min_length=1, max_length=900)

    @model_validator(mode="after")
    def _something_cited(self) -> RuleSource:
        if self.quote is None and self.article is None:
            raise ValueError(
                f"source « {self.ref} » sans citation (attendu : quote, ou article pour un "
                "texte réglementaire)"
            )
        return self

    @property
    def name(self) -> str:
        """The source's full label, its reference when nothing better is known."""
        return self.title or self.ref


class Condition(_Frozen):
    """When a rule applies: every part given must hold (see the module docstring)."""

    agrement_missing: Literal[True] | None = None
    not_done: RuleId | None = None
    centre_enables: CentreOption | None = None
    postponed: Literal[True] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        parts = (self.agrement_missing, self.not_done, self.centre_enables, self.postponed)
        if all(part is None for part in parts):
            raise ValueError(
                "condition vide (attendu : agrement_missing: true, not_done: <règle>, "
                "centre_enables: candidate_info_mail ou postponed: true)"
            )
        return self


class Rule(_Frozen):
    """When one milestone is due, who acts, when it applies, and where the rule comes from."""

    id: RuleId
    title: str = Field(min_length=3, max_length=120)
    short: str | None = Field(default=None, min_length=2, max_length=40)
    """A label a month view can scan (« CERES », « Convocation candidats »); the title when
    not given."""
    kind: Kind
    audience: tuple[Role, ...] = Field(min_length=1)
    anchor: Anchor
    offset: Offset = Offset(amount=0, unit="d")
    fixed_date: FixedDate | None = None
    transport_offset: Offset | None = None
    shift: Shift = "previous"
    shift_reason: str | None = Field(default=None, min_length=3, max_length=600)
    """Why this shift (French); required for ``previous`` on an after-event rule."""
    condition: Condition | None = None
    after: tuple[RuleId, ...] = Field(default=(), max_length=20)
    """Milestones this one is never due before (same day allowed)."""
    reminders: tuple[Annotated[int, Field(ge=0, le=400)], ...] = ()
    tracked: bool = True
    redo_on_postpone: bool = False
    """Done before the session's latest postponement: « à refaire » (see the module
    docstring)."""
    sources: tuple[RuleSource, ...] = ()
    note: str | None = None
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _default_shift(cls, data: Any) -> Any:
        """Without ``shift``: ``next`` for an after-event rule, ``previous`` otherwise."""
        if (
            isinstance(data, dict)
            and "shift" not in data
            and data.get("anchor") in AFTER_EVENT_ANCHORS
        ):
            offsets = [data.get("offset", "0d"), data.get("transport_offset") or "0d"]
            try:
                forward = all(Offset.model_validate(o).amount >= 0 for o in offsets)
            except ValueError:
                return data  # the field's own validation says what is wrong
            if forward:
                return {**data, "shift": "next"}
        return data

    @model_validator(mode="after")
    def _known_placeholders(self) -> Rule:
        for name in TEXT_FIELDS:
            text = getattr(self, name)
            problems = placeholder_problems(text) if text else []
            if problems:
                raise ValueError(f"règle « {self.id} », {name} : {problems[0]}")
        return self

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
        if self.yearly and (self.condition is not None or self.after):
            raise ValueError(
                f"règle « {self.id} » : une échéance annuelle du centre (anchor: fixed) ne dépend "
                "d'aucune session (attendu : ni condition ni after)"
            )
        return self

    @model_validator(mode="after")
    def _never_before_its_event(self) -> Rule:
        if self.after_event and self.shift == "previous" and self.shift_reason is None:
            raise ValueError(
                f"règle « {self.id} » : shift: previous pourrait avancer l'échéance avant "
                f"l'événement dont elle découle ({self.anchor}) (attendu : shift: next ou none, "
                "ou une justification dans shift_reason)"
            )
        if self.id in self.after or (self.condition and self.condition.not_done == self.id):
            raise ValueError(f"règle « {self.id} » : elle ne peut dépendre d'elle-même")
        return self

    @property
    def yearly(self) -> bool:
        """A centre milestone of each calendar year (``fixed`` anchor), not a session's."""
        return self.anchor == "fixed"

    @property
    def after_event(self) -> bool:
        """Counted forward from an event that has happened by then: never due before it."""
        offsets = (self.offset, self.transport_offset or self.offset)
        return self.anchor in AFTER_EVENT_ANCHORS and all(o.amount >= 0 for o in offsets)

    def offset_for(self, *, transport: bool) -> Offset:
        if transport and self.transport_offset is not None:
            return self.transport_offset
        return self.offset


class Ruleset(_Frozen):
    """A versioned list of rules. Rule ids are unique; the ids a rule names exist; every
    ordering constraint holds for every session (see :mod:`.ordering`)."""

    version: str = Field(min_length=1)
    label: str = ""
    sources: dict[str, Source] = Field(default_factory=dict)
    """The sources table: each reference a rule cites, with its full title (see
    :class:`Source`)."""
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
                entry = self.sources.get(source.ref)
                if source.quote is None and (entry is None or entry.kind != "legal"):
                    raise ValueError(
                        f"règle « {rule.id} » : source « {source.ref} » sans citation "
                        "(attendu : quote, la phrase entière du document ; article seul pour un "
                        "texte réglementaire)"
                    )
        return self

    @model_validator(mode="after")
    def _references_and_order(self) -> Ruleset:
        problems = reference_problems(self.rules) or order_problems(self.rules)
        if problems:
            raise ValueError(" ; ".join(f"règle « {rid} » : {text}" for rid, text in problems))
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


def parse_ruleset(data: Mapping[str, Any]) -> Ruleset:
    """Validate a ruleset from its parsed data (raises pydantic.ValidationError)."""
    return Ruleset.model_validate(data)
