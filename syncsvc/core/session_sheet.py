"""The columns of a sessions spreadsheet, and how one row becomes a session's values (pure).

One row is one session. The import reads these columns (header names in French, matched
without regard to letter case or repeated spaces); the template and the export write them,
so that an export can be imported back. A column the file does not have leaves the session's
field as it is, and so does an empty cell on an existing session's row: a cell holding
only ``-`` clears an optional field (an import never removes anything by omission). Fields
no column covers (done marks, named candidates, the jury's details, the coordinators'
phones…) are never touched. The session manager, the deputy, the surveillant and the comédien
each have a phone column (a number the spreadsheet reads as a number, its leading zero lost, is
refused); « Accueil du jury » is ``jury_welcome``, never after the first exam day's start.

The postponements (``postponed:``) take one cell, one a line: ``du 15/03/2027 au 19/03/2027,
reportée le 24/11/2026 : motif`` (the dates before the postponement, its day, its reason).

The exam days (``days:``) take one cell: ``15/03/2027 08:30-17:00 ; 16/03/2027 08:30-12:00``,
each day's date and hours, in the file's order (the import writes them in date order and keeps
the file as it is when it says the same days).

A cancellation takes two columns, its day and its reason (the session file's ``cancelled:
{on, reason}``): both are needed to cancel; ``-`` in both makes the session active again.
A cancellation written ``cancelled: true`` (neither day nor reason) shows ``oui`` as its day
(like the export's « Annulée » column) and an empty reason; ``oui`` with an empty reason
reads back as ``cancelled: true``, ``oui`` with a reason is an error (a reason needs its day).
``non`` (any letter case) with an empty reason says the session is not cancelled (as ``-`` in
both); ``non`` with a reason is an error, and so is any other text that is not a date.

People are referred to by e-mail. A juror must already be known — in the session itself, in
the jury directory (``config/jury.yaml``) or in another session of the same centre — because
the spreadsheet carries neither the name nor the habilitation: an unknown juror is an error.
Coordinators, the session manager and the deputy may be written ``Prénom Nom <adresse>``; an
address alone takes the name of a person already known under that address.

Cell values come as a spreadsheet gives them (``date``, ``datetime``, ``time``, numbers, text)
or as CSV text. Dates: a real spreadsheet date, ``jj/mm/aaaa`` or ``aaaa-mm-jj``.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal

from syncsvc.core.identifiers import slug
from syncsvc.core.model import SESSION_ID_PATTERN, Centre

Kind = Literal["text", "date", "time", "int", "bool"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its French header, the session fields it fills (dotted paths, for the
    loader's problems), and what the « Explications » sheet says about it."""

    name: str
    paths: tuple[str, ...]
    what: str
    form: str
    example: str
    required: str
    kind: Kind = "text"
    width: int = 16
    in_example: bool = True
    """Whether the template's example row fills it (never a cancellation, nor a comédien)."""


IDENT = "Identifiant"
TITLE_CODE = "Code titre"
ACRONYM = "Sigle du titre"
LABEL = "Intitulé du titre"
TRANSPORT = "Titre du transport (oui/non)"
NATURE = "Nature"
CCP = "Code CCP"
CENTRE = "Centre"
START = "Début"
END = "Fin"
FIRST = "Heure de début"
LAST = "Heure de fin"
DAYS = "Jours d'examen"
WELCOME = "Accueil du jury"
PLACE = "Lieu"
TRAINING = "Candidats formation"
VAE = "Candidats VAE"
MANAGER_NAME = "Responsable de session (nom)"
MANAGER = "Responsable de session (courriel)"
MANAGER_PHONE = "Responsable de session (téléphone)"
DEPUTY_NAME = "Suppléant (nom)"
DEPUTY = "Suppléant (courriel)"
DEPUTY_PHONE = "Suppléant (téléphone)"
COORDINATION = "Coordination (courriels)"
JURY = "Jury (courriels)"
VERSION = "Millésime du titre"
EXPIRY = "Échéance du titre"
WATCHER_NAME = "Surveillant (nom)"
WATCHER = "Surveillant (courriel)"
WATCHER_PHONE = "Surveillant (téléphone)"
ACTOR_NAME = "Comédien (nom)"
ACTOR = "Comédien (courriel)"
ACTOR_PHONE = "Comédien (téléphone)"
DECLARED = "Déclaration CERES (date)"
CANCELLED_ON = "Annulation (date)"
CANCELLED_WHY = "Annulation (motif)"
POSTPONED = "Reports"
CANCELLED_MARK: Final = "oui"
"""« Annulation (date) » of a session cancelled without day nor reason (``cancelled: true``)."""
ACTIVE_MARK: Final = "non"
"""« Annulation (date) » of a session that is not cancelled (read only: the export leaves the
cell empty)."""

_REQUIRED = "obligatoire"
_OPTIONAL = "facultatif"

