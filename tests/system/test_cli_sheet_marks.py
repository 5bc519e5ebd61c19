"""Done marks from a spreadsheet, at the command line: the export's « Échéances » sheet (one row
per milestone the planner gives each session), a date or « oui » typed in « Fait le » marks the
milestone done, ``-`` removes the mark; previewed line by line, written with ``--apply`` through
the store's marks (who: ``import``), in a real .xlsx and a real .ods, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from syncsvc.cli import main
from syncsvc.core.planner import plan_sessions
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.ods import read_ods
from syncsvc.inputs.spreadsheets import Sheet, write_book
from syncsvc.state.store import Store
from tests.system.test_cli_sheet_columns import _files

ROOT = Path(__file__).resolve().parents[2]
NOW = "2027-02-08"
TODAY = date(2027, 2, 8)
SHEET = "Échéances"
HEADERS = ["Identifiant", "Centre", "Échéance", "Date", "Statut", "Fait le", "Fait par", "Jalon"]
SA = "sa-2027-03-st-andre"
TEE = "tee-2027-04-strasbourg"
Key = tuple[str, str]
AT = datetime(2026, 12, 3, 9, tzinfo=UTC)


def _day(year: int, month: int, day: int) -> datetime:
    """A spreadsheet's date (no time zone: the cell has none)."""
    return datetime.combine(date(year, month, day), time())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> Path:
    root = tmp_path / "config"
    shutil.copytree(ROOT / "config", root)
    (root / "syncsvc.toml").write_text(f'[store]\nurl = "{store_url}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def store(config: Path, store_url: str) -> Iterator[Store]:
    opened = Store(store_url)
    opened.migrate()
    try:
        yield opened
    finally:
        opened.close()


def _export(root: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["export", str(path), "--config", str(root), "--now", NOW]) == 0
    capsys.readouterr()
    return path


def _import(
    root: Path, path: Path, capsys: pytest.CaptureFixture[str], *more: str
) -> tuple[int, str]:
    code = main(["import", str(path), "--config", str(root), "--now", NOW, *more])
    return code, capsys.readouterr().out


def _rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of the « Échéances » sheet (read back as openpyxl or our ODS reader
    gives them)."""
    if path.suffix == ".ods":
        sheet = next(
            s for s in read_ods(path.read_bytes(), max_lines=500, max_rows=500) if s.title == SHEET
        )
        header = [str(v) for v in sheet.rows[0][1]]
        return header, [list(values) for _, values in sheet.rows[1:]]
    book = load_workbook(path)
    rows = [list(r) for r in book[SHEET].iter_rows(values_only=True)]
    return [str(v) for v in rows[0]], rows[1:]


def _by_key(path: Path) -> dict[Key, dict[str, Any]]:
    header, rows = _rows(path)
    found = [dict(zip(header, row, strict=False)) for row in rows]
    return {(r["Identifiant"], r["Jalon"]): r for r in found}


def _typed(path: Path, out: Path, cells: Mapping[Key, Any]) -> dict[Key, int]:
    """``path`` with « Fait le » of the rows ``cells`` names set, saved as ``out`` (same kind);
    the line of each row changed."""
    lines: dict[Key, int] = {}
    if path.suffix == ".ods":
        sheets = read_ods(path.read_bytes(), max_lines=500, max_rows=500)
        books = []
        for sheet in sheets:
            header = list(sheet.rows[0][1])
            rows = [list(values) for _, values in sheet.rows[1:]]
            if sheet.title == SHEET:
                for index, row in enumerate(rows):
                    key = (row[0], row[header.index("Jalon")])
                    if key in cells:
                        row[header.index("Fait le")] = cells[key]
                        lines[key] = index + 2
            books.append(Sheet(sheet.title, [str(h) for h in header], rows))
        out.write_bytes(write_book(books, "ods"))
        return lines
    book = load_workbook(path)
    sheet = book[SHEET]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        key = (row[0].value, row[header.index("Jalon")].value)
        if key in cells:
            row[header.index("Fait le")].value = cells[key]
            lines[key] = row[0].row
    book.save(out)
    return lines


# --- the export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_the_export_has_one_row_per_planned_milestone(
    kind: str, config: Path, tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    store.mark_done(SA, "dte_order", date(2026, 12, 3), "Nathalie Técher", None, AT)
    path = _export(config, tmp_path / f"sessions.{kind}", capsys)
    header, rows = _rows(path)
    assert header == HEADERS
    planned = plan_sessions(load_config(config), {SA: {"dte_order": date(2026, 12, 3)}}, TODAY)
    expected = [(p.session.id, m.id) for p in planned.planned for m in p.milestones]
    assert [(r[0], r[-1]) for r in rows] == expected  # the planner's, in its order
    found = _by_key(path)
    dte = found[(SA, "dte_order")]
    assert dte["Centre"] == "afpar-st-andre"
    assert dte["Échéance"] == "Commander le pli d'examen (DTE)"
    assert dte["Date"] == _day(2026, 12, 11)
    assert (dte["Statut"], dte["Fait le"], dte["Fait par"]) == (
        "Fait",
        _day(2026, 12, 3),
        "Nathalie Técher",
    )
    ceres = found[(SA, "ceres_session_create")]
    assert (ceres["Fait le"], ceres["Fait par"]) == (_day(2026, 11, 20), "fichier de session")
    assert found[(SA, "ud_session_declaration")]["Statut"] == "En retard"
    assert found[(SA, "jury_convocation")]["Statut"] == "Bientôt"
    assert found[(SA, "exam_session")]["Statut"] == "À venir"
    assert (SA, "agrement_request") not in found  # does not apply: not planned, not listed
    # never a candidate's name (the ctrmp session names its candidates)
    text = repr(rows)
    named = load_config(config).sessions["ctrmp-2027-02-venissieux"].candidates.named
    assert named
    for candidate in named:
        assert candidate.name not in text
    if kind == "xlsx":
        sheet = load_workbook(path)[SHEET]
        assert sheet.freeze_panes == "A2"
        assert sheet.cell(row=2, column=4).number_format == "dd/mm/yyyy"


# --- marks through the import -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_marks_typed_in_the_sheet_are_previewed_then_written_and_read_back(
    kind: str, config: Path, tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = _export(config, tmp_path / f"sessions.{kind}", capsys)
    typed = tmp_path / f"saisi.{kind}"
    lines = _typed(
        exported,
        typed,
        {
            (SA, "dte_order"): _day(2026, 12, 3),
            (SA, "ud_session_declaration"): "oui",
            (TEE, "ceres_session_create"): "04/02/2027",
        },
    )
    before = _files(config)
    code, out = _import(config, typed, capsys)
    assert code == 0, out
    dte, ud, tee = (
        lines[(SA, "dte_order")],
        lines[(SA, "ud_session_declaration")],
        lines[(TEE, "ceres_session_create")],
    )
    assert "Échéances à marquer (3) :" in out
    assert (
        f"feuille « Échéances », ligne {dte} : {SA}, Commander le pli d'examen (DTE) → "
        "fait le 03/12/2026" in out
    )
    assert f"feuille « Échéances », ligne {ud} : {SA}, Transmettre à la DEETS de La Réunion" in out
    assert "→ fait le 08/02/2027" in out  # « oui »: today, in the centre's zone
    assert (
        f"feuille « Échéances », ligne {tee} : {TEE}, Créer la session dans CERES → "
        "fait le 04/02/2027" in out
    )
    assert "Sessions sans changement (5)" in out
    assert "rien n'a été écrit" in out
    assert store.done_mark_details() == {}  # a preview writes nothing
    code, out = _import(config, typed, capsys, "--apply")
    assert code == 0, out
    assert "Enregistré : 0 session(s) créée(s), 0 modifiée(s), 3 échéance(s) marquée(s)." in out
    marks = store.done_mark_details()
    assert {k: (m.done_on, m.by) for k, m in marks.items()} == {
        (SA, "dte_order"): (date(2026, 12, 3), "import"),
        (SA, "ud_session_declaration"): (date(2027, 2, 8), "import"),
        (TEE, "ceres_session_create"): (date(2027, 2, 4), "import"),
    }
    assert (
        marks[(SA, "dte_order")].note
        == f"import de « saisi.{kind} », feuille « Échéances », ligne {dte}"
    )
    assert _files(config) == before  # the session files are not touched
    # the export now shows them; imported back, it changes nothing (sessions nor marks)
    again = _export(config, tmp_path / f"again.{kind}", capsys)
    shown = _by_key(again)[(SA, "dte_order")]
    assert (shown["Statut"], shown["Fait le"], shown["Fait par"]) == (
        "Fait",
        _day(2026, 12, 3),
        "import",
    )
    code, out = _import(config, again, capsys, "--apply")
    assert code == 0, out
    assert "Résultat : aucun changement, rien à importer." in out
    code, out = _import(config, typed, capsys, "--apply")  # the same file twice: nothing more
    assert "aucun changement" in out
    assert store.done_mark_details() == marks
    # « - » removes a mark; the other rows of the sheet stay as they are
    removed = tmp_path / f"retire.{kind}"
    line = _typed(again, removed, {(SA, "dte_order"): "-"})[(SA, "dte_order")]
    code, out = _import(config, removed, capsys)
    assert (
        f"feuille « Échéances », ligne {line} : {SA}, Commander le pli d'examen (DTE) : "
        "fait le 03/12/2026 → pas fait (marque retirée)" in out
    )
    code, out = _import(config, removed, capsys, "--apply")
    assert code == 0, out
    assert "1 marque(s) retirée(s)" in out
    assert set(store.done_mark_details()) == {
        (SA, "ud_session_declaration"),
        (TEE, "ceres_session_create"),
    }


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_changed_day_replaces_the_mark(
    config: Path, tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    store.mark_done(
        SA,
        "dte_order",
        date(2026, 12, 3),
        "Nathalie Técher",
        "pli commandé",
        AT,
    )
    exported = _export(config, tmp_path / "sessions.xlsx", capsys)
    line = _typed(exported, tmp_path / "saisi.xlsx", {(SA, "dte_order"): _day(2026, 12, 1)})
    code, out = _import(config, tmp_path / "saisi.xlsx", capsys, "--apply")
    assert code == 0, out
    assert (
        f"ligne {line[(SA, 'dte_order')]} : {SA}, Commander le pli d'examen (DTE) : "
        "fait le 03/12/2026 → fait le 01/12/2026" in out
    )
    mark = store.done_mark_details()[(SA, "dte_order")]
    assert (mark.done_on, mark.by) == (date(2026, 12, 1), "import")


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_bad_rows_are_french_errors_naming_sheet_row_and_column_the_others_go_through(
    config: Path, tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = _export(config, tmp_path / "sessions.xlsx", capsys)
    good = _typed(exported, tmp_path / "base.xlsx", {(SA, "dte_order"): _day(2026, 12, 3)})
    book = load_workbook(tmp_path / "base.xlsx")
    sheet = book[SHEET]
    first = sheet.max_row + 1
    sheet.append(
        [
            "sa-2099-01-nulle-part",
            "afpar-st-andre",
            None,
            None,
            None,
            "01/02/2027",
            None,
            "dte_order",
        ]
    )
    sheet.append([SA, "afpar-st-andre", None, None, None, "01/02/2027", None, "pas_un_jalon"])
    sheet.append([SA, "afpar-st-andre", None, None, None, "01/02/2027", None, "agrement_request"])
    sheet.append([SA, "afpar-st-andre", None, None, None, "09/02/2027", None, "jury_convocation"])
    sheet.append([SA, "afpar-st-andre", None, None, None, "-", None, "ceres_session_create"])
    sheet.append([SA, "afpar-st-andre", None, None, None, "bientôt", None, "dte_reception"])
    book.save(tmp_path / "fautes.xlsx")
    code, out = _import(config, tmp_path / "fautes.xlsx", capsys, "--apply")
    assert code == 1
    where = "feuille « Échéances », ligne"
    assert (
        f"{where} {first}, colonne « Identifiant » : session « sa-2099-01-nulle-part » inconnue"
        in out
    )
    assert f"{where} {first + 1}, colonne « Jalon » : jalon « pas_un_jalon » inconnu" in out
    assert (
        f"{where} {first + 2}, colonne « Jalon » : « Déposer la demande d'agrément si nécessaire » "
        f"ne s'applique pas à la session {SA}"
    ) in out
    assert (
        f"{where} {first + 3}, colonne « Fait le » : date 09/02/2027 dans le futur "
        "(attendu : aujourd'hui, 08/02/2027, ou avant)" in out
    )
    assert (
        f"{where} {first + 4}, colonne « Fait le » : « Créer la session dans CERES » est "
        "marqué fait le 20/11/2026 dans le fichier de session" in out
    )
    assert f"{where} {first + 5}, colonne « Fait le » : « bientôt » illisible" in out
    # nothing else lost: the good row is written
    assert {k: m.done_on for k, m in store.done_mark_details().items()} == {
        (SA, "dte_order"): date(2026, 12, 3)
    }
    assert good  # its line was found


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_sheet_of_marks_alone_and_the_sessions_sheet_unchanged(
    config: Path, tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """The « Échéances » sheet copied alone into a workbook is read the same; a workbook of
    sessions only never touches the marks."""
    exported = _export(config, tmp_path / "sessions.xlsx", capsys)
    _typed(exported, tmp_path / "saisi.xlsx", {(SA, "dte_order"): _day(2026, 12, 3)})
    book = load_workbook(tmp_path / "saisi.xlsx")
    for name in book.sheetnames:
        if name != SHEET:
            del book[name]
    book.save(tmp_path / "seule.xlsx")
    code, out = _import(config, tmp_path / "seule.xlsx", capsys, "--apply")
    assert code == 0, out
    assert "colonnes absentes" not in out
    assert "1 échéance(s) marquée(s)" in out
    assert list(store.done_mark_details()) == [(SA, "dte_order")]
    book = load_workbook(exported)
    del book[SHEET]
    book.save(tmp_path / "sessions-seules.xlsx")
    store.mark_undone(SA, "dte_order")
    code, out = _import(config, tmp_path / "sessions-seules.xlsx", capsys, "--apply")
    assert code == 0, out
    assert "Sessions sans changement (5)" in out
    assert store.done_mark_details() == {}
