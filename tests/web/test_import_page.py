"""The « Tableur » page over HTTP: upload (CSRF) -> preview -> confirm writes the files and the
audit; the template and the export downloads."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
from datetime import date
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from syncsvc.inputs.loader import load_config
from syncsvc.inputs.ods import read_ods
from syncsvc.inputs.settings import Settings
from tests.web.conftest import SECRET, SECRET_ENV, USER, Served, csrf_of, serve, web_settings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "Identifiant",
    "Code titre",
    "Nature",
    "Centre",
    "Début",
    "Fin",
    "Heure de début",
    "Candidats formation",
    "Responsable de session (courriel)",
    "Coordination (courriels)",
    "Jury (courriels)",
]


def _programme() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(
        [
            None,
            "TP-00374",
            "titre",
            "afpar-st-andre",
            date(2027, 9, 13),
            date(2027, 9, 17),
            "08:30",
            9,
            "jl.hoarau@afpar.example",
            "n.techer@afpar.example",
            "c.maillot@jury.example",
        ]
    )
    sheet.append(
        [
            None,
            "TP-00374",
            "titre",
            "afpar-nulle-part",
            "31/02/2027",
            "04/03/2027",
            "08:30",
            9,
            "jl.hoarau@afpar",
            "n.techer@afpar.example",
            "c.maillot@jury.example",
        ]
    )
    sheet.append(["sa-2027-03-st-andre", None, None, None, None, date(2027, 3, 20)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, name
    return html.unescape(found.group(1))


def _preview(client: httpx.Client, data: bytes, name: str = "programme.xlsx") -> httpx.Response:
    form = client.get("/import")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    return client.post(
        "/import/preview",
        data={"csrf": csrf_of(form.text)},
        files={"fichier": (name, data, XLSX)},
    )


def _confirm(client: httpx.Client, preview: str) -> httpx.Response:
    fields = {
        n: (None, _hidden(preview, n).encode())
        for n in ("csrf", "nom", "donnees", "versions", "marques")
    }
    return client.post("/import/apply", files=fields)


def test_upload_preview_then_confirm(served: Served) -> None:
    sessions = served.config / "sessions"
    before = {p.name: p.read_bytes() for p in sessions.iterdir()}
    with served.logged_in() as client:
        preview = _preview(client, _programme())
        assert preview.status_code == 200, preview.text
        page = html.unescape(preview.text)
        assert "Aperçu de l'import de « programme.xlsx »" in page
        assert (
            "ligne 3, colonne « Début » : date « 31/02/2027 » invalide : ce jour n'existe pas"
            in page
        )
        assert "ligne 3, colonne « Centre » : centre « afpar-nulle-part » inconnu" in page
        assert "ligne 3, colonne « Responsable de session (courriel) » : adresse" in page
        assert "sa-2027-09-st-andre" in page
        assert '<th scope="row">Fin</th><td>19/03/2027</td><td>20/03/2027</td>' in page
        assert "Confirmer l'import de 2 session(s)" in page
        assert {p.name: p.read_bytes() for p in sessions.iterdir()} == before  # nothing yet
        done = _confirm(client, preview.text)
    assert done.status_code == 200, done.text
    page = html.unescape(done.text)
    assert "Enregistré : 1 session(s) créée(s), 1 modifiée(s)." in page
    assert 'href="/sessions/sa-2027-09-st-andre"' in page
    config = load_config(served.config)
    assert config.ok, config.problems
    assert config.sessions["sa-2027-09-st-andre"].jury[0].name == "Corinne Maillot"
    updated = config.sessions["sa-2027-03-st-andre"]
    assert updated.end == date(2027, 3, 20)
    # its row's empty cells kept the rest: the jury, the first day's time, the counts
    assert [j.name for j in updated.jury] == ["Corinne Maillot", "Patrick Fontaine"]
    assert (str(updated.first_day_start), updated.candidates.training) == ("08:30:00", 10)
    trail = served.store.audit_trail()
    assert sorted((e.session_id, e.user, e.action) for e in trail) == [
        ("sa-2027-03-st-andre", USER, "import"),
        ("sa-2027-09-st-andre", USER, "import"),
    ]
    # the dashboard shows the new session at once
    with served.logged_in() as client:
        assert 'id="s-sa-2027-09-st-andre"' in client.get("/").text


def test_a_file_changed_after_the_preview_is_not_overwritten(served: Served) -> None:
    path = served.config / "sessions" / "sa-2027-03-st-andre.yaml"
    with served.logged_in() as client:
        preview = _preview(client, _programme())
        path.write_text(path.read_text("utf-8").replace("salle B12", "salle C4"), encoding="utf-8")
        done = _confirm(client, preview.text)
    page = html.unescape(done.text)
    assert "Enregistré : 1 session(s) créée(s), 0 modifiée(s)." in page
    assert "« sa-2027-03-st-andre » a changé depuis l'aperçu" in page
    text = path.read_text("utf-8")
    assert "salle C4" in text
    assert "end: 2027-03-19" in text


def test_a_row_unchanged_in_the_preview_is_not_written_after_a_change(served: Served) -> None:
    path = served.config / "sessions" / "dwwm-2027-06-venissieux.yaml"
    book = Workbook()
    book.active.append(["Identifiant", "Fin"])
    book.active.append(["dwwm-2027-06-venissieux", date(2027, 6, 10)])
    data = io.BytesIO()
    book.save(data)
    with served.logged_in() as client:
        preview = _preview(client, data.getvalue())
        assert "Sessions sans changement (1)" in html.unescape(preview.text)
        assert 'name="donnees"' not in preview.text  # nothing to confirm
        form = client.get("/import")
        path.write_text(
            path.read_text("utf-8").replace("end: 2027-06-10", "end: 2027-06-11"),
            encoding="utf-8",
        )
        fields = {
            "csrf": (None, csrf_of(form.text).encode()),
            "nom": (None, b"fin.xlsx"),
            "donnees": (None, base64.b64encode(data.getvalue())),
            "versions": (None, b"{}"),
        }
        done = client.post("/import/apply", files=fields)
    page = html.unescape(done.text)
    assert "Enregistré : 0 session(s) créée(s), 0 modifiée(s)." in page
    assert "« dwwm-2027-06-venissieux » a changé depuis l'aperçu" in page
    assert "end: 2027-06-11" in path.read_text("utf-8")


def test_without_the_csrf_token_nothing_is_read(served: Served) -> None:
    with served.logged_in() as client:
        client.get("/import")
        refused = client.post(
            "/import/preview", files={"fichier": ("programme.xlsx", _programme(), XLSX)}
        )
    assert refused.status_code == 403
    with served.client() as anonymous:
        assert anonymous.get("/import").status_code == 303
        assert anonymous.post("/import/preview").status_code == 303


def test_an_unreadable_file_says_why_on_the_form(served: Served) -> None:
    with served.logged_in() as client:
        refused = _preview(client, b"pas un classeur", "programme.xlsx")
    assert refused.status_code == 400
    assert "ce n&#39;est pas un classeur .xlsx valide" in refused.text
    assert 'name="fichier"' in refused.text


def test_template_and_export_downloads(served: Served) -> None:
    with served.logged_in() as client:
        template = client.get("/import/template.xlsx")
        export = client.get("/export.xlsx")
    assert template.status_code == export.status_code == 200
    assert template.headers["content-type"] == XLSX
    assert 'filename="modele-sessions.xlsx"' in template.headers["content-disposition"]
    assert 'filename="sessions-2027-02-08.xlsx"' in export.headers["content-disposition"]
    assert load_workbook(io.BytesIO(template.content)).sheetnames[:2] == [
        "Sessions",
        "Explications",
    ]
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames == ["St-André", "Vénissieux", "Strasbourg", "Échéances"]
    # the export, uploaded back, changes nothing
    with served.logged_in() as client:
        preview = _preview(client, export.content, "sessions Vénissieux.xlsx")
    page = html.unescape(preview.text)
    assert "Aperçu de l'import de « sessions Vénissieux.xlsx »" in page
    assert "Aucun changement : rien à importer." in page


def test_a_viewer_downloads_but_cannot_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)

    def viewer_settings(config: Path) -> Settings:
        settings = web_settings(config)
        users = tuple(
            u.model_copy(update={"role": "viewer"}) if u.login == USER else u
            for u in settings.web.users
        )
        return settings.model_copy(update={"web": settings.web.model_copy(update={"users": users})})

    with serve(tmp_path, viewer_settings) as served, served.logged_in() as client:
        page = client.get("/import")
        assert "Votre compte permet de consulter, pas d'importer." in html.unescape(page.text)
        assert 'name="fichier"' not in page.text
        assert client.get("/export.xlsx").status_code == 200
        refused = client.post(
            "/import/preview",
            data={"csrf": csrf_of(page.text)},
            files={"fichier": ("programme.xlsx", _programme(), XLSX)},
        )
        assert refused.status_code == 403
        assert "Action réservée" in html.unescape(refused.text)
    assert not (served.config / "sessions" / "sa-2027-09-st-andre.yaml").exists()


def test_a_windows_1252_csv_uploaded(served: Served) -> None:
    text = "Identifiant;Lieu\r\ndwwm-2027-06-venissieux;GRETA Vénissieux, salle 12\r\n"
    with served.logged_in() as client:
        form = client.get("/import")
        preview = client.post(
            "/import/preview",
            data={"csrf": csrf_of(form.text)},
            files={"fichier": ("lieux.csv", text.encode("cp1252"), "text/csv")},
        )
        page = html.unescape(preview.text)
        assert '<th scope="row">Lieu</th><td>(vide)</td><td>GRETA Vénissieux, salle 12</td>' in page
        done = _confirm(client, preview.text)
    assert "Enregistré : 0 session(s) créée(s), 1 modifiée(s)." in html.unescape(done.text)
    session = load_config(served.config).sessions["dwwm-2027-06-venissieux"]
    assert session.location == "GRETA Vénissieux, salle 12"


ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODS_DATA = Path(__file__).resolve().parents[1] / "system" / "data" / "ods"


def test_ods_template_and_export_downloads_and_the_export_uploaded_back(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get("/import").text
        assert 'href="/export.ods"' in page
        assert 'accept=".xlsx,.ods,.csv"' in page
        template = client.get("/import/template.ods")
        export = client.get("/export.ods")
        assert template.status_code == export.status_code == 200
        assert template.headers["content-type"] == export.headers["content-type"] == ODS
        assert 'filename="modele-sessions.ods"' in template.headers["content-disposition"]
        assert 'filename="sessions-2027-02-08.ods"' in export.headers["content-disposition"]
        titles = [s.title for s in read_ods(export.content, max_lines=100, max_rows=100)]
        assert titles == ["St-André", "Vénissieux", "Strasbourg", "Échéances"]
        form = client.get("/import")
        preview = client.post(
            "/import/preview",
            data={"csrf": csrf_of(form.text)},
            files={"fichier": ("sessions.ods", export.content, ODS)},
        )
    page = html.unescape(preview.text)
    assert "Aperçu de l'import de « sessions.ods »" in page
    assert "Aucun changement : rien à importer." in page


def test_an_ods_typed_in_libreoffice_uploaded_then_confirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture LibreOffice made (a date typed as a date, a second line in a cell, a phone
    read as a number), on the session files it was made from."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", config)
    shutil.rmtree(config / "sessions")
    shutil.copytree(ODS_DATA / "sessions", config / "sessions")
    data = (ODS_DATA / "libreoffice-typed.ods").read_bytes()
    with serve(tmp_path) as running, running.logged_in() as client:
        form = client.get("/import")
        preview = client.post(
            "/import/preview",
            data={"csrf": csrf_of(form.text)},
            files={"fichier": ("saisi.ods", data, ODS)},
        )
        assert preview.status_code == 200, preview.text
        page = html.unescape(preview.text)
        assert "<td>20/11/2026</td><td>21/11/2026</td>" in page
        assert "numéro « 692000001 » lu comme un nombre par le tableur" in page
        done = _confirm(client, preview.text)
    assert "Enregistré : 0 session(s) créée(s), 1 modifiée(s)." in html.unescape(done.text)
    session = load_config(config).sessions["sa-2027-03-st-andre"]
    assert session.declared_on == date(2026, 11, 21)
    assert [c.email for c in session.coordinators][-1] == "l.payet@afpar.example"