COLUMNS: Final[tuple[Column, ...]] = (
    Column(
        IDENT,
        ("id",),
        "L'identifiant de la session, qui est aussi le nom de son fichier. Une ligne dont "
        "l'identifiant existe déjà modifie cette session ; vide, la ligne crée une session "
        "dont l'identifiant est calculé (sigle, année-mois du début, site du centre).",
        "minuscules, chiffres et tirets",
        "sa-2027-03-st-andre",
        "facultatif (calculé si vide)",
        width=28,
    ),
    Column(
        TITLE_CODE,
        ("title.code", "title"),
        "Le code du titre professionnel (RNCP).",
        "TP- suivi de 5 chiffres",
        "TP-00374",
        _REQUIRED,
        width=12,
    ),
    Column(
        ACRONYM,
        ("title.acronym",),
        "Le sigle du titre, en tête des titres d'agenda.",
        "texte court",
        "SA",
        "facultatif si une autre session a déjà ce code titre",
        width=10,
    ),
    Column(
        LABEL,
        ("title.label",),
        "L'intitulé complet du titre.",
        "texte",
        "Secrétaire assistant",
        "facultatif si une autre session a déjà ce code titre",
        width=34,
    ),
    Column(
        TRANSPORT,
        ("title.transport",),
        "Titre du transport routier (procès-verbal à l'unité départementale sous 48 heures).",
        "oui ou non",
        "non",
        "facultatif (défaut : non, ou comme les autres sessions du titre)",
        "bool",
        width=12,
    ),
    Column(
        VERSION,
        ("title.version",),
        "Le millésime du titre pour lequel la session est organisée, tel que CERES l'affiche "
        "(« - » : plus de millésime).",
        "texte court (année ou date)",
        "2023",
        _OPTIONAL,
        width=12,
    ),
    Column(
        EXPIRY,
        ("title.expires_on",),
        "L'échéance du titre : après ce jour, aucune session de ce titre ne peut être créée "
        "dans CERES (« - » : plus d'échéance).",
        "date (jj/mm/aaaa)",
        "31/12/2028",
        _OPTIONAL,
        "date",
        12,
    ),
    Column(
        NATURE,
        ("nature",),
        "Titre complet, CCP (certificat de compétences professionnelles) ou CCS.",
        "titre, ccp ou ccs (liste déroulante)",
        "titre",
        _REQUIRED,
        width=10,
    ),
    Column(
        CCP,
        ("ccp_code",),
        "Le code du CCP (ou du CCS) évalué.",
        "texte",
        "CP-00412",
        "obligatoire pour une session ccp ou ccs",
        width=12,
    ),
    Column(
        CENTRE,
        ("centre",),
        "Le centre qui organise la session : sa clé dans centres.yaml (ou son nom).",
        "une clé de centres.yaml (liste déroulante)",
        "afpar-st-andre",
        _REQUIRED,
        width=24,
    ),
    Column(
        START,
        ("start",),
        "Le premier jour des épreuves.",
        "date (jj/mm/aaaa)",
        "15/03/2027",
        _REQUIRED,
        "date",
        12,
    ),
    Column(
        END,
        ("end",),
        "Le dernier jour des épreuves.",
        "date (jj/mm/aaaa)",
        "19/03/2027",
        _REQUIRED,
        "date",
        12,
    ),
    Column(
        FIRST,
        ("first_day_start",),
        "L'heure de début du premier jour.",
        "HH:MM",
        "08:30",
        _OPTIONAL,
        "time",
        10,
    ),
    Column(
        LAST,
        ("last_day_end",),
        "L'heure de fin du dernier jour.",
        "HH:MM",
        "16:30",
        "facultatif (défaut : 18:00)",
        "time",
        10,
    ),
    Column(
        WELCOME,
        ("jury_welcome",),
        "L'heure d'accueil du jury le premier jour (accueil, consignes du responsable de "
        "session), dite au jury ; au plus tard l'heure de début du premier jour (« - » : "
        "pas d'heure d'accueil).",
        "HH:MM",
        "08:00",
        _OPTIONAL,
        "time",
        10,
    ),
    Column(
        DAYS,
        ("days",),
        "Les jours d'examen et leurs horaires, quand ils ne sont pas tous les jours ouvrés du "
        "début à la fin, de l'heure de début à l'heure de fin (vide pour une nouvelle session, "
        "ou « - » : ces jours-là). Chaque jour : sa date, puis son heure de début et son heure "
        "de fin ; les jours séparés par « ; » ou un retour à la ligne.",
        "jj/mm/aaaa HH:MM-HH:MM ; …",
        "15/03/2027 08:30-17:00 ; 16/03/2027 08:30-12:00",
        "facultatif (défaut : chaque jour ouvré du début à la fin)",
        width=44,
    ),
    Column(
        PLACE,
        ("location",),
        "Où se passent les épreuves.",
        "texte",
        "AFPAR Saint-André, salle B12",
        "facultatif (défaut : le nom du centre)",
        width=30,
    ),
    Column(
        TRAINING,
        ("candidates.training", "candidates"),
        "Le nombre de candidats issus de formation (un nombre seulement : aucun nom).",
        "nombre entier",
        "10",
        "facultatif (défaut : 0)",
        "int",
        11,
    ),
    Column(
        VAE,
        ("candidates.vae",),
        "Le nombre de candidats en VAE (un nombre seulement : aucun nom).",
        "nombre entier",
        "2",
        "facultatif (défaut : 0)",
        "int",
        11,
    ),
    Column(
        MANAGER_NAME,
        ("session_manager.name", "session_manager"),
        "Le nom du responsable de session.",
        "Prénom Nom",
        "Jean-Luc Hoarau",
        "facultatif si l'adresse est déjà connue",
        width=22,
    ),
    Column(
        MANAGER,
        ("session_manager.email",),
        "L'adresse e-mail du responsable de session.",
        "nom@domaine.fr",
        "jl.hoarau@afpar.example",
        _REQUIRED,
        width=28,
    ),
    Column(
        MANAGER_PHONE,
        ("session_manager.phone",),
        "Le numéro de téléphone du responsable de session, donné au jury pour le joindre les "
        "jours d'examen (« - » : plus de numéro).",
        "texte (chiffres, espaces, points)",
        "0692 00 00 01",
        _OPTIONAL,
        width=16,
    ),
    Column(
        DEPUTY_NAME,
        ("deputy_manager.name", "deputy_manager"),
        "Le nom du suppléant du responsable de session.",
        "Prénom Nom",
        "Sandrine Grondin",
        "facultatif si l'adresse est déjà connue",
        width=22,
    ),
    Column(
        DEPUTY,
        ("deputy_manager.email",),
        "L'adresse e-mail du suppléant (« - » : plus de suppléant).",
        "nom@domaine.fr",
        "s.grondin@afpar.example",
        _OPTIONAL,
        width=28,
    ),
    Column(
        DEPUTY_PHONE,
        ("deputy_manager.phone",),
        "Le numéro de téléphone du suppléant, pour le joindre les jours d'examen (« - » : plus de "
        "numéro).",
        "texte (chiffres, espaces, points)",
        "0692 00 00 02",
        _OPTIONAL,
        width=16,
    ),
    Column(
        WATCHER_NAME,
        ("surveillant.name", "surveillant"),
        "Le nom du surveillant des épreuves.",
        "Prénom Nom",
        "Line Hoarau",
        "facultatif si l'adresse est déjà connue",
        width=22,
    ),
    Column(
        WATCHER,
        ("surveillant.email",),
        "L'adresse e-mail du surveillant, invité comme le jury (« - » : plus de surveillant).",
        "nom@domaine.fr",
        "l.hoarau@afpar.example",
        _OPTIONAL,
        width=28,
    ),
    Column(
        WATCHER_PHONE,
        ("surveillant.phone",),
        "Le numéro de téléphone du surveillant, pour le joindre les jours d'examen (« - » : "
        "plus de numéro).",
        "texte (chiffres, espaces, points)",
        "0692 00 00 03",
        _OPTIONAL,
        width=16,
    ),
    Column(
        ACTOR_NAME,
        ("comedien.name", "comedien"),
        "Le nom du comédien des mises en situation, quand le référentiel d'évaluation en prévoit.",
        "Prénom Nom",
        "Paul Payet",
        "facultatif si l'adresse est déjà connue",
        width=22,
        in_example=False,
    ),
    Column(
        ACTOR,
        ("comedien.email",),
        "L'adresse e-mail du comédien, invité comme le jury (« - » : plus de comédien).",
        "nom@domaine.fr",
        "p.payet@afpar.example",
        _OPTIONAL,
        width=28,
        in_example=False,
    ),
    Column(
        ACTOR_PHONE,
        ("comedien.phone",),
        "Le numéro de téléphone du comédien, pour le joindre les jours d'examen (« - » : plus de "
        "numéro).",
        "texte (chiffres, espaces, points)",
        "0692 00 00 04",
        _OPTIONAL,
        width=16,
        in_example=False,
    ),
    Column(
        COORDINATION,
        ("coordinators",),
        "Les personnes qui coordonnent la session. Séparer les adresses par « ; », « , » ou un "
        "retour à la ligne ; une personne qu'aucune session ne connaît s'écrit "
        "« Prénom Nom <adresse> ».",
        "adresses e-mail",
        "Nathalie Técher <n.techer@afpar.example>",
        "obligatoire (au moins une personne)",
        width=36,
    ),
    Column(
        JURY,
        ("jury",),
        "Les membres du jury, par leur adresse e-mail, séparées par « ; », « , » ou un retour à "
        "la ligne. Chacun doit être déjà connu (dans la session, dans config/jury.yaml ou dans "
        "une autre session du même centre) : son nom et son habilitation en viennent.",
        "adresses e-mail",
        "c.maillot@jury.example; p.fontaine@jury.example",
        _OPTIONAL,
        width=40,
    ),
    Column(
        DECLARED,
        ("declared_on",),
        "Le jour où la session a été créée dans CERES (l'échéance de déclaration est alors "
        "faite ; « - » : pas encore déclarée).",
        "date (jj/mm/aaaa)",
        "20/11/2026",
        _OPTIONAL,
        "date",
        12,
    ),
    Column(
        POSTPONED,
        ("postponed",),
        "Les reports de la session, du plus ancien au plus récent, un par ligne (ou séparés "
        "par « ; ») : les dates qu'elle avait avant, le jour du report et son motif. Reporter : "
        "mettre les nouvelles dates dans « Début » et « Fin » et ajouter une ligne avec les "
        "anciennes (« - » : plus aucun report).",
        "du jj/mm/aaaa au jj/mm/aaaa, reportée le jj/mm/aaaa : motif",
        "du 15/03/2027 au 19/03/2027, reportée le 24/11/2026 : Plateau technique indisponible",
        _OPTIONAL,
        width=44,
        in_example=False,
    ),
    Column(
        CANCELLED_ON,
        ("cancelled.on", "cancelled"),
        "Le jour où la session a été annulée. Annuler demande la date et le motif ; « - » dans "
        "les deux colonnes d'annulation rend la session active. Ses éléments d'agenda restent, "
        "marqués annulés, et le jury est prévenu. « oui » à la place de la date, avec un motif "
        "vide : annulée sans date ni motif connus (cancelled: true) ; « non », avec un motif "
        "vide : pas annulée (comme « - » dans les deux colonnes).",
        "date (jj/mm/aaaa)",
        "11/01/2027",
        "facultatif (avec le motif)",
        "date",
        12,
        in_example=False,
    ),
    Column(
        CANCELLED_WHY,
        ("cancelled.reason",),
        "Pourquoi la session est annulée.",
        "texte",
        "Trop peu de candidats",
        "facultatif (avec la date)",
        width=30,
        in_example=False,
    ),
)
"""The columns the import reads, in the template's order."""

