"""« Corriger le fichier » in a real browser (Chromium via Playwright), end to end.

A session synced to Radicale breaks (a YAML syntax error, then an invalid field): its calendar
items stay; the coordinator follows « Corriger le fichier » from the dashboard, sees the error
with its line marked, is refused a still-invalid text (kept in the editor), saves a valid one;
the session loads again, its history says who repaired it, ``syncsvc validate`` passes and the
next sync writes the session again. Screenshots go to ``test-artifacts/repair/``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.web import test_browser, test_browser_authoring
from tests.web.conftest import NOW, ROOT, SESSION_ID, USER
from tests.web.test_browser_authoring import World, login

if TYPE_CHECKING:
    from playwright.sync_api import Page

chromium = test_browser.chromium  # the browser fixtures of test_browser.py
page = test_browser.page
world = test_browser_authoring.world  # Radicale, an SMTP catcher and the served app
ARTIFACTS = ROOT / "test-artifacts" / "repair"
EXAM = f"{SESSION_ID}.exam_session@syncsvc"
AT = test_browser_authoring.AT


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def validates(world: World) -> int:
    return test_browser_authoring._cli(
        ["validate", "--config", str(world.config), "--now", NOW.isoformat()]
    )


def test_a_broken_file_is_fixed_from_the_dashboard(world: World, page: Page) -> None:
    from playwright.sync_api import expect

    world.sync()
    exam = world.item(EXAM)
    assert exam is not None
    assert "20270315" in exam
    path = world.config / "sessions" / f"{SESSION_ID}.yaml"
    good = path.read_text(encoding="utf-8")
    broken = good.replace("start: 2027-03-15", "start: [2027-03-15").replace(
        "salle B12", "salle B14"
    )
    path.write_text(broken, encoding="utf-8")
    assert validates(world) != 0
    test_browser_authoring._cli(["sync", "--once", "--config", str(world.config), *AT])
    # the file in error: its items are kept, not deleted
    assert world.item(EXAM) == exam

    base = world.served.base
    login(page, base)
    problems = page.locator("section.problems").first
    expect(problems).to_contain_text(f"{SESSION_ID}.yaml: ligne 8, colonne 4")
    shot(page, "dashboard")
    problems.get_by_role("link", name="Corriger le fichier").click()
    expect(page).to_have_url(f"{base}/sessions/{SESSION_ID}/corriger")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Corriger le fichier sessions/{SESSION_ID}.yaml"
    )
    marked = page.locator("ol.code-excerpt li.error-line")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("value", "8")
    editor = page.get_by_label(f"Texte du fichier sessions/{SESSION_ID}.yaml")
    expect(editor).to_have_value(broken)
    family = editor.evaluate("e => getComputedStyle(e).fontFamily")
    assert "mono" in family.lower()
    shot(page, "text-editor")

    # Still invalid (the list is closed but the end is impossible): refused, the text kept.
    typed = broken.replace("start: [2027-03-15", "start: 2027-03-15").replace(
        "end: 2027-03-19", "end: 2027-02-30"
    )
    editor.fill(typed)
    page.get_by_role("button", name="Vérifier et voir ce que la correction change").click()
    expect(page.locator("#form-errors")).to_contain_text("Rien n'a été enregistré")
    expect(page.locator("#form-errors")).to_contain_text("2027-02-30")
    expect(page.get_by_label(f"Texte du fichier sessions/{SESSION_ID}.yaml")).to_have_value(typed)
    assert path.read_text(encoding="utf-8") == broken
    shot(page, "still-invalid")

    editor = page.get_by_label(f"Texte du fichier sessions/{SESSION_ID}.yaml")
    editor.fill(typed.replace("end: 2027-02-30", "end: 2027-03-19"))
    page.get_by_role("button", name="Vérifier et voir ce que la correction change").click()
    # the preview: compared with what the calendar holds (its items kept since the file broke)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce que la correction va changer")
    expect(page.locator("#targets")).to_contain_text("mis à jour")
    assert path.read_text(encoding="utf-8") == broken  # nothing written yet
    shot(page, "preview")
    page.get_by_role("button", name="Revenir au texte").click()
    expect(page.get_by_label(f"Texte du fichier sessions/{SESSION_ID}.yaml")).to_have_value(
        typed.replace("end: 2027-02-30", "end: 2027-03-19")
    )
    page.get_by_role("button", name="Vérifier et voir ce que la correction change").click()
    page.get_by_role("button", name="Confirmer la correction").click()
    expect(page).to_have_url(f"{base}/sessions/{SESSION_ID}?corrige=1")
    expect(page.get_by_role("status")).to_contain_text("Le fichier est corrigé")
    expect(page.locator("#broken-title")).to_have_count(0)
    history = page.locator("#historique ol.history > li")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("correction du fichier")
    expect(history).to_contain_text(USER)
    expect(history).to_contain_text("copie du fichier d'avant : archive/")
    shot(page, "fixed")

    assert path.read_text(encoding="utf-8") == good.replace("salle B12", "salle B14")
    (copy,) = (world.config / "archive").rglob("*.yaml")
    assert copy.read_text(encoding="utf-8") == broken
    assert validates(world) == 0
    world.sync()
    fixed = world.item(EXAM)
    assert fixed is not None
    assert "salle B14" in fixed


def test_an_invalid_field_is_fixed_in_the_session_form(world: World, page: Page) -> None:
    from playwright.sync_api import expect

    path = world.config / "sessions" / f"{SESSION_ID}.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("end: 2027-03-19", "end: 2027-13-45"), encoding="utf-8")

    base = world.served.base
    login(page, base)
    page.locator(f"#s-{SESSION_ID} a").first.click()
    page.get_by_role("link", name="Corriger le fichier").click()
    expect(page.locator("#repair-problems")).to_contain_text("date « 2027-13-45 » invalide")
    expect(page.locator("#end")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#end")).to_have_value("2027-13-45")
    expect(page.locator("#location")).to_have_value("AFPAR Saint-André, salle B12")
    shot(page, "form")
    page.fill("#end", "19/03/2027")
    page.get_by_role("button", name="Voir ce que la correction change").click()
    expect(page.locator("#moves")).to_contain_text("19/03/2027")
    page.get_by_role("button", name="Confirmer la correction").click()
    expect(page).to_have_url(f"{base}/sessions/{SESSION_ID}?corrige=1")
    expect(page.locator("#historique")).to_contain_text("correction du fichier")
    assert re.search(r"^end: 2027-03-19$", path.read_text(encoding="utf-8"), re.M)
    assert path.read_text(encoding="utf-8").startswith("# Secrétaire assistant")
    assert validates(world) == 0
