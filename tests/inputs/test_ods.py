"""Reading and writing OpenDocument spreadsheets (``.ods``): cell types, repeated cells and rows
as LibreOffice writes them (never expanded when empty), hidden sheets, files that are no
``.ods``, the ``.xls`` refusal."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import date, datetime, time
from typing import Any

import pytest

from syncsvc.errors import UsageError
from syncsvc.inputs import ods
from syncsvc.inputs.ods import MIMETYPE, read_ods
from syncsvc.inputs.spreadsheets import Sheet, read_table, write_book

NAMES = ["Identifiant", "Lieu", "Début", "Heure de début", "Candidats formation"]
NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
)


def _naive(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A spreadsheet's date (no time zone: the cell has none)."""
    return datetime.combine(date(year, month, day), time(hour, minute))


def _ods(body: str, styles: str = "", mimetype: str = MIMETYPE) -> bytes:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS} '
        f'office:version="1.3"><office:automatic-styles>{styles}</office:automatic-styles>'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("content.xml", content)
    return out.getvalue()


def _cell(text: str, extra: str = "") -> str:
    return (
        f'<table:table-cell office:value-type="string"{extra}><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


HEADER = "<table:table-row>" + "".join(_cell(n) for n in NAMES) + "</table:table-row>"


def test_every_type_written_is_read_back_the_same() -> None:
    values: list[Any] = [
        "a  b   c",
        " leading",
        "deux\nlignes",
        "tab\there",
        "=HYPERLINK(1)",
        date(2027, 3, 15),
        _naive(2027, 3, 15, 8, 30),
        time(8, 30),
        12,
        2.5,
        True,
        None,
        "après un vide",
    ]
    data = write_book([Sheet("Feuille", [f"c{i}" for i in range(len(values))], [values])], "ods")
    sheet = read_ods(data, max_lines=10, max_rows=10)[0]
    got = sheet.rows[1][1]
    assert got == [
        "a  b   c",
        " leading",
        "deux\nlignes",
        "tab\there",
        "=HYPERLINK(1)",
        _naive(2027, 3, 15),  # a date as a date (as openpyxl reads a .xlsx)
        _naive(2027, 3, 15, 8, 30),
        time(8, 30),
        12,
        2.5,
        True,
        None,
        "après un vide",
    ]


def test_libreoffice_s_repeated_empty_rows_and_columns_are_never_expanded() -> None:
    """Expanded, these million rows of 16,384 cells would hold gigabytes: the peak stays small
    (speed is measured by benchmarks/spreadsheet_ods.py, not here)."""
    row = (
        "<table:table-row>"
        + _cell("s-1")
        + _cell("Salle B12")
        + '<table:table-cell table:number-columns-repeated="16381"/>'
        + "</table:table-row>"
    )
    body = (
        '<table:table table:name="Sessions">'
        '<table:table-column table:number-columns-repeated="16384"/>'
        + HEADER
        + '<table:table-row table:number-rows-repeated="3">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
        + row
        + '<table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
        "</table:table>"
    )
    tracemalloc.start()
    table = read_table("grand.ods", _ods(body), NAMES)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [(r.line, r.cells["Identifiant"], r.cells["Lieu"]) for r in table.rows] == [
        (5, "s-1", "Salle B12")
    ]
    assert peak < 5 * 1024 * 1024


def test_a_repeated_row_with_values_is_each_of_its_rows() -> None:
    body = (
        '<table:table table:name="S">'
        + HEADER
        + '<table:table-row table:number-rows-repeated="2">'
        + _cell("x", ' table:number-columns-repeated="2"')
        + "</table:table-row></table:table>"
    )
    table = read_table("r.ods", _ods(body), NAMES)
    assert [(r.line, r.cells["Identifiant"], r.cells["Lieu"]) for r in table.rows] == [
        (2, "x", "x"),
        (3, "x", "x"),
    ]


def test_typed_cells_merged_cells_and_paragraphs() -> None:
    row = (
        "<table:table-row>"
        '<table:table-cell office:value-type="string" table:number-columns-spanned="2">'
        "<text:p>s-<text:span>2</text:span></text:p></table:table-cell>"
        "<table:covered-table-cell/>"
        '<table:table-cell office:value-type="date" office:date-value="2027-03-15">'
        "<text:p>15/03/27</text:p></table:table-cell>"
        '<table:table-cell office:value-type="time" office:time-value="PT08H30M00S">'
        "<text:p>08:30</text:p></table:table-cell>"
        '<table:table-cell office:value-type="float" office:value="12">'
        "<text:p>12</text:p></table:table-cell>"
        "</table:table-row>"
    )
    body = f'<table:table table:name="S">{HEADER}{row}</table:table>'
    cells = read_table("t.ods", _ods(body), NAMES).rows[0].cells
    assert cells == {
        "Identifiant": "s-2",
        "Lieu": None,
        "Début": _naive(2027, 3, 15),
        "Heure de début": time(8, 30),
        "Candidats formation": 12,
    }
    lines = (
        "<table:table-row>"
        '<table:table-cell office:value-type="string"><text:p>un<text:line-break/>deux</text:p>'
        '<text:p>trois<text:s text:c="2"/>quatre</text:p></table:table-cell>'
        + _cell("b")
        + "</table:table-row>"
    )
    body = f'<table:table table:name="S">{HEADER}{lines}</table:table>'
    assert read_table("t.ods", _ods(body), NAMES).rows[0].cells["Identifiant"] == (
        "un\ndeux\ntrois  quatre"
    )


def test_the_data_sheets_are_read_as_in_a_xlsx_hidden_and_other_sheets_left_aside() -> None:
    hidden = (
        '<style:style style:name="ta2" style:family="table">'
        '<style:table-properties table:display="false"/></style:style>'
    )
    row = "<table:table-row>" + _cell("s-{}") + _cell("Salle") + "</table:table-row>"
    body = (
        '<table:table table:name="Explications"><table:table-row>'
        + _cell("Importer")
        + "</table:table-row></table:table>"
        + f'<table:table table:name="Nord">{HEADER}{row.format(1)}</table:table>'
        + f'<table:table table:name="Cachée" table:style-name="ta2">{HEADER}{row.format(9)}'
        "</table:table>" + f'<table:table table:name="Sud">{HEADER}{row.format(2)}</table:table>'
    )
    table = read_table("f.ods", _ods(body, hidden), NAMES)
    assert [(r.sheet, r.line, r.cells["Identifiant"]) for r in table.rows] == [
        ("Nord", 2, "s-1"),
        ("Sud", 2, "s-2"),
    ]


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "a.ods",
            b"pas un classeur",
            "fichier « a.ods » : illisible : ce n'est pas un classeur .ods valide (pas une "
            "archive OpenDocument) (attendu : un classeur .xlsx ou .ods, ou un fichier .csv)",
        ),
        (
            "b.ods",
            _zip({"mimetype": MIMETYPE.encode()}),
            "fichier « b.ods » : illisible : ce n'est pas un classeur .ods valide (contenu "
            "content.xml absent)",
        ),
        (
            "c.ods",
            _ods("", mimetype="application/vnd.oasis.opendocument.text"),
            "fichier « c.ods » : illisible : ce n'est pas un classeur .ods valide (document "
            "« application/vnd.oasis.opendocument.text », pas un classeur)",
        ),
        (
            "d.ods",
            _zip({"mimetype": MIMETYPE.encode(), "content.xml": b"<office:document-content"}),
            "fichier « d.ods » : illisible : ce n'est pas un classeur .ods valide (content.xml "
            "illisible à la ligne 1)",
        ),
        (
            "e.ods",
            _zip(
                {
                    "mimetype": MIMETYPE.encode(),
                    "content.xml": b"\x00\x01chiffr\xc3",
                    "META-INF/manifest.xml": b"<manifest:encryption-data/>",
                }
            ),
            "fichier « e.ods » : illisible : classeur protégé par un mot de passe",
        ),
        (
            "f.ods",
            _ods(
                f'<table:table table:name="S"><table:table-row>{_cell("x")}</table:table-row>'
                "</table:table>"
            ),
            "fichier « f.ods » : aucune ligne d'en-tête reconnue",
        ),
        (
            "vieux.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "fichier « vieux.xls » : format Excel 97 (.xls) non lu (attendu : un classeur .xlsx "
            "ou .ods, ou un fichier .csv ; dans le tableur, « Enregistrer sous » Classeur Excel "
            ".xlsx ou Classeur OpenDocument .ods)",
        ),
    ],
)
def test_a_file_that_is_no_ods_says_so_in_french_naming_it(
    name: str, data: bytes, expected: str
) -> None:
    with pytest.raises(UsageError) as caught:
        read_table(name, data, NAMES)
    assert str(caught.value).startswith(expected)


def test_a_damaged_archive_is_refused_in_french_naming_the_file() -> None:
    body = '<table:table table:name="S">' + HEADER * 50 + "</table:table>"
    data = bytearray(_ods(body))
    start = data.index(b"content.xml") + len(b"content.xml") + 40  # inside its deflated bytes
    data[start : start + 64] = bytes(64)
    with pytest.raises(UsageError) as caught:
        read_table("abîmé.ods", bytes(data), NAMES)
    assert str(caught.value).startswith(
        "fichier « abîmé.ods » : illisible : ce n'est pas un classeur .ods valide (archive abîmée) "
        "(attendu : un classeur .xlsx ou .ods, ou un fichier .csv)"
    )


def test_a_small_file_unpacking_to_a_huge_content_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ods, "MAX_XML_BYTES", 64 * 1024)
    body = '<table:table table:name="S">' + HEADER * 2000 + "</table:table>"
    with pytest.raises(UsageError) as caught:
        read_table("bombe.ods", _ods(body), NAMES)
    assert "contenu trop volumineux une fois décompressé" in str(caught.value)