BY_NAME: Final = {c.name: c for c in COLUMNS}
EXAMPLE_MARK: Final = "EXEMPLE"
"""An « Identifiant » starting with this word marks the template's example row (skipped)."""

NATURES: Final = ("titre", "ccp", "ccs")
REQUIRED_COLUMNS: Final = (TITLE_CODE, NATURE, CENTRE, START, END, MANAGER, COORDINATION)
"""Needed to create a session."""
CLEAR: Final = "-"
"""A cell holding only this clears the field (an empty cell keeps an existing session's)."""
DEFAULT_LAST: Final = "18:00"


def header_key(text: str) -> str:
    """A header as compared: letter case, spaces and a trailing ``*`` aside."""
    return " ".join(text.replace("*", " ").split()).casefold()


def column_for(path: str) -> Column | None:
    """The column a loader's field path (``jury[2].email``, ``title.code``) belongs to."""
    plain = re.sub(r"\[\d+\]|\.\d+(?=\.|$)", "", path)
    for column in COLUMNS:
        for candidate in column.paths:
            if plain == candidate or (candidate in _LISTS and plain.startswith(candidate + ".")):
                return column
    return None


_LISTS: Final = ("jury", "coordinators", "days", "postponed")
"""Columns of people whose every sub-field (``jury[2].habilitation_until``) is theirs."""


# --- cells -------------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell that cannot be read: a French message ``what « value » why (attendu : …)``."""


def _shown(value: object) -> str:
    text = value.isoformat() if isinstance(value, date | time) else str(value)
    text = " ".join(text.split())
    return f"« {text[:60]}{'…' if len(text) > 60 else ''} »"


def text(value: object) -> str | None:
    """A cell as text, stripped; None when empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == time(0) else value
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    found = str(value).strip()
    return found or None


_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_EXCEL_EPOCH = date(1899, 12, 30)
_DAY_HINT = "(attendu : une date jj/mm/aaaa, ex. 15/03/2027)"


def day(value: object) -> date | None:
    """A date cell: a spreadsheet date, ``jj/mm/aaaa``, ``aaaa-mm-jj`` or an Excel day number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 <= value < 80000:  # a day number (1954-2119) of a cell not formatted as date
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise CellError(f"date {_shown(value)} invalide {_DAY_HINT}")
    written = str(value).strip()
    found = _DAY.fullmatch(written)
    parts = (found[3], found[2], found[1]) if found else None
    iso = _ISO_DAY.fullmatch(written)
    if iso:
        parts = (iso[1], iso[2], iso[3])
    if parts is None:
        raise CellError(f"date {_shown(value)} illisible {_DAY_HINT}")
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise CellError(
            f"date {_shown(value)} invalide : ce jour n'existe pas {_DAY_HINT}"
        ) from None


_TIME = re.compile(r"(\d{1,2})\s*(?:[:hH]\s*(\d{2})?)?(?::\d{2})?")
_TIME_HINT = "(attendu : une heure HH:MM, ex. 08:30)"


