"""Milestones late: still not done after their deadline, or done after it (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from syncsvc.core.checks.common import Add, ud
from syncsvc.core.labels import fr_date, roles
from syncsvc.core.model import Centre, Milestone, Session, Severity
from syncsvc.core.rules import Offset

NOT_DEADLINES = frozenset({"ceres_session_create"})
"""Deadlines with a check of their own (``ceres_late``)."""


def check_overdue(milestones: Iterable[Milestone], add: Add) -> None:
    for m in milestones:
        if m.status == "overdue":
            severity: Severity = "error" if m.kind == "regulatory" else "warning"
            add(
                f"overdue:{m.id}",
                severity,
                f"« {m.title} » devait être fait au plus tard le {fr_date(m.due)} et n'est pas "
                f"marqué fait : à faire dès maintenant ({roles(m.audience)}), puis le marquer "
                "fait",
            )


def is_deadline(m: Milestone) -> bool:
    """A regulatory step to do *at the latest* on its day: not a minimum duration (shifted to
    the next working day), not a step that follows an event such as the validated PV."""
    rule = m.rule
    return (
        rule.kind == "regulatory"
        and rule.tracked
        and rule.shift != "next"
        and rule.anchor != "pv_validated_on"
        and m.id not in NOT_DEADLINES
    )


def check_done_late(
    session: Session, centre: Centre, milestones: Iterable[Milestone], add: Add
) -> None:
    for m in milestones:
        if m.done_on is None or m.done_on <= m.due or not is_deadline(m):
            continue
        late = (m.done_on - m.due).days
        what = (
            f"« {m.title} » fait le {fr_date(m.done_on)}, après l'échéance du {fr_date(m.due)} "
            f"({late} jour{'s' if late > 1 else ''} de retard)"
        )
        offset = m.rule.offset_for(transport=session.title.transport)
        lead = (session.start - m.done_on).days
        if m.rule.anchor == "start" and offset.amount < 0 and lead > 0:
            what += (
                f", {lead} jours avant le début au lieu d'au moins {_spelled(offset)} : hors "
                f"délai ; informer dès maintenant l'UD : {ud(centre)}, et reporter la session "
                "si elle ne maintient pas la date"
            )
        else:
            what += f" : hors délai ; informer l'UD du retard : {ud(centre)}"
        add(f"done_late:{m.id}", "error", what)


def _spelled(offset: Offset) -> str:
    amount = abs(offset.amount)
    if offset.unit == "mo":
        return f"{amount} mois"
    return f"{amount} jour{'s' if amount > 1 else ''}"
