"""In a real browser (Debian's Chromium through Playwright): the « Annuaire du jury » and
« Centres » pages write ``config/`` from the dashboard.

Each flow checks what the loader reads back from the file on disk and what the audit recorded
(``store.audit_trail()``); screenshots are kept in ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from syncsvc.inputs.loader import load_config
from tests.web import test_browser
from tests.web.conftest import OTHER, OTHER_PASSWORD, PASSWORD, SECRET, SECRET_ENV, USER, Served
from tests.web.conftest import serve as serve_app
from tests.web.test_candidate_privacy import _with_roles

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = test_browser.ARTIFACTS
chromium = test_browser.chromium  # the fixtures of the first browser test: Chromium from Debian
page = test_browser.page
HOAREAU = "s.hoareau@jury.example"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """USER is an administrator, OTHER a coordinator."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve_app(tmp_path, lambda c: _with_roles(c, **{USER: "admin"})) as running:
        yield running


def log_in(page: Page, served: Served, login: str, password: str, where: str = "/") -> None:
    page.goto(served.base + where)
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def test_a_coordinator_adds_a_juror_after_fixing_a_date(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    before = (served.config / "jury.yaml").read_text(encoding="utf-8")
    log_in(page, served, OTHER, OTHER_PASSWORD)
    page.get_by_role("link", name="Annuaire du jury").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuaire du jury")
    # The habilitations that end within 90 days of 08/02/2027: Sophie Hoareau's only.
    expect(page.locator("#echeances li")).to_have_count(1)
    expect(page.locator("#echeances li")).to_contain_text("30/04/2027 — Sophie Hoareau")
    expect(page.locator('tr[data-email="t.girard@jury.example"] .sits')).to_have_text("DWWM 07/06")
    page.screenshot(path=str(ARTIFACTS / "annuaire-jury.png"), full_page=True)

    page.get_by_role("link", name="Ajouter un membre du jury").click()
    page.get_by_label("Adresse e-mail").fill("M.Payet@jury.example")
    page.get_by_label("Nom").fill("Marie Payet")
    page.get_by_label("Téléphone").fill("0692 11 22 33")
    page.get_by_label("Entreprise").fill("Payet Conseil")
    page.get_by_label("Titres habilités").fill("TP-00374, TP-00391")
    page.get_by_label("Fin d'habilitation").fill("31/02/2028")
    page.get_by_role("button", name="Enregistrer").click()

    # Refused before anything is written, the error next to its field.
    expect(page.get_by_role("alert")).to_contain_text("Rien n'a été enregistré")
    expect(page.locator("#e-habilitation_until")).to_have_text(
        "date « 31/02/2028 » illisible (attendu : jj/mm/aaaa, ex. 30/06/2028)"
    )
    expect(page.get_by_label("Nom")).to_have_value("Marie Payet")
    assert (served.config / "jury.yaml").read_text(encoding="utf-8") == before
    assert served.store.audit_trail() == []
    page.screenshot(path=str(ARTIFACTS / "annuaire-jury-erreur.png"), full_page=True)

    page.get_by_label("Fin d'habilitation").fill("29/02/2028")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text(
        "m.payet@jury.example est enregistré(e) dans l'annuaire."
    )
    row = page.locator('tr[data-email="m.payet@jury.example"]')
    expect(row.locator(".until")).to_have_text("29/02/2028")
    expect(row.locator(".sits")).to_have_text("aucune")

    config = load_config(served.config)
    assert config.problems == []
    juror = config.jury.jurors["m.payet@jury.example"]
    assert (juror.name, juror.phone, juror.company) == (
        "Marie Payet",
        "0692 11 22 33",
        "Payet Conseil",
    )
    assert juror.titles == ("TP-00374", "TP-00391")
    assert juror.habilitation_until == date(2028, 2, 29)
    text = (served.config / "jury.yaml").read_text(encoding="utf-8")
    assert text.startswith(before)  # comments and the other jurors untouched
    (entry,) = served.store.audit_trail()
    assert (entry.user, entry.action, entry.file, entry.session_id) == (
        OTHER,
        "jury_directory",
        "jury.yaml",
        None,
    )
    changes = {field: (old, new) for field, old, new in entry.changes}
    assert changes["m.payet@jury.example.name"] == (None, "Marie Payet")
    assert changes["m.payet@jury.example.habilitation_until"] == (None, "29/02/2028")


def test_two_tabs_on_the_directory_the_second_sees_a_conflict(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    log_in(page, served, OTHER, OTHER_PASSWORD, "/annuaire-jury")
    edit = f"{served.base}/annuaire-jury/modifier?email={HOAREAU}"
    page.goto(edit)
    second = page.context.new_page()
    second.goto(edit)
    expect(second.get_by_label("Adresse e-mail")).to_have_value(HOAREAU)

    page.get_by_label("Fin d'habilitation").fill("30/04/2030")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text(HOAREAU)
    saved = (served.config / "jury.yaml").read_text(encoding="utf-8")

    second.get_by_label("Téléphone").fill("0262 00 00 00")
    second.get_by_role("button", name="Enregistrer").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("Modification en conflit")
    expect(second.get_by_role("alert")).to_contain_text(
        "jury.yaml a été modifié depuis l'ouverture du formulaire"
    )
    expect(second.locator("#version-actuelle")).to_contain_text("habilitation_until: 2030-04-30")
    expect(second.locator("#votre-version")).to_contain_text('phone: "0262 00 00 00"')
    second.screenshot(path=str(ARTIFACTS / "annuaire-jury-conflit.png"), full_page=True)

    assert (served.config / "jury.yaml").read_text(encoding="utf-8") == saved
    juror = load_config(served.config).jury.jurors[HOAREAU]
    assert juror.habilitation_until == date(2030, 4, 30)
    assert juror.phone == "0262 45 67 89"
    (entry,) = served.store.audit_trail()
    assert entry.changes == ((f"{HOAREAU}.habilitation_until", "30/04/2027", "30/04/2030"),)


def test_an_administrator_changes_an_agrement_end_date(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    log_in(page, served, USER, PASSWORD)
    page.get_by_role("link", name="Centres").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Centres et agréments")
    centre = page.locator("#c-afpar-st-andre")
    expect(centre.locator('tr[data-title="TP-00391"] .until')).to_have_text("30/09/2027")
    page.screenshot(path=str(ARTIFACTS / "centres.png"), full_page=True)

    centre.get_by_role("link", name="Modifier les agréments").click()
    expect(page.locator("#a1-until")).to_have_value("30/09/2027")
    page.locator("#a1-until").fill("31/12/2028")
    page.locator("#a1-session_managers").fill("jl.hoarau@afpar.example")
    page.get_by_role("button", name="Enregistrer les agréments").click()
    expect(page.get_by_role("status")).to_have_text(
        "Agréments du centre « afpar-st-andre » enregistrés."
    )
    expect(centre.locator('tr[data-title="TP-00391"] .until')).to_have_text("31/12/2028")

    config = load_config(served.config)
    assert config.problems == []
    agrement = config.centres["afpar-st-andre"].agrements[1]
    assert agrement.until == date(2028, 12, 31)
    assert agrement.session_managers == ("jl.hoarau@afpar.example",)
    text = (served.config / "centres.yaml").read_text(encoding="utf-8")
    assert "# IANA time zone of the centre" in text
    (entry,) = served.store.audit_trail()
    assert (entry.user, entry.action, entry.file) == (USER, "centres", "centres.yaml")
    changes = {field: (old, new) for field, old, new in entry.changes}
    assert changes["afpar-st-andre.agrements.2.until"] == ("30/09/2027", "31/12/2028")

    # Removing a centre that sessions use is refused, in the loader's words; nothing written.
    page.get_by_role("button", name="Retirer ce centre (AFPAR Saint-André)").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        "Rien n'a été enregistré : le centre « afpar-st-andre » est utilisé par 2 sessions, qui "
        "ne se chargeraient plus :"
    )
    expect(alert).to_contain_text(
        "sa-2027-03-st-andre.yaml: ligne 6, centre: centre « afpar-st-andre » inconnu ou invalide"
    )
    page.screenshot(path=str(ARTIFACTS / "centres-retrait-refuse.png"), full_page=True)
    assert (served.config / "centres.yaml").read_text(encoding="utf-8") == text
    assert "afpar-st-andre" in load_config(served.config).centres
    assert len(served.store.audit_trail()) == 1


def test_a_coordinator_is_refused_removing_a_centre(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    before = (served.config / "centres.yaml").read_text(encoding="utf-8")
    log_in(page, served, OTHER, OTHER_PASSWORD)  # a coordinator whose account lists no centre
    page.get_by_role("link", name="Centres").click()
    expect(
        page.get_by_role("link", name="Modifier les coordonnées de AFPA Strasbourg")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Retirer ce centre (AFPA Strasbourg)")).to_have_count(0)
    expect(page.get_by_role("link", name="Ajouter un centre")).to_have_count(0)
    response = page.goto(served.base + "/centres/nouveau")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Action réservée")
    expect(page.locator(".notice.error")).to_contain_text("Seul un administrateur peut ajouter")
    assert (served.config / "centres.yaml").read_text(encoding="utf-8") == before
    assert served.store.audit_trail() == []