def clock(value: object) -> str | None:
    """A time cell as ``HH:MM``: a spreadsheet time, ``8:30``, ``08:30``, ``8h30``, ``8 h``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        value = value.time()
    if isinstance(value, time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, float | int) and not isinstance(value, bool) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    found = _TIME.fullmatch(str(value).strip())
    if found is None:
        raise CellError(f"heure {_shown(value)} illisible {_TIME_HINT}")
    hours, minutes = int(found[1]), int(found[2] or 0)
    if hours > 23 or minutes > 59:
        raise CellError(f"heure {_shown(value)} invalide {_TIME_HINT}")
    return f"{hours:02d}:{minutes:02d}"


_DAYS_HINT = (
    "(attendu : chaque jour écrit jj/mm/aaaa HH:MM-HH:MM, les jours séparés par « ; », "
    "ex. 15/03/2027 08:30-17:00 ; 16/03/2027 08:30-12:00)"
)
_EXAM_DAY = re.compile(r"(\S+?),?\s+(\S.*?)\s*(?:-|–|—|\bà\b)\s*(\S.*)")


def exam_days(value: object) -> list[dict[str, Any]] | None:
    """The exam days cell: ``jj/mm/aaaa HH:MM-HH:MM`` for each day, separated by ``;`` or line
    breaks (``8h30``, ``8:30``, ``aaaa-mm-jj``, ``–`` or ``à`` are read too); the days as the
    session file lists them (``{date, start, end}``), in date order."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise CellError(f"jours {_shown(value)} illisibles {_DAYS_HINT}")
    found: dict[date, dict[str, Any]] = {}
    for part in re.split(r"[;\n\r]+", value):
        item = " ".join(part.split())
        if not item:
            continue
        parts = _EXAM_DAY.fullmatch(item)
        if parts is None:
            raise CellError(f"jour {_shown(item)} illisible {_DAYS_HINT}")
        try:
            when, start, end = day(parts[1]), clock(parts[2]), clock(parts[3])
        except CellError as exc:
            why = str(exc).split(" (attendu :", 1)[0]
            raise CellError(f"jour {_shown(item)} : {why} {_DAYS_HINT}") from None
        if when is None or start is None or end is None:
            raise CellError(f"jour {_shown(item)} illisible {_DAYS_HINT}")
        if end <= start:
            raise CellError(
                f"jour {_shown(item)} : la fin ({end}) ne suit pas le début ({start}) {_DAYS_HINT}"
            )
        if when in found:
            raise CellError(
                f"jour {_shown(item)} : le {when:%d/%m/%Y} est déjà écrit (attendu : chaque "
                "date une seule fois)"
            )
        found[when] = {"date": when, "start": start, "end": end}
    if not found:
        raise CellError(f"jours {_shown(value)} illisibles {_DAYS_HINT}")
    return [found[when] for when in sorted(found)]


def _day_key(entry: object) -> tuple[Any, ...] | None:
    """An exam day of a session file as the cell reads it (None: not one the cell can write)."""
    if not isinstance(entry, Mapping):
        return None
    try:
        return (day(entry.get("date")), clock(entry.get("start")), clock(entry.get("end")))
    except CellError:
        return None


def _same_days(old: object, new: list[dict[str, Any]]) -> bool:
    """The file's days say what the cell says (order and spelling of the hours aside)."""
    if not isinstance(old, list | tuple):
        return False
    keys = [_day_key(entry) for entry in old]
    wanted = [_day_key(entry) for entry in new]
    return None not in keys and sorted(keys, key=str) == sorted(wanted, key=str)


def days_cell(days: object) -> str | None:
    """The exam days of a session file as the cell writes them (in the file's order)."""
    if not isinstance(days, list | tuple) or not days:
        return None
    shown = []
    for entry in days:
        key = _day_key(entry)
        if key is None or key[0] is None:
            shown.append(str(entry))  # unreadable: the import then says what is wrong
            continue
        shown.append(f"{key[0]:%d/%m/%Y} {key[1]}-{key[2]}")
    return " ; ".join(shown)


_POSTPONED_HINT = (
    "(attendu : chaque report écrit « du jj/mm/aaaa au jj/mm/aaaa, reportée le jj/mm/aaaa : "
    "motif », avec les dates d'avant le report, un report par ligne ou séparés par « ; », ex. "
    "du 15/03/2027 au 19/03/2027, reportée le 24/11/2026 : Plateau technique indisponible)"
)
_POSTPONEMENT = re.compile(
    r"du\s+(\S+)\s+au\s+(\S+?)\s*,?\s*(?:report\w*\s+)?le\s+(\S+?)\s*:\s*(.*\S)?",
    re.IGNORECASE,
)


def postponements(value: object) -> list[dict[str, Any]] | None:
    """The postponements cell: ``du jj/mm/aaaa au jj/mm/aaaa, reportée le jj/mm/aaaa : motif``
    for each one (one a line, or separated by ``;`` before the next « du »), in the order
    written; the postponements as the session file lists them (``{from_start, from_end, on,
    reason}``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise CellError(f"reports {_shown(value)} illisibles {_POSTPONED_HINT}")
    found: list[dict[str, Any]] = []
    for part in re.split(r"[\n\r]+|;\s*(?=du\s)", value, flags=re.IGNORECASE):
        item = " ".join(part.split()).rstrip(";").strip()
        if not item:
            continue
        parts = _POSTPONEMENT.fullmatch(item)
        if parts is None:
            raise CellError(f"report {_shown(item)} illisible {_POSTPONED_HINT}")
        if parts[4] is None:
            raise CellError(f"report {_shown(item)} sans motif {_POSTPONED_HINT}")
        try:
            start, end, on = day(parts[1]), day(parts[2]), day(parts[3])
        except CellError as exc:
            why = str(exc).split(" (attendu :", 1)[0]
            raise CellError(f"report {_shown(item)} : {why} {_POSTPONED_HINT}") from None
        if start is None or end is None or on is None:
            raise CellError(f"report {_shown(item)} illisible {_POSTPONED_HINT}")
        if end < start:
            raise CellError(
                f"report {_shown(item)} : l'ancienne fin ({end:%d/%m/%Y}) précède l'ancien début "
                f"({start:%d/%m/%Y}) {_POSTPONED_HINT}"
            )
        if found and on < found[-1]["on"]:
            raise CellError(
                f"report {_shown(item)} : reporté le {on:%d/%m/%Y}, avant le report précédent "
                f"(attendu : les reports du plus ancien au plus récent)"
            )
        found.append({"from_start": start, "from_end": end, "on": on, "reason": parts[4]})
    if not found:
        raise CellError(f"reports {_shown(value)} illisibles {_POSTPONED_HINT}")
    return found


def _postponement_key(entry: object) -> tuple[Any, ...] | None:
    if not isinstance(entry, Mapping):
        return None
    try:
        days = tuple(day(entry.get(k)) for k in ("from_start", "from_end", "on"))
    except CellError:
        return None
    return (*days, text(entry.get("reason")))


def _same_postponements(old: object, new: list[dict[str, Any]]) -> bool:
    if not isinstance(old, list | tuple):
        return False
    return [_postponement_key(e) for e in old] == [_postponement_key(e) for e in new]


def postponements_cell(postponed: object) -> str | None:
    """The postponements of a session file as the cell writes them, one a line."""
    if not isinstance(postponed, list | tuple) or not postponed:
        return None
    shown = []
    for entry in postponed:
        key = _postponement_key(entry)
        if key is None or None in key[:3]:
            shown.append(str(entry))  # unreadable: the import then says what is wrong
            continue
        start, end, on, reason = key
        shown.append(f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}, reportée le {on:%d/%m/%Y} : {reason}")
    return "\n".join(shown)


def count(value: object) -> int | None:
    """A whole number (``10``, ``10.0``, `` 10 ``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError(f"nombre {_shown(value)} invalide (attendu : un nombre entier, ex. 10)")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    written = "".join(str(value).split())
    if re.fullmatch(r"-?\d{1,6}", written):
        return int(written)
    raise CellError(f"nombre {_shown(value)} invalide (attendu : un nombre entier, ex. 10)")


_YES = {"oui", "o", "vrai", "true", "1", "x"}
_NO = {"non", "n", "faux", "false", "0"}


def yes_no(value: object) -> bool | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    written = (text(value) or "").casefold()
    if written in _YES:
        return True
    if written in _NO:
        return False
    raise CellError(f"valeur {_shown(value)} non reconnue (attendu : oui ou non)")


def nature(value: object) -> str | None:
    written = text(value)
    if written is None:
        return None
    key = slug(written).split("-")[0]
    if key in NATURES:
        return key
    raise CellError(f"nature {_shown(value)} non reconnue (attendu : titre, ccp ou ccs)")


_NAMED = re.compile(r"(.*?)\s*<([^<>]*)>")
_ADDRESS = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:]+")
_ADDRESS_HINT = "(attendu : une adresse nom@domaine.fr, plusieurs séparées par « ; »)"


