"""The « Reports » column (the session file's ``postponed:``) from the command line: the
export writes each postponement on its line, an import (.xlsx, .csv) writes them back and then
leaves the files byte for byte as they are, and a bad value is one French line naming the file,
the sheet, the row and the column."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from syncsvc.cli import main
from tests.system.test_cli_sheet_columns import (
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

REPORTS = "Reports"
POSTPONEMENTS = (
    "postponed:\n"
    '  - {from_start: 2027-02-08, from_end: 2027-02-12, on: 2026-10-02, reason: "Salle prise"}\n'
    "  - {from_start: 2027-03-15, from_end: 2027-03-19, on: 2026-11-24, "
    'reason: "Plateau technique indisponible ; formateur absent"}\n'
)
SHOWN = (
    "du 08/02/2027 au 12/02/2027, reportée le 02/10/2026 : Salle prise\n"
    "du 15/03/2027 au 19/03/2027, reportée le 24/11/2026 : Plateau technique indisponible ; "
    "formateur absent"
)
_HINT = (
    "(attendu : chaque report écrit « du jj/mm/aaaa au jj/mm/aaaa, reportée le jj/mm/aaaa : "
    "motif », avec les dates d'avant le report, un report par ligne ou séparés par « ; », ex. "
    "du 15/03/2027 au 19/03/2027, reportée le 24/11/2026 : Plateau technique indisponible)"
)


def _postpone(root: Path) -> None:
    _edit(root, SA, "start: 2027-03-15\nend: 2027-03-19\n", "start: 2027-04-12\nend: 2027-04-16\n")
    _edit(root, SA, "candidates:", POSTPONEMENTS + "candidates:")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "config"
    shutil.copytree(ROOT / "config", root)
    _settings(root, tmp_path)
    _postpone(root)
    monkeypatch.chdir(tmp_path)
    return root


def test_the_export_writes_each_postponement_on_its_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = load_workbook(_export(config, tmp_path / "sessions.xlsx", capsys))
    sheet = book["St-André"]
    headers = [c.value for c in sheet[1]]
    rows = {r[0]: dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(values_only=True)}
    assert rows[SA][REPORTS] == SHOWN
    assert rows["ccp-ac-2027-05-st-andre"][REPORTS] is None


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_postponements_travel_there_and_back_byte_for_byte(
    kind: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = _export(config, tmp_path / "sessions.xlsx", capsys)
    path = exported if kind == "xlsx" else _as_csv(exported, tmp_path / "sessions.csv")
    import_changes_nothing(path, config, capsys)
    # into a copy never postponed: the new dates and the postponements are written
    bare = bare_config(tmp_path)
    assert main(["import", str(path), "--config", str(bare), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "Sessions à modifier (1)" in out
    assert f"{REPORTS} : (vide) → {SHOWN.replace(chr(10), ' ; ')}\n" in out
    assert _sessions(bare) == _sessions(config)
    data = yaml.safe_load((bare / "sessions" / f"{SA}.yaml").read_text("utf-8"))
    assert data["postponed"][1]["reason"] == "Plateau technique indisponible ; formateur absent"
    import_changes_nothing(path, bare, capsys)


def test_a_postponement_added_in_the_cell_and_a_dash_clears(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    added = SHOWN + " ; du 12/04/2027 au 16/04/2027, reporté le 10/01/2027 : Jury incomplet"
    headers = ["Identifiant", "Début", "Fin", REPORTS]
    rows = [[SA, "10/05/2027", "14/05/2027", added]]
    path = _workbook(tmp_path / "a.xlsx", headers, {"Sessions": rows})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    capsys.readouterr()
    session = _sessions(config)[SA]
    assert (session["start"], session["end"]) == (date(2027, 5, 10), date(2027, 5, 14))
    assert len(session["postponed"]) == 3
    assert session["postponed"][2] == {
        "from_start": date(2027, 4, 12),
        "from_end": date(2027, 4, 16),
        "on": date(2027, 1, 10),
        "reason": "Jury incomplet",
    }
    path = _workbook(tmp_path / "b.xlsx", ["Identifiant", REPORTS], {"Sessions": [[SA, "-"]]})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    capsys.readouterr()
    data = yaml.safe_load((config / "sessions" / f"{SA}.yaml").read_text("utf-8"))
    assert "postponed" not in data


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("reportée", f"report « reportée » illisible {_HINT}"),
        (
            "du 15/03/2027 au 19/03/2027, reportée le 24/11/2026 :",
            f"report « du 15/03/2027 au 19/03/2027, reportée le 24/11/2026 : » sans motif {_HINT}",
        ),
        (
            "du 15/03/2027 au 31/02/2027, reportée le 24/11/2026 : x",
            "report « du 15/03/2027 au 31/02/2027, reportée le 24/11/2026 : x » : date "
            f"« 31/02/2027 » invalide : ce jour n'existe pas {_HINT}",
        ),
        (
            "du 19/03/2027 au 15/03/2027, reportée le 24/11/2026 : x",
            "report « du 19/03/2027 au 15/03/2027, reportée le 24/11/2026 : x » : l'ancienne "
            f"fin (15/03/2027) précède l'ancien début (19/03/2027) {_HINT}",
        ),
        (
            "du 15/03/2027 au 19/03/2027, reportée le 24/11/2026 : x\n"
            "du 08/02/2027 au 12/02/2027, reportée le 02/10/2026 : y",
            "report « du 08/02/2027 au 12/02/2027, reportée le 02/10/2026 : y » : reporté le "
            "02/10/2026, avant le report précédent (attendu : les reports du plus ancien au "
            "plus récent)",
        ),
        (
            # the loader's own check, under the column: the last one keeps the current dates
            "du 12/04/2027 au 16/04/2027, reportée le 24/11/2026 : x",
            "report du 2026-11-24 sans changement de dates : from_start et from_end sont les "
            "dates actuelles de la session (attendu : les dates d'avant le report, start et end "
            "portant les nouvelles)",
        ),
    ],
)
def test_a_bad_postponement_is_one_french_line_naming_file_sheet_row_and_column(
    cell: str, message: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _workbook(
        tmp_path / "reports.xlsx",
        ["Identifiant", REPORTS],
        {"St-André": [[SA, cell]], "Vénissieux": [["dwwm-2027-06-venissieux", "-"]]},
    )
    before = _files(config)
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 1
    out = capsys.readouterr().out
    errors = out.split("Lignes en erreur, non importées (1) :\n", 1)[1].splitlines()
    assert errors[0] == f"  feuille « St-André », ligne 2, colonne « {REPORTS} » : {message}"
    assert _files(config)[f"{SA}.yaml"] == before[f"{SA}.yaml"]


def test_the_template_explains_the_postponements_and_never_shows_one(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "modele.xlsx"
    assert main(["import", "--template", str(path), "--config", str(config)]) == 0
    capsys.readouterr()
    book = load_workbook(path)
    headers = [c.value for c in book["Sessions"][1]]
    example = dict(zip(headers, [c.value for c in book["Sessions"][2]], strict=True))
    assert example[REPORTS] is None
    explained = {r[0]: r[1:] for r in book["Explications"].iter_rows(values_only=True)}
    what, form, sample, required = explained[REPORTS]
    assert str(sample).startswith("du 15/03/2027 au 19/03/2027, reportée le")
    assert form == "du jj/mm/aaaa au jj/mm/aaaa, reportée le jj/mm/aaaa : motif"
    assert "anciennes" in str(what)
    assert str(required).startswith("facultatif")
