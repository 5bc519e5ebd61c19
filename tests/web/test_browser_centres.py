"""In a real browser (Debian's Chromium through Playwright): a centre's organizer changed from
the « Centres » page — a bad address refused next to its field, the preview, the file written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncsvc.inputs.loader import load_config
from tests.web.conftest import OTHER, OTHER_PASSWORD, Served
from tests.web.test_browser_config import ARTIFACTS, chromium, log_in, page, served

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["chromium", "page", "served"]


def test_a_coordinator_changes_a_centres_organizer(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, served, OTHER, OTHER_PASSWORD)  # a coordinator whose account lists no centre
    page.get_by_role("link", name="Centres").click()
    page.get_by_role("link", name="Modifier les coordonnées de AFPAR Saint-André").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coordonnées — AFPAR Saint-André")

    organizer = page.get_by_label("Organisateur des invitations du jury")
    organizer.fill("jury.st-andre@afpar")
    page.get_by_role("button", name="Vérifier les changements").click()
    expect(page.locator("#e-organizer")).to_have_text(
        "adresse e-mail « jury.st-andre@afpar » invalide (attendu : nom@domaine.fr)"
    )
    expect(organizer).to_have_attribute("aria-invalid", "true")

    organizer.fill("jury.st-andre@afpar.example")
    page.get_by_role("button", name="Vérifier les changements").click()
    expect(page.locator("#consequences")).to_contain_text(
        "Les prochaines invitations du jury de ce centre auront pour organisateur "
        "jury.st-andre@afpar.example (au lieu de examen.cfpae@afpar.example)"
    )
    page.screenshot(path=str(ARTIFACTS / "centre-apercu.png"), full_page=True)
    assert load_config(served.config).centres["afpar-st-andre"].organizer is None

    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Coordonnées du centre « afpar-st-andre » enregistrées."
    )
    expect(page.locator("#c-afpar-st-andre .organizer")).to_have_text("jury.st-andre@afpar.example")
    centre = load_config(served.config).centres["afpar-st-andre"]
    assert centre.organizer == "jury.st-andre@afpar.example"
    (entry,) = served.store.audit_trail()
    assert entry.changes == (("afpar-st-andre.organizer", None, "jury.st-andre@afpar.example"),)


def test_a_coordinator_turns_the_candidates_mail_on(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    log_in(page, served, OTHER, OTHER_PASSWORD)
    page.get_by_role("link", name="Centres").click()
    page.get_by_role("link", name="Modifier les coordonnées de AFPA Strasbourg").click()
    page.get_by_label("Le mail d'information aux candidats").select_option("oui")
    page.get_by_role("button", name="Vérifier les changements").click()
    expect(page.locator("#consequences")).to_contain_text(
        "« Mail de rappel aux candidats (documents à apporter) » s'ajoute (le 23/04/2027)"
    )
    assert not load_config(served.config).centres["afpa-strasbourg"].candidate_info_mail
    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Coordonnées du centre « afpa-strasbourg » enregistrées."
    )
    assert load_config(served.config).centres["afpa-strasbourg"].candidate_info_mail
    (entry,) = served.store.audit_trail()
    assert entry.changes == (("afpa-strasbourg.candidate_info_mail", None, "oui"),)


def test_a_coordinator_sets_an_earlier_deadline_for_a_milestone(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, served, OTHER, OTHER_PASSWORD)
    page.get_by_role("link", name="Centres").click()
    page.get_by_role("link", name="Modifier les coordonnées de AFPA Strasbourg").click()
    row = page.locator("#o-dte_order")
    expect(row).to_contain_text("92 jours avant le début de la session ; rappels : 14, 7, 1")
    box = page.get_by_label(
        "Échéance du centre pour « Commander le pli d'examen (DTE) », en jours avant le début "
        "de la session"
    )
    box.fill("80")
    page.get_by_role("button", name="Vérifier les changements").click()
    expect(page.locator("#e-o-dte_order")).to_contain_text(
        "-80d est plus tardif que la valeur réglementaire -92d"
    )
    expect(box).to_have_value("80")
    expect(box).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(ARTIFACTS / "centre-echeance-refusee.png"), full_page=True)

    box.fill("100")
    page.get_by_role("button", name="Vérifier les changements").click()
    expect(page.locator("#consequences")).to_contain_text(
        "« Commander le pli d'examen (DTE) » passe du 22/01/2027 au 15/01/2027"
    )
    assert not load_config(served.config).centres["afpa-strasbourg"].rules.overrides
    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Coordonnées du centre « afpa-strasbourg » enregistrées."
    )
    overrides = load_config(served.config).centres["afpa-strasbourg"].rules.overrides
    assert str(overrides["dte_order"].offset) == "-100d"
    (entry,) = served.store.audit_trail()
    assert entry.changes == (("afpa-strasbourg.rules.overrides.dte_order.offset", None, "-100d"),)