@dataclass(frozen=True, slots=True)
class Address:
    email: str
    name: str | None = None

    @property
    def key(self) -> str:
        return self.email.casefold()


def addresses(value: object) -> list[Address]:
    """E-mail addresses separated by ``;``, ``,`` or line breaks, each ``adresse`` or
    ``Prénom Nom <adresse>``; the same address twice is kept once."""
    written = text(value)
    if written is None:
        return []
    found: dict[str, Address] = {}
    for part in re.split(r"[;,\n\r]+", written):
        item = part.strip()
        if not item:
            continue
        named = _NAMED.fullmatch(item)
        name, email = (None, item)
        if named:
            name, email = named[1].strip().strip('"').strip() or None, named[2].strip()
        if _ADDRESS.fullmatch(email) is None:
            raise CellError(f"adresse {_shown(email)} invalide {_ADDRESS_HINT}")
        address = Address(email, name)
        found.setdefault(address.key, address)
    return list(found.values())


def centre_key(value: object, centres: Mapping[str, Centre]) -> str | None:
    """A centre written by its key, its name or its short name (case and accents aside)."""
    written = text(value)
    if written is None:
        return None
    wanted = slug(written)
    for key, centre in centres.items():
        if wanted in (slug(key), slug(centre.name), slug(centre.short_name)):
            return key
    known = ", ".join(centres) or "aucun centre valide"
    raise CellError(
        f"centre {_shown(written)} inconnu (attendu : une de ces clés de centres.yaml : {known})"
    )


# --- what is known already ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownJuror:
    """A juror as written somewhere already, and the title their habilitation is for there
    (None: the directory, whose entry says it itself)."""

    entry: Mapping[str, Any]
    title_code: str | None
    titles: tuple[str, ...] = ()
    """The titles the directory says the habilitation is for (empty: ``title_code``)."""
    reference: bool = False
    """``entry`` is the juror's address alone: the loader takes the rest from the directory."""


