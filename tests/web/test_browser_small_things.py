"""Issue 12's small things in Chromium: a session whose file breaks stays in the list and its
page shows the error; a row done in the session file has no « Marquer fait » button; the
milestone identifiers are on the page; the dashboard's time is not UTC. Screenshots in
``test-artifacts/``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.web import test_browser
from tests.web.conftest import PASSWORD, SESSION_ID, USER, Served

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = test_browser.ARTIFACTS
chromium = test_browser.chromium  # Chromium from Debian (see test_browser)
page = test_browser.page


def test_a_coordinator_sees_a_broken_session_and_a_file_mark(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(served.base + "/")
    page.get_by_label("Identifiant").fill(USER)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("p.lead")).to_contain_text("état au 08/02/2027 09:00.")
    expect(page.locator("p.lead")).not_to_contain_text("UTC")

    # A row done in the session file: where the mark lives, no button; identifiers shown.
    page.locator(f"#s-{SESSION_ID} a").click()
    row = page.locator("tr#m-ceres_session_create")
    expect(row).to_contain_text(f"fait (noté dans le fichier sessions/{SESSION_ID}.yaml)")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(row.locator("code.milestone-id")).to_have_text("ceres_session_create")
    expect(page.locator("tr#m-dte_order").get_by_role("button", name="Marquer fait")).to_have_count(
        1
    )
    page.screenshot(path=str(ARTIFACTS / "session-file-mark.png"), full_page=True)

    # The file breaks: the session stays listed with its last good state and the error.
    path = served.config / "sessions" / f"{SESSION_ID}.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("end: 2027-03-19", "end: 2027-13-45"), encoding="utf-8")
    page.goto(served.base + "/")
    listed = page.locator(f"tr#s-{SESSION_ID}")
    expect(listed).to_contain_text("Fichier en erreur")
    expect(listed).to_contain_text("Commander le pli d'examen (DTE)")
    page.screenshot(path=str(ARTIFACTS / "dashboard-broken-session.png"), full_page=True)
    listed.get_by_role("link").click()
    expect(page).to_have_url(f"{served.base}/sessions/{SESSION_ID}")
    expect(page.locator("#broken-title")).to_contain_text("ne se charge plus")
    expect(page.locator("section.problems")).to_contain_text("2027-13-45")
    expect(page.get_by_role("button", name="Marquer fait")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "session-broken-file.png"), full_page=True)

    # Fixed: back to normal.
    path.write_text(good, encoding="utf-8")
    page.reload()
    expect(page.locator("#broken-title")).to_have_count(0)
    expect(page.locator("tr#m-dte_order").get_by_role("button", name="Marquer fait")).to_have_count(
        1
    )
