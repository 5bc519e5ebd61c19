"""The « Jours d'examen » column (the session file's ``days:``) from the command line: the
export writes each day with its hours, the template explains it, an import (.xlsx, .csv)
writes the days back and then leaves the files byte for byte as they are, and a bad value is
one French line naming the file, the sheet, the row and the column."""

from __future__ import annotations

import shutil
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
    _export,
    _files,
    _sessions,
    _settings,
    _workbook,
    bare_config,
    import_changes_nothing,
)

DAYS = "Jours d'examen"
AC_DAYS = "10/05/2027 08:00-16:30 ; 11/05/2027 08:00-12:00"
_HINT = (
    "(attendu : chaque jour écrit jj/mm/aaaa HH:MM-HH:MM, les jours séparés par « ; », "
    "ex. 15/03/2027 08:30-17:00 ; 16/03/2027 08:30-12:00)"
)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "config"
    shutil.copytree(ROOT / "config", root)
    _settings(root, tmp_path)
    monkeypatch.chdir(tmp_path)
    return root


def _without_days(root: Path, session_id: str) -> None:
    path = root / "sessions" / f"{session_id}.yaml"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    start = lines.index("days:\n")
    end = start + 1
    while lines[end].startswith("  - "):
        end += 1
    path.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")


def test_the_export_writes_each_day_with_its_hours(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = load_workbook(_export(config, tmp_path / "sessions.xlsx", capsys))
    sheet = book["St-André"]
    headers = [c.value for c in sheet[1]]
    assert headers.index(DAYS) == headers.index("Accueil du jury") + 1
    rows = {r[0]: dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(values_only=True)}
    assert rows[AC][DAYS] == AC_DAYS
    assert rows[SA][DAYS] is None  # no days: every working day from start to end


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_days_travel_there_and_back_byte_for_byte(
    kind: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = _export(config, tmp_path / "sessions.xlsx", capsys)
    path = exported if kind == "xlsx" else _as_csv(exported, tmp_path / "sessions.csv")
    import_changes_nothing(path, config, capsys)
    # into a copy whose session has no days: the import writes them back
    bare = bare_config(tmp_path)
    _without_days(bare, AC)
    assert main(["import", str(path), "--config", str(bare), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "Sessions à modifier (1)" in out
    assert f"{DAYS} : (vide) → {AC_DAYS}" in out
    assert _sessions(bare) == _sessions(config)
    data = yaml.safe_load((bare / "sessions" / f"{AC}.yaml").read_text("utf-8"))
    assert [(str(d["date"]), d["start"], d["end"]) for d in data["days"]] == [
        ("2027-05-10", "08:00", "16:30"),
        ("2027-05-11", "08:00", "12:00"),
    ]
    carried = _files(bare)
    assert main(["import", str(path), "--config", str(bare), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "Sessions sans changement (5)" in out
    assert _files(bare) == carried


def test_days_written_otherwise_read_the_same_a_dash_clears(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(config)
    # the same days, written the way a person may type them: nothing changes
    same = "11/05/2027, 8h à 12h\n2027-05-10 8:00 – 16h30"
    path = _workbook(tmp_path / "a.xlsx", ["Identifiant", DAYS], {"Sessions": [[AC, same]]})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    assert "Sessions sans changement (1)" in capsys.readouterr().out
    assert _files(config) == before
    # one day's hours changed: that day only
    changed = "10/05/2027 08:00-16:30 ; 11/05/2027 08:00-11:30"
    path = _workbook(tmp_path / "b.xlsx", ["Identifiant", DAYS], {"Sessions": [[AC, changed]]})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    assert f"{DAYS} : {AC_DAYS} → {changed}" in capsys.readouterr().out
    ac = yaml.safe_load((config / "sessions" / f"{AC}.yaml").read_text("utf-8"))
    assert ac["days"][1] == {"date": ac["days"][1]["date"], "start": "08:00", "end": "11:30"}
    # « - »: no days any more (every working day from start to end)
    path = _workbook(tmp_path / "c.xlsx", ["Identifiant", DAYS], {"Sessions": [[AC, "-"]]})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    capsys.readouterr()
    ac = yaml.safe_load((config / "sessions" / f"{AC}.yaml").read_text("utf-8"))
    assert "days" not in ac
    # a new session given its days
    headers = [
        "Code titre",
        "Nature",
        "Centre",
        "Début",
        "Fin",
        "Responsable de session (courriel)",
        "Coordination (courriels)",
        DAYS,
    ]
    row = [
        "TP-00374",
        "titre",
        "afpar-st-andre",
        "13/09/2027",
        "17/09/2027",
        "jl.hoarau@afpar.example",
        "n.techer@afpar.example",
        "13/09/2027 08:30-17:00 ; 14/09/2027 08:30-12:00",
    ]
    path = _workbook(tmp_path / "d.xlsx", headers, {"Sessions": [row]})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    text = (config / "sessions" / "sa-2027-09-st-andre.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    assert [(str(d["date"]), d["start"], d["end"]) for d in data["days"]] == [
        ("2027-09-13", "08:30", "17:00"),
        ("2027-09-14", "08:30", "12:00"),
    ]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("10/05/2027", f"jour « 10/05/2027 » illisible {_HINT}"),
        ("10/05/2027 8h30", f"jour « 10/05/2027 8h30 » illisible {_HINT}"),
        (
            "31/05/2027 08:00-12:00 ; 30/02/2027 08:00-12:00",
            "jour « 30/02/2027 08:00-12:00 » : date « 30/02/2027 » invalide : ce jour n'existe "
            f"pas {_HINT}",
        ),
        (
            "10/05/2027 08:00-25:00",
            f"jour « 10/05/2027 08:00-25:00 » : heure « 25:00 » invalide {_HINT}",
        ),
        (
            "10/05/2027 12:00-08:00",
            "jour « 10/05/2027 12:00-08:00 » : la fin (08:00) ne suit pas le début (12:00) "
            f"{_HINT}",
        ),
        (
            "10/05/2027 08:00-12:00 ; 10/05/2027 13:00-16:00",
            "jour « 10/05/2027 13:00-16:00 » : le 10/05/2027 est déjà écrit (attendu : chaque "
            "date une seule fois)",
        ),
        (
            "10/05/2027 08:00-12:00 ; 12/05/2027 08:00-12:00",
            "jour du 12/05/2027 hors de la session, qui va du 10/05/2027 au 11/05/2027 (attendu "
            ": des jours entre « Début » et « Fin »)",
        ),
    ],
)
def test_a_bad_day_is_one_french_line_naming_file_sheet_row_and_column(
    cell: Any, message: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _workbook(
        tmp_path / "jours.xlsx",
        ["Identifiant", DAYS],
        {"St-André": [[AC, cell]], "Vénissieux": [["dwwm-2027-06-venissieux", "-"]]},
    )
    before = _files(config)
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 1
    out = capsys.readouterr().out
    errors = out.split("Lignes en erreur, non importées (1) :\n", 1)[1].splitlines()
    assert errors[0] == f"  feuille « St-André », ligne 2, colonne « {DAYS} » : {message}"
    after = _files(config)
    assert after[f"{AC}.yaml"] == before[f"{AC}.yaml"]  # nothing written for the bad row


def test_the_template_explains_the_days(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "modele.xlsx"
    assert main(["import", "--template", str(path), "--config", str(config)]) == 0
    capsys.readouterr()
    book = load_workbook(path)
    assert DAYS in [c.value for c in book["Sessions"][1]]
    explained = {r[0]: r[1:] for r in book["Explications"].iter_rows(values_only=True)}
    what, form, sample, required = explained[DAYS]
    assert form == "jj/mm/aaaa HH:MM-HH:MM ; …"
    assert sample == "15/03/2027 08:30-17:00 ; 16/03/2027 08:30-12:00"
    assert "« ; »" in str(what)
    assert str(required).startswith("facultatif")
