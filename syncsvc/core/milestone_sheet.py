"""The « Échéances » sheet of a spreadsheet: one row per milestone of a session, and how a row
typed by a coordinator becomes a done mark (pure).

The export writes one row per milestone the planner gives each session (the same plan as every
other face, never recomputed here): the session's identifier, its centre, the milestone's label,
due day and status, the day it was done and by whom, and the milestone's identifier (« Jalon »),
which with « Identifiant » is the row's key. Only « Identifiant », « Jalon » and « Fait le » are
read back; the other columns are shown, never imported.

« Fait le », as the sessions sheet's cells: empty leaves the milestone as it is (and the row is
not checked); a date (a
spreadsheet date, ``jj/mm/aaaa``, ``aaaa-mm-jj``) marks it done that day (never after today, in
the centre's time zone); « oui » marks it done today unless it is done already; ``-`` removes
the store's mark. A mark written in the session file (``done:``, ``declared_on``) is changed in
the file only, as on the dashboard. Candidates never appear: a milestone has no candidate data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from syncsvc.core import session_sheet as cells
from syncsvc.core.labels import REDO_LABEL, STATUS_LABELS, capitalised, fr_date
from syncsvc.core.model import Milestone, Session
from syncsvc.core.planner import NotApplicable, implicit_marks
from syncsvc.core.rules import Ruleset

SHEET: Final = "Échéances"
IDENT: Final = cells.IDENT
CENTRE: Final = cells.CENTRE
TITLE: Final = "Échéance"
DUE: Final = "Date"
STATUS: Final = "Statut"
DONE_ON: Final = "Fait le"
DONE_BY: Final = "Fait par"
KEY: Final = "Jalon"
HEADERS: Final = (IDENT, CENTRE, TITLE, DUE, STATUS, DONE_ON, DONE_BY, KEY)
READ: Final = (IDENT, KEY, DONE_ON)
"""The columns read back; the others are the export's, read without a word."""
MARKER: Final = (KEY, DONE_ON)
"""A sheet whose header names these is a sheet of milestones, not of sessions."""
SHOWN: Final = (CENTRE, TITLE, DUE, STATUS, DONE_BY)
WIDTHS: Final = {
    IDENT: 28, CENTRE: 22, TITLE: 60, DUE: 12, STATUS: 16, DONE_ON: 12, DONE_BY: 22, KEY: 26,
}  # fmt: skip
FILE_AUTHOR: Final = "fichier de session"
"""« Fait par » of a mark written in the session file (``done:`` or ``declared_on``)."""
DONE_TODAY: Final = "oui"
_HINT: Final = (
    "(attendu : la date où elle a été faite, jj/mm/aaaa, « oui » pour aujourd'hui, « - » pour "
    "retirer la marque, ou vide pour ne rien changer)"
)


def file_marks(session: Session) -> dict[str, date]:
    """The done days the session file writes: ``declared_on`` (the CERES creation), then the
    lines under ``done:``."""
    return {**implicit_marks(session), **session.done}


def file_mark(session: Session, milestone_id: str) -> tuple[date, str] | None:
    """(day, how to remove it) when the session file itself marks the milestone done: a line
    under ``done:``, or ``declared_on`` for the CERES creation; None otherwise."""
    ways = []
    if milestone_id in session.done:
        day = session.done[milestone_id]
        ways.append(f"retirer la ligne « {milestone_id}: {day.isoformat()} » sous done:")
    implied = implicit_marks(session).get(milestone_id)
    if implied is not None:
        ways.append(
            f"retirer ou corriger « declared_on: {implied.isoformat()} » (jour de création "
            "dans CERES, qui vaut marque)"
        )
    if not ways:
        return None
    return file_marks(session)[milestone_id], " et ".join(ways)


def status_text(milestone: Milestone) -> str:
    """« En retard », « Fait »… and « (à refaire) » for a milestone done before a postponement."""
    shown = capitalised(STATUS_LABELS[milestone.status])
    return f"{shown} ({REDO_LABEL})" if milestone.redo else shown


def rows(
    session: Session, milestones: Sequence[Milestone], authors: Mapping[str, str]
) -> list[list[Any]]:
    """The rows of one session's milestones (the planner's, in its order); ``authors``: who
    made each of the store's marks of the session, by milestone id."""
    written = file_marks(session)
    found = []
    for m in milestones:
        by = None
        if m.done_on is not None:
            by = authors.get(m.id) or (FILE_AUTHOR if m.id in written else None)
        found.append(
            [session.id, session.centre, m.title, m.due, status_text(m), m.done_on, by, m.id]
        )
    return found


# --- reading a row back -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkChange:
    """A mark a row asks for: done on ``after`` (None: the store's mark removed)."""

    session_id: str
    milestone_id: str
    title: str
    centre: str
    before: date | None
    after: date | None

    @property
    def text(self) -> str:
        """``sa-2027-03-st-andre, Commander le pli (DTE) : fait le 03/12/2026 → fait le …``."""
        after = f"fait le {fr_date(self.after)}" if self.after else "pas fait (marque retirée)"
        before = f" : fait le {fr_date(self.before)}" if self.before else ""
        return f"{self.session_id}, {self.title}{before} → {after}"


