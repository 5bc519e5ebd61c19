"""The spreadsheet import: a file of sessions -> a preview -> the session files written.

:func:`preview_import` reads the file (:mod:`syncsvc.inputs.spreadsheets`), turns each row into
a session's values (:mod:`syncsvc.core.session_sheet`) over the session as its file holds it,
and checks the result with the loader's own checks, exactly as the writer will: each row is a
session to create, to update (field by field, old -> new), unchanged, or in error (every
problem with its line and column). :func:`apply_import` writes the rows without error through
:class:`syncsvc.app.authoring.Authoring` (round-trip, version-checked, audited). Nothing is
ever deleted; a row in error is left aside and the others go through.

The « Échéances » sheet of an export (:mod:`syncsvc.core.milestone_sheet`) is read apart: each
row is a done mark to set or remove, unchanged, or in error, decided on the plan every face uses
(:func:`syncsvc.core.planner.plan_sessions`, with the store's marks); :func:`apply_marks` writes
them through :mod:`syncsvc.app.marks`, as the dashboard does.

Candidates' personal data is never read: the rows carry counts, and the named list of an
existing session is carried over untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from syncsvc.app import marks
from syncsvc.app.authoring import Authoring
from syncsvc.core import milestone_sheet
from syncsvc.core import session_sheet as sheet
from syncsvc.core.clock import local_today
from syncsvc.core.config import Config
from syncsvc.core.identifiers import session_id_for
from syncsvc.core.labels import fr_date
from syncsvc.core.milestone_sheet import MarkChange, RowError
from syncsvc.core.planner import Marks, plan_sessions
from syncsvc.core.session_sheet import Known, KnownJuror
from syncsvc.errors import Problem
from syncsvc.inputs import writer
from syncsvc.inputs.loader import check_session_file, load_config
from syncsvc.inputs.spreadsheets import Row, Side, read_table

if TYPE_CHECKING:
    from syncsvc.state.store import Store

RowKind = Literal["create", "update", "unchanged", "error", "example"]
MARKS_SIDE = Side(milestone_sheet.READ, also=milestone_sheet.SHOWN, marker=milestone_sheet.MARKER)
"""The export's « Échéances » sheet, read apart from the sessions."""
EXPORT_ONLY = (
    "Prochaine échéance",
    "Date de la prochaine échéance",
    "Statut de la prochaine échéance",
    "Échéances en retard",
    "Échéances bientôt",
    "Échéances à venir",
    "Échéances faites",
    "Candidats (total)",
    "Erreurs",
    "Avertissements",
    "Constats",
    "Annulée",
)
"""The export's own columns: read back without a word, never imported."""


@dataclass
class RowPlan:
    """What one row of the file does."""

    line: int
    sheet: str | None
    kind: RowKind
    session_id: str | None = None
    values: dict[str, Any] | None = None
    version: str = writer.ABSENT
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    """(column, before, after) of an update."""
    problems: list[str] = field(default_factory=list)
    """``ligne N, colonne « X » : …`` lines."""
    summary: str = ""

    @property
    def where(self) -> str:
        line = f"ligne {self.line}"
        return f"feuille « {self.sheet} », {line}" if self.sheet else line


@dataclass
class MarkPlan:
    """What one row of the « Échéances » sheet does: a mark to set or remove, or nothing."""

    line: int
    sheet: str | None
    change: MarkChange | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        line = f"ligne {self.line}"
        return f"feuille « {self.sheet} », {line}" if self.sheet else line

    @property
    def key(self) -> str:
        """``session|milestone``: what the page's confirmation checks the change against."""
        return f"{self.change.session_id}|{self.change.milestone_id}" if self.change else ""

    @property
    def shown(self) -> str:
        """The change as the preview showed it (before and after), for the confirmation."""
        if self.change is None:
            return ""
        before, after = self.change.before, self.change.after
        return f"{before.isoformat() if before else '-'}>{after.isoformat() if after else '-'}"


