"""The spreadsheets syncsvc writes: the import template and the export of every session.

The export has the import's columns (same names, same cells: it imports back without a
change) followed by its own: the next milestone (label, date, status), the milestone counts,
the candidates' total and the findings of the checks. One sheet per centre, dates as real
dates, then the « Échéances » sheet: one row per milestone of each session, as planned
(:mod:`syncsvc.core.milestone_sheet`), where « Fait le » is typed to mark one done. Candidates
appear as counts only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from syncsvc.app.importing import EXPORT_ONLY, known_of
from syncsvc.core import milestone_sheet
from syncsvc.core import session_sheet as sheet
from syncsvc.core.config import Config
from syncsvc.core.labels import SEVERITY_LABELS, STATUS_LABELS, capitalised
from syncsvc.core.model import Centre, Finding, Milestone, Session
from syncsvc.inputs.spreadsheets import Sheet, write_book

EXPLANATIONS = "Explications"
_EXPORT_WIDTHS = {
    "Prochaine échéance": 40,
    "Date de la prochaine échéance": 14,
    "Statut de la prochaine échéance": 14,
    "Constats": 60,
}


@dataclass(frozen=True, slots=True)
class Exported:
    """One session with what the dashboard shows about it."""

    session: Session
    centre: Centre
    milestones: Sequence[Milestone]
    findings: Sequence[Finding]
    authors: Mapping[str, str] = field(default_factory=dict)
    """Who made each of the store's done marks of the session, by milestone id."""


def _widths() -> dict[str, int]:
    return {c.name: c.width for c in sheet.COLUMNS}


def _explanations(config: Config) -> Sheet:
    rows: list[list[Any]] = [[c.name, c.what, c.form, c.example, c.required] for c in sheet.COLUMNS]
    centres = ", ".join(f"{key} ({c.name})" for key, c in config.centres.items())
    notes = [
        "Importer des sessions depuis ce tableau",
        "Une ligne par session, sur la feuille « Sessions » (un classeur de plusieurs feuilles "
        "de sessions, comme l'export, est lu en entier). Commencer par remplacer la ligne "
        f"d'exemple (son identifiant commence par « {sheet.EXAMPLE_MARK} » : elle est ignorée).",
        "Une ligne dont l'identifiant existe modifie cette session ; sinon, la ligne crée une "
        "session. Rien n'est jamais supprimé par un import.",
        "Pour une session existante, une colonne absente ou une cellule vide laisse le champ "
        "tel quel ; « - » seul dans une cellule efface un champ facultatif.",
        "Les dates s'écrivent jj/mm/aaaa (ou sont de vraies dates du tableur), les heures HH:MM.",
        "Aperçu : syncsvc import FICHIER ; enregistrer : syncsvc import FICHIER --apply "
        "(ou la page « Tableur » du tableau de bord).",
        f"Centres : {centres or 'aucun (voir centres.yaml)'}.",
        "",
    ]
    return Sheet(
        EXPLANATIONS,
        ["Colonne", "Ce qu'elle contient", "Format", "Exemple", "Obligatoire ?"],
        rows,
        widths={
            "Colonne": 32,
            "Ce qu'elle contient": 70,
            "Format": 28,
            "Exemple": 34,
            "Obligatoire ?": 30,
        },
        wrap=["Ce qu'elle contient", "Format", "Exemple", "Obligatoire ?"],
        notes=notes,
    )


def _choices(config: Config) -> dict[str, list[str]]:
    return {sheet.NATURE: list(sheet.NATURES), sheet.CENTRE: list(config.centres)}


def _example(config: Config) -> list[Any]:
    """The template's example row: the first session of the configuration (or the README's
    example), its identifier replaced by the example mark; never a cancellation nor a
    comédien (columns not ``in_example``)."""
    _, files = known_of(config)
    values: Mapping[str, Any] | None = files[min(files)] if files else None
    row: list[Any] = []
    for column in sheet.COLUMNS:
        if not column.in_example:
            row.append(None)  # never a cancelled example, nor one with role plays
        elif values is not None:
            row.append(sheet.cell(column.name, values))
        elif column.name == sheet.CCP:
            row.append(None)  # the example is a full title: no CCP
        else:
            row.append(_typed(column, column.example))
    row[0] = f"{sheet.EXAMPLE_MARK} — ligne à remplacer"
    return row


