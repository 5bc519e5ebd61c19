"""OpenDocument spreadsheets (``.ods``, LibreOffice's own format), read and written with the
standard library's ``zipfile`` and ``lxml``.

Reading walks ``content.xml`` once (``iterparse``, each row dropped once read) and gives, for
every sheet, its name, whether it is hidden, and its non-empty rows with their line number.
Cells repeated by ``table:number-columns-repeated`` / ``table:number-rows-repeated`` are
expanded only when they hold something: LibreOffice writes the million empty rows of a sheet
as one repeated row, which only moves the line number. A cell's value has the type the
spreadsheet gives it: a date (``office:date-value``) as a ``datetime``, a time as a ``time``, a
number as an ``int`` or a ``float``, a boolean as a ``bool``, a text with its lines (several
``text:p`` or ``text:line-break``) joined by a line feed.

Writing lays out what the ``.xlsx`` writer does: header in bold on a coloured background and
frozen, column widths, dates shown ``jj/mm/aaaa``, times ``HH:MM``, drop-down lists (the
values written in the validation itself), cells that wrap. A text stays a text.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, Any, Final
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

MIMETYPE: Final = "application/vnd.oasis.opendocument.spreadsheet"
MAX_XML_BYTES: Final = 200 * 1024 * 1024
"""``content.xml`` read at most this far (a small zip may unpack to a huge file)."""
MAX_COLUMNS: Final = 1024
"""Cells of a row looked at (LibreOffice fills a row to 16 384 columns with empty ones)."""

_NS: Final = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "number": "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
    "of": "urn:oasis:names:tc:opendocument:xmlns:of:1.2",
    "config": "urn:oasis:names:tc:opendocument:xmlns:config:1.0",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


_TABLE = _q("table", "table")
_ROW = _q("table", "table-row")
_CELL = _q("table", "table-cell")
_COVERED = _q("table", "covered-table-cell")
_STYLE = _q("style", "style")
_TABLE_PROPERTIES = _q("style", "table-properties")
_SPREADSHEET = _q("office", "spreadsheet")
_P = _q("text", "p")
_H = _q("text", "h")
_SPACE = _q("text", "s")
_TAB = _q("text", "tab")
_BREAK = _q("text", "line-break")
_NOTE = _q("office", "annotation")


class OdsError(Exception):
    """The file is no readable OpenDocument spreadsheet; the message says why (French)."""


@dataclass
class OdsSheet:
    title: str
    hidden: bool = False
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    """The non-empty rows: (line number from 1, the values of its cells, None when empty)."""


# --- reading ---------------------------------------------------------------------------------


class _Limited(io.RawIOBase):
    """A stream that refuses to give more than ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._stream.read(min(len(buffer), self._left + 1))
        if len(chunk) > self._left:
            raise OdsError(f"contenu trop volumineux une fois décompressé (plus de {_mb()} Mo)")
        self._left -= len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _mb() -> int:
    return MAX_XML_BYTES // 1024 // 1024


def _int(value: str | None, default: int = 1) -> int:
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        return default


_DURATION = re.compile(r"-?P(?:(\d+)D)?T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?")


def _time(written: str) -> time | None:
    found = _DURATION.fullmatch(written.strip())
    if found is None:
        return None
    hours = int(found[1] or 0) * 24 + int(found[2] or 0)
    seconds = round(float(found[4] or 0))
    minutes = int(found[3] or 0) + seconds // 60
    hours += minutes // 60
    if hours > 23:
        return None
    return time(hours, minutes % 60, seconds % 60)


def _date(written: str) -> datetime | None:
    text = written.strip()
    if "." in text:  # fractions of a second, any number of digits
        text = text.split(".", 1)[0]
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found.replace(tzinfo=None)


def _number(written: str | None) -> int | float | None:
    if written is None:
        return None
    try:
        found = float(written)
    except ValueError:
        return None
    return int(found) if found.is_integer() and abs(found) < 2**53 else found


def _text_of(element: Any, out: list[str]) -> None:
    """The text of a paragraph's content, ODF spaces rules applied (runs of spaces count
    once; ``text:s``, ``text:tab``, ``text:line-break`` are what they say)."""
    if element.text:
        out.append(re.sub(r"[ \t\r\n]+", " ", element.text))
    for child in element:
        tag = child.tag
        if tag == _SPACE:
            out.append(" " * _int(child.get(_q("text", "c"))))
        elif tag == _TAB:
            out.append("\t")
        elif tag == _BREAK:
            out.append("\n")
        elif tag != _NOTE:
            _text_of(child, out)
        if child.tail:
            out.append(re.sub(r"[ \t\r\n]+", " ", child.tail))


