"""In a real browser (Debian's Chromium through Playwright): « Retirer de l'annuaire » and
« Changer l'adresse » on the « Annuaire du jury » page, by a coordinator.

The example ``config/`` plus one session already held (SA, 11–15/01/2027, before the tests'
clock of 08/02/2027) that takes Sophie Hoareau from the directory by her address alone: she sits
only on that past session, Émilie Lefèvre on the DWWM session to come. Each flow checks what
the loader reads back from the files on disk and what the audit recorded.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from syncsvc.inputs.loader import load_config
from tests.web.conftest import NOW, OTHER, OTHER_PASSWORD, ROOT, SECRET, SECRET_ENV, USER, Served
from tests.web.conftest import serve as serve_app
from tests.web.test_browser_config import ARTIFACTS, chromium, log_in, page
from tests.web.test_candidate_privacy import _with_roles

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["chromium", "page"]

HOAREAU = "s.hoareau@jury.example"  # on the past session only
LEFEVRE = "e.lefevre@jury.example"  # on the DWWM session to come
GIRARD = "t.girard@jury.example"  # idem
PAST_ID = "sa-2027-01-st-andre"
PAST = f"""\
# A session already held (the tests' clock is 08/02/2027).
id: {PAST_ID}
title: {{code: TP-00374, acronym: SA, label: "Secrétaire assistant", transport: false}}
nature: titre
ccp_code: null
centre: afpar-st-andre
start: 2027-01-11
end: 2027-01-15
first_day_start: "08:30"
candidates: {{training: 8, vae: 0}}
session_manager: {{name: "Jean-Luc Hoarau", email: jl.hoarau@afpar.example}}
coordinators:
  - {{name: "Nathalie Técher", email: n.techer@afpar.example}}
jury:
  - {{email: {HOAREAU}}}       # taken from the jury directory
"""
DWWM = "sessions/dwwm-2027-06-venissieux.yaml"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """USER is an administrator, OTHER a coordinator (its account lists no centre)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "sessions" / f"{PAST_ID}.yaml").write_text(PAST, encoding="utf-8")
    assert load_config(config).problems == []
    with serve_app(tmp_path, lambda c: _with_roles(c, **{USER: "admin"})) as running:
        yield running


def test_a_juror_of_a_session_to_come_is_not_retired(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    before = (served.config / "jury.yaml").read_bytes()
    log_in(page, served, OTHER, OTHER_PASSWORD, "/annuaire-jury")
    row = page.locator(f'tr[data-email="{LEFEVRE}"]')
    expect(row.locator(".sits")).to_have_text("DWWM 07/06")
    row.get_by_role("link", name="Retirer de l'annuaire").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Retirer Émilie Lefèvre de l'annuaire"
    )
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(
        "Retrait impossible : Émilie Lefèvre fait encore partie du jury d'une session à venir :"
    )
    expect(refusal.locator("li")).to_have_text(
        ["DWWM 07/06 — greta-lyon-venissieux — du 07/06/2027 au 10/06/2027"]
    )
    expect(refusal).to_contain_text("Rien n'a été modifié.")
    expect(page.get_by_role("button", name="Retirer de l'annuaire")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "annuaire-jury-retrait-refuse.png"), full_page=True)
    assert (served.config / "jury.yaml").read_bytes() == before
    assert served.store.audit_trail() == []


