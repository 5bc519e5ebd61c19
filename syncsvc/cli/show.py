"""``syncsvc validate`` and ``syncsvc plan``: read the configuration, show the one plan."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from syncsvc.app.marks import stored_marks
from syncsvc.core.checks import check_session
from syncsvc.core.clock import Now, instant
from syncsvc.core.config import Config
from syncsvc.core.entries import entry_for, summary_for
from syncsvc.core.labels import (
    KIND_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    capitalised,
    fr_date,
    fr_day,
    roles,
)
from syncsvc.core.model import Milestone, Session
from syncsvc.core.planner import Planned, plan_sessions
from syncsvc.errors import UsageError
from syncsvc.formats.ical import calendar_of
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.inputs.settings import load_settings

EXIT_OK, EXIT_INVALID = 0, 1
STATUS_STYLES = {"overdue": "bold red", "due_soon": "yellow", "done": "green", "pending": ""}
SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}


def run(args: argparse.Namespace, now: Now) -> int:
    settings = load_settings(args.config)
    config = load_config(args.config, load_ruleset(settings.ruleset))
    planning = plan_sessions(config, stored_marks(settings, args.config), now)
    for session_id, reason in planning.failed.items():
        file = config.session_files[session_id]
        print(f"{file}: erreur: {reason} [planning_failed]", file=sys.stderr)
    if args.command == "validate":
        code = validate(config, planning.planned, now, strict=args.strict, fmt=args.format)
        return EXIT_INVALID if planning.failed else code
    code = plan(config, planning.planned, now, args.session, args.format)
    return EXIT_INVALID if planning.failed else code


def validate(
    config: Config, planned: list[Planned], now: Now, *, strict: bool, fmt: str = "text"
) -> int:
    """Every problem of every file, then every finding; ``json``: the findings only, as a list
    of ``{session, centre, code, severity, message}`` on stdout (problems go to stderr)."""
    as_json = fmt == "json"
    for problem in config.problems:
        print(problem, file=sys.stderr if as_json else sys.stdout)
    errors = warnings = 0
    rows: list[dict[str, str]] = []
    for session, centre, milestones in planned:
        file = config.session_files[session.id]
        for finding in check_session(session, centre, milestones, now):
            errors += finding.severity == "error"
            warnings += finding.severity == "warning"
            if as_json:
                rows.append(
                    {
                        "session": session.id,
                        "centre": centre.id,
                        "code": finding.code,
                        "severity": finding.severity,
                        "message": finding.message,
                    }
                )
                continue
            label = SEVERITY_LABELS[finding.severity]
            print(f"{file}: {label}: {finding.message} [{finding.code}]")
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        broken = len({p.file for p in config.problems})
        print(
            f"{len(config.sessions)} session(s) chargée(s), {broken} fichier(s) en erreur ; "
            f"constats : {errors} erreur(s), {warnings} avertissement(s)"
        )
    return EXIT_INVALID if config.problems or (strict and errors) else EXIT_OK


def plan(config: Config, planned: list[Planned], now: Now, session_id: str | None, fmt: str) -> int:
    if session_id is not None:
        if session_id not in config.sessions:
            if session_id in config.broken_session_ids:
                raise UsageError(
                    f"la session « {session_id} » ne se charge pas : lancer syncsvc validate"
                )
            known = ", ".join(p.session.id for p in planned) or "aucune"
            raise UsageError(f"session « {session_id} » inconnue (attendu : une de {known})")
        planned = [p for p in planned if p.session.id == session_id]
    for problem in config.problems:
        print(problem, file=sys.stderr)
    if fmt == "json":
        rows = [_json_row(p.session, m) for p in planned for m in p.milestones]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "ics":
        entries = (entry_for(s, c, m) for s, c, milestones in planned for m in milestones)
        sys.stdout.buffer.write(calendar_of(entries, instant(now)))
        sys.stdout.flush()
    else:
        _print_tables(planned, now)
    return EXIT_INVALID if config.problems else EXIT_OK


def _json_row(session: Session, milestone: Milestone) -> dict[str, Any]:
    def iso(value: date | datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "session": session.id,
        "milestone": milestone.id,
        "title": milestone.title,
        "summary": summary_for(session, milestone),
        "due": milestone.due.isoformat(),
        "unshifted": milestone.unshifted.isoformat(),
        "kind": milestone.kind,
        "audience": list(milestone.audience),
        "status": milestone.status,
        "done_on": iso(milestone.done_on),
        "starts_at": iso(milestone.starts_at),
        "ends_at": iso(milestone.ends_at),
        "sources": list(dict.fromkeys(s.ref for s in milestone.rule.sources)),
    }


def _console() -> Console:
    terminal = sys.stdout.isatty()
    return Console(highlight=False, width=None if terminal else 160, soft_wrap=not terminal)


def _print_tables(planned: list[Planned], now: Now) -> None:
    console = _console()
    for session, centre, milestones in planned:
        table = Table(
            title=Text(
                f"[{session.short_label}] {session.title.code} {session.title.label} "
                f"({session.nature.upper()}) — {centre.name}, du {fr_date(session.start)} au "
                f"{fr_date(session.end)}"
            ),
            title_justify="left",
        )
        for column in ("Échéance", "Jalon", "Type", "Pour", "Statut"):
            table.add_column(column)
        for m in milestones:
            style = STATUS_STYLES[m.status]
            table.add_row(
                fr_day(m.due) + ("*" if m.due != m.unshifted else ""),
                Text(m.title),
                capitalised(KIND_LABELS[m.kind]),
                roles(m.audience),
                Text(capitalised(STATUS_LABELS[m.status]), style=style),
                style=style if m.status == "overdue" else None,
            )
        console.print(table)
        for finding in check_session(session, centre, milestones, now):
            label = SEVERITY_LABELS[finding.severity]
            colour = SEVERITY_COLOURS[finding.severity]
            console.print(Text(f"  {label} : {finding.message}", style=colour))
        console.print()
    if any(m.due != m.unshifted for p in planned for m in p.milestones):
        console.print("* échéance déplacée sur un jour ouvré (week-end ou jour férié)")