@dataclass
class Preview:
    file: str
    rows: list[RowPlan]
    notes: list[str] = field(default_factory=list)
    marks: list[MarkPlan] = field(default_factory=list)
    """The rows of the « Échéances » sheet, in the file's order."""

    def of(self, kind: RowKind) -> list[RowPlan]:
        return [r for r in self.rows if r.kind == kind]

    @property
    def errors(self) -> int:
        """Rows in error, of sessions and of milestones."""
        return len(self.of("error")) + len(self.mark_errors)

    @property
    def to_write(self) -> list[RowPlan]:
        return [r for r in self.rows if r.kind in ("create", "update")]

    @property
    def to_mark(self) -> list[MarkPlan]:
        """Marks to set (done on a day)."""
        return [m for m in self.marks if m.change and m.change.after and not m.problems]

    @property
    def to_unmark(self) -> list[MarkPlan]:
        """Marks to remove."""
        return [m for m in self.marks if m.change and not m.change.after and not m.problems]

    @property
    def marks_unchanged(self) -> list[MarkPlan]:
        return [m for m in self.marks if m.change is None and not m.problems]

    @property
    def mark_errors(self) -> list[MarkPlan]:
        return [m for m in self.marks if m.problems]

    @property
    def problems(self) -> list[str]:
        """Every problem, sessions first, then milestones."""
        return [p for r in self.of("error") for p in r.problems] + [
            p for m in self.mark_errors for p in m.problems
        ]

    @property
    def anything(self) -> bool:
        """Whether confirming would write anything."""
        return bool(self.to_write or self.to_mark or self.to_unmark)


@dataclass
class Applied:
    created: list[RowPlan] = field(default_factory=list)
    updated: list[RowPlan] = field(default_factory=list)
    failed: list[RowPlan] = field(default_factory=list)
    marked: list[MarkPlan] = field(default_factory=list)
    unmarked: list[MarkPlan] = field(default_factory=list)
    marks_failed: list[MarkPlan] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """« Enregistré : 1 session(s) créée(s), 0 modifiée(s), 3 échéance(s) marquée(s). »"""
        parts = [f"{len(self.created)} session(s) créée(s)", f"{len(self.updated)} modifiée(s)"]
        if self.marked:
            parts.append(f"{len(self.marked)} échéance(s) marquée(s)")
        if self.unmarked:
            parts.append(f"{len(self.unmarked)} marque(s) retirée(s)")
        return f"Enregistré : {', '.join(parts)}."


def problem_line(where: str, column: str | None, message: str) -> str:
    """``ligne 4, colonne « Début » : date « 31/02/2027 » invalide (attendu : …)``."""
    return f"{where}, colonne « {column} » : {message}" if column else f"{where} : {message}"


def loader_lines(where: str, problems: Collection[Problem]) -> list[str]:
    """The loader's problems about a row's session, each under its column."""
    lines = []
    for problem in problems:
        column = sheet.column_for(problem.field)
        if column is not None:
            lines.append(problem_line(where, column.name, problem.message))
        elif problem.field:
            lines.append(f"{where}, champ « {problem.field} » : {problem.message}")
        else:
            lines.append(problem_line(where, None, problem.message))
    return lines


# --- what the configuration knows ------------------------------------------------------------


def _plain(path: Path) -> dict[str, Any] | None:
    try:
        found = writer.plain(writer.read_draft(path).tree)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    except Exception:  # ruamel's own errors: a broken file is simply not a source
        return None
    return found if isinstance(found, dict) else None


def known_of(config: Config) -> tuple[Known, dict[str, dict[str, Any]]]:
    """What the configuration knows (titles, people, jurors by centre, the jury directory),
    and each session's values as its file holds them."""
    known = Known(config.centres)
    files: dict[str, dict[str, Any]] = {}
    for centre in config.centres.values():
        for person in centre.management:
            known.people.setdefault(person.email.casefold(), person.name)
    ordered = sorted(config.sessions.values(), key=lambda s: (s.start, s.id), reverse=True)
    for session in ordered:
        values = _plain(config.session_files[session.id])
        if values is None:
            continue
        files[session.id] = values
        title = values.get("title")
        if isinstance(title, Mapping):
            known.titles.setdefault(
                session.title.code,
                {k: title[k] for k in ("acronym", "label", "transport") if k in title},
            )
        people = [values.get(k) for k in ("session_manager", "deputy_manager", "surveillant")]
        people += [values.get("comedien"), *(values.get("coordinators") or [])]
        for person in [*people, *(values.get("jury") or [])]:
            if isinstance(person, Mapping) and person.get("name") and person.get("email"):
                known.people.setdefault(str(person["email"]).casefold(), str(person["name"]))
        jurors = known.jurors.setdefault(session.centre, {})
        for juror in values.get("jury") or []:
            if isinstance(juror, Mapping) and juror.get("email") and juror.get("name"):
                email = str(juror["email"]).casefold()
                code = str(juror.get("title_code") or session.title.code)
                jurors.setdefault(email, KnownJuror(dict(juror), code))
    for email, juror in config.jury.jurors.items():
        # the loader takes the juror from the directory by address: the session names them so
        known.directory[email.casefold()] = KnownJuror({"email": juror.email}, None, reference=True)
        known.people.setdefault(email.casefold(), juror.name)
    return known, files