class RowError(ValueError):
    """A row that cannot be read: its column and a French message."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True, slots=True)
class Planned:
    """What the row of one session is checked against: the session and its plan."""

    session: Session
    ruleset: Ruleset
    milestones: Sequence[Milestone]
    not_applicable: Mapping[str, NotApplicable]
    """Milestone id -> why it does not apply (the planner's)."""
    stored: Mapping[str, date]
    """The store's marks of the session, by milestone id."""
    today: date
    """The centre's day."""


def decide(
    row: Mapping[str, Any],
    planned: Mapping[str, Planned],
    broken: Collection[str],
    allowed: Collection[str] | None,
) -> MarkChange | None:
    """The mark one row asks for (None: nothing to change); RowError when it cannot be read,
    names no planned milestone of a known session, or asks what may not be done.

    ``planned``: by session id; ``broken``: the sessions whose file does not load;
    ``allowed``: the centres whose milestones may be marked (None: all). A row whose « Fait le »
    is empty asks nothing: it is not checked (an export imported into another configuration
    lists milestones that may not apply there)."""
    if cells.text(row.get(DONE_ON)) is None:
        return None
    session_id = cells.text(row.get(IDENT))
    if session_id is None:
        raise RowError(IDENT, "identifiant de session manquant (attendu : celui de l'export)")
    found = planned.get(session_id)
    if found is None and session_id in broken:
        raise RowError(
            IDENT,
            f"le fichier de la session « {session_id} » est en erreur : rien n'est marqué "
            "(attendu : un fichier corrigé ; syncsvc validate liste ses erreurs)",
        )
    if found is None:
        raise RowError(
            IDENT,
            f"session « {session_id} » inconnue (attendu : l'identifiant d'une session "
            "existante, comme dans l'export)",
        )
    session = found.session
    if allowed is not None and session.centre not in allowed:
        raise RowError(
            CENTRE,
            f"vous ne pouvez pas modifier les sessions du centre « {session.centre} » (attendu : "
            f"un de vos centres : {', '.join(sorted(allowed)) or 'aucun'})",
        )
    milestone = _milestone(row, found)
    try:
        return _change(row.get(DONE_ON), found, milestone)
    except cells.CellError as exc:
        raise RowError(DONE_ON, str(exc)) from None


def _milestone(row: Mapping[str, Any], found: Planned) -> Milestone:
    milestone_id = cells.text(row.get(KEY))
    session = found.session
    if milestone_id is None:
        raise RowError(KEY, "identifiant du jalon manquant (attendu : celui de l'export)")
    milestone = next((m for m in found.milestones if m.id == milestone_id), None)
    if milestone is not None:
        return milestone
    if milestone_id not in found.ruleset.ids:
        raise RowError(
            KEY,
            f"jalon « {milestone_id} » inconnu (attendu : un de "
            f"{', '.join(m.id for m in found.milestones)})",
        )
    apart = found.not_applicable.get(milestone_id)
    title = apart.rule.title if apart else found.ruleset.rule(milestone_id).title
    if apart is not None:
        reason = apart.reason
    elif found.ruleset.rule(milestone_id).yearly:
        reason = "échéance annuelle du centre, qui ne se marque pas pour une session"
    else:
        reason = "pas encore datée"
    raise RowError(
        KEY,
        f"« {title} » ne s'applique pas à la session {session.id} : {reason} (attendu : une "
        "échéance de la session, comme dans l'export)",
    )


def _change(cell: Any, found: Planned, milestone: Milestone) -> MarkChange | None:
    session = found.session
    stored = found.stored.get(milestone.id)
    in_file = file_mark(session, milestone.id)
    current = stored or (in_file[0] if in_file else None)

    def change(after: date | None) -> MarkChange:
        return MarkChange(session.id, milestone.id, milestone.title, session.centre, current, after)

    written = cells.text(cell)
    if written is None:
        return None
    if written == cells.CLEAR:
        if stored is not None:
            return change(None)
        if in_file is not None:
            raise cells.CellError(_in_file(milestone, in_file, "retirer la marque"))
        return None
    if not isinstance(cell, date) and written.casefold() == DONE_TODAY:
        return None if current is not None else change(found.today)
    try:
        day = cells.day(cell)
    except cells.CellError:
        if not any(c.isdigit() for c in written):
            raise cells.CellError(f"« {written[:60]} » illisible {_HINT}") from None
        raise
    assert day is not None
    if day == current:
        return None
    if day > found.today:
        raise cells.CellError(
            f"date {fr_date(day)} dans le futur (attendu : aujourd'hui, {fr_date(found.today)}, "
            "ou avant)"
        )
    if stored is None and in_file is not None:
        raise cells.CellError(_in_file(milestone, in_file, "changer le jour"))
    return change(day)


def _in_file(milestone: Milestone, in_file: tuple[date, str], what: str) -> str:
    return (
        f"« {milestone.title} » est marqué fait le {fr_date(in_file[0])} dans le fichier de "
        f"session : rien n'est changé (attendu : pour {what}, {in_file[1]} dans ce fichier)"
    )
