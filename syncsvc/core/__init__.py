"""core/ — decide. Pure decisions over values: the session and centre models, the rulesets,
working days, the planner (:func:`~syncsvc.core.planner.plan_all`, the one plan), the checks,
who sees what, calendar entries, the reconciler, which mails are due, jury invitations, and
every French label (:mod:`~syncsvc.core.labels`).

Nothing here reads the clock, draws randomness, opens a file or talks to a network: time is an
argument (:mod:`~syncsvc.core.clock`). Imports only :mod:`syncsvc.errors`.
"""
