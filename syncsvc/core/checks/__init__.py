"""Regulatory checks of a session definition -> findings (pure).

Structural problems (end before start, unknown nature, CCP code missing for a CCP/CCS session,
unreadable time) make the file fail validation in :mod:`syncsvc.core.model`, and the loader reports
them with the file and field. The checks here need more than one file or the date: agrément and
title, CERES deadline, jury and session manager, candidates, milestones late or done late.

Each finding has a stable ``code`` (for tools), a severity and a French ``message`` (for people)
that says what to do and to whom: the centre's own UD by its name and address
(:attr:`~syncsvc.core.model.Centre.ud_name`, ``ud_email``), the jury member, the session manager.
Findings never carry a candidate's name: they go to logs and dashboards seen by many.

A cancelled session is only checked for what its cancellation requires; a postponed one is told
what it must redo for its new dates.

Modules: :mod:`.session` (agrément, title, CERES, dates, results, cancellation,
postponement), :mod:`.jury`
(who may sit, the session manager), :mod:`.candidates` (VAE, accommodations),
:mod:`.milestones` (overdue, done late), :mod:`.companies` (one company, however spelled).
"""

from __future__ import annotations

from collections.abc import Iterable

from syncsvc.core.checks import candidates, jury, milestones
from syncsvc.core.checks import session as whole
from syncsvc.core.checks.common import MIN_JURY, Add
from syncsvc.core.checks.companies import company_key, same_company
from syncsvc.core.clock import Now, local_today
from syncsvc.core.model import Centre, Finding, Milestone, Session, Severity

__all__ = ["MIN_JURY", "Add", "check_session", "company_key", "same_company"]


def check_session(
    session: Session,
    centre: Centre,
    planned: Iterable[Milestone],
    now: Now,
) -> list[Finding]:
    """Every finding about ``session`` at ``now``, given its planned milestones (with the
    days they were marked done)."""
    today = local_today(now, centre.tz)
    steps = list(planned)
    findings: list[Finding] = []

    def add(code: str, severity: Severity, message: str, juror: str | None = None) -> None:
        findings.append(Finding(session.id, code, severity, message, juror))

    if session.cancelled:
        whole.check_cancelled(session, centre, steps, add)
        return findings
    created = whole.created_on(session, steps)
    whole.check_start_time(session, add)
    whole.check_agrement(session, centre, add)
    whole.check_title_expiry(session, centre, created, today, add)
    whole.check_ceres_deadline(session, centre, created, today, add)
    whole.check_dates(session, centre, add)
    whole.check_results(session, centre, steps, add)
    whole.check_postponed(session, centre, steps, add)
    jury.check_jury(session, centre, add)
    jury.check_session_manager(session, centre, add)
    candidates.check_vae(session, centre, add)
    candidates.check_accommodations(session, centre, steps, add)
    milestones.check_overdue(steps, add)
    milestones.check_done_late(session, centre, steps, add)
    return findings
