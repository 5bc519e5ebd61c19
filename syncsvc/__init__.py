"""syncsvc: calendar and notification sync for Titre Professionnel exam sessions.

Data flows one way: config files -> model -> planner -> ical -> reconcile -> adapters -> store.
The functional core (model, dates, rules, planner, checks, ical) does no I/O; an import-linter
contract in pyproject.toml holds that line.
"""

__version__ = "0.1.0"