# --- preview -------------------------------------------------------------------------------


def _summary(values: Mapping[str, Any], config: Config) -> str:
    title = values.get("title") or {}
    centre = config.centres.get(str(values.get("centre")))
    start, end = values.get("start"), values.get("end")
    when = (
        f" du {fr_date(start)} au {fr_date(end)}"
        if isinstance(start, date) and isinstance(end, date)
        else ""
    )
    where = f", {centre.name}" if centre else ""
    return f"{title.get('acronym', '?')} {title.get('label', '')}{when}{where}".strip()


@dataclass
class _Run:
    config: Config
    known: Known
    files: dict[str, dict[str, Any]]
    allowed: Collection[str] | None
    seen: dict[str, str] = field(default_factory=dict)
    """Session id -> where in the file it was met first."""


def preview_import(
    directory: Path,
    name: str,
    data: bytes,
    *,
    allowed_centres: Collection[str] | None = None,
    load: Callable[[Path], Config] = load_config,
    stored: Marks | None = None,
    now: datetime | None = None,
) -> Preview:
    """What importing ``data`` (a file called ``name``) into ``directory`` would do.

    ``allowed_centres``: the centres whose sessions the person may change (None: all);
    ``stored`` and ``now``: the store's done marks and the moment, for an « Échéances » sheet.
    Raises UsageError when the file cannot be read at all."""
    names = [c.name for c in sheet.COLUMNS]
    table = read_table(name, data, names, also=EXPORT_ONLY, side=MARKS_SIDE)
    config = load(directory)
    known, files = known_of(config)
    run = _Run(config, known, files, allowed_centres)
    preview = Preview(name, [_row(run, row) for row in table.rows])
    if table.side:
        if now is None:
            raise ValueError("an « Échéances » sheet is read at a moment: pass now")
        preview.marks = preview_marks(config, table.side, stored or {}, now, allowed_centres)
    for header in table.ignored:
        preview.notes.append(f"colonne « {header} » ignorée : elle n'est pas une colonne connue")
    missing = [c.name for c in sheet.COLUMNS if c.name not in table.columns]
    if missing and table.columns:
        preview.notes.append(
            "colonnes absentes du fichier (les sessions existantes gardent ces champs) : "
            + ", ".join(f"« {m} »" for m in missing)
        )
    return preview


def _row(run: _Run, row: Row) -> RowPlan:
    plan = RowPlan(row.line, row.sheet, "error")
    written = sheet.text(row.cells.get(sheet.IDENT))
    if written is not None and written.upper().startswith(sheet.EXAMPLE_MARK):
        plan.kind = "example"
        return plan
    first = sheet.build(row.cells, None, run.known)
    session_id = first.values.get("id")
    base: dict[str, Any] | None = None
    draft: writer.Draft | None = None
    if session_id is None and not any(c == sheet.IDENT for c, _ in first.problems):
        session_id, base, draft = _generated(run, first.values)
    elif session_id is not None:
        draft = writer.read_draft(_path(run, session_id))
        base = _existing(run, session_id, draft)
    built = sheet.build(row.cells, base, run.known) if base is not None else first
    problems = [problem_line(plan.where, c, m) for c, m in built.problems]
    if draft is not None and draft.exists and base is None:
        problems.append(
            problem_line(
                plan.where,
                sheet.IDENT,
                f"le fichier de la session « {session_id} » est illisible : le corriger d'abord "
                "(attendu : un fichier de session valide)",
            )
        )
    plan.session_id = session_id
    if session_id is not None:
        built.values["id"] = session_id
        if session_id in run.seen:
            problems.append(
                problem_line(
                    plan.where,
                    sheet.IDENT,
                    f"session « {session_id} » déjà importée par la {run.seen[session_id]} "
                    "(attendu : une ligne par session)",
                )
            )
        else:
            run.seen[session_id] = plan.where
    centres = {str(built.values.get("centre", "")), str((base or {}).get("centre", ""))} - {""}
    if run.allowed is not None and centres - set(run.allowed):
        refused = ", ".join(sorted(centres - set(run.allowed)))
        problems.append(
            problem_line(
                plan.where,
                sheet.CENTRE,
                f"vous ne pouvez pas modifier les sessions du centre « {refused} » (attendu : un "
                f"de vos centres : {', '.join(sorted(run.allowed)) or 'aucun'})",
            )
        )
    plan.values = built.values
    plan.summary = _summary(built.values, run.config)
    if problems or session_id is None or draft is None:
        plan.problems = problems or [
            problem_line(
                plan.where,
                sheet.IDENT,
                "identifiant impossible à calculer (attendu : un identifiant, ou le sigle du "
                "titre, le début et le centre)",
            )
        ]
        return plan
    plan.version = draft.version
    if base is not None and writer.plain(built.values) == writer.plain(base):
        plan.kind = "unchanged"
        return plan
    path = _path(run, session_id)
    text = writer.render(writer.merge(writer.read_draft(path).tree, built.values))
    found = check_session_file(run.config, path, text.encode("utf-8"))
    if found:
        plan.problems = loader_lines(plan.where, found)
        return plan
    if base is None:
        plan.kind = "create"
        return plan
    plan.kind = "update"
    plan.changes = sheet.differences(base, built.values) or [
        (change.field, change.before or "", change.after or "")
        for change in writer.changes(base, built.values)
        if not change.field.startswith("candidates.list")
    ]
    return plan