def _paragraphs(cell: Any) -> str | None:
    lines: list[str] = []
    for child in cell:
        if child.tag in (_P, _H):
            parts: list[str] = []
            _text_of(child, parts)
            lines.append("".join(parts))
    return "\n".join(lines) if lines else None


def _value(cell: Any) -> Any:
    kind = cell.get(_q("office", "value-type"))
    if kind in ("float", "percentage", "currency"):
        found = _number(cell.get(_q("office", "value")))
        return found if found is not None else _paragraphs(cell)
    if kind == "date":
        written = cell.get(_q("office", "date-value")) or ""
        return _date(written) or _paragraphs(cell)
    if kind == "time":
        written = cell.get(_q("office", "time-value")) or ""
        return _time(written) or _paragraphs(cell)
    if kind == "boolean":
        written = (cell.get(_q("office", "boolean-value")) or "").strip().lower()
        return written == "true" if written in ("true", "false") else _paragraphs(cell)
    written = cell.get(_q("office", "string-value"))
    return written if written is not None else _paragraphs(cell)


def _row_values(row: Any) -> list[Any]:
    """The row's cells up to its last non-empty one (empty repeated cells never expanded)."""
    values: list[Any] = []
    pending = 0  # empty cells not yet written: written only when a value follows them
    for cell in row:
        if cell.tag not in (_CELL, _COVERED):
            continue
        repeat = _int(cell.get(_q("table", "number-columns-repeated")))
        value = _value(cell) if cell.tag == _CELL else None
        if value is None or (isinstance(value, str) and not value):
            pending += repeat
            if len(values) + pending >= MAX_COLUMNS:
                break
            continue
        if len(values) + pending >= MAX_COLUMNS:
            break
        values.extend([None] * pending)
        pending = 0
        values.extend([value] * min(repeat, MAX_COLUMNS - len(values)))
    return values


