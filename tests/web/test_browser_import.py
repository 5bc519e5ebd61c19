"""In a real browser (Debian's Chromium through Playwright): the « Tableur » page, a file with
one bad row uploaded, its preview, the confirmation; the files on disk afterwards."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from syncsvc.inputs.loader import load_config
from tests.web import test_browser
from tests.web.conftest import PASSWORD, USER, Served
from tests.web.test_import_page import _programme

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = test_browser.ARTIFACTS
chromium = test_browser.chromium  # the fixtures of the first browser test: Chromium from Debian
page = test_browser.page


def test_import_with_one_bad_row_in_the_browser(served: Served, page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    upload = tmp_path / "programme.xlsx"
    upload.write_bytes(_programme())

    page.goto(served.base + "/import")
    page.get_by_label("Identifiant").fill(USER)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer et exporter un tableur")
    expect(page.get_by_role("link", name="Tableur")).to_have_attribute("aria-current", "page")
    page.get_by_label("Tableau des sessions (.xlsx ou .csv, 5 Mo au plus)").set_input_files(
        str(upload)
    )
    page.get_by_role("button", name="Voir l'aperçu").click()

    errors = page.locator("ul.problems li")
    expect(errors.first).to_have_text(
        "ligne 3, colonne « Centre » : centre « afpar-nulle-part » inconnu (attendu : une de "
        "ces clés de centres.yaml : afpar-st-andre, greta-lyon-venissieux, afpa-strasbourg)"
    )
    expect(errors).to_have_count(3)
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
    assert config.sessions["sa-2027-09-st-andre"].start == date(2027, 9, 13)
    assert config.sessions["sa-2027-03-st-andre"].end == date(2027, 3, 20)
    assert {e.session_id for e in served.store.audit_trail()} == {
        "sa-2027-09-st-andre",
        "sa-2027-03-st-andre",
    }
