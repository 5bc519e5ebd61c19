"""Regulatory checks of a session definition -> findings (pure).

Structural problems (end before start, unknown nature, CCP code missing for a CCP/CCS session,
unreadable time) make the file fail validation in :mod:`syncsvc.core.model`, and the loader reports
them with the file and field. The checks here need more than one file or the date: agrément,
CERES deadline, jury, candidate numbers, overdue milestones.

Each finding has a stable ``code`` (for tools) and a French ``message`` (for people). Findings
never carry a candidate's name: they go to logs and dashboards seen by many.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from syncsvc.core.clock import Now, local_today
from syncsvc.core.labels import fr_date
from syncsvc.core.model import Centre, Finding, Milestone, Session, Severity

_Add = Callable[[str, Severity, str], None]

CERES_LEAD_DAYS = 92
MIN_JURY = 2


def check_session(
    session: Session,
    centre: Centre,
    milestones: Iterable[Milestone],
    now: Now,
) -> list[Finding]:
    today = local_today(now, centre.tz)
    findings: list[Finding] = []

    def add(code: str, severity: Severity, message: str) -> None:
        findings.append(Finding(session.id, code, severity, message))

    _check_start_time(session, add)
    _check_agrement(session, centre, add)
    _check_ceres_deadline(session, today, add)
    _check_jury(session, add)
    _check_overdue(milestones, add)
    return findings


def _check_start_time(session: Session, add: _Add) -> None:
    if session.first_day_start is None:
        add(
            "first_day_start_missing",
            "warning",
            "heure de début du premier jour non renseignée : CERES la demande et la session "
            'apparaîtra sur toute la journée (ajoutez first_day_start: "08:30")',
        )


def _check_agrement(session: Session, centre: Centre, add: _Add) -> None:
    agrement = centre.agrement_for(session.title.code)
    if agrement is None:
        add(
            "agrement_missing",
            "error",
            f"{centre.name} n'a pas d'agrément pour le titre {session.title.code} : la session "
            "ne peut pas être créée dans CERES (déposer une demande d'agrément)",
        )
        return
    if agrement.until < session.start:
        add(
            "agrement_expired",
            "error",
            f"l'agrément {session.title.code} prend fin le {fr_date(agrement.until)}, avant le "
            f"début de la session ({fr_date(session.start)}) : créer la session avant cette "
            "date pour commander le DTE, puis prévenir la DEETS du changement de date",
        )
    elif agrement.until < session.end:
        add(
            "agrement_ends_during_session",
            "error",
            f"l'agrément {session.title.code} prend fin le {fr_date(agrement.until)}, pendant la "
            f"session (fin le {fr_date(session.end)})",
        )
    if session.candidates.total > agrement.max_candidates:
        add(
            "too_many_candidates",
            "error",
            f"{session.candidates.total} candidats pour {agrement.max_candidates} au plus selon "
            "l'agrément : réduire l'effectif ou dédoubler la session",
        )
    counted = session.candidates.training + session.candidates.vae
    named = len(session.candidates.named)
    if named and counted and named != counted:
        add(
            "candidate_count_mismatch",
            "warning",
            f"{counted} candidats annoncés (formation + VAE) mais {named} dans la liste",
        )


def _check_ceres_deadline(session: Session, today: date, add: _Add) -> None:
    latest = session.start - timedelta(days=CERES_LEAD_DAYS)
    if session.declared_on is not None:
        lead = (session.start - session.declared_on).days
        if lead < CERES_LEAD_DAYS:
            add(
                "ceres_late",
                "error",
                f"session créée dans CERES le {fr_date(session.declared_on)}, {lead} jours avant "
                f"le début : hors délai (au moins {CERES_LEAD_DAYS} jours, incompressible) ; "
                "prévenir l'UD",
            )
    elif today > latest:
        add(
            "ceres_late",
            "error",
            f"la session n'est pas déclarée créée dans CERES et le délai de {CERES_LEAD_DAYS} "
            f"jours est dépassé depuis le {fr_date(latest)} : hors délai ; prévenir l'UD "
            "(renseigner declared_on si elle a été créée)",
        )


def _check_jury(session: Session, add: _Add) -> None:
    if len(session.jury) < MIN_JURY:
        add(
            "jury_too_small",
            "error",
            f"{len(session.jury)} membre(s) de jury : il en faut au moins {MIN_JURY} présents "
            "pour évaluer les candidats",
        )
    hosts = {
        _norm(c.host_company): index
        for index, c in enumerate(session.candidates.named, start=1)
        if c.host_company
    }
    for member in session.jury:
        if member.habilitation_until < session.end:
            add(
                "jury_habilitation_expired",
                "error",
                f"l'habilitation de {member.name} prend fin le "
                f"{fr_date(member.habilitation_until)}, avant la fin de la session "
                f"({fr_date(session.end)}) : la faire renouveler ou convoquer un autre membre",
            )
        if session.nature != "titre" and member.ccp and session.ccp_code not in member.ccp:
            add(
                "jury_ccp_not_covered",
                "error",
                f"l'habilitation de {member.name} est limitée à {', '.join(member.ccp)} et ne "
                f"couvre pas {session.ccp_code}",
            )
        if member.company and _norm(member.company) in hosts:
            add(
                "jury_conflict",
                "error",
                f"{member.name} travaille chez {member.company}, qui a accueilli le candidat "
                f"n° {hosts[_norm(member.company)]} de la liste : ce membre ne peut pas "
                "l'évaluer",
            )


def _check_overdue(milestones: Iterable[Milestone], add: _Add) -> None:
    for milestone in milestones:
        if milestone.status == "overdue":
            severity: Severity = "error" if milestone.kind == "regulatory" else "warning"
            add(
                f"overdue:{milestone.id}",
                severity,
                f"« {milestone.title} » devait être fait au plus tard le {fr_date(milestone.due)} "
                "et n'est pas marqué fait",
            )


def _norm(company: str) -> str:
    return " ".join(company.casefold().split())