@dataclass
class Known:
    """What the configuration knows already: centres, titles, people and jurors."""

    centres: Mapping[str, Centre]
    titles: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Title code -> the title block of a session (code, acronym, label, transport…)."""
    people: dict[str, str] = field(default_factory=dict)
    """E-mail (case aside) -> a name it is known under."""
    jurors: dict[str, dict[str, KnownJuror]] = field(default_factory=dict)
    """Centre -> e-mail (case aside) -> the juror as another session of the centre has them."""
    directory: dict[str, KnownJuror] = field(default_factory=dict)
    """E-mail (case aside) -> the juror in ``config/jury.yaml``."""


# --- a row -> values ----------------------------------------------------------------------------


@dataclass
class Built:
    """The values of a session after one row, and what is wrong in the row (column, message)."""

    values: dict[str, Any]
    problems: list[tuple[str, str]]


def _same_time(old: object, new: str) -> bool:
    try:
        return clock(old) == new
    except CellError:
        return False


def _put(
    target: dict[str, Any],
    key: str,
    value: Any,
    *,
    default: Any = None,
    same: Callable[[Any, Any], bool] | None = None,
) -> None:
    """``target[key] = value``, keeping what says the same already: an empty value removes an
    optional field, a default value is not added, an equal value keeps its spelling."""
    if value is None:
        if target.get(key) is not None:
            del target[key]
        return
    if key not in target and default is not None and value == default:
        return
    if key in target and (same(target[key], value) if same else _equal(target[key], value)):
        return
    target[key] = value


def _equal(old: Any, new: Any) -> bool:
    if isinstance(old, str) and isinstance(new, str):
        return old == new
    return type(old) is type(new) and bool(old == new)


class _Row:
    """Reading one row's cells, collecting each cell's problem under its column."""

    def __init__(self, cells: Mapping[str, Any]) -> None:
        self.cells = cells
        self.problems: list[tuple[str, str]] = []

    def has(self, column: str) -> bool:
        return column in self.cells

    def read(self, column: str, parse: Callable[[object], Any]) -> Any:
        try:
            return parse(self.cells.get(column))
        except CellError as exc:
            self.problems.append((column, str(exc)))
            raise

    def wrong(self, column: str, message: str) -> None:
        self.problems.append((column, message))


def build(cells: Mapping[str, Any], base: Mapping[str, Any] | None, known: Known) -> Built:
    """The session's values after this row: ``base`` (the session as its file holds it, None
    for a new one) with each column of the row applied. ``values["id"]`` is set only when the
    row gives an identifier."""
    values: dict[str, Any] = copy.deepcopy(dict(base)) if base else {}
    creating = base is None
    if not creating:  # an empty cell keeps the session's value; « - » clears it
        cells = {k: v for k, v in cells.items() if v is not None}
    cells = {k: None if isinstance(v, str) and v.strip() == CLEAR else v for k, v in cells.items()}
    row = _Row(cells)
    for column in REQUIRED_COLUMNS:
        if creating and not row.has(column):
            row.wrong(
                column,
                "colonne absente du fichier (attendu : cette colonne, obligatoire "
                "pour créer une session)",
            )
    _identifier(row, values)
    _title(row, values, known, creating)
    for column, key, parse in ((NATURE, "nature", nature), (CCP, "ccp_code", text)):
        if row.has(column):
            try:
                found = row.read(column, parse)
            except CellError:
                continue
            if found is None and key == "nature":
                row.wrong(column, "valeur manquante (attendu : titre, ccp ou ccs)")
                continue
            _put(values, key, found)
    if row.has(CENTRE):
        try:
            centre = row.read(CENTRE, lambda v: centre_key(v, known.centres))
        except CellError:
            pass
        else:
            if centre is None:
                row.wrong(CENTRE, "centre manquant (attendu : une clé de centres.yaml)")
            else:
                _put(values, "centre", centre)
    _dates_and_place(row, values)
    _counts(row, values)
    _people(row, values, known, base)
    _jury(row, values, known, base)
    if row.has(POSTPONED):
        with contextlib.suppress(CellError):
            _put(values, "postponed", row.read(POSTPONED, postponements), same=_same_postponements)
    _cancellation(row, values)
    order = {name: index for index, name in enumerate(BY_NAME)}
    return Built(values, sorted(row.problems, key=lambda p: order.get(p[0], len(order))))


def _identifier(row: _Row, values: dict[str, Any]) -> None:
    if not row.has(IDENT):
        return
    written = text(row.cells.get(IDENT))
    if written is None:
        return
    if re.fullmatch(SESSION_ID_PATTERN, written) is None:
        row.wrong(
            IDENT,
            f"identifiant {_shown(written)} invalide (attendu : minuscules, chiffres et tirets, "
            "3 à 80 caractères, ex. sa-2027-03-st-andre ; ou vide pour le calculer)",
        )
        return
    values["id"] = written


def _title(row: _Row, values: dict[str, Any], known: Known, creating: bool) -> None:
    title: dict[str, Any] = dict(values.get("title") or {})
    before = title.get("code")
    if row.has(TITLE_CODE):
        code = text(row.cells.get(TITLE_CODE))
        if code is None:
            row.wrong(TITLE_CODE, "code du titre manquant (attendu : ex. TP-00374)")
        else:
            _put(title, "code", code.upper())
    code = title.get("code")
    other = known.titles.get(str(code)) if code else None
    changed = code != before
    for column, key, what in (
        (ACRONYM, "acronym", "sigle du titre"),
        (LABEL, "label", "intitulé du titre"),
    ):
        written = text(row.cells.get(column)) if row.has(column) else None
        if written is not None:
            _put(title, key, written)
        elif (row.has(column) or changed or key not in title) and code:
            if other is not None and other.get(key):
                _put(title, key, other[key])
            else:
                row.wrong(
                    column,
                    f"{what} manquant : aucune autre session n'a le titre {code} (attendu : le "
                    f"{what}, ex. {BY_NAME[column].example})",
                )
    if row.has(TRANSPORT):
        try:
            transport = row.read(TRANSPORT, yes_no)
        except CellError:
            transport = None
        else:
            if transport is None and other is not None:
                transport = other.get("transport")
            _put(title, "transport", bool(transport), default=False)
    elif changed and other is not None and "transport" in other:
        _put(title, "transport", other["transport"], default=False)
    if row.has(VERSION):
        _put(title, "version", text(row.cells.get(VERSION)), same=_same_version)
    if row.has(EXPIRY):
        with contextlib.suppress(CellError):
            _put(title, "expires_on", row.read(EXPIRY, day))
    if title or not creating:
        values["title"] = title


def _same_version(old: object, new: str) -> bool:
    """A millésime written ``2017`` (a number in YAML) or ``2017-10-27`` (a date) reads back as
    the text the cell shows."""
    if isinstance(old, date):
        return old.isoformat() == new
    return not isinstance(old, bool) and isinstance(old, int | str) and str(old) == new


def _dates_and_place(row: _Row, values: dict[str, Any]) -> None:
    for column, key in ((START, "start"), (END, "end")):
        if not row.has(column):
            continue
        try:
            found = row.read(column, day)
        except CellError:
            continue
        if found is None:
            row.wrong(column, f"date manquante {_DAY_HINT}")
            continue
        _put(values, key, found)
    for column, key, default in (
        (FIRST, "first_day_start", None),
        (LAST, "last_day_end", DEFAULT_LAST),
        (WELCOME, "jury_welcome", None),
    ):
        if not row.has(column):
            continue
        try:
            found = row.read(column, clock)
        except CellError:
            continue
        if found is None and default is not None and key not in values:
            continue
        _put(values, key, found, default=default, same=_same_time)
    _days(row, values)
    _welcome_first(row, values)
    if row.has(PLACE):
        _put(values, "location", text(row.cells.get(PLACE)))
    if row.has(DECLARED):
        with contextlib.suppress(CellError):
            _put(values, "declared_on", row.read(DECLARED, day))


def _days(row: _Row, values: dict[str, Any]) -> None:
    """The exam days column: each day between the session's first and last day."""
    if not row.has(DAYS):
        return
    try:
        found = row.read(DAYS, exam_days)
    except CellError:
        return
    start, end = values.get("start"), values.get("end")
    if found and isinstance(start, date) and isinstance(end, date):
        outside = [d["date"] for d in found if not start <= d["date"] <= end]
        if outside:
            row.wrong(
                DAYS,
                f"jour du {outside[0]:%d/%m/%Y} hors de la session, qui va du {start:%d/%m/%Y} "
                f"au {end:%d/%m/%Y} (attendu : des jours entre « {START} » et « {END} »)",
            )
            return
    _put(values, "days", found, same=_same_days)


def _welcome_first(row: _Row, values: dict[str, Any]) -> None:
    """The jury is welcomed before the first exam day starts (said under « Accueil du jury »)."""
    if not any(row.has(c) for c in (WELCOME, FIRST, DAYS)) or row.problems:
        return
    days = [key for key in map(_day_key, values.get("days") or []) if key and key[0]]
    try:
        welcome = clock(values.get("jury_welcome"))
        start = min(days)[1] if days else clock(values.get("first_day_start"))
    except CellError:
        return  # the loader says what is wrong in the file
    if welcome is not None and start is not None and welcome > start:
        row.wrong(
            WELCOME,
            f"accueil du jury à {welcome}, après le début du premier jour d'examen ({start}) : "
            f"l'accueil précède les épreuves (attendu : une heure au plus égale à {start})",
        )


_CANCEL_HINT = (
    "(attendu : la date et le motif de l'annulation, ou « - » dans les deux colonnes pour "
    "rendre la session active)"
)


def _marked(value: object, mark: str = CANCELLED_MARK) -> bool:
    """A cell saying « oui » (any letter case, or a spreadsheet's TRUE; or ``mark``: « non »
    and FALSE)."""
    return not isinstance(value, date | time) and (text(value) or "").casefold() == mark


_CANCEL_DAY_HINT = (
    f"(attendu : la date de l'annulation jj/mm/aaaa avec son motif, « {CANCELLED_MARK} » avec "
    "un motif vide pour une annulation sans date ni motif, ou vide, « - » ou "
    f"« {ACTIVE_MARK} » pour une session qui n'est pas annulée)"
)


def _cancellation_day(value: object) -> date | None:
    """« Annulation (date) »: a date; a text that is not one says what the column takes."""
    try:
        return day(value)
    except CellError:
        written = text(value) or ""
        if isinstance(value, str) and not re.search(r"\d", written):
            raise CellError(f"annulation {_shown(value)} illisible {_CANCEL_DAY_HINT}") from None
        raise