def _typed(column: sheet.Column, example: str) -> Any:
    if column.kind == "date":
        return sheet.day(example)
    if column.kind == "time":
        return time.fromisoformat(example)
    if column.kind == "int":
        return int(example)
    return example


def template_bytes(config: Config, kind: str = "xlsx") -> bytes:
    """The import template (a ``kind``: « xlsx » or « ods » spreadsheet): the header, the
    drop-down lists, an example row, the « Explications » sheet."""
    names = [c.name for c in sheet.COLUMNS]
    sessions = Sheet(
        "Sessions",
        names,
        [_example(config)],
        widths=_widths(),
        choices=_choices(config),
        wrap=[sheet.COORDINATION, sheet.JURY, sheet.DAYS, sheet.POSTPONED],
        muted_rows=[0],
    )
    return write_book([sessions, _explanations(config)], kind)


def _extra(item: Exported) -> list[Any]:
    upcoming = next((m for m in item.milestones if m.status != "done"), None)
    counts = {s: sum(1 for m in item.milestones if m.status == s) for s in STATUS_LABELS}
    errors = [f for f in item.findings if f.severity == "error"]
    warnings = [f for f in item.findings if f.severity == "warning"]
    findings = "\n".join(
        f"{capitalised(SEVERITY_LABELS[f.severity])} : {f.message}" for f in item.findings
    )
    return [
        upcoming.title if upcoming else None,
        upcoming.due if upcoming else None,
        capitalised(STATUS_LABELS[upcoming.status]) if upcoming else None,
        counts["overdue"],
        counts["due_soon"],
        counts["pending"],
        counts["done"],
        item.session.candidates.total,
        len(errors),
        len(warnings),
        findings or None,
        "oui" if item.session.cancelled else "non",
    ]


def export_bytes(config: Config, items: Iterable[Exported], kind: str = "xlsx") -> bytes:
    """Every session of ``items``, one sheet per centre (in the order of centres.yaml), as a
    ``kind`` (« xlsx » or « ods ») spreadsheet."""
    _, files = known_of(config)
    names = [c.name for c in sheet.COLUMNS]
    headers = [*names, *EXPORT_ONLY]
    by_centre: dict[str, list[list[Any]]] = {key: [] for key in config.centres}
    ordered = sorted(items, key=lambda i: (i.session.start, i.session.id))
    for item in ordered:
        values = files.get(item.session.id)
        if values is None:
            continue
        row = [sheet.cell(name, values) for name in names] + _extra(item)
        by_centre.setdefault(item.centre.id, []).append(row)
    widths = {**_widths(), **_EXPORT_WIDTHS}
    milestones = [
        row
        for item in ordered
        if item.session.id in files
        for row in milestone_sheet.rows(item.session, item.milestones, item.authors)
    ]
    sheets = [
        Sheet(
            config.centres[key].short_name if key in config.centres else key,
            headers,
            rows,
            widths=widths,
            wrap=[sheet.COORDINATION, sheet.JURY, sheet.DAYS, sheet.POSTPONED, "Constats"],
        )
        for key, rows in by_centre.items()
        if rows
    ]
    if not sheets:
        sheets = [Sheet("Sessions", headers, [], widths=widths)]
    sheets.append(
        Sheet(
            milestone_sheet.SHEET,
            milestone_sheet.HEADERS,
            milestones,
            widths=milestone_sheet.WIDTHS,
            wrap=[milestone_sheet.TITLE],
        )
    )
    if config.problems:
        sheets.append(
            Sheet(
                "Problèmes",
                ["Fichier", "Ligne", "Champ", "Problème"],
                [[p.file, p.line, p.field, p.message] for p in config.problems],
                widths={"Fichier": 50, "Ligne": 8, "Champ": 24, "Problème": 90},
                wrap=["Problème"],
            )
        )
    return write_book(sheets, kind)


def exported_today(day: date, kind: str = "xlsx") -> str:
    """The export's file name: ``sessions-2026-11-30.xlsx`` (or ``.ods``)."""
    return f"sessions-{day.isoformat()}.{kind}"