def _path(run: _Run, session_id: str) -> Path:
    return run.config.directory / "sessions" / f"{session_id}.yaml"


def _existing(run: _Run, session_id: str, draft: writer.Draft) -> dict[str, Any] | None:
    if not draft.exists:
        return None
    if session_id in run.files:
        return run.files[session_id]
    found = writer.plain(draft.tree)
    return found if isinstance(found, dict) else None


def _generated(
    run: _Run, values: Mapping[str, Any]
) -> tuple[str | None, dict[str, Any] | None, writer.Draft | None]:
    """The identifier of a row without one (the form's rule), and the session it names when
    that session is this one already (same title, centre and first day: a file imported
    twice updates, it never duplicates)."""
    title = values.get("title") or {}
    centre = run.config.centres.get(str(values.get("centre", "")))
    start = values.get("start")
    if not title.get("acronym") or centre is None or not isinstance(start, date):
        return None, None, None
    nature = str(values.get("nature", "titre"))
    acronym = str(title["acronym"])
    looked: set[str] = set()
    while True:  # sa-2027-03-st-andre, then sa-2027-03-st-andre-2… while they exist
        candidate = session_id_for(acronym, start, centre.short_name, nature=nature, taken=looked)
        same = run.config.sessions.get(candidate)
        if same is None:
            break
        if (
            candidate not in run.seen
            and same.title.code == title.get("code")
            and same.centre == centre.id
            and same.start == start
        ):
            draft = writer.read_draft(_path(run, candidate))
            return candidate, _existing(run, candidate, draft), draft
        looked.add(candidate)
    taken = {*run.config.sessions, *run.config.broken_session_ids, *run.seen}
    with contextlib.suppress(OSError):
        taken |= {p.stem for p in (run.config.directory / "sessions").iterdir()}
    candidate = session_id_for(acronym, start, centre.short_name, nature=nature, taken=taken)
    return candidate, None, writer.read_draft(_path(run, candidate))


# --- the « Échéances » sheet ----------------------------------------------------------------


def preview_marks(
    config: Config,
    rows: Collection[Row],
    stored: Marks,
    now: datetime,
    allowed: Collection[str] | None,
) -> list[MarkPlan]:
    """Each row of an « Échéances » sheet, decided on the plan of every face (the planner with
    the store's marks); a row naming a milestone twice is an error the second time."""
    planning = plan_sessions(config, stored, now, centres=False)
    apart = planning.not_applicable
    planned = {
        session.id: milestone_sheet.Planned(
            session,
            config.rulesets[centre.id],
            milestones,
            {n.rule.id: n for n in apart.get(session.id, [])},
            stored.get(session.id, {}),
            local_today(now, centre.tz),
        )
        for session, centre, milestones in planning.planned
    }
    broken = {*config.broken_session_ids, *planning.failed}
    seen: dict[tuple[str, str], str] = {}
    plans = []
    for row in rows:
        plan = MarkPlan(row.line, row.sheet)
        plans.append(plan)
        try:
            plan.change = milestone_sheet.decide(row.cells, planned, broken, allowed)
        except RowError as exc:
            plan.problems = [problem_line(plan.where, exc.column, exc.message)]
            continue
        key = (plan.change.session_id, plan.change.milestone_id) if plan.change else _key(row)
        if key in seen:
            plan.change = None
            plan.problems = [
                problem_line(
                    plan.where,
                    milestone_sheet.KEY,
                    f"échéance « {key[1]} » de la session « {key[0]} » déjà lue à la "
                    f"{seen[key]} (attendu : une ligne par échéance)",
                )
            ]
            continue
        seen[key] = plan.where
    return plans


