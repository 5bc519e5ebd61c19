"""Reading .csv (as Excel in France writes it) and .xlsx files; the template written back."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from syncsvc.app.exporting import template_bytes
from syncsvc.core import session_sheet as sheet
from syncsvc.errors import UsageError
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.spreadsheets import read_table

EXAMPLE = Path(__file__).resolve().parents[2] / "config"
NAMES = [c.name for c in sheet.COLUMNS]
SPREADSHEET_DAY = datetime(2027, 3, 15)  # noqa: DTZ001 - a spreadsheet's dates have no zone


def test_a_windows_1252_semicolon_csv_as_excel_writes_it() -> None:
    text = (
        "Identifiant;Centre;Lieu;Début;Jury (courriels)\r\n"
        'dwwm-2027-06-venissieux;greta-lyon-venissieux;"Vénissieux; salle 3";07/06/2027;'
        '"e.lefevre@jury.example\r\nt.girard@jury.example"\r\n'
        "\r\n"
        "ctrmp-2027-02-venissieux;greta-lyon-venissieux;Corbas;22/02/2027;\r\n"
    )
    table = read_table("programme.csv", text.encode("cp1252"), NAMES)
    assert table.columns == ["Identifiant", "Centre", "Lieu", "Début", "Jury (courriels)"]
    first, second = table.rows
    assert first.line == 2
    assert first.cells["Lieu"] == "Vénissieux; salle 3"
    assert first.cells["Jury (courriels)"] == "e.lefevre@jury.example\r\nt.girard@jury.example"
    assert second.line == 5  # the quoted line break and the empty line are counted
    assert second.cells["Jury (courriels)"] is None


def test_a_utf8_csv_with_a_byte_order_mark_and_commas() -> None:
    text = (
        "Identifiant,Lieu,Candidats formation,Colonne perso\nsa-2027-03-st-andre,Saint-André,11,x\n"
    )
    table = read_table("programme.csv", b"\xef\xbb\xbf" + text.encode("utf-8"), NAMES)
    (row,) = table.rows
    assert row.cells == {
        "Identifiant": "sa-2027-03-st-andre",
        "Lieu": "Saint-André",
        "Candidats formation": "11",
    }
    assert table.ignored == ["Colonne perso"]


def test_headers_are_matched_without_case_or_extra_spaces() -> None:
    text = "IDENTIFIANT;  code   titre *\nsa-2027-03-st-andre;TP-00374\n"
    table = read_table("a.csv", text.encode(), NAMES)
    assert table.columns == ["Identifiant", "Code titre"]


def test_every_data_sheet_of_a_workbook_is_read_with_its_name() -> None:
    book = Workbook()
    first = book.active
    first.title = "St-André"
    first.append(["Identifiant", "Début"])
    first.append(["sa-2027-03-st-andre", SPREADSHEET_DAY])
    second = book.create_sheet("Vénissieux")
    second.append([])
    second.append(["Identifiant", "Début"])
    second.append(["dwwm-2027-06-venissieux", "07/06/2027"])
    notes = book.create_sheet("Explications")
    notes.append(["Colonne", "Ce qu'elle contient"])
    notes.append(["Identifiant", "…"])
    out = io.BytesIO()
    book.save(out)
    table = read_table("p.xlsx", out.getvalue(), NAMES)
    assert [(r.sheet, r.line, r.cells["Identifiant"]) for r in table.rows] == [
        ("St-André", 2, "sa-2027-03-st-andre"),
        ("Vénissieux", 3, "dwwm-2027-06-venissieux"),
    ]
    assert table.rows[0].cells["Début"] == SPREADSHEET_DAY


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("p.xlsx", b"not a zip", "fichier « p.xlsx » : illisible : ce n'est pas un classeur"),
        ("p.xls", b"\xd0\xcf\x11\xe0", "fichier « p.xls » : format Excel 97 (.xls) non lu"),
        ("p.txt", b"a;b", "fichier « p.txt » : format inconnu"),
        ("p.csv", b"a;b\n1;2\n", "fichier « p.csv » : aucune ligne d'en-tête reconnue"),
    ],
)
def test_a_file_that_cannot_be_read_says_so_in_french(
    name: str, data: bytes, expected: str
) -> None:
    with pytest.raises(UsageError) as caught:
        read_table(name, data, NAMES)
    assert str(caught.value).startswith(expected)


def test_the_template_has_the_columns_drop_downs_example_and_explanations() -> None:
    config = load_config(EXAMPLE)
    book = load_workbook(io.BytesIO(template_bytes(config)))
    assert book.sheetnames == ["Sessions", "Explications", "Listes"]
    sessions = book["Sessions"]
    headers = [c.value for c in sessions[1]]
    for required in (
        "Identifiant",
        "Code titre",
        "Nature",
        "Code CCP",
        "Centre",
        "Début",
        "Fin",
        "Heure de début",
        "Candidats formation",
        "Candidats VAE",
        "Responsable de session (courriel)",
        "Jury (courriels)",
    ):
        assert required in headers
    assert sessions.freeze_panes == "A2"
    lists = book["Listes"]
    assert lists.sheet_state == "hidden"
    by_column = {}
    for check in sessions.data_validations.dataValidation:
        assert check.type == "list"
        by_column[str(check.sqref).split(":")[0]] = check.formula1
    nature_cell = f"{chr(ord('A') + headers.index('Nature'))}2"
    centre_cell = f"{chr(ord('A') + headers.index('Centre'))}2"
    assert set(by_column) == {nature_cell, centre_cell}
    natures = [c.value for c in lists["A"][1:]]
    centres = [c.value for c in lists["B"][1:]]
    assert natures == ["titre", "ccp", "ccs"]
    assert centres == list(config.centres)
    assert by_column[nature_cell] == "'Listes'!$A$2:$A$4"
    # the example row: its identifier marks it, its dates are real dates
    example = {h: c.value for h, c in zip(headers, sessions[2], strict=True)}
    assert str(example["Identifiant"]).startswith("EXEMPLE")
    assert isinstance(example["Début"], datetime)
    assert sessions.cell(row=2, column=headers.index("Début") + 1).number_format == "dd/mm/yyyy"
    # every column explained: what, format, example, required or not
    explained = {
        row[0]: row[1:]
        for row in book["Explications"].iter_rows(values_only=True)
        if row[0] in headers
    }
    assert set(explained) == set(headers)
    what, form, sample, required = explained["Début"]
    assert (form, sample, required) == ("date (jj/mm/aaaa)", "15/03/2027", "obligatoire")
    assert "premier jour" in str(what)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2027, 3, 15), date(2027, 3, 15)),
        (SPREADSHEET_DAY, date(2027, 3, 15)),
        ("15/03/2027", date(2027, 3, 15)),
        ("5/3/2027", date(2027, 3, 5)),
        ("2027-03-15", date(2027, 3, 15)),
        (46461, date(2027, 3, 15)),
        (None, None),
    ],
)
def test_dates_real_or_written(value: object, expected: date | None) -> None:
    assert sheet.day(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/02/2027", "date « 31/02/2027 » invalide : ce jour n'existe pas"),
        ("mars 2027", "date « mars 2027 » illisible"),
    ],
)
def test_bad_dates(value: str, message: str) -> None:
    with pytest.raises(sheet.CellError) as caught:
        sheet.day(value)
    assert str(caught.value).startswith(message)
    assert "(attendu : une date jj/mm/aaaa, ex. 15/03/2027)" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("8:30", "08:30"), ("08h30", "08:30"), ("8 h", "08:00"), (0.375, "09:00"), (None, None)],
)
def test_times(value: object, expected: str | None) -> None:
    assert sheet.clock(value) == expected


def test_addresses_separated_every_way() -> None:
    found = sheet.addresses("a@x.fr; B@x.fr,\nLéa Nouvelle <c@x.fr>\r\na@x.fr")
    assert [(a.name, a.email) for a in found] == [
        (None, "a@x.fr"),
        (None, "B@x.fr"),
        ("Léa Nouvelle", "c@x.fr"),
    ]


def test_a_text_starting_with_equals_is_written_as_a_text_not_a_formula() -> None:
    from syncsvc.inputs.spreadsheets import Sheet, write_workbook

    data = write_workbook([Sheet("S", ["Identifiant", "Lieu"], [["x", '=HYPERLINK("http://a")']])])
    cell = load_workbook(io.BytesIO(data))["S"]["B2"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://a")'
    (row,) = read_table("e.xlsx", data, NAMES).rows
    assert row.cells["Lieu"] == '=HYPERLINK("http://a")'


def test_the_template_example_is_one_consistent_session(tmp_path: Path) -> None:
    """The example row is a session of the configuration as it is (not a mix of examples), or
    the README's example when there is none; imported as it is, it is skipped."""
    import shutil

    from syncsvc.app.exporting import _example

    config = load_config(EXAMPLE)
    example = dict(zip(NAMES, _example(config), strict=True))
    assert example["Code titre"] == "TP-00391"
    assert (example["Nature"], example["Code CCP"]) == ("ccp", "CP-00412")
    assert example["Lieu"] is None  # that session has none: no borrowed example
    empty = tmp_path / "config"
    shutil.copytree(EXAMPLE, empty)
    for path in (empty / "sessions").iterdir():
        path.unlink()
    example = dict(zip(NAMES, _example(load_config(empty)), strict=True))
    assert (example["Nature"], example["Code CCP"]) == ("titre", None)
    assert example["Début"] == date(2027, 3, 15)
