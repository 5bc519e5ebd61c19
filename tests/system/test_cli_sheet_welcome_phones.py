"""The « Accueil du jury » column (``jury_welcome``) and the telephone columns of the session
manager, the deputy, the surveillant and the comédien from the command line: the export writes
them, an import (.xlsx, .csv) writes them back and then leaves the files byte for byte as they
are, and a bad value is one French line naming the file, the sheet, the row and the column."""

from __future__ import annotations

import shutil
from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook

from syncsvc.cli import main
from tests.system.test_cli_sheet_columns import (
    AC,
    ROOT,
    SA,
    _as_csv,
    _edit,
    _export,
    _files,
    _sessions,
    _settings,
    _workbook,
    bare_config,
    import_changes_nothing,
)

WELCOME = "Accueil du jury"
PHONES = [
    "Responsable de session (téléphone)",
    "Suppléant (téléphone)",
    "Surveillant (téléphone)",
    "Comédien (téléphone)",
]
_PHONE_HINT = "(attendu : le numéro écrit comme un texte, ex. 0692 00 00 01 ou +262 692 00 00 01)"


def _phones(root: Path) -> None:
    _edit(
        root,
        SA,
        "email: jl.hoarau@afpar.example}",
        'email: jl.hoarau@afpar.example, phone: "0692 00 00 01"}',
    )
    _edit(
        root,
        SA,
        "declared_on: 2026-11-20\n",
        "declared_on: 2026-11-20\n"
        'surveillant: {name: "Line Hoarau", email: l.hoarau@afpar.example, '
        'phone: "+262 692 00 00 02"}\n',
    )


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "config"
    shutil.copytree(ROOT / "config", root)
    _settings(root, tmp_path)
    _phones(root)
    monkeypatch.chdir(tmp_path)
    return root


def test_the_export_writes_the_welcome_and_the_phones(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = load_workbook(_export(config, tmp_path / "sessions.xlsx", capsys))
    sheet = book["St-André"]
    headers = [c.value for c in sheet[1]]
    assert headers.index(WELCOME) == headers.index("Heure de fin") + 1
    for phone in PHONES:
        person = phone.replace("(téléphone)", "(courriel)")
        assert headers.index(phone) == headers.index(person) + 1
    rows = {r[0].value: dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=2)}
    sa = rows[SA]
    assert sa[WELCOME].value == time(8, 0)
    assert sa[WELCOME].number_format == "hh:mm"
    assert sa["Responsable de session (téléphone)"].value == "0692 00 00 01"
    assert sa["Surveillant (téléphone)"].value == "+262 692 00 00 02"
    assert sa["Suppléant (téléphone)"].value is None
    assert rows[AC][WELCOME].value is None


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_welcome_and_phones_travel_there_and_back_byte_for_byte(
    kind: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = _export(config, tmp_path / "sessions.xlsx", capsys)
    path = exported if kind == "xlsx" else _as_csv(exported, tmp_path / "sessions.csv")
    import_changes_nothing(path, config, capsys)
    # into a copy without them: written back
    bare = bare_config(tmp_path)
    _edit(bare, SA, 'jury_welcome: "08:00"\n', "")
    assert main(["import", str(path), "--config", str(bare), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "Sessions à modifier (1)" in out
    assert f"{WELCOME} : (vide) → 08:00" in out
    assert "Responsable de session (téléphone) : (vide) → 0692 00 00 01" in out
    assert _sessions(bare) == _sessions(config)
    import_changes_nothing(path, bare, capsys)


def test_empty_keeps_a_dash_clears_and_a_phone_alone_changes_only_the_phone(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = ["Identifiant", WELCOME, *PHONES]
    rows = [[SA, "-", "0262 11 22 33", None, "-", None]]
    path = _workbook(tmp_path / "a.xlsx", headers, {"Sessions": rows})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    capsys.readouterr()
    sa = yaml.safe_load((config / "sessions" / f"{SA}.yaml").read_text("utf-8"))
    assert "jury_welcome" not in sa
    assert sa["session_manager"] == {
        "name": "Jean-Luc Hoarau",
        "email": "jl.hoarau@afpar.example",
        "phone": "0262 11 22 33",
    }
    assert sa["surveillant"] == {"name": "Line Hoarau", "email": "l.hoarau@afpar.example"}


_EXPECTED_WELCOME = "(attendu : une heure au plus égale à 08:30)"


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        (
            {WELCOME: "8h75"},
            WELCOME,
            "heure « 8h75 » invalide (attendu : une heure HH:MM, ex. 08:30)",
        ),
        (
            {WELCOME: "09:00"},
            WELCOME,
            "accueil du jury à 09:00, après le début du premier jour d'examen (08:30) : "
            f"l'accueil précède les épreuves {_EXPECTED_WELCOME}",
        ),
        (
            {PHONES[0]: 692000001},
            PHONES[0],
            "numéro « 692000001 » lu comme un nombre par le tableur : le zéro du début est "
            f"perdu {_PHONE_HINT}",
        ),
        (
            {PHONES[2]: "appeler l'accueil"},
            PHONES[2],
            "numéro de téléphone « appeler l'accueil » illisible (attendu : au plus 32 chiffres, "
            'espaces, points, tirets, parenthèses, précédés ou non de +, ex. "+262 262 00 00 00")',
        ),
        (
            {PHONES[1]: "0692 00 00 09", "Suppléant (courriel)": "-"},
            PHONES[1],
            "numéro sans personne : la colonne « Suppléant (courriel) » est vide (attendu : "
            "l'adresse de la personne avec son numéro, ou un numéro vide)",
        ),
    ],
)
def test_a_bad_value_is_one_french_line_naming_file_sheet_row_and_column(
    cells: dict[str, Any],
    column: str,
    message: str,
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    headers = ["Identifiant", WELCOME, *PHONES, "Suppléant (courriel)"]
    bad = [SA, *(cells.get(h) for h in headers[1:])]
    good = ["dwwm-2027-06-venissieux", *([None] * (len(headers) - 1))]
    path = _workbook(tmp_path / "p.xlsx", headers, {"St-André": [bad], "Vénissieux": [good]})
    before = _files(config)
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 1
    out = capsys.readouterr().out
    errors = out.split("Lignes en erreur, non importées (1) :\n", 1)[1].splitlines()
    assert errors[0] == f"  feuille « St-André », ligne 2, colonne « {column} » : {message}"
    assert _files(config)[f"{SA}.yaml"] == before[f"{SA}.yaml"]


def test_the_template_explains_the_welcome_and_the_phones(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "modele.xlsx"
    assert main(["import", "--template", str(path), "--config", str(config)]) == 0
    capsys.readouterr()
    explained = {
        r[0]: r[1:] for r in load_workbook(path)["Explications"].iter_rows(values_only=True)
    }
    assert explained[WELCOME][1:3] == ("HH:MM", "08:00")
    for phone in PHONES:
        what, form, sample, required = explained[phone]
        assert "téléphone" in str(what)
        assert form == "texte (chiffres, espaces, points)"
        assert str(sample).startswith("0692 ")
        assert str(required).startswith("facultatif")
