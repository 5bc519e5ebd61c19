"""``syncsvc inbox`` (read the jurors' replies) and ``syncsvc jury`` (who answered what)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from syncsvc.app.jury import jury_board
from syncsvc.app.marks import stored_marks
from syncsvc.core.clock import Now, instant
from syncsvc.core.jury import JurorRow
from syncsvc.core.labels import (
    INVITATION_LABELS,
    PARTSTAT_LABELS,
    centre_zones_note,
    day_answer,
    fr_moment,
    same_zone,
    zone_label,
)
from syncsvc.core.planner import plan_sessions
from syncsvc.errors import ConfigError, UsageError
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.inputs.settings import load_settings
from syncsvc.state.store import Store

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def run(args: argparse.Namespace, now: Now) -> int:
    settings = load_settings(args.config)
    config = load_config(args.config, load_ruleset(settings.ruleset))
    store = Store(settings.store.url)
    store.migrate()
    try:
        for problem in config.problems:
            print(problem, file=sys.stderr)
        if args.command == "inbox":
            return inbox(args, settings, config, store, now)
        return jury(args, settings, config, store, now)
    finally:
        store.close()


def inbox(args: argparse.Namespace, settings: Any, config: Any, store: Store, now: Now) -> int:
    from syncsvc.app.inbox import inboxes_of, read_inboxes
    from syncsvc.app.passes import reason_of
    from syncsvc.cli.service import active

    if not args.once:
        raise UsageError(
            "syncsvc inbox lit la boîte une fois avec --once ; la lecture continue est celle "
            "du service (syncsvc run)"
        )
    inboxes_of(settings)  # none configured: a usage error before the lease is taken
    with active(settings, store) as fence:
        outcomes = read_inboxes(settings, config, store, now, fence=fence)
    several = len(outcomes) > 1
    failed = 0
    for outcome in outcomes:
        folder = outcome.inbox.settings.folder
        where = f"{outcome.inbox.label} ({outcome.inbox.settings.username}), " if several else ""
        report = outcome.report
        if report is None:
            failed += 1
            reason = reason_of(outcome.failure) if outcome.failure else outcome.error
            print(f"syncsvc : {where}boîte « {folder} » illisible : {reason}", file=sys.stderr)
            continue
        for line in report.lines:
            print(line)
        print(
            f"{where}boîte « {folder} » : {report.looked} message(s) lu(s), {report.recorded} "
            f"réponse(s) enregistrée(s) ({report.already} déjà connue(s)) ; rangés : "
            f"{report.processed} dans les réponses traitées, {report.for_humans} à lire par une "
            f"personne ; {report.left} sans rapport avec le jury laissé(s) en place"
        )
    if any(isinstance(o.failure, ConfigError | UsageError) for o in outcomes):
        return EXIT_USAGE  # a setting to correct, as for every other command
    return EXIT_INVALID if failed else EXIT_OK


def _row(row: JurorRow) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "session": row.session_id,
        "email": row.email,
        "name": row.name,
        "role": row.role,
        "partstat": row.partstat,
        "replied_at": iso(row.replied_at),
        "sequence": row.sequence,
        "invitation": row.invitation,
        "invited_at": iso(row.invited_at),
        "source": row.source,
        "held": list(row.held),
        "days": [
            {"day": d.day.isoformat(), "partstat": d.partstat, "replied_at": iso(d.replied_at)}
            for d in row.days
        ],
    }


def jury(args: argparse.Namespace, settings: Any, config: Any, store: Store, now: Now) -> int:
    planning = plan_sessions(config, stored_marks(settings, args.config), now)
    planned = planning.planned
    if args.session is not None:
        if args.session not in config.sessions:
            known = ", ".join(p.session.id for p in planned) or "aucune"
            raise UsageError(f"session « {args.session} » inconnue (attendu : une de {known})")
        planned = [p for p in planned if p.session.id == args.session]
    board = jury_board(planned, store, now)
    rows = [row for p in planned for row in board.of(p.session.id)]
    if args.format == "json":
        print(json.dumps([_row(r) for r in rows], ensure_ascii=False, indent=2))
        return EXIT_OK
    # a reply belongs to one session: shown at its centre's time, said under the table
    zones = {p.session.id: p.centre.tz for p in planned}
    moment = instant(now)
    elsewhere = {
        (p.centre.name, zone_label(p.centre.tz, moment))
        for p in planned
        if not same_zone(p.centre.tz, settings.zone, moment)
        and any(r.replied_at for r in board.of(p.session.id))
    }
    table = Table(title="Jury : invitations et réponses", title_justify="left")
    for heading in ("Session", "Membre", "Adresse", "Réponse", "Le", "Séq.", "Invitation"):
        table.add_column(heading)
    for row in rows:
        table.add_row(
            row.session_id,
            row.name,
            row.email,
            "\n".join(
                [PARTSTAT_LABELS.get(row.partstat, row.partstat)]
                + [day_answer(d.partstat, d.day) for d in row.days]
            ),
            fr_moment(row.replied_at, zones[row.session_id]) if row.replied_at else "",
            "" if row.sequence is None else str(row.sequence),
            INVITATION_LABELS[row.invitation],
        )
    Console(width=160).print(table)
    if elsewhere:
        print(centre_zones_note(sorted(elsewhere)))
    return EXIT_OK if planning.failed == {} else EXIT_INVALID
