"""In a real browser (Debian's Chromium through Playwright): the « Tableur » page, a file with
one bad row uploaded, its preview, the confirmation; the files on disk afterwards, then a sync
pass and a notify pass against the in-test Radicale and SMTP catcher (the calendar items of the
good rows, none for the bad one, the jury's invitations)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import load_workbook

from syncsvc.inputs.loader import load_config
from syncsvc.inputs.ods import read_ods
from tests.web import test_browser, test_browser_authoring
from tests.web.conftest import PASSWORD, USER, Served
from tests.web.test_browser_authoring import World
from tests.web.test_import_page import _programme

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = test_browser.ARTIFACTS
chromium = test_browser.chromium  # the fixtures of the first browser test: Chromium from Debian
page = test_browser.page
world = test_browser_authoring.world  # the app, the in-test Radicale and SMTP catcher
BAD = "sa-2027-10-st-andre"
"""The identifier the bad row would get: a centre of the calendar, good dates, a bad address."""


def _programme_with_a_bad_row_here() -> bytes:
    """The programme of the HTTP test, its bad row (line 3) in this calendar's centre with good
    dates: only its session manager's address is wrong, so that were it applied, its items
    would show on the in-test Radicale."""
    book = load_workbook(io.BytesIO(_programme()))
    sheet = book.active
    assert sheet is not None
    sheet["D3"], sheet["E3"], sheet["F3"] = "afpar-st-andre", "04/10/2027", "08/10/2027"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_with_one_bad_row_in_the_browser(world: World, page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    served = world.served
    upload = tmp_path / "programme.xlsx"
    upload.write_bytes(_programme_with_a_bad_row_here())

    page.goto(served.base + "/import")
    page.get_by_label("Identifiant").fill(USER)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer et exporter un tableur")
    expect(page.get_by_role("link", name="Tableur")).to_have_attribute("aria-current", "page")
    page.screenshot(path=str(ARTIFACTS / "import-form.png"), full_page=True)
    page.get_by_label("Tableau des sessions (.xlsx, .ods ou .csv, 5 Mo au plus)").set_input_files(
        str(upload)
    )
    page.get_by_role("button", name="Voir l'aperçu").click()

    errors = page.locator("ul.problems li")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text(
        "ligne 3, colonne « Responsable de session (courriel) » : adresse"
    )
    expect(page.locator("#ligne-4 table.changes tbody tr")).to_have_text(
        ["Fin19/03/202720/03/2027"]
    )
    page.screenshot(path=str(ARTIFACTS / "import-preview.png"), full_page=True)
    assert not (served.config / "sessions" / "sa-2027-09-st-andre.yaml").exists()

    page.get_by_role("button", name="Confirmer l'import de 2 session(s)").click()
    expect(page.get_by_role("status")).to_have_text(
        "Enregistré : 1 session(s) créée(s), 1 modifiée(s)."
    )
    page.screenshot(path=str(ARTIFACTS / "import-done.png"), full_page=True)
    page.get_by_role("link", name="sa-2027-09-st-andre").click()
    expect(page).to_have_url(f"{served.base}/sessions/sa-2027-09-st-andre")

    config = load_config(served.config)
    assert config.ok, config.problems
    assert BAD not in config.sessions
    assert config.sessions["sa-2027-09-st-andre"].start == date(2027, 9, 13)
    assert config.sessions["sa-2027-03-st-andre"].end == date(2027, 3, 20)
    assert {e.session_id for e in served.store.audit_trail()} == {
        "sa-2027-09-st-andre",
        "sa-2027-03-st-andre",
    }

    world.sync()
    sessions = {uid.split(".", 1)[0] for uid in world.uids()}
    assert "sa-2027-09-st-andre" in sessions
    assert sessions <= {*config.sessions, "afpar-st-andre"}, sessions
    assert BAD not in sessions  # nothing of the bad row
    created = world.item("sa-2027-09-st-andre.exam_session@syncsvc")
    assert created is not None
    assert "DTSTART;TZID=Indian/Reunion:20270913T083000" in created
    updated = world.exam_days("sa-2027-03-st-andre")  # the row that moved the end to 20/03
    assert len(updated) == 6
    assert "DTSTART;TZID=Indian/Reunion:20270320T083000" in updated[-1]
    world.notify()
    subjects = [str(m["Subject"]) for m in world.mails_to("c.maillot@jury.example")]
    assert any(
        s.startswith("Invitation : ") and s.endswith("— lundi 13 septembre 2027") for s in subjects
    ), subjects


def test_an_ods_export_downloaded_then_uploaded_in_the_browser(
    served: Served, page: Page, tmp_path: Path
) -> None:
    """LibreOffice's format both ways on the page: the .ods export and template downloaded from
    their links, the export chosen in the file input (it accepts .ods) and previewed."""
    from playwright.sync_api import expect

    page.goto(served.base + "/import")
    page.get_by_label("Identifiant").fill(USER)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    with page.expect_download() as started:
        page.get_by_role("link", name="Exporter pour LibreOffice (.ods)").click()
    download = started.value
    assert download.suggested_filename == "sessions-2027-02-08.ods"
    exported = tmp_path / download.suggested_filename
    download.save_as(exported)
    with page.expect_download() as started:
        page.get_by_role("link", name="Modèle pour LibreOffice (.ods)").click()
    template = tmp_path / started.value.suggested_filename
    started.value.save_as(template)
    titles = [s.title for s in read_ods(template.read_bytes(), max_lines=50, max_rows=50)]
    assert titles == ["Sessions", "Explications"]
    chooser = page.get_by_label("Tableau des sessions (.xlsx, .ods ou .csv, 5 Mo au plus)")
    expect(chooser).to_have_attribute("accept", ".xlsx,.ods,.csv")
    chooser.set_input_files(str(exported))
    page.get_by_role("button", name="Voir l'aperçu").click()
    expect(page.get_by_text("Aucun changement : rien à importer.")).to_be_visible()
    expect(page.get_by_text("Aperçu de l'import de « sessions-2027-02-08.ods »")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "import-ods-preview.png"), full_page=True)