def _cancellation(row: _Row, values: dict[str, Any]) -> None:
    """The two cancellation columns: both give a cancellation ``{on, reason}``, one changes that
    part of the current one, ``-`` in both removes it; « oui » as the day is ``true``."""
    if not (row.has(CANCELLED_ON) or row.has(CANCELLED_WHY)):
        return
    if row.has(CANCELLED_ON) and _marked(row.cells[CANCELLED_ON]):
        _cancelled_without_day(row, values)
        return
    if row.has(CANCELLED_ON) and _marked(row.cells[CANCELLED_ON], ACTIVE_MARK):
        _not_cancelled(row, values)
        return
    current = values.get("cancelled")
    block: Mapping[str, Any] = current if isinstance(current, Mapping) else {}
    on: Any = block.get("on")
    if row.has(CANCELLED_ON):
        try:
            on = row.read(CANCELLED_ON, _cancellation_day)
        except CellError:
            return
    reason = text(row.cells.get(CANCELLED_WHY)) if row.has(CANCELLED_WHY) else block.get("reason")
    cleared = [c for c in (CANCELLED_ON, CANCELLED_WHY) if row.has(c) and row.cells[c] is None]
    if on is None and reason is None and (len(cleared) == 2 or not current):
        if current:
            del values["cancelled"]
        return
    if on is not None and reason is not None:
        wanted = {"on": on, "reason": reason}
        if not (block and block.get("on") == on and block.get("reason") == reason):
            values["cancelled"] = {**block, **wanted} if block else wanted
        return
    missing = CANCELLED_ON if on is None else CANCELLED_WHY
    what = "date" if on is None else "motif"
    if cleared and current:
        row.wrong(
            cleared[0],
            f"« - » dans une seule colonne d'annulation : la session resterait annulée sans "
            f"{what} {_CANCEL_HINT}",
        )
    else:
        row.wrong(missing, f"annulation sans {what} {_CANCEL_HINT}")


def _cancelled_without_day(row: _Row, values: dict[str, Any]) -> None:
    """« oui » as the cancellation's day: ``cancelled: true``. A session already cancelled keeps
    its day and reason, unless « - » clears the reason; a reason without its day is refused."""
    reason = text(row.cells.get(CANCELLED_WHY))
    if reason is not None:
        row.wrong(
            CANCELLED_ON,
            f"annulation sans date : « {CANCELLED_MARK} » ne peut pas accompagner un motif "
            f"(attendu : la date de l'annulation avec son motif, ou « {CANCELLED_MARK} » avec "
            "un motif vide pour une annulation sans date ni motif)",
        )
        return
    current = values.get("cancelled")
    cleared = row.has(CANCELLED_WHY) and row.cells[CANCELLED_WHY] is None
    if current is True or (isinstance(current, Mapping) and not cleared):
        return
    values["cancelled"] = True


def _not_cancelled(row: _Row, values: dict[str, Any]) -> None:
    """« non » as the cancellation's day: the session is not cancelled (an active session stays
    so, a cancelled one becomes active, as with « - » in both columns); a reason is refused."""
    if text(row.cells.get(CANCELLED_WHY)) is not None:
        row.wrong(
            CANCELLED_ON,
            f"« {ACTIVE_MARK} » avec un motif d'annulation : la session serait à la fois "
            f"annulée et non annulée {_CANCEL_DAY_HINT}",
        )
        return
    values.pop("cancelled", None)


def _counts(row: _Row, values: dict[str, Any]) -> None:
    if not (row.has(TRAINING) or row.has(VAE)) and "candidates" in values:
        return
    candidates: dict[str, Any] = dict(values.get("candidates") or {})
    for column, key in ((TRAINING, "training"), (VAE, "vae")):
        if not row.has(column):
            continue
        try:
            found = row.read(column, count)
        except CellError:
            continue
        if key not in candidates and not found:
            continue
        _put(candidates, key, found or 0)
    values["candidates"] = candidates


def _person(
    row: _Row,
    name_column: str,
    email_column: str,
    current: Any,
    known: Known,
) -> dict[str, Any] | Literal[False] | None:
    """The person of two columns (name, e-mail): None when both are empty, False when wrong."""
    try:
        found = row.read(email_column, addresses)
    except CellError:
        return False
    written_name = text(row.cells.get(name_column)) if row.has(name_column) else None
    if not found:
        if written_name is not None:
            missing = f"adresse manquante pour {_shown(written_name)} {_ADDRESS_HINT}"
            row.wrong(email_column, missing)
            return False
        return None
    if len(found) > 1:
        row.wrong(email_column, f"une seule adresse attendue, {len(found)} trouvées")
        return False
    (address,) = found
    name = written_name or address.name
    same = isinstance(current, Mapping) and str(current.get("email", "")).casefold() == address.key
    if name is None:
        name = str(current.get("name")) if same and isinstance(current, Mapping) else None
        name = name or known.people.get(address.key)
    if name is None:
        row.wrong(
            name_column if row.has(name_column) else email_column,
            f"nom manquant : personne ne porte l'adresse {_shown(address.email)} dans les "
            "sessions (attendu : le nom dans la colonne « "
            f"{name_column} », ou « Prénom Nom <adresse> »)",
        )
        return False
    if same and isinstance(current, Mapping) and current.get("name") == name:
        return dict(current)
    return {"name": name, "email": address.email}


def _people(
    row: _Row, values: dict[str, Any], known: Known, base: Mapping[str, Any] | None
) -> None:
    for name_column, email_column, phone_column, key in (
        (MANAGER_NAME, MANAGER, MANAGER_PHONE, "session_manager"),
        (DEPUTY_NAME, DEPUTY, DEPUTY_PHONE, "deputy_manager"),
        (WATCHER_NAME, WATCHER, WATCHER_PHONE, "surveillant"),
        (ACTOR_NAME, ACTOR, ACTOR_PHONE, "comedien"),
    ):
        if not row.has(email_column):
            if row.has(phone_column) and isinstance(values.get(key), Mapping):
                kept = dict(values[key])
                if _phone(row, phone_column, kept) and kept != values[key]:
                    values[key] = kept
            continue
        person = _person(row, name_column, email_column, values.get(key), known)
        if person is False:
            continue
        if person is not None and row.has(phone_column) and not _phone(row, phone_column, person):
            continue
        if person is None and text(row.cells.get(phone_column)) is not None:
            row.wrong(
                phone_column,
                f"numéro sans personne : la colonne « {email_column} » est vide (attendu : "
                "l'adresse de la personne avec son numéro, ou un numéro vide)",
            )
            continue
        if person is None and key == "session_manager":
            row.wrong(email_column, f"adresse manquante {_ADDRESS_HINT}")
            continue
        if person is None:
            values.pop(key, None)
        elif values.get(key) != person:
            values[key] = person
    if not row.has(COORDINATION):
        return
    try:
        found = row.read(COORDINATION, addresses)
    except CellError:
        return
    current = {
        str(p.get("email", "")).casefold(): p
        for p in (base or {}).get("coordinators") or []
        if isinstance(p, Mapping)
    }
    people: list[dict[str, Any]] = []
    for address in found:
        mine = current.get(address.key)
        if mine is not None and address.name in (None, mine.get("name")):
            people.append(dict(mine))
            continue
        name = address.name or known.people.get(address.key)
        if name is None:
            row.wrong(
                COORDINATION,
                f"personne inconnue {_shown(address.email)} : aucune session ne la connaît "
                "(attendu : « Prénom Nom <adresse> »)",
            )
            continue
        people.append({"name": name, "email": address.email})
    if not found:
        row.wrong(COORDINATION, f"au moins une personne attendue {_ADDRESS_HINT}")
    elif values.get("coordinators") != people:
        values["coordinators"] = people