def _key(row: Row) -> tuple[str, str]:
    cells = row.cells
    return (
        sheet.text(cells.get(milestone_sheet.IDENT)) or "",
        sheet.text(cells.get(milestone_sheet.KEY)) or "",
    )


def apply_marks(
    preview: Preview, store: Store, *, by: str, who: str, now: datetime, applied: Applied
) -> None:
    """Write the marks of ``preview`` through :mod:`syncsvc.app.marks` (``by``: « Fait par »;
    ``who``: the login the log names), each noted with the file and the row."""
    for plan in [*preview.to_mark, *preview.to_unmark]:
        change = plan.change
        assert change is not None
        if change.after is None:
            marks.mark_undone(store, change.session_id, change.milestone_id, who=who)
            applied.unmarked.append(plan)
            continue
        marks.mark_done(
            store,
            change.session_id,
            change.milestone_id,
            change.after,
            by=by,
            note=f"import de « {preview.file} », {plan.where}",
            at=now,
            who=who,
        )
        applied.marked.append(plan)


# --- applying ------------------------------------------------------------------------------


def apply_import(preview: Preview, authoring: Authoring, *, user: str, now: datetime) -> Applied:
    """Write every row of ``preview`` to create or update (audited as ``import``); a row the
    writer refuses (the file changed since the preview, or the loader says no) is reported,
    the others go through."""
    from syncsvc.inputs.writer import WriteConflict, WriteRefused

    applied = Applied()
    for plan in preview.to_write:
        assert plan.values is not None
        try:
            authoring.save_session(
                user=user,
                values=plan.values,
                version=plan.version,
                now=now,
                action="import",
                note=f"import de « {preview.file} », {plan.where}",
            )
        except WriteRefused as exc:
            plan.problems = loader_lines(plan.where, exc.problems)
            applied.failed.append(plan)
        except WriteConflict:
            plan.problems = [
                problem_line(
                    plan.where,
                    None,
                    f"le fichier de la session « {plan.session_id} » a changé depuis l'aperçu : "
                    "rien n'a été écrit pour cette ligne (attendu : relancer l'import)",
                )
            ]
            applied.failed.append(plan)
        else:
            (applied.created if plan.kind == "create" else applied.updated).append(plan)
    return applied


# --- French text (the command line; the page has its own template) ----------------------------


def preview_text(preview: Preview) -> list[str]:
    lines = [f"Import de « {preview.file} » : {len(preview.rows)} ligne(s) lue(s)."]
    groups: list[tuple[RowKind, str]] = [
        ("create", "Sessions à créer"),
        ("update", "Sessions à modifier"),
        ("unchanged", "Sessions sans changement"),
    ]
    for kind, heading in groups:
        rows = preview.of(kind)
        if not rows:
            continue
        lines.append(f"{heading} ({len(rows)}) :")
        for row in rows:
            lines.append(f"  {row.where} : {row.session_id} — {row.summary}")
            lines.extend(
                f"      {column} : {old or '(vide)'} → {new or '(vide)'}"
                for column, old, new in row.changes
            )
    marked: list[tuple[str, list[MarkPlan]]] = [
        ("Échéances à marquer", preview.to_mark),
        ("Marques à retirer", preview.to_unmark),
    ]
    for heading, plans in marked:
        if plans:
            lines.append(f"{heading} ({len(plans)}) :")
            lines.extend(f"  {p.where} : {p.change.text}" for p in plans if p.change)
    if preview.marks_unchanged:
        lines.append(f"Échéances sans changement : {len(preview.marks_unchanged)}")
    errors = preview.problems
    if errors:
        lines.append(f"Lignes en erreur, non importées ({preview.errors}) :")
        lines.extend(f"  {problem}" for problem in errors)
    examples = preview.of("example")
    if examples:
        lines.append(
            "Ligne d'exemple du modèle ignorée : " + ", ".join(row.where for row in examples)
        )
    lines.extend(f"Remarque : {note}" for note in preview.notes)
    if not preview.anything and not errors:
        lines.append("Résultat : aucun changement, rien à importer.")
    return lines
