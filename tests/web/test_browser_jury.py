"""In a real browser (Debian's Chromium through Playwright): a juror answers through the signed
link of their invitation, and the coordinator sees the « Jury » panel change."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from syncsvc.core import links
from tests.web import test_browser
from tests.web.conftest import NOW, PASSWORD, SECRET, SESSION_ID, USER, Served
from tests.web.test_jury import FONTAINE, MAILLOT, invite

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = test_browser.ARTIFACTS
chromium = test_browser.chromium  # the fixtures of the first browser test: Chromium from Debian
page = test_browser.page


def test_a_juror_answers_by_link_and_the_panel_changes(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    invite(served.store, MAILLOT, "Corinne Maillot")
    invite(served.store, FONTAINE, "Patrick Fontaine")
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(served.base + f"/sessions/{SESSION_ID}")
    page.get_by_label("Identifiant").fill(USER)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    panel = page.locator("section#jury")
    expect(panel.locator(".jury-summary")).to_have_text("jury : 0 confirmé / 2 invités")
    juror = panel.locator(f'tr[data-email="{MAILLOT}"]')
    expect(juror).to_have_attribute("data-partstat", "NEEDS-ACTION")
    expect(juror.locator(".badge")).to_have_text("Sans réponse")

    # The juror, in their own browser session (no login), opens the link of the invitation.
    url = links.answer_url(
        served.base, SECRET.encode(), SESSION_ID, MAILLOT, 0, "accept", NOW + timedelta(days=30)
    )
    juror_page = page.context.browser.new_context(locale="fr-FR").new_page()  # type: ignore[union-attr]
    juror_page.goto(url)
    expect(juror_page.get_by_role("heading", level=1)).to_have_text(
        "Répondre à l'invitation du jury"
    )
    juror_page.get_by_role("button", name="Confirmer : je serai présent(e)").click()
    expect(juror_page.get_by_role("status")).to_contain_text("Votre présence à la session")
    juror_page.screenshot(path=str(ARTIFACTS / "jury-answer.png"), full_page=True)
    juror_page.context.close()

    page.reload()
    panel = page.locator("section#jury")
    expect(panel.locator(".jury-summary")).to_have_text("jury : 1 confirmé / 2 invités")
    juror = panel.locator(f'tr[data-email="{MAILLOT}"]')
    expect(juror).to_have_attribute("data-partstat", "ACCEPTED")
    expect(juror.locator(".badge")).to_have_text("Accepté")
    expect(juror).to_contain_text("lien de l'invitation")
    panel.screenshot(path=str(ARTIFACTS / "jury-panel.png"))
    page.goto(served.base + "/")
    expect(page.locator(f"#s-{SESSION_ID} .jury-count")).to_have_text(
        "jury : 1 confirmé / 2 invités"
    )


def test_one_day_by_link_and_one_day_by_hand(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    invite(served.store, MAILLOT, "Corinne Maillot")
    invite(served.store, FONTAINE, "Patrick Fontaine")
    ARTIFACTS.mkdir(exist_ok=True)

    # The juror opens the Tuesday link of their invitation (no login).
    url = links.answer_url(
        served.base,
        SECRET.encode(),
        SESSION_ID,
        MAILLOT,
        0,
        "decline",
        NOW + timedelta(days=30),
        date(2027, 3, 16),
    )
    juror_page = page.context.browser.new_context(locale="fr-FR").new_page()  # type: ignore[union-attr]
    juror_page.goto(url)
    expect(juror_page.locator("dl.facts")).to_contain_text("le mardi 16 mars 2027 seulement")
    juror_page.get_by_role(
        "button", name="Confirmer : je ne pourrai pas venir le mardi 16 mars 2027"
    ).click()
    expect(juror_page.get_by_role("status")).to_contain_text(
        "Votre absence le mardi 16 mars 2027 à la session"
    )
    juror_page.screenshot(path=str(ARTIFACTS / "jury-answer-day.png"), full_page=True)
    juror_page.context.close()

    # The coordinator records that Patrick Fontaine cannot come on Friday (a phone call).
    page.goto(served.base + f"/sessions/{SESSION_ID}")
    page.get_by_label("Identifiant").fill(USER)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    panel = page.locator("section#jury")
    maillot = panel.locator(f'tr[data-email="{MAILLOT}"]')
    expect(maillot.locator(".day-answer")).to_have_text(
        re.compile(r"^A décliné le mardi 16 mars 2027 \(.*lien de l'invitation\)")
    )
    # her entry shows the answers in force: Tuesday declined, the other days unanswered
    expect(maillot.get_by_label("mardi 16/03/2027")).to_have_value("DECLINED")
    expect(maillot.get_by_label("jeudi 18/03/2027")).to_have_value("")

    # The coordinator records, in one entry, that Patrick Fontaine comes every day but Friday
    # (« oui sauf vendredi », on the phone).
    fontaine = panel.locator(f'tr[data-email="{FONTAINE}"]')
    fontaine.get_by_label("Pour tous les jours").select_option("ACCEPTED")
    fontaine.get_by_label("vendredi 19/03/2027").select_option(label="Refusé")
    fontaine.get_by_label("Observation (Patrick Fontaine)").fill("oui sauf vendredi, au téléphone")
    fontaine.get_by_role("button", name="Enregistrer la réponse de Patrick Fontaine").click()
    fontaine = page.locator(f'section#jury tr[data-email="{FONTAINE}"]')
    expect(fontaine).to_have_attribute("data-partstat", "ACCEPTED")
    expect(fontaine.locator(".badge")).to_have_text("Accepté")
    expect(fontaine.locator(".day-answer")).to_have_count(1)
    expect(fontaine.locator(".day-answer")).to_contain_text("A décliné le vendredi 19 mars 2027")
    expect(fontaine.locator(".day-answer")).to_contain_text("saisie manuelle")
    for day in ("lundi 15/03/2027", "mardi 16/03/2027", "jeudi 18/03/2027"):
        expect(fontaine.get_by_label(day)).to_have_value("ACCEPTED")
    expect(fontaine.get_by_label("vendredi 19/03/2027")).to_have_value("DECLINED")
    expect(page.locator("section#jury .jury-summary")).to_have_text("jury : 0 confirmé / 2 invités")

    # Then Friday is settled after all: changing that day alone makes him confirmed.
    fontaine.get_by_label("vendredi 19/03/2027").select_option("ACCEPTED")
    fontaine.get_by_role("button", name="Enregistrer la réponse de Patrick Fontaine").click()
    fontaine = page.locator(f'section#jury tr[data-email="{FONTAINE}"]')
    expect(fontaine.locator(".day-answer")).to_have_count(0)
    expect(page.locator("section#jury .jury-summary")).to_have_text("jury : 1 confirmé / 2 invités")
    page.locator("section#jury").screenshot(path=str(ARTIFACTS / "jury-panel-days.png"))
