"""The spreadsheet's columns (pure): the loader's field paths back to columns, cells read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncsvc.core import session_sheet as sheet
from syncsvc.inputs.loader import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("path", "column"),
    [
        ("id", "Identifiant"),
        ("title", "Code titre"),
        ("title.code", "Code titre"),
        ("title.acronym", "Sigle du titre"),
        ("jury[2].email", "Jury (courriels)"),
        ("jury.2.habilitation_until", "Jury (courriels)"),
        ("coordinators[1].name", "Coordination (courriels)"),
        ("session_manager.email", "Responsable de session (courriel)"),
        ("session_manager", "Responsable de session (nom)"),
        ("deputy_manager.name", "Suppléant (nom)"),
        ("candidates.training", "Candidats formation"),
        ("candidates.vae", "Candidats VAE"),
        ("first_day_start", "Heure de début"),
        ("end", "Fin"),
        ("title.expires_on", "Échéance du titre"),
        ("title.version", "Millésime du titre"),
        ("surveillant.email", "Surveillant (courriel)"),
        ("surveillant", "Surveillant (nom)"),
        ("comedien.name", "Comédien (nom)"),
        ("declared_on", "Déclaration CERES (date)"),
        ("cancelled", "Annulation (date)"),
        ("cancelled.reason", "Annulation (motif)"),
        ("days", "Jours d'examen"),
        ("days[1].end", "Jours d'examen"),
        ("postponed", "Reports"),
        ("postponed[0].on", "Reports"),
        ("jury_welcome", "Accueil du jury"),
        ("session_manager.phone", "Responsable de session (téléphone)"),
        ("deputy_manager.phone", "Suppléant (téléphone)"),
        ("surveillant.phone", "Surveillant (téléphone)"),
        ("comedien.phone", "Comédien (téléphone)"),
    ],
)
def test_a_loader_path_belongs_to_its_column(path: str, column: str) -> None:
    found = sheet.column_for(path)
    assert found is not None
    assert found.name == column


@pytest.mark.parametrize("path", ["done.dte_order", "pv_validated_on", "training_end", ""])
def test_a_field_without_a_column(path: str) -> None:
    assert sheet.column_for(path) is None


def test_every_column_read_is_written_back_the_same() -> None:
    """What ``cell`` writes, ``build`` reads back to the same values (the export's promise)."""
    values: dict[str, Any] = {
        "id": "sa-2027-03-st-andre",
        "title": {
            "code": "TP-00374",
            "acronym": "SA",
            "label": "Secrétaire assistant",
            "version": 2023,
            "expires_on": sheet.day("31/12/2028"),
        },
        "nature": "titre",
        "centre": "afpar-st-andre",
        "start": sheet.day("15/03/2027"),
        "end": sheet.day("19/03/2027"),
        "first_day_start": "08:30",
        "jury_welcome": "08:00",
        "days": [
            {"date": sheet.day("15/03/2027"), "start": "08:30", "end": "17:00"},
            {"date": sheet.day("16/03/2027"), "start": "08:30", "end": "12:00"},
        ],
        "location": "Salle B12",
        "candidates": {"training": 10, "vae": 2},
        "session_manager": {
            "name": "Jean-Luc Hoarau",
            "email": "jl.hoarau@afpar.example",
            "phone": "0692 00 00 01",
        },
        "deputy_manager": {
            "name": "Sandrine Grondin",
            "email": "s.grondin@afpar.example",
            "phone": "+262 692 00 00 02",
        },
        "coordinators": [{"name": "Nathalie Técher", "email": "n.techer@afpar.example"}],
        "jury": [{"name": "C M", "email": "c.m@jury.example", "habilitation_until": None}],
        "done": {"agrement_check": sheet.day("10/07/2026")},
        "surveillant": {
            "name": "Line Hoarau",
            "email": "l.hoarau@afpar.example",
            "phone": "0692 00 00 03",
        },
        "comedien": {"name": "Paul Payet", "email": "p.payet@afpar.example", "phone": "06.12"},
        "declared_on": sheet.day("20/11/2026"),
        "cancelled": {"on": sheet.day("11/01/2027"), "reason": "Trop peu de candidats"},
        "postponed": [
            {
                "from_start": sheet.day("08/03/2027"),
                "from_end": sheet.day("12/03/2027"),
                "on": sheet.day("02/10/2026"),
                "reason": "Salle prise ; formateur absent",
            }
        ],
    }
    cells = {c.name: sheet.cell(c.name, values) for c in sheet.COLUMNS}
    centres = load_config(ROOT / "config").centres
    built = sheet.build(cells, values, sheet.Known(centres))
    assert built.problems == []
    assert built.values == values


_BLOCK = {"on": sheet.day("11/01/2027"), "reason": "Trop peu de candidats"}
_ABSENT = object()


@pytest.mark.parametrize(
    ("current", "cells", "after"),
    [
        # « oui » as the day, no reason: cancelled without day nor reason
        (_ABSENT, {"Annulation (date)": "oui"}, True),
        (_ABSENT, {"Annulation (date)": " OUI ", "Annulation (motif)": None}, True),
        (_ABSENT, {"Annulation (date)": True}, True),  # a spreadsheet's TRUE
        (True, {"Annulation (date)": "oui", "Annulation (motif)": None}, True),
        # already cancelled with its day and reason: « oui » keeps them…
        (_BLOCK, {"Annulation (date)": "oui", "Annulation (motif)": None}, _BLOCK),
        # …unless « - » clears the reason: then neither is known any more
        (_BLOCK, {"Annulation (date)": "oui", "Annulation (motif)": "-"}, True),
        # « - » in both makes a « cancelled: true » session active; a day and a reason replace it
        (True, {"Annulation (date)": "-", "Annulation (motif)": "-"}, _ABSENT),
        (
            True,
            {"Annulation (date)": "11/01/2027", "Annulation (motif)": "Trop peu de candidats"},
            _BLOCK,
        ),
        # empty cells keep it
        (True, {"Annulation (date)": None, "Annulation (motif)": None}, True),
    ],
)
def test_oui_as_the_cancellation_day_is_cancelled_true(
    current: Any, cells: dict[str, Any], after: Any
) -> None:
    base: dict[str, Any] = {
        "id": "sa-2027-03-st-andre",
        "title": {"code": "TP-00374", "acronym": "SA", "label": "Secrétaire assistant"},
    }
    if current is not _ABSENT:
        base["cancelled"] = current
    built = sheet.build(cells, base, sheet.Known({}))
    assert built.problems == []
    assert built.values.get("cancelled", _ABSENT) == after
    if after is True:  # what the export writes for it
        assert sheet.cell("Annulation (date)", built.values) == "oui"
        assert sheet.cell("Annulation (motif)", built.values) is None


@pytest.mark.parametrize("current", [_ABSENT, True, _BLOCK])
def test_oui_with_a_reason_is_refused_under_the_day_column(current: Any) -> None:
    base: dict[str, Any] = {
        "id": "sa-2027-03-st-andre",
        "title": {"code": "TP-00374", "acronym": "SA", "label": "Secrétaire assistant"},
    }
    if current is not _ABSENT:
        base["cancelled"] = current
    cells = {"Annulation (date)": "oui", "Annulation (motif)": "Salle indisponible"}
    built = sheet.build(cells, base, sheet.Known({}))
    assert built.problems == [
        (
            "Annulation (date)",
            "annulation sans date : « oui » ne peut pas accompagner un motif (attendu : la date "
            "de l'annulation avec son motif, ou « oui » avec un motif vide pour une annulation "
            "sans date ni motif)",
        )
    ]
    assert built.values.get("cancelled", _ABSENT) == current


@pytest.mark.parametrize("current", [_ABSENT, True, _BLOCK])
@pytest.mark.parametrize(
    "cells",
    [
        {"Annulation (date)": "non"},
        {"Annulation (date)": "Non", "Annulation (motif)": None},
        {"Annulation (date)": " NON ", "Annulation (motif)": "-"},
        {"Annulation (date)": False},  # a spreadsheet's FALSE
    ],
)
def test_non_as_the_cancellation_day_is_not_cancelled(current: Any, cells: dict[str, Any]) -> None:
    base: dict[str, Any] = {
        "id": "sa-2027-03-st-andre",
        "title": {"code": "TP-00374", "acronym": "SA", "label": "Secrétaire assistant"},
    }
    if current is not _ABSENT:
        base["cancelled"] = current
    built = sheet.build(cells, base, sheet.Known({}))
    assert built.problems == []
    assert "cancelled" not in built.values
    created = sheet.build({**cells, "Identifiant": "sa-2027-09-st-andre"}, None, sheet.Known({}))
    assert "cancelled" not in created.values
    assert not [p for p in created.problems if p[0].startswith("Annulation")]


_CANCEL_DAY_HINT = (
    "(attendu : la date de l'annulation jj/mm/aaaa avec son motif, « oui » avec un motif vide "
    "pour une annulation sans date ni motif, ou vide, « - » ou « non » pour une session qui "
    "n'est pas annulée)"
)


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {"Annulation (date)": "non", "Annulation (motif)": "Salle indisponible"},
            "« non » avec un motif d'annulation : la session serait à la fois annulée et non "
            f"annulée {_CANCEL_DAY_HINT}",
        ),
        (
            {"Annulation (date)": "annulée", "Annulation (motif)": "Salle indisponible"},
            f"annulation « annulée » illisible {_CANCEL_DAY_HINT}",
        ),
        (
            {"Annulation (date)": "nan"},
            f"annulation « nan » illisible {_CANCEL_DAY_HINT}",
        ),
    ],
)
def test_non_with_a_reason_or_another_word_is_refused_under_the_day_column(
    cells: dict[str, Any], message: str
) -> None:
    base: dict[str, Any] = {
        "id": "sa-2027-03-st-andre",
        "title": {"code": "TP-00374", "acronym": "SA", "label": "Secrétaire assistant"},
        "cancelled": _BLOCK,
    }
    built = sheet.build(cells, base, sheet.Known({}))
    assert built.problems == [("Annulation (date)", message)]
    assert built.values["cancelled"] == _BLOCK
