"""``syncsvc import`` (a spreadsheet of sessions, previewed, then applied with ``--apply``),
``syncsvc import --template`` and ``syncsvc export``."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncsvc.core.clock import Now, instant
from syncsvc.errors import UsageError

if TYPE_CHECKING:  # the command line's --help stays light: the rest is imported when run
    from syncsvc.app.importing import Applied
    from syncsvc.core.config import Config

EXIT_OK, EXIT_INVALID = 0, 1
IMPORT_USER = "import"
"""Who the audit names for an import run from the command line."""


def add_commands(commands: Any, common: Any) -> None:
    """The ``import`` and ``export`` subcommands (``common`` adds --config and --now)."""
    imported = commands.add_parser(
        "import", help="importer des sessions depuis un tableur (.xlsx, .ods ou .csv)"
    )
    imported.add_argument(
        "file", nargs="?", type=Path, metavar="FICHIER", help="le tableau à importer"
    )
    common(imported)
    imported.add_argument(
        "--apply",
        action="store_true",
        help="enregistrer les lignes sans erreur (sans cette option : aperçu seulement)",
    )
    imported.add_argument(
        "--template",
        type=Path,
        metavar="MODELE.xlsx|.ods",
        help="écrire le modèle à remplir (en-têtes, listes, exemple, explications) et quitter",
    )
    exported = commands.add_parser(
        "export", help="exporter toutes les sessions dans un classeur .xlsx ou .ods"
    )
    exported.add_argument(
        "file", type=Path, metavar="FICHIER.xlsx|.ods", help="le classeur à écrire"
    )
    common(exported)


def _kind(path: Path) -> str:
    """The spreadsheet ``path`` names: « xlsx » or « ods » (LibreOffice)."""
    from syncsvc.core.fields import spelling  # here: building the parser stays light

    kind = path.suffix.lower().lstrip(".")
    if kind not in ("xlsx", "ods"):
        raise UsageError(
            f"fichier « {spelling(str(path))} » : nom sans .xlsx ni .ods (attendu : un nom de "
            "classeur qui finit par .xlsx, ou par .ods pour LibreOffice)"
        )
    return kind


def run(args: argparse.Namespace, now: Now) -> int:
    from syncsvc.app.authoring import Authoring
    from syncsvc.app.exporting import template_bytes
    from syncsvc.app.importing import apply_import, apply_marks, preview_import, preview_text
    from syncsvc.app.marks import stored_marks
    from syncsvc.core.fields import spelling
    from syncsvc.inputs.loader import load_config, load_ruleset
    from syncsvc.inputs.settings import load_settings
    from syncsvc.state.store import Store

    settings = load_settings(args.config)
    ruleset = load_ruleset(settings.ruleset)

    def load(directory: Path) -> Config:
        return load_config(directory, ruleset)

    if args.command == "export":
        return export(args, settings, load(args.config), now)
    if args.template is not None:
        if args.file is not None or args.apply:
            raise UsageError(
                "--template écrit le modèle seulement (attendu : syncsvc import --template "
                "MODELE.xlsx, sans fichier à importer ni --apply)"
            )
        path = args.template
        kind = _kind(path)
        path.write_bytes(template_bytes(load(args.config), kind))
        print(f"modèle écrit : {path} (feuilles « Sessions » et « Explications »)")
        return EXIT_OK
    if args.file is None:
        raise UsageError(
            "fichier à importer manquant (attendu : syncsvc import FICHIER.xlsx, FICHIER.ods ou "
            "FICHIER.csv ; "
            "le modèle : syncsvc import --template MODELE.xlsx)"
        )
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"fichier « {spelling(str(args.file))} » illisible ({exc.strerror or exc}) "
            "(attendu : un fichier .xlsx, .ods ou .csv existant)"
        ) from None
    preview = preview_import(
        args.config,
        args.file.name,
        data,
        load=load,
        stored=stored_marks(settings, args.config),
        now=instant(now),
    )
    for line in preview_text(preview):
        print(line)
    failed = preview.errors
    if not preview.anything:
        return EXIT_INVALID if failed else EXIT_OK
    if not args.apply:
        marks = len(preview.to_mark) + len(preview.to_unmark)
        print(
            f"Aperçu seulement : rien n'a été écrit. Relancer avec --apply pour enregistrer "
            f"{len(preview.to_write)} session(s)"
            + (f" et {marks} marque(s) « fait »" if marks else "")
            + (f" (les {failed} ligne(s) en erreur restent de côté)." if failed else ".")
        )
        return EXIT_INVALID if failed else EXIT_OK
    store = Store(settings.store.url)
    try:
        store.migrate()
        applied = apply_import(
            preview, Authoring(args.config, store, load), user=IMPORT_USER, now=instant(now)
        )
        apply_marks(
            preview, store, by=IMPORT_USER, who=IMPORT_USER, now=instant(now), applied=applied
        )
    finally:
        store.close()
    for line in applied_text(applied):
        print(line)
    return EXIT_INVALID if failed or applied.failed else EXIT_OK


def applied_text(applied: Applied) -> list[str]:
    lines = [applied.summary]
    lines.extend(f"  créée : {row.session_id}" for row in applied.created)
    lines.extend(f"  modifiée : {row.session_id}" for row in applied.updated)
    lines.extend(f"  marquée : {p.change.text}" for p in applied.marked if p.change)
    lines.extend(f"  marque retirée : {p.change.text}" for p in applied.unmarked if p.change)
    if applied.failed:
        lines.append(f"Non enregistrées ({len(applied.failed)}) :")
        lines.extend(f"  {problem}" for row in applied.failed for problem in row.problems)
    return lines


def export(args: argparse.Namespace, settings: Any, config: Config, now: Now) -> int:
    from syncsvc.app.exporting import Exported, export_bytes
    from syncsvc.app.marks import stored_mark_details
    from syncsvc.core.checks import check_session
    from syncsvc.core.planner import plan_sessions

    path = args.file
    kind = _kind(path)
    details = stored_mark_details(settings)
    marks: dict[str, dict[str, date]] = {}
    authors: dict[str, dict[str, str]] = {}
    for (session_id, milestone_id), mark in details.items():
        marks.setdefault(session_id, {})[milestone_id] = mark.done_on
        authors.setdefault(session_id, {})[milestone_id] = mark.by
    planning = plan_sessions(config, marks, now)
    items = [
        Exported(
            session,
            centre,
            milestones,
            check_session(session, centre, milestones, now),
            authors.get(session.id, {}),
        )
        for session, centre, milestones in planning.planned
    ]
    path.write_bytes(export_bytes(config, items, kind))
    centres = len({item.centre.id for item in items})
    print(f"export écrit : {path} ({len(items)} session(s), {centres} feuille(s) de centre)")
    for problem in config.problems:
        print(f"non exporté : {problem}")
    return EXIT_INVALID if config.problems or planning.failed else EXIT_OK