def test_a_juror_of_a_past_session_only_is_retired_and_kept_marked(
    served: Served, page: Page
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    before = (served.config / "jury.yaml").read_text(encoding="utf-8")
    log_in(page, served, OTHER, OTHER_PASSWORD)
    page.get_by_role("link", name="Annuaire du jury").click()
    expect(page.locator("#retires")).to_have_count(0)
    row = page.locator(f'tr[data-email="{HOAREAU}"]')
    expect(row.locator(".sits")).to_have_text("SA 11/01")
    row.get_by_role("link", name="Retirer de l'annuaire").click()

    # The confirmation lists the past session and says the entry stays, marked.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Retirer Sophie Hoareau de l'annuaire"
    )
    expect(page.get_by_role("alert")).to_have_count(0)
    cited = page.locator("#sessions-citees")
    expect(cited.get_by_role("heading")).to_have_text("Sessions passées ou annulées qui le citent")
    expect(cited.locator("li")).to_have_text(
        ["SA 11/01 — afpar-st-andre — du 11/01/2027 au 15/01/2027"]
    )
    expect(page.locator("#effet")).to_contain_text(
        "Son entrée reste dans jury.yaml, marquée retirée (retired_on) : cette session le cite "
        "par son adresse seule"
    )
    page.screenshot(path=str(ARTIFACTS / "annuaire-jury-retrait.png"), full_page=True)
    assert (served.config / "jury.yaml").read_text(encoding="utf-8") == before

    page.get_by_role("button", name="Retirer de l'annuaire").click()
    expect(page.get_by_role("status")).to_have_text(
        f"{HOAREAU} est retiré(e) de l'annuaire. Son entrée reste dans jury.yaml, marquée "
        "retirée : des sessions passées ou annulées la citent par son adresse."
    )
    expect(page.locator(f'#membres tr[data-email="{HOAREAU}"]')).to_have_count(0)
    retired = page.locator("#retires")
    expect(retired.get_by_role("heading")).to_have_text("Membres retirés (1)")
    expect(retired.locator(f'li[data-email="{HOAREAU}"] .who')).to_have_text(
        f"Sophie Hoareau ({HOAREAU}) — retiré(e) le 08/02/2027 — SA 11/01"
    )
    expect(retired.get_by_role("link", name="Retirer de l'annuaire")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "annuaire-jury-retire.png"), full_page=True)

    config = load_config(served.config)
    assert config.problems == []  # the past session still loads, with its juror
    assert config.jury.jurors[HOAREAU].retired_on == NOW.date()
    assert HOAREAU in {j.email for j in config.sessions[PAST_ID].jury}
    after = (served.config / "jury.yaml").read_text(encoding="utf-8")
    assert after.split(f"{HOAREAU}:")[0] == before.split(f"{HOAREAU}:")[0]  # others as they were
    assert after.split(f"{HOAREAU}:")[1].rstrip().endswith("retired_on: 2027-02-08")
    (entry,) = served.store.audit_trail()
    assert (entry.user, entry.action, entry.file) == (OTHER, "jury_directory_retire", "jury.yaml")

    # « Réactiver »: the mark leaves the entry, the juror is back among the members.
    retired.locator(f'li[data-email="{HOAREAU}"]').get_by_role("button", name="Réactiver").click()
    expect(page.get_by_role("status")).to_have_text(
        f"{HOAREAU} est réactivé(e) : de nouveau parmi les membres, et proposé(e) pour les "
        "sessions."
    )
    expect(page.locator("#retires")).to_have_count(0)
    expect(page.locator(f'#membres tr[data-email="{HOAREAU}"]')).to_have_count(1)
    assert (served.config / "jury.yaml").read_text(encoding="utf-8") == before
    assert load_config(served.config).jury.jurors[HOAREAU].retired_on is None
    assert sorted(e.action for e in served.store.audit_trail()) == [
        "jury_directory_reactivate",
        "jury_directory_retire",
    ]


def test_a_coordinator_changes_a_jurors_address_everywhere(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    new = "thomas.girard@esn-rhone.example"
    directory = served.config / "jury.yaml"
    session = served.config / DWWM
    before = (directory.read_text(encoding="utf-8"), session.read_text(encoding="utf-8"))
    log_in(page, served, OTHER, OTHER_PASSWORD, "/annuaire-jury")
    page.locator(f'tr[data-email="{GIRARD}"]').get_by_role("link", name="Changer l'adresse").click()

    # The confirmation lists the files that name the juror: the directory and the session.
    expect(page.get_by_role("heading", level=1)).to_have_text("Changer l'adresse de Thomas Girard")
    files = page.locator("#fichiers")
    expect(files.get_by_role("heading")).to_have_text("Fichiers modifiés (2)")
    expect(files.locator("li")).to_have_text(["jury.yaml", DWWM])

    # A malformed address: refused next to its field, nothing written.
    field = page.get_by_label("Nouvelle adresse e-mail")
    field.fill("thomas.girard")
    page.get_by_role("button", name="Changer l'adresse").click()
    expect(page.locator("#e-new_email")).to_have_text(
        "nouvelle adresse obligatoire (attendu : nom@domaine.fr)"
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Rien n'a été enregistré")
    assert (directory.read_text(encoding="utf-8"), session.read_text(encoding="utf-8")) == before

    field.fill("Thomas.Girard@ESN-Rhone.example")
    page.screenshot(path=str(ARTIFACTS / "annuaire-jury-adresse.png"), full_page=True)
    page.get_by_role("button", name="Changer l'adresse").click()
    expect(page.get_by_role("status")).to_have_text(f"Adresse changée : {GIRARD} → {new}.")
    row = page.locator(f'tr[data-email="{new}"]')
    expect(row.locator(".sits")).to_have_text("DWWM 07/06")
    expect(page.locator(f'tr[data-email="{GIRARD}"]')).to_have_count(0)

    assert directory.read_text(encoding="utf-8") == before[0].replace(f"{GIRARD}:", f"{new}:")
    session_text = session.read_text(encoding="utf-8")
    assert session_text == before[1].replace(f"{{email: {GIRARD}}}", f"{{email: {new}}}")
    config = load_config(served.config)
    assert config.problems == []
    assert config.jury.jurors[new].name == "Thomas Girard"
    assert GIRARD not in config.jury.jurors
    assert new in {j.email for j in config.sessions["dwwm-2027-06-venissieux"].jury}
    trail = served.store.audit_trail()
    assert {(e.user, e.action, e.file) for e in trail} == {
        (OTHER, "jury_address", "jury.yaml"),
        (OTHER, "jury_address", DWWM),
    }
