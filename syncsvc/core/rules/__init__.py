"""Rulesets: the regulatory timeline as data (pure).

A *rule* says when one milestone of an exam session is due: an *anchor* (a date of the session),
an *offset* in calendar days or months, and a working-day *shift* policy. A *ruleset* is a
versioned list of rules with their sources; the default one ships as ``tp-2025.yaml`` beside this
module and is read by :func:`syncsvc.inputs.loader.load_ruleset` (this package does no I/O).
"""

from syncsvc.core.rules.ruleset import (
    DEFAULT_RULESET,
    Anchor,
    CentreRules,
    FixedDate,
    Kind,
    Offset,
    Role,
    Rule,
    RuleOverride,
    Ruleset,
    RuleSource,
    Shift,
    customise,
)

__all__ = [
    "DEFAULT_RULESET",
    "Anchor",
    "CentreRules",
    "FixedDate",
    "Kind",
    "Offset",
    "Role",
    "Rule",
    "RuleOverride",
    "RuleSource",
    "Ruleset",
    "Shift",
    "customise",
]
