"""Done marks through the « Tableur » page: the export's « Échéances » sheet, a date typed in
« Fait le », the preview lists the mark, « Confirmer l'import » writes it as the dashboard would
(who: the login), what the preview did not show is not written, and the roles hold."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from syncsvc.inputs.ods import read_ods
from syncsvc.inputs.spreadsheets import Sheet, write_book
from tests.web.conftest import SECRET, SECRET_ENV, USER, Served, csrf_of, serve
from tests.web.test_import_page import ODS, _confirm, _preview
from tests.web.test_roles import limited

SA = "sa-2027-03-st-andre"
TEE = "tee-2027-04-strasbourg"
SHEET = "Échéances"


def _typed_xlsx(
    data: bytes, cells: dict[tuple[str, str], object]
) -> tuple[bytes, dict[tuple[str, str], int]]:
    book = load_workbook(io.BytesIO(data))
    sheet = book[SHEET]
    header = [c.value for c in sheet[1]]
    lines = {}
    for row in sheet.iter_rows(min_row=2):
        key = (row[0].value, row[header.index("Jalon")].value)
        if key in cells:
            row[header.index("Fait le")].value = cells[key]
            lines[key] = row[0].row
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), lines


def _text(page: str) -> str:
    """The page's text, without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _export(client: httpx.Client, kind: str = "xlsx") -> bytes:
    response = client.get(f"/export.{kind}")
    assert response.status_code == 200
    return response.content


def test_a_mark_typed_in_the_export_is_previewed_then_confirmed(served: Served) -> None:
    with served.logged_in() as client:
        exported = _export(client)
        assert load_workbook(io.BytesIO(exported)).sheetnames[-1] == SHEET  # opens in openpyxl
        data, lines = _typed_xlsx(exported, {(SA, "dte_order"): "03/02/2027"})
        preview = _preview(client, data, "marques.xlsx")
        assert preview.status_code == 200, preview.text
        page = _text(preview.text)
        line = lines[(SA, "dte_order")]
        assert (
            f"feuille « Échéances », ligne {line} : {SA}, Commander le pli d'examen (DTE) → "
            "fait le 03/02/2027"
        ) in page
        assert "Confirmer l'import de 0 session(s) et 1 marque(s)" in page
        assert served.store.done_mark_details() == {}
        done = _confirm(client, preview.text)
        assert done.status_code == 200, done.text
        assert "Enregistré : 0 session(s) créée(s), 0 modifiée(s), 1 échéance(s) marquée(s)." in (
            html.unescape(done.text)
        )
        mark = served.store.done_mark_details()[(SA, "dte_order")]
        assert (mark.done_on, mark.by) == (date(2027, 2, 3), USER)
        assert mark.note == f"import de « marques.xlsx », feuille « Échéances », ligne {line}"
        assert served.marked  # the running service hears of it, as from the dashboard
        # the session page shows it, and the export again imports back without a change
        assert "Fait le 03/02/2027" in html.unescape(client.get(f"/sessions/{SA}").text)
        again = _preview(client, _export(client), "sessions.xlsx")
        assert "Aucun changement : rien à importer." in html.unescape(again.text)


def test_an_ods_export_marked_and_a_mark_removed(served: Served) -> None:
    served.store.mark_done(SA, "dte_order", date(2027, 1, 5), "Nathalie Técher", None, _at())
    with served.logged_in() as client:
        sheets = read_ods(_export(client, "ods"), max_lines=500, max_rows=500)
        titles = [s.title for s in sheets]
        assert titles[-1] == SHEET
        rebuilt = []
        for sheet in sheets:
            header = [str(v) for v in sheet.rows[0][1]]
            rows = [list(values) for _, values in sheet.rows[1:]]
            for row in rows:
                if sheet.title == SHEET and (row[0], row[-1]) == (SA, "dte_order"):
                    assert row[header.index("Fait par")] == "Nathalie Técher"
                    row[header.index("Fait le")] = "-"
            rebuilt.append(Sheet(sheet.title, header, rows))
        form = client.get("/import")
        preview = client.post(
            "/import/preview",
            data={"csrf": csrf_of(form.text)},
            files={"fichier": ("marques.ods", write_book(rebuilt, "ods"), ODS)},
        )
        page = html.unescape(preview.text)
        assert "fait le 05/01/2027 → pas fait (marque retirée)" in page
        done = _confirm(client, preview.text)
    assert "1 marque(s) retirée(s)" in html.unescape(done.text)
    assert served.store.done_mark_details() == {}


def test_a_mark_changed_after_the_preview_is_not_overwritten(served: Served) -> None:
    with served.logged_in() as client:
        data, _ = _typed_xlsx(_export(client), {(SA, "dte_order"): "03/02/2027"})
        preview = _preview(client, data, "marques.xlsx")
        served.store.mark_done(SA, "dte_order", date(2027, 2, 1), "Sandrine", None, _at())
        done = _confirm(client, preview.text)
    page = html.unescape(done.text)
    assert "a changé depuis l'aperçu" in page
    mark = served.store.done_mark_details()[(SA, "dte_order")]
    assert (mark.done_on, mark.by) == (date(2027, 2, 1), "Sandrine")


def test_a_coordinator_marks_only_the_milestones_of_its_centres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, limited) as served, served.logged_in() as client:
        data, lines = _typed_xlsx(
            _export(client),
            {(SA, "dte_order"): "03/02/2027", (TEE, "dte_order"): "03/02/2027"},
        )
        preview = _preview(client, data, "marques.xlsx")
        page = html.unescape(preview.text)
        assert (
            f"feuille « Échéances », ligne {lines[(SA, 'dte_order')]}, colonne « Centre » : vous "
            "ne pouvez pas modifier les sessions du centre « afpar-st-andre »"
        ) in page
        done = _confirm(client, preview.text)
        assert "1 échéance(s) marquée(s)" in html.unescape(done.text)
        assert list(served.store.done_mark_details()) == [(TEE, "dte_order")]


def _at() -> datetime:
    return datetime(2027, 1, 5, 9, tzinfo=UTC)
