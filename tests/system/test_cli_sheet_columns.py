"""The spreadsheet columns of the surveillant, the comédien, the title's millésime and
échéance, the CERES declaration day and the cancellation, from the command line: the export
shows them, imports back (.xlsx, .csv) to the same session files, a bad value is one French
line naming the file, the sheet, the row and the column, and an older spreadsheet without
these columns leaves them as they are."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from syncsvc.cli import main
from syncsvc.inputs.loader import load_config

ROOT = Path(__file__).resolve().parents[2]
NEW_COLUMNS = [
    "Millésime du titre",
    "Échéance du titre",
    "Surveillant (nom)",
    "Surveillant (courriel)",
    "Comédien (nom)",
    "Comédien (courriel)",
    "Déclaration CERES (date)",
    "Annulation (date)",
    "Annulation (motif)",
]
SA = "sa-2027-03-st-andre"
AC = "ccp-ac-2027-05-st-andre"
TEE = "tee-2027-04-strasbourg"


def _settings(root: Path, tmp_path: Path) -> None:
    (root / "syncsvc.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "state.db"}"\n', encoding="utf-8"
    )


def _edit(root: Path, session_id: str, old: str, new: str) -> None:
    path = root / "sessions" / f"{session_id}.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _enrich(root: Path) -> None:
    """Every new field, in each of the ways a file may write it."""
    _edit(
        root,
        SA,
        "transport: false}",
        "transport: false, version: 2023, expires_on: 2028-12-31}",
    )
    _edit(
        root,
        SA,
        "declared_on: 2026-11-20\n",
        "declared_on: 2026-11-20\n"
        'surveillant: {name: "Line Hoarau", email: l.hoarau@afpar.example, '
        'phone: "0692 00 00 02"}\n'
        'comedien: {name: "Paul Payet", email: p.payet@afpar.example}  # mises en situation\n',
    )
    _edit(root, AC, "transport: false}", "transport: false, version: 2017-10-27}")
    _edit(
        root,
        AC,
        "candidates: {training: 6, vae: 0}\n",
        "candidates: {training: 6, vae: 0}\n"
        'cancelled: {on: 2027-01-11, reason: "Trop peu de candidats"}\n',
    )
    _edit(root, TEE, "candidates:", "cancelled: true\ncandidates:")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "config"
    shutil.copytree(ROOT / "config", root)
    _settings(root, tmp_path)
    _enrich(root)
    assert load_config(root).ok, load_config(root).problems
    monkeypatch.chdir(tmp_path)
    return root


def _files(root: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted((root / "sessions").iterdir())}


def _sessions(root: Path) -> dict[str, dict[str, Any]]:
    config = load_config(root)
    assert config.ok, config.problems
    return {key: s.model_dump() for key, s in config.sessions.items()}


def _export(root: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["export", str(path), "--config", str(root), "--now", "2027-02-08"]) == 0
    capsys.readouterr()
    return path


def _as_csv(workbook: Path, target: Path) -> Path:
    """The export's session sheets as one ``;`` file, as Excel in France saves it (dates
    jj/mm/aaaa, times HH:MM, Windows-1252)."""
    book = load_workbook(workbook)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    header_written = False
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if not rows or rows[0][0] != "Identifiant" or sheet.title == "Échéances":
            continue
        if not header_written:
            writer.writerow(rows[0])
            header_written = True
        for row in rows[1:]:
            writer.writerow([_shown(v) for v in row])
    target.write_bytes(out.getvalue().encode("cp1252"))
    return target


def bare_config(tmp_path: Path) -> Path:
    """A copy of the example configuration as shipped, into which an export is imported."""
    bare = tmp_path / "bare"
    shutil.copytree(ROOT / "config", bare)
    _settings(bare, tmp_path)
    return bare


def import_changes_nothing(path: Path, root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Importing ``path`` into ``root`` reads every column back and leaves every file byte for
    byte as it was; the command's output."""
    before = _files(root)
    assert main(["import", str(path), "--config", str(root), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "Sessions sans changement (5)" in out
    assert "Remarque" not in out  # every column read back, none missing
    assert _files(root) == before
    return out


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def test_the_export_shows_every_new_field(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = load_workbook(_export(config, tmp_path / "sessions.xlsx", capsys))
    sheet = book["St-André"]
    headers = [c.value for c in sheet[1]]
    assert [h for h in headers if h in NEW_COLUMNS] == NEW_COLUMNS
    rows = {r[0].value: dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=2)}
    sa, ac = rows[SA], rows[AC]
    assert sa["Millésime du titre"].value == "2023"
    assert sa["Échéance du titre"].value.date() == date(2028, 12, 31)
    assert sa["Échéance du titre"].number_format == "dd/mm/yyyy"
    assert (sa["Surveillant (nom)"].value, sa["Surveillant (courriel)"].value) == (
        "Line Hoarau",
        "l.hoarau@afpar.example",
    )
    assert (sa["Comédien (nom)"].value, sa["Comédien (courriel)"].value) == (
        "Paul Payet",
        "p.payet@afpar.example",
    )
    assert sa["Déclaration CERES (date)"].value.date() == date(2026, 11, 20)
    assert sa["Annulation (date)"].value is None
    assert sa["Annulée"].value == "non"
    assert ac["Millésime du titre"].value == "2017-10-27"
    assert ac["Annulation (date)"].value.date() == date(2027, 1, 11)
    assert ac["Annulation (date)"].number_format == "dd/mm/yyyy"
    assert ac["Annulation (motif)"].value == "Trop peu de candidats"
    assert ac["Annulée"].value == "oui"
    tee = next(r for r in book["Strasbourg"].iter_rows(min_row=2, values_only=True))
    tee_row = dict(zip([c.value for c in book["Strasbourg"][1]], tee, strict=True))
    # « cancelled: true »: neither day nor reason; « oui » as the day, like « Annulée »
    assert (tee_row["Annulation (date)"], tee_row["Annulation (motif)"]) == ("oui", None)
    assert tee_row["Annulée"] == "oui"


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_export_then_import_gives_the_same_session_files(
    kind: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = _export(config, tmp_path / "sessions.xlsx", capsys)
    path = exported if kind == "xlsx" else _as_csv(exported, tmp_path / "sessions.csv")
    import_changes_nothing(path, config, capsys)
    # into the same sessions without these fields: the import writes them back, the same
    bare = bare_config(tmp_path)
    assert main(["import", str(path), "--config", str(bare), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "Sessions à modifier (3)" in out
    assert "Millésime du titre : (vide) → 2023" in out
    assert "Annulation (motif) : (vide) → Trop peu de candidats" in out
    assert "Annulation (date) : (vide) → oui" in out
    expected = _sessions(config)
    restored = _sessions(bare)
    # « cancelled: true » travels as « oui » in « Annulation (date) »
    assert expected[TEE]["cancelled"] == {"on": None, "reason": None}
    # the surveillant's phone travels in « Surveillant (téléphone) »
    assert restored[SA]["surveillant"]["phone"] == "0692 00 00 02"
    assert restored == expected
    written = (bare / "sessions" / f"{AC}.yaml").read_text("utf-8")
    assert "cancelled:\n  on: 2027-01-11\n  reason: Trop peu de candidats\n" in written
    assert 'version: "2017-10-27"}' in written
    tee = (bare / "sessions" / f"{TEE}.yaml").read_text("utf-8")
    assert "\ncancelled: true\n" in tee
    # imported again into the folder it now matches: nothing changes, byte for byte
    import_changes_nothing(path, bare, capsys)


def _workbook(path: Path, headers: list[str], sheets: dict[str, list[list[Any]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


_DAY_HINT = "(attendu : une date jj/mm/aaaa, ex. 15/03/2027)"
_ADDRESS_HINT = "(attendu : une adresse nom@domaine.fr, plusieurs séparées par « ; »)"
_CANCEL_HINT = (
    "(attendu : la date et le motif de l'annulation, ou « - » dans les deux colonnes pour "
    "rendre la session active)"
)

_CANCEL_DAY_HINT = (
    "(attendu : la date de l'annulation jj/mm/aaaa avec son motif, « oui » avec un motif vide "
    "pour une annulation sans date ni motif, ou vide, « - » ou « non » pour une session qui "
    "n'est pas annulée)"
)


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        (
            {"Millésime du titre": "x" * 40},
            "Millésime du titre",
            "texte trop long (attendu : au plus 32 caractères)",
        ),
        (
            {"Échéance du titre": "31/02/2028"},
            "Échéance du titre",
            f"date « 31/02/2028 » invalide : ce jour n'existe pas {_DAY_HINT}",
        ),
        (
            {"Surveillant (nom)": "Line\nHoarau", "Surveillant (courriel)": "l.h@afpar.example"},
            "Surveillant (nom)",
            "texte « Line\\nHoarau » : caractère de contrôle interdit (attendu : un texte sur "
            "une seule ligne, sans retour à la ligne, tabulation, caractère nul ni séquence "
            "d'échappement)",
        ),
        (
            {"Surveillant (courriel)": "l.hoarau@afpar"},
            "Surveillant (courriel)",
            f"adresse « l.hoarau@afpar » invalide {_ADDRESS_HINT}",
        ),
        (
            {"Comédien (nom)": "P" * 130, "Comédien (courriel)": "p.payet@afpar.example"},
            "Comédien (nom)",
            "texte trop long (attendu : au plus 120 caractères)",
        ),
        (
            {"Comédien (courriel)": "Paul Payet"},
            "Comédien (courriel)",
            f"adresse « Paul Payet » invalide {_ADDRESS_HINT}",
        ),
        (
            {"Déclaration CERES (date)": "novembre 2026"},
            "Déclaration CERES (date)",
            f"date « novembre 2026 » illisible {_DAY_HINT}",
        ),
        (
            {"Annulation (date)": "11/13/2027", "Annulation (motif)": "Salle indisponible"},
            "Annulation (date)",
            f"date « 11/13/2027 » invalide : ce jour n'existe pas {_DAY_HINT}",
        ),
        (
            {"Annulation (date)": "11/01/2027"},
            "Annulation (motif)",
            f"annulation sans motif {_CANCEL_HINT}",
        ),
        (
            {"Annulation (date)": "oui", "Annulation (motif)": "Salle indisponible"},
            "Annulation (date)",
            "annulation sans date : « oui » ne peut pas accompagner un motif (attendu : la date "
            "de l'annulation avec son motif, ou « oui » avec un motif vide pour une annulation "
            "sans date ni motif)",
        ),
        (
            {"Annulation (date)": "Non", "Annulation (motif)": "Salle indisponible"},
            "Annulation (date)",
            "« non » avec un motif d'annulation : la session serait à la fois annulée et non "
            f"annulée {_CANCEL_DAY_HINT}",
        ),
        (
            {"Annulation (date)": "reportée", "Annulation (motif)": "Salle indisponible"},
            "Annulation (date)",
            f"annulation « reportée » illisible {_CANCEL_DAY_HINT}",
        ),
        (
            {"Annulation (date)": "11/01/2027", "Annulation (motif)": "m" * 201},
            "Annulation (motif)",
            "texte trop long (attendu : au plus 200 caractères)",
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
    headers = ["Identifiant", *NEW_COLUMNS]
    bad = [SA, *(cells.get(h) for h in NEW_COLUMNS)]
    good = ["dwwm-2027-06-venissieux", "2024", *([None] * (len(NEW_COLUMNS) - 1))]
    path = _workbook(
        tmp_path / "programme.xlsx", headers, {"St-André": [bad], "Vénissieux": [good]}
    )
    before = _files(config)
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Import de « programme.xlsx » : 2 ligne(s) lue(s).")
    errors = out.split("Lignes en erreur, non importées (1) :\n", 1)[1].splitlines()
    assert errors[0] == f"  feuille « St-André », ligne 2, colonne « {column} » : {message}"
    assert not errors[1].startswith("  feuille")
    after = _files(config)
    assert after[f"{SA}.yaml"] == before[f"{SA}.yaml"]  # nothing written for the bad row
    assert 'version: "2024"}' in after["dwwm-2027-06-venissieux.yaml"]  # the others go through


def test_empty_cells_keep_a_dash_clears_and_a_new_session_gets_nothing_it_was_not_given(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = ["Identifiant", *NEW_COLUMNS]
    rows = [
        [SA, None, None, None, None, None, "-", None, None, None],  # no comédien any more
        [AC, "-", None, None, None, None, None, None, "-", "-"],  # active again
    ]
    path = _workbook(tmp_path / "x.xlsx", headers, {"Sessions": rows})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    sa = yaml.safe_load((config / "sessions" / f"{SA}.yaml").read_text("utf-8"))
    assert "comedien" not in sa
    assert sa["surveillant"]["phone"] == "0692 00 00 02"
    assert sa["title"]["version"] == 2023
    assert sa["declared_on"] == date(2026, 11, 20)
    ac = yaml.safe_load((config / "sessions" / f"{AC}.yaml").read_text("utf-8"))
    assert "cancelled" not in ac
    assert "version" not in ac["title"]
    capsys.readouterr()
    # a new session whose new cells are empty: none of these fields
    created = [
        "Code titre",
        "Nature",
        "Centre",
        "Début",
        "Fin",
        "Responsable de session (courriel)",
        "Coordination (courriels)",
        *NEW_COLUMNS,
    ]
    row = [
        "TP-00374",
        "titre",
        "afpar-st-andre",
        "13/09/2027",
        "17/09/2027",
        "jl.hoarau@afpar.example",
        "n.techer@afpar.example",
        *([None] * len(NEW_COLUMNS)),
    ]
    path = _workbook(tmp_path / "y.xlsx", created, {"Sessions": [row]})
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    data = yaml.safe_load((config / "sessions" / "sa-2027-09-st-andre.yaml").read_text("utf-8"))
    assert not {"surveillant", "comedien", "declared_on", "cancelled"} & set(data)
    assert not {"version", "expires_on"} & set(data["title"])


def test_an_older_spreadsheet_without_these_columns_leaves_them_as_they_are(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an export made before these columns existed: the same workbook without them
    book = load_workbook(_export(config, tmp_path / "sessions.xlsx", capsys))
    del book["Échéances"]  # nor the sheet of milestones
    for sheet in book.worksheets:
        headers = [c.value for c in sheet[1]]
        for index in sorted((i for i, h in enumerate(headers) if h in NEW_COLUMNS), reverse=True):
            sheet.delete_cols(index + 1)
        if SA in [c.value for c in sheet["A"]]:
            line = [c.value for c in sheet["A"]].index(SA) + 1
            end = [c.value for c in sheet[1]].index("Fin") + 1
            sheet.cell(row=line, column=end, value=date(2027, 3, 20))
    old = tmp_path / "ancien.xlsx"
    book.save(old)
    before = _files(config)
    assert main(["import", str(old), "--config", str(config), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "Sessions à modifier (1)" in out
    assert "Sessions sans changement (4)" in out
    missing = out.split("colonnes absentes du fichier", 1)[1]
    assert all(f"« {name} »" in missing for name in NEW_COLUMNS)
    after = _files(config)
    changed = [
        line
        for line in after[f"{SA}.yaml"].splitlines()
        if line not in before[f"{SA}.yaml"].splitlines()
    ]
    assert changed == ["end: 2027-03-20"]
    assert {k: v for k, v in after.items() if k != f"{SA}.yaml"} == {
        k: v for k, v in before.items() if k != f"{SA}.yaml"
    }


def test_the_template_explains_the_new_columns_and_never_shows_a_cancellation(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "modele.xlsx"
    assert main(["import", "--template", str(path), "--config", str(config)]) == 0
    capsys.readouterr()
    book = load_workbook(path)
    sessions = book["Sessions"]
    headers = [c.value for c in sessions[1]]
    assert [h for h in headers if h in NEW_COLUMNS] == NEW_COLUMNS
    explained = {r[0]: r[1:] for r in book["Explications"].iter_rows(values_only=True)}
    for name in NEW_COLUMNS:
        what, form, sample, required = explained[name]
        assert all((what, form, sample)), name
        assert str(required).startswith("facultatif"), name
    for name in ("Échéance du titre", "Déclaration CERES (date)", "Annulation (date)"):
        assert explained[name][1] == "date (jj/mm/aaaa)"
    assert "« - » dans les deux colonnes d'annulation" in str(explained["Annulation (date)"][0])
    # the example is the first session of the configuration (here a cancelled one): shown
    # without its cancellation
    example = dict(zip(headers, [c.value for c in sessions[2]], strict=True))
    assert example["Code CCP"] == "CP-00412"
    assert example["Millésime du titre"] == "2017-10-27"
    assert (example["Annulation (date)"], example["Annulation (motif)"]) == (None, None)
    # without any session: the README's example, its dates as real dates
    for session in (config / "sessions").iterdir():
        session.unlink()
    assert main(["import", "--template", str(path), "--config", str(config)]) == 0
    sessions = load_workbook(path)["Sessions"]
    example = dict(zip(headers, [c.value for c in sessions[2]], strict=True))
    assert example["Échéance du titre"].date() == date(2028, 12, 31)
    assert example["Surveillant (courriel)"] == "l.hoarau@afpar.example"
    assert example["Comédien (courriel)"] is None
    assert (example["Annulation (date)"], example["Annulation (motif)"]) == (None, None)
    cell = sessions.cell(row=2, column=headers.index("Déclaration CERES (date)") + 1)
    assert cell.number_format == "dd/mm/yyyy"


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_non_in_the_cancellation_day_means_not_cancelled(
    kind: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = ["Identifiant", "Annulation (date)", "Annulation (motif)"]
    rows: list[list[Any]] = [[SA, "non", None], [AC, "NON", None], [TEE, " Non ", "-"]]
    if kind == "xlsx":
        path = _workbook(tmp_path / "annulations.xlsx", headers, {"Sessions": rows})
    else:
        text = "\r\n".join(";".join(c or "" for c in r) for r in [headers, *rows]) + "\r\n"
        path = tmp_path / "annulations.csv"
        path.write_bytes(text.encode("cp1252"))
    before = _files(config)
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "Sessions à modifier (2)" in out
    assert "Annulation (date) : 11/01/2027 → (vide)" in out
    assert "Annulation (date) : oui → (vide)" in out
    after = _files(config)
    assert after[f"{SA}.yaml"] == before[f"{SA}.yaml"]  # not cancelled: stays as it is
    for session_id in (AC, TEE):
        data = yaml.safe_load(after[f"{session_id}.yaml"])
        assert "cancelled" not in data
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    assert "Sessions sans changement (3)" in capsys.readouterr().out
    assert _files(config) == after
