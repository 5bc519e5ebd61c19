"""Spreadsheet files: reading the rows of a ``.xlsx``, ``.ods`` or ``.csv``, writing a ``.xlsx``
or a ``.ods``.

Reading gives each data row with its line number (as the spreadsheet shows it: the header is
line 1) and its cells under their column's name; nothing is interpreted here. A ``.csv`` is
read as Excel in France writes it: UTF-8 with or without a byte order mark, else
Windows-1252; the separator (``;``, ``,`` or a tab) is the one the header line uses most. In a
``.xlsx`` or a ``.ods`` (LibreOffice), every visible sheet whose first non-empty row names at
least two known columns is read (an export has one sheet per centre); the others
(« Explications »…) are left aside. A *side sheet* — one whose header names every *marker*
column of the :class:`Side` asked for (the export's « Échéances ») — is read apart, into
:attr:`Table.side`, under its own columns; a file may hold side sheets only. A ``.xls``
(Excel 97) is refused with the way out: save it as ``.xlsx`` or ``.ods``.

Writing takes sheets of plain values (dates as dates, times as times) and lays them out:
header in bold and frozen, column widths, dates shown ``jj/mm/aaaa``, drop-down lists. A text
is always written as a text: one starting with ``=`` never becomes a formula.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Final

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from syncsvc.core.fields import shortened
from syncsvc.errors import UsageError
from syncsvc.inputs.ods import OdsError, OdsLayout, read_ods, write_ods

MAX_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 5000
MAX_LINES: Final = 50_000
"""Lines of a sheet looked at, empty ones included."""
DATE_FORMAT: Final = "dd/mm/yyyy"
"""Excel's code for a date shown jj/mm/aaaa (the same in every language of Excel)."""
TIME_FORMAT: Final = "hh:mm"
LISTS_SHEET: Final = "Listes"
EXPECTED: Final = "un classeur .xlsx ou .ods, ou un fichier .csv"
"""The files read, as a message's « attendu » says it."""


@dataclass(frozen=True, slots=True)
class Row:
    sheet: str | None
    """The sheet's name when the workbook has several data sheets, else None."""
    line: int
    cells: dict[str, Any]
    """Known column name -> the cell's value (None when empty)."""


@dataclass(frozen=True, slots=True)
class Side:
    """Sheets of another kind, read apart: their known columns, those known but not read, and
    the columns whose presence in a header makes a sheet one of them."""

    columns: Sequence[str]
    also: Sequence[str] = ()
    marker: Sequence[str] = ()


@dataclass
class Table:
    name: str
    columns: list[str] = field(default_factory=list)
    """The known columns the file has (in the order of its first data sheet)."""
    rows: list[Row] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    """Headers no known column has (read, then left aside)."""
    side: list[Row] = field(default_factory=list)
    """The rows of the side sheets (each with its sheet's name, even when it is alone)."""
    side_sheets: list[str] = field(default_factory=list)
    """The titles of the side sheets read (« » for a .csv)."""


def _refused(name: str, why: str) -> UsageError:
    return UsageError(f"fichier « {shortened(name)} » : {why}")


def read_table(
    name: str,
    data: bytes,
    columns: Sequence[str],
    *,
    also: Sequence[str] = (),
    side: Side | None = None,
) -> Table:
    """The rows of ``data`` (a file called ``name``); ``columns``: the known headers, ``also``:
    headers known but not read (an export's own columns); ``side``: sheets of another kind,
    read apart. UsageError when the file cannot be read at all (the message names it and says
    what is expected)."""
    if len(data) > MAX_BYTES:
        raise _refused(name, f"trop volumineux (attendu : au plus {MAX_BYTES // 1024 // 1024} Mo)")
    lowered = name.lower()
    kinds = _Kinds({_key(c): c for c in columns}, {_key(c) for c in also}, side)
    if lowered.endswith(".csv"):
        table = _read_csv(name, data, kinds)
    elif lowered.endswith((".xlsx", ".xlsm")):
        table = _read_xlsx(name, data, kinds)
    elif lowered.endswith(".ods"):
        table = _read_ods(name, data, kinds)
    elif lowered.endswith(".xls"):
        raise _refused(
            name,
            "format Excel 97 (.xls) non lu (attendu : un classeur .xlsx ou .ods, ou un fichier "
            ".csv ; dans le tableur, « Enregistrer sous » Classeur Excel .xlsx ou Classeur "
            "OpenDocument .ods)",
        )
    else:
        raise _refused(name, f"format inconnu (attendu : {EXPECTED})")
    count = len(table.rows) + len(table.side)
    if count > MAX_ROWS:
        raise _refused(name, f"trop de lignes : {count} (attendu : au plus {MAX_ROWS})")
    return table


def _key(header: str) -> str:
    return " ".join(header.replace("*", " ").split()).casefold()