_PHONE_HINT = "(attendu : le numéro écrit comme un texte, ex. 0692 00 00 01 ou +262 692 00 00 01)"


def _phone(row: _Row, column: str, person: dict[str, Any]) -> bool:
    """``person``'s phone from its column (empty or « - »: none); False when wrong. A number
    the spreadsheet reads as a number has lost its leading zero: refused."""
    value = row.cells.get(column)
    if isinstance(value, int | float) and not isinstance(value, bool):
        row.wrong(
            column,
            f"numéro {_shown(value)} lu comme un nombre par le tableur : le zéro du début est "
            f"perdu {_PHONE_HINT}",
        )
        return False
    if isinstance(value, date | time):
        row.wrong(column, f"numéro {_shown(value)} illisible {_PHONE_HINT}")
        return False
    _put(person, "phone", text(value))
    return True


def _jury(row: _Row, values: dict[str, Any], known: Known, base: Mapping[str, Any] | None) -> None:
    if not row.has(JURY):
        return
    try:
        found = row.read(JURY, addresses)
    except CellError:
        return
    current = {
        str(j.get("email", "")).casefold(): j
        for j in (base or {}).get("jury") or []
        if isinstance(j, Mapping)
    }
    centre = str(values.get("centre", ""))
    title_code = (values.get("title") or {}).get("code")
    jury: list[dict[str, Any]] = []
    for address in found:
        mine = current.get(address.key)
        if mine is not None:
            jury.append(dict(mine))
            continue
        other = known.directory.get(address.key) or known.jurors.get(centre, {}).get(address.key)
        if other is None and centre not in known.centres:
            continue  # the centre is wrong (said under its column): who it knows is unknown
        if other is None:
            row.wrong(
                JURY,
                f"membre du jury {_shown(address.email)} inconnu : ni dans cette session, ni dans "
                "config/jury.yaml, ni dans une autre session du centre (attendu : un juré "
                "connu ; écrire d'abord sa fiche, avec son nom et la fin de son habilitation)",
            )
            continue
        entry = dict(other.entry)
        habilitated = other.titles or ((other.title_code,) if other.title_code else ())
        if other.reference:
            pass  # the directory says for which title, the jury check says if it fits
        elif habilitated and title_code not in habilitated and "title_code" not in entry:
            entry["title_code"] = habilitated[0]  # the jury check then names the other title
        jury.append(entry)
    if values.get("jury", []) != jury and (jury or "jury" in values):
        values["jury"] = jury


# --- values -> cells (the export, the template, the preview) ---------------------------------


def _names(people: Any, with_names: bool) -> str:
    found = []
    for person in people or []:
        if not isinstance(person, Mapping):
            continue
        email = str(person.get("email", ""))
        found.append(f"{person.get('name')} <{email}>" if with_names else email)
    return "; ".join(found)


def cell(column: str, values: Mapping[str, Any]) -> Any:
    """What ``column`` shows for a session's values (a date as a date, a time as a time, a
    number as a number), None when empty; the import reads it back to the same values."""
    title = values.get("title") or {}
    candidates = values.get("candidates") or {}
    manager = values.get("session_manager") or {}
    deputy = values.get("deputy_manager") or {}
    watcher = values.get("surveillant") or {}
    actor = values.get("comedien") or {}
    cancelled = values.get("cancelled")
    cancellation = cancelled if isinstance(cancelled, Mapping) else {}
    version = title.get("version")
    simple: dict[str, Any] = {
        IDENT: values.get("id"),
        TITLE_CODE: title.get("code"),
        ACRONYM: title.get("acronym"),
        LABEL: title.get("label"),
        TRANSPORT: "oui" if title.get("transport") else "non",
        NATURE: values.get("nature"),
        CCP: values.get("ccp_code"),
        CENTRE: values.get("centre"),
        START: values.get("start"),
        END: values.get("end"),
        PLACE: values.get("location"),
        DAYS: days_cell(values.get("days")),
        TRAINING: candidates.get("training", 0),
        VAE: candidates.get("vae", 0),
        MANAGER_NAME: manager.get("name"),
        MANAGER: manager.get("email"),
        MANAGER_PHONE: manager.get("phone"),
        DEPUTY_PHONE: deputy.get("phone"),
        WATCHER_PHONE: watcher.get("phone"),
        ACTOR_PHONE: actor.get("phone"),
        DEPUTY_NAME: deputy.get("name"),
        DEPUTY: deputy.get("email"),
        COORDINATION: _names(values.get("coordinators"), True) or None,
        JURY: _names(values.get("jury"), False) or None,
        VERSION: version.isoformat() if isinstance(version, date) else text(version),
        EXPIRY: title.get("expires_on"),
        WATCHER_NAME: watcher.get("name"),
        WATCHER: watcher.get("email"),
        ACTOR_NAME: actor.get("name"),
        ACTOR: actor.get("email"),
        DECLARED: values.get("declared_on"),
        POSTPONED: postponements_cell(values.get("postponed")),
        CANCELLED_ON: CANCELLED_MARK if cancelled is True else cancellation.get("on"),
        CANCELLED_WHY: cancellation.get("reason"),
    }
    if column in (FIRST, LAST, WELCOME):
        key = {FIRST: "first_day_start", LAST: "last_day_end", WELCOME: "jury_welcome"}[column]
        try:
            written = clock(values.get(key))
        except CellError:
            return values.get(key)
        return time.fromisoformat(written) if written else None
    return simple.get(column)


def shown_cell(column: str, values: Mapping[str, Any]) -> str:
    """``cell`` as a person reads it in a message (dates jj/mm/aaaa, times HH:MM), on one line
    (the postponements, one a line in the cell, separated by « ; »)."""
    found = cell(column, values)
    if found is None:
        return ""
    if isinstance(found, time):
        return f"{found.hour:02d}:{found.minute:02d}"
    return " ; ".join((text(found) or "").splitlines())


def differences(
    before: Mapping[str, Any], after: Mapping[str, Any], columns: Sequence[Column] = COLUMNS
) -> list[tuple[str, str, str]]:
    """(column, before, after) for each column whose cell changes."""
    found = []
    for column in columns:
        old, new = shown_cell(column.name, before), shown_cell(column.name, after)
        if old != new:
            found.append((column.name, old, new))
    return found
