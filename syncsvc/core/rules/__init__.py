"""Rulesets: the regulatory timeline as data (pure).

A *rule* says when one milestone of an exam session is due: an *anchor* (a date of the session,
or a fixed day of the year for a centre's yearly milestone), an *offset* in calendar days or
months, a working-day *shift* policy, an optional *condition* (when it applies at all) and
*after* constraints (the milestones it never comes before). A *ruleset* is a versioned list of
rules with their sources; the default one ships as ``tp-2025.yaml`` beside this module and is read
by :func:`syncsvc.inputs.loader.load_ruleset` (this package does no I/O). See
:mod:`.ruleset` for the vocabulary, :mod:`.ordering` for the order proofs and :mod:`.custom` for a
centre's customisation.
"""

from syncsvc.core.rules.custom import RuleProblem, customise
from syncsvc.core.rules.ruleset import (
    AFTER_EVENT_ANCHORS,
    DEFAULT_RULESET,
    Anchor,
    CentreOption,
    CentreRules,
    Condition,
    FixedDate,
    Kind,
    Offset,
    Role,
    Rule,
    RuleOverride,
    Ruleset,
    RuleSource,
    Shift,
)

__all__ = [
    "AFTER_EVENT_ANCHORS",
    "DEFAULT_RULESET",
    "Anchor",
    "CentreOption",
    "CentreRules",
    "Condition",
    "FixedDate",
    "Kind",
    "Offset",
    "Role",
    "Rule",
    "RuleOverride",
    "RuleProblem",
    "RuleSource",
    "Ruleset",
    "Shift",
    "customise",
]