@dataclass(frozen=True, slots=True)
class _Kinds:
    """The headers known: the main sheets' (``keys``, ``extra``), and the side sheets'."""

    keys: Mapping[str, str]
    extra: set[str]
    side: Side | None

    def side_headers(self, name: str, values: Sequence[Any]) -> list[str | None] | None:
        """Each position's side column, when ``values`` is a side sheet's header."""
        if self.side is None or not self.side.marker:
            return None
        written = {_key(str(v)) for v in values if v is not None}
        if not all(_key(m) in written for m in self.side.marker):
            return None
        keys = {_key(c): c for c in self.side.columns}
        return _headers(name, values, keys, {_key(c) for c in self.side.also}, Table(name))


def _headers(
    name: str, values: Sequence[Any], keys: Mapping[str, str], extra: set[str], table: Table
) -> list[str | None] | None:
    """Each position's known column (None: not read), or None when this is no data header."""
    found: list[str | None] = []
    unknown: list[str] = []
    for value in values:
        header = str(value).strip() if value is not None else ""
        column = keys.get(_key(header))
        if column is not None and column in found:
            raise _refused(name, f"colonne « {column} » écrite deux fois (attendu : une seule)")
        if column is None and header and _key(header) not in extra:
            unknown.append(header)
        found.append(column)
    if sum(1 for c in found if c is not None) < 2:
        return None
    table.ignored.extend(h for h in unknown if h not in table.ignored)
    return found


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _row(sheet: str | None, line: int, headers: Sequence[str | None], values: Sequence[Any]) -> Row:
    cells: dict[str, Any] = {}
    for column, value in zip(headers, values, strict=False):
        if column is not None:
            cells[column] = None if _empty(value) else value
    for column in headers[len(values) :]:
        if column is not None:
            cells[column] = None
    return Row(sheet, line, cells)


# --- .csv -----------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _separator(first_line: str) -> str:
    counts = {sep: 0 for sep in (";", ",", "\t")}
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ";"


def _read_csv(name: str, data: bytes, kinds: _Kinds) -> Table:
    text = _decode(data)
    table = Table(name)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(first))
    headers: list[str | None] | None = None
    side = False
    try:
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            if all(_empty(v) for v in values):
                continue
            if headers is None:
                headers = kinds.side_headers(name, values)
                side = headers is not None
                if side:
                    table.side_sheets.append("")
                else:
                    headers = _headers(name, values, kinds.keys, kinds.extra, table)
                if headers is None:
                    break
                if not side:
                    table.columns = [h for h in headers if h is not None]
                continue
            (table.side if side else table.rows).append(_row(None, line, headers, values))
            if len(table.rows) + len(table.side) > MAX_ROWS:
                break
    except csv.Error as exc:
        raise _refused(name, f"ligne {reader.line_num} illisible ({exc})") from None
    if headers is None:
        raise _refused(name, _no_header(kinds.keys))
    return table


def _no_header(keys: Mapping[str, str]) -> str:
    names = ", ".join(f"« {c} »" for c in list(keys.values())[:4])
    return (
        "aucune ligne d'en-tête reconnue (attendu : en première ligne les noms des colonnes, "
        f"ex. {names}… ; voir le modèle : syncsvc import --template)"
    )


# --- .xlsx -----------------------------------------------------------------------------------


SheetRows = tuple[str, Iterable[tuple[int, Sequence[Any]]]]
"""A visible sheet's name and its rows (line number, values), in order."""


def _read_xlsx(name: str, data: bytes, kinds: _Kinds) -> Table:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise _refused(
            name, f"illisible : ce n'est pas un classeur .xlsx valide (attendu : {EXPECTED})"
        ) from None
    try:
        return _read_sheets(
            name,
            (
                (sheet.title, enumerate(sheet.iter_rows(values_only=True), start=1))
                for sheet in book.worksheets
                if getattr(sheet, "sheet_state", "") != "hidden"
            ),
            kinds,
        )
    finally:
        book.close()


def _read_ods(name: str, data: bytes, kinds: _Kinds) -> Table:
    try:
        sheets = read_ods(data, max_lines=MAX_LINES, max_rows=MAX_ROWS)
    except OdsError as exc:
        raise _refused(name, f"illisible : {exc} (attendu : {EXPECTED})") from None
    return _read_sheets(name, ((s.title, s.rows) for s in sheets if not s.hidden), kinds)


def _read_sheets(name: str, book: Iterable[SheetRows], kinds: _Kinds) -> Table:
    """The rows of every data sheet of ``book`` (the same for a .xlsx and a .ods)."""
    table = Table(name)
    sheets: list[tuple[str, list[str | None], list[tuple[int, Sequence[Any]]]]] = []
    for title, lines in book:
        if title == LISTS_SHEET:
            continue
        headers: list[str | None] | None = None
        side = False
        rows: list[tuple[int, Sequence[Any]]] = []
        for line, values in lines:
            if line > MAX_LINES:  # formatted empty rows by the million: not sessions
                break
            if all(_empty(v) for v in values):
                continue
            if headers is None:
                headers = kinds.side_headers(name, values)
                side = headers is not None
                if not side:
                    headers = _headers(name, values, kinds.keys, kinds.extra, table)
                if headers is None:
                    break
                continue
            rows.append((line, values))
            if len(rows) > MAX_ROWS:
                break
        if headers is not None and side:
            table.side_sheets.append(title)
            table.side.extend(_row(title, line, headers, values) for line, values in rows)
        elif headers is not None:
            sheets.append((title, headers, rows))
    if not sheets and not table.side_sheets:
        raise _refused(name, _no_header(kinds.keys))
    if not sheets:
        return table
    table.columns = [h for h in sheets[0][1] if h is not None]
    for title, headers, rows in sheets:
        for column in headers:
            if column is not None and column not in table.columns:
                table.columns.append(column)
        shown = title if len(sheets) + len(table.side_sheets) > 1 else None
        table.rows.extend(_row(shown, line, headers, values) for line, values in rows)
    return table