def _clear(element: Any) -> None:
    element.clear(keep_tail=False)
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def read_ods(data: bytes, *, max_lines: int, max_rows: int) -> list[OdsSheet]:
    """Every sheet of the ``.ods`` ``data``: at most ``max_lines`` lines and ``max_rows``
    non-empty rows of each. OdsError when it is no readable OpenDocument spreadsheet."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise OdsError(
            "ce n'est pas un classeur .ods valide (pas une archive OpenDocument)"
        ) from None
    try:
        with archive:
            return _read(archive, max_lines, max_rows)
    except etree.XMLSyntaxError as exc:
        raise OdsError(
            f"ce n'est pas un classeur .ods valide (content.xml illisible à la ligne {exc.lineno})"
        ) from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError):
        raise OdsError("ce n'est pas un classeur .ods valide (archive abîmée)") from None


def _read(archive: zipfile.ZipFile, max_lines: int, max_rows: int) -> list[OdsSheet]:
    names = set(archive.namelist())
    if "mimetype" in names:
        with archive.open("mimetype") as stream:
            mimetype = stream.read(200).decode("ascii", "replace").strip()
        if mimetype != MIMETYPE:
            raise OdsError(
                f"ce n'est pas un classeur .ods valide (document « {mimetype[:60]} », "
                "pas un classeur)"
            )
    if "content.xml" not in names:
        raise OdsError("ce n'est pas un classeur .ods valide (contenu content.xml absent)")
    if _encrypted(archive):
        raise OdsError("classeur protégé par un mot de passe (l'enregistrer sans mot de passe)")
    with archive.open("content.xml") as stream:
        return _sheets(_Limited(stream, MAX_XML_BYTES), max_lines, max_rows)


def _encrypted(archive: zipfile.ZipFile) -> bool:
    if "META-INF/manifest.xml" not in archive.namelist():
        return False
    with archive.open("META-INF/manifest.xml") as stream:
        return b"encryption-data" in stream.read(1024 * 1024)


def _sheets(stream: Any, max_lines: int, max_rows: int) -> list[OdsSheet]:
    hidden_styles: set[str] = set()
    sheets: list[OdsSheet] = []
    depth = 0  # tables inside tables (a cell's subtable) are not sheets
    line = 0
    spreadsheet = False
    parser = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    for event, element in parser:
        tag = element.tag
        if event == "start":
            if tag == _SPREADSHEET:
                spreadsheet = True
            elif tag == _TABLE:
                depth += 1
                if depth == 1:
                    style = element.get(_q("table", "style-name"))
                    sheets.append(
                        OdsSheet(element.get(_q("table", "name")) or "", style in hidden_styles)
                    )
                    line = 0
            continue
        if tag == _TABLE_PROPERTIES:
            if element.get(_q("table", "display")) == "false":
                parent = element.getparent()
                if parent is not None and parent.get(_q("style", "name")):
                    hidden_styles.add(parent.get(_q("style", "name")))
        elif tag == _ROW and depth == 1:
            sheet = sheets[-1]
            repeat = _int(element.get(_q("table", "number-rows-repeated")))
            if line < max_lines and len(sheet.rows) <= max_rows:
                values = _row_values(element)
                if values:
                    for offset in range(min(repeat, max_lines - line, max_rows + 1)):
                        sheet.rows.append((line + 1 + offset, values))
            line += repeat
            _clear(element)
        elif tag == _TABLE:
            depth -= 1
            if depth == 0:
                _clear(element)
    if not spreadsheet:
        raise OdsError("ce n'est pas un classeur .ods valide (document sans feuille de calcul)")
    return sheets


# --- writing ---------------------------------------------------------------------------------

_HEADER_FILL: Final = "#dde7f0"
_MUTED: Final = "#777777"


def _text_paragraphs(value: str) -> str:
    """``value`` as ``text:p`` elements, one per line, its spaces and tabs kept."""
    out: list[str] = []
    for line in value.split("\n"):
        parts: list[str] = []
        for piece in re.split(r"( {2,}|\t|^ )", line):
            if not piece:
                continue
            if piece == "\t":
                parts.append("<text:tab/>")
            elif piece.strip(" ") == "" and (len(piece) > 1 or not parts):
                first = " " if parts else ""
                rest = len(piece) - len(first)
                parts.append(escape(first) + (f'<text:s text:c="{rest}"/>' if rest else ""))
            else:
                parts.append(escape(piece))
        out.append(f"<text:p>{''.join(parts)}</text:p>")
    return "".join(out)


def _clean_text(value: str) -> str:
    """No character XML cannot hold (the other control characters are the reader's business)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", value)


@dataclass(frozen=True, slots=True)
class OdsLayout:
    """One sheet to write, its title already made valid."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    widths: Mapping[str, int]
    choices: Mapping[str, Sequence[str]]
    wrap: Sequence[str]
    muted_rows: Sequence[int]
    notes: Sequence[str]


_STYLES_XML: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-styles xmlns:office="{office}" xmlns:style="{style}" xmlns:fo="{fo}" '
    'office:version="1.3"><office:styles>'
    '<style:default-style style:family="table-cell">'
    '<style:text-properties fo:font-size="10pt"/></style:default-style>'
    '<style:style style:name="Default" style:family="table-cell"/>'
    "</office:styles></office:document-styles>"
).format(**_NS)

_MANIFEST_XML: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<manifest:manifest xmlns:manifest="{_NS["manifest"]}" manifest:version="1.3">'
    f'<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
    f'manifest:media-type="{MIMETYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _automatic_styles(sheets: Sequence[OdsLayout]) -> tuple[str, dict[int, str]]:
    """The data styles, cell styles and one column style per width used. No
    ``style:vertical-align``: LibreOffice 7.4 opens a file with it but crashes saving it again."""
    widths = sorted({w for s in sheets for w in (*s.widths.values(), 16)})
    columns = {width: f"co{index}" for index, width in enumerate(widths, start=1)}
    parts = [
        '<number:date-style style:name="N1">'
        '<number:day number:style="long"/><number:text>/</number:text>'
        '<number:month number:style="long"/><number:text>/</number:text>'
        '<number:year number:style="long"/></number:date-style>',
        '<number:time-style style:name="N2">'
        '<number:hours number:style="long"/><number:text>:</number:text>'
        '<number:minutes number:style="long"/></number:time-style>',
        '<number:date-style style:name="N3">'
        '<number:day number:style="long"/><number:text>/</number:text>'
        '<number:month number:style="long"/><number:text>/</number:text>'
        '<number:year number:style="long"/><number:text> </number:text>'
        '<number:hours number:style="long"/><number:text>:</number:text>'
        '<number:minutes number:style="long"/></number:date-style>',
        '<style:style style:name="ta1" style:family="table" style:master-page-name="Default">'
        '<style:table-properties table:display="true"/></style:style>',
        '<style:style style:name="ro1" style:family="table-row">'
        '<style:table-row-properties style:use-optimal-row-height="true"/></style:style>',
    ]
    for width, name in columns.items():
        parts.append(
            f'<style:style style:name="{name}" style:family="table-column">'
            f'<style:table-column-properties fo:break-before="auto" '
            f'style:column-width="{width * 0.19:.3f}cm"/></style:style>'
        )
    for name, bold, wrap, muted, data in _CELL_STYLES:
        text_properties = ""
        if bold or muted:
            text_properties = "<style:text-properties"
            if bold:
                text_properties += ' fo:font-weight="bold"'
                if name == "notes":
                    text_properties += ' fo:font-size="13pt"'
            if muted:
                text_properties += f' fo:font-style="italic" fo:color="{_MUTED}"'
            text_properties += "/>"
        fill = f' fo:background-color="{_HEADER_FILL}"' if name == "head" else ""
        wrapped = ' fo:wrap-option="wrap"' if wrap else ""
        data_style = f' style:data-style-name="{data}"' if data else ""
        parts.append(
            f'<style:style style:name="{name}" style:family="table-cell" '
            f'style:parent-style-name="Default"{data_style}>'
            f"<style:table-cell-properties{wrapped}{fill}/>"
            f"{text_properties}</style:style>"
        )
    return "".join(parts), columns


_CELL_STYLES: Final = [
    (f"c{'w' if wrap else ''}{'m' if muted else ''}{kind}", False, wrap, muted, data)
    for wrap in (False, True)
    for muted in (False, True)
    for kind, data in (("", ""), ("d", "N1"), ("t", "N2"), ("dt", "N3"))
] + [("head", True, True, False, ""), ("notes", True, False, False, "")]


def _cell_style(value: Any, wrap: bool, muted: bool) -> str:
    kind = ""
    if isinstance(value, datetime):
        kind = "dt"
    elif isinstance(value, date):
        kind = "d"
    elif isinstance(value, time):
        kind = "t"
    return f"c{'w' if wrap else ''}{'m' if muted else ''}{kind}"


def _cell(value: Any, style: str, validation: str | None) -> str:
    attributes = f' table:style-name="{style}"'
    if validation:
        attributes += f' table:content-validation-name="{validation}"'
    if value is None:
        return f"<table:table-cell{attributes}/>"
    if isinstance(value, bool):
        shown = "VRAI" if value else "FAUX"
        return (
            f'<table:table-cell{attributes} office:value-type="boolean" '
            f'office:boolean-value="{"true" if value else "false"}"><text:p>{shown}</text:p>'
            "</table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell{attributes} office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if isinstance(value, datetime):
        return (
            f'<table:table-cell{attributes} office:value-type="date" '
            f'office:date-value="{value.replace(tzinfo=None).isoformat(timespec="seconds")}">'
            f"<text:p>{value:%d/%m/%Y %H:%M}</text:p></table:table-cell>"
        )
    if isinstance(value, date):
        return (
            f'<table:table-cell{attributes} office:value-type="date" '
            f'office:date-value="{value.isoformat()}"><text:p>{value:%d/%m/%Y}</text:p>'
            "</table:table-cell>"
        )
    if isinstance(value, time):
        return (
            f'<table:table-cell{attributes} office:value-type="time" '
            f'office:time-value="PT{value.hour:02d}H{value.minute:02d}M{value.second:02d}S">'
            f"<text:p>{value:%H:%M}</text:p></table:table-cell>"
        )
    written = _clean_text(str(value))
    return (
        f'<table:table-cell{attributes} office:value-type="string">'
        f"{_text_paragraphs(written)}</table:table-cell>"
    )


def _list_condition(values: Sequence[str]) -> str:
    listed = ";".join('"' + _clean_text(v).replace('"', '""') + '"' for v in values)
    return f"of:cell-content-is-in-list({listed})"


_LIST_ROWS: Final = 1000
"""Rows under the header offered a drop-down list (as the .xlsx)."""


def _sheet_xml(index: int, sheet: OdsLayout, columns: Mapping[int, str]) -> tuple[str, str]:
    """The sheet's ``table:table`` and its validations."""
    validations: dict[int, str] = {}
    validation_xml: list[str] = []
    for header, values in sheet.choices.items():
        if header not in sheet.headers:
            continue
        col = list(sheet.headers).index(header)
        name = f"val{index}_{col + 1}"
        validations[col] = name
        validation_xml.append(
            f'<table:content-validation table:name="{name}" '
            f"table:condition={quoteattr(_list_condition(values))} "
            'table:allow-empty-cell="true" table:display-list="unsorted">'
            f'<table:error-message table:display="true" table:message-type="stop" '
            f"table:title={quoteattr(header)}>"
            f"<text:p>{escape(f'Choisir une valeur de la liste « {header} ».')}</text:p>"
            "</table:error-message></table:content-validation>"
        )
    parts = [f'<table:table table:name={quoteattr(sheet.title)} table:style-name="ta1">']
    for header in sheet.headers:
        width = sheet.widths.get(header, 16)
        parts.append(
            f'<table:table-column table:style-name="{columns[width]}" '
            'table:default-cell-style-name="Default"/>'
        )
    if sheet.notes:
        for number, note in enumerate(sheet.notes):
            style = "notes" if number == 0 else "c"
            cell = _cell(note or None, style, None)
            parts.append(f'<table:table-row table:style-name="ro1">{cell}</table:table-row>')
    parts.append('<table:table-row table:style-name="ro1">')
    parts.extend(_cell(h, "head", None) for h in sheet.headers)
    parts.append("</table:table-row>")
    wrap = set(sheet.wrap)
    muted = set(sheet.muted_rows)
    for number, values in enumerate(sheet.rows):
        parts.append('<table:table-row table:style-name="ro1">')
        for col, value in enumerate(values):
            header = sheet.headers[col] if col < len(sheet.headers) else ""
            style = _cell_style(value, header in wrap, number in muted)
            parts.append(_cell(value, style, validations.get(col)))
        parts.append("</table:table-row>")
    left = _LIST_ROWS - len(sheet.rows)
    if validations and left > 0:
        parts.append(
            f'<table:table-row table:style-name="ro1" table:number-rows-repeated="{left}">'
        )
        for col in range(max(validations) + 1):
            parts.append(_cell(None, "c", validations.get(col)))
        parts.append("</table:table-row>")
    parts.append("</table:table>")
    return "".join(parts), "".join(validation_xml)


def _settings_xml(sheets: Sequence[OdsLayout]) -> str:
    """Each sheet's header row frozen (LibreOffice's view settings)."""
    tables = []
    for sheet in sheets:
        top = len(sheet.notes) + 1 if sheet.notes else 1
        tables.append(
            f"<config:config-item-map-entry config:name={quoteattr(sheet.title)}>"
            '<config:config-item config:name="HorizontalSplitMode" config:type="short">0'
            "</config:config-item>"
            '<config:config-item config:name="VerticalSplitMode" config:type="short">2'
            "</config:config-item>"
            '<config:config-item config:name="VerticalSplitPosition" config:type="int">'
            f"{top}</config:config-item>"
            '<config:config-item config:name="ActiveSplitRange" config:type="short">2'
            "</config:config-item>"
            '<config:config-item config:name="PositionBottom" config:type="int">'
            f"{top}</config:config-item>"
            "</config:config-item-map-entry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-settings xmlns:office="{_NS["office"]}" '
        f'xmlns:config="{_NS["config"]}" office:version="1.3"><office:settings>'
        '<config:config-item-set config:name="ooo:view-settings">'
        '<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>'
        '<config:config-item config:name="ViewId" config:type="string">view1</config:config-item>'
        f'<config:config-item-map-named config:name="Tables">{"".join(tables)}'
        "</config:config-item-map-named></config:config-item-map-entry>"
        "</config:config-item-map-indexed></config:config-item-set>"
        "</office:settings></office:document-settings>"
    )


def write_ods(sheets: Sequence[OdsLayout]) -> bytes:
    """A ``.ods`` holding ``sheets`` (in order), as bytes."""
    styles, columns = _automatic_styles(sheets)
    tables: list[str] = []
    validations: list[str] = []
    for index, sheet in enumerate(sheets, start=1):
        table, checks = _sheet_xml(index, sheet, columns)
        tables.append(table)
        validations.append(checks)
    namespaces = " ".join(
        f'xmlns:{prefix}="{uri}"' for prefix, uri in _NS.items() if prefix != "manifest"
    )
    checks = "".join(validations)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content {namespaces} office:version="1.3">'
        f"<office:automatic-styles>{styles}</office:automatic-styles>"
        "<office:body><office:spreadsheet>"
        + (f"<table:content-validations>{checks}</table:content-validations>" if checks else "")
        + "".join(tables)
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype", (1980, 1, 1, 0, 0, 0)), MIMETYPE, zipfile.ZIP_STORED
        )
        for name, text in (
            ("content.xml", content),
            ("styles.xml", _STYLES_XML),
            ("settings.xml", _settings_xml(sheets)),
            ("META-INF/manifest.xml", _MANIFEST_XML),
        ):
            archive.writestr(
                zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)),
                text.encode("utf-8"),
                zipfile.ZIP_DEFLATED,
            )
    return out.getvalue()