# --- writing ---------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One sheet to write: a header row, then rows of plain values."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]] = ()
    widths: Mapping[str, int] = field(default_factory=dict)
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Header -> the values its drop-down list offers (rows 2 to 1000)."""
    wrap: Sequence[str] = ()
    """Headers whose cells wrap their text (several lines)."""
    muted_rows: Sequence[int] = ()
    """Indexes of rows shown in grey italics (the template's example)."""
    notes: Sequence[str] = ()
    """Lines written above the header (the explanations' introduction)."""


_HEADER_FILL: Final = PatternFill("solid", fgColor="DDE7F0")


def _title(title: str, taken: set[str]) -> str:
    clean = "".join("-" if c in "[]:*?/\\" else c for c in title).strip("' ") or "Feuille"
    clean = clean[:31]
    candidate, counter = clean, 1
    while candidate.casefold() in taken:
        counter += 1
        suffix = f" ({counter})"
        candidate = clean[: 31 - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def write_workbook(sheets: Sequence[Sheet]) -> bytes:
    """A ``.xlsx`` holding ``sheets`` (in order), as bytes."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    lists: list[tuple[str, Sequence[str]]] = []
    for spec in sheets:
        sheet = book.create_sheet(_title(spec.title, taken))
        top = len(spec.notes) + 1 if spec.notes else 1
        for index, note in enumerate(spec.notes, start=1):
            sheet.cell(row=index, column=1, value=note)
        if spec.notes:
            sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
        for col, header in enumerate(spec.headers, start=1):
            cell = sheet.cell(row=top, column=col, value=header)
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            letter = get_column_letter(col)
            sheet.column_dimensions[letter].width = spec.widths.get(header, 16)
        muted = set(spec.muted_rows)
        for index, values in enumerate(spec.rows):
            line = top + 1 + index
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(row=line, column=col, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # a text, never a formula (« =HYPERLINK(…) » in a lieu)
                if isinstance(value, datetime):
                    cell.number_format = f"{DATE_FORMAT} hh:mm"
                elif isinstance(value, date):
                    cell.number_format = DATE_FORMAT
                elif isinstance(value, time):
                    cell.number_format = TIME_FORMAT
                header = spec.headers[col - 1] if col <= len(spec.headers) else ""
                if header in spec.wrap:
                    cell.alignment = Alignment(vertical="top", wrap_text=True)
                else:
                    cell.alignment = Alignment(vertical="top")
                if index in muted:
                    cell.font = Font(italic=True, color="777777")
        sheet.freeze_panes = sheet.cell(row=top + 1, column=1)
        for header, values in spec.choices.items():
            if header in spec.headers:
                lists.append((header, values))
                col = get_column_letter(list(spec.headers).index(header) + 1)
                source = get_column_letter(len(lists))
                check = DataValidation(
                    type="list",
                    formula1=f"'{LISTS_SHEET}'!${source}$2:${source}${len(values) + 1}",
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=header,
                    error=f"Choisir une valeur de la liste « {header} ».",
                )
                check.add(f"{col}{top + 1}:{col}{top + 1000}")
                sheet.add_data_validation(check)
    if lists:
        sheet = book.create_sheet(_title(LISTS_SHEET, taken))
        for col, (header, values) in enumerate(lists, start=1):
            sheet.cell(row=1, column=col, value=header).font = Font(bold=True)
            for row, value in enumerate(values, start=2):
                sheet.cell(row=row, column=col, value=value)
        sheet.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_ods_book(sheets: Sequence[Sheet]) -> bytes:
    """A ``.ods`` holding ``sheets`` (in order), as bytes: the same layout as the ``.xlsx``."""
    taken: set[str] = set()
    return write_ods(
        [
            OdsLayout(
                _title(spec.title, taken),
                spec.headers,
                spec.rows,
                spec.widths,
                spec.choices,
                spec.wrap,
                spec.muted_rows,
                spec.notes,
            )
            for spec in sheets
        ]
    )


def write_book(sheets: Sequence[Sheet], kind: str) -> bytes:
    """``sheets`` as a ``kind`` (« xlsx » or « ods ») spreadsheet."""
    return write_ods_book(sheets) if kind == "ods" else write_workbook(sheets)
