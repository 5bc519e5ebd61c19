"""Changing sessions in a real browser (Chromium via Playwright): create with a field error
then fixed, edit through the preview, a conflict between two tabs, duplicate, postpone, cancel,
restore after a cancellation, a coordinator refused on another centre, a viewer without buttons.

Each flow checks the file on disk (read back by the loader) and the audit, then runs a sync
pass and a notify pass (``syncsvc sync --once``, ``syncsvc notify``) against the in-test Radicale
and SMTP catcher and checks the calendar items and the jury's mails. A screenshot of each page
goes to ``test-artifacts/authoring/`` (ignored by git).
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import httpx
import pytest
from aiosmtpd.controller import Controller

from syncsvc.cli import main
from syncsvc.core.model import Session
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.harness.servers import CalDAVServer, free_port, radicale_server
from tests.system.service import Inbox
from tests.web import test_browser
from tests.web.conftest import (
    NOW,
    OTHER,
    OTHER_PASSWORD,
    PASSWORD,
    ROOT,
    SECRET,
    SECRET_ENV,
    SESSION_ID,
    USER,
    Served,
    serve,
    web_settings,
)
from tests.web.test_roles import TEE, limited

if TYPE_CHECKING:
    from playwright.sync_api import Page

chromium = test_browser.chromium  # the browser fixtures of test_browser.py
page = test_browser.page
ARTIFACTS = ROOT / "test-artifacts" / "authoring"
AT = ["--now", NOW.isoformat()]
NEW_ID = "sa-2027-09-st-andre"


@dataclass
class World:
    served: Served
    radicale: CalDAVServer
    inbox: Inbox

    @property
    def config(self) -> Path:
        return self.served.config

    def sync(self, code: int = 0) -> None:
        """``syncsvc sync --once``; ``code`` 1 when a target refuses part of the pass."""
        assert _cli(["sync", "--once", "--config", str(self.config), *AT]) == code

    def notify(self) -> None:
        assert _cli(["notify", "--config", str(self.config), *AT]) == 0

    def item(self, uid: str) -> str | None:
        url = f"{self.radicale.home_url}examens-st-andre/{uid.replace('@', '%40')}.ics"
        response = httpx.get(url, auth=(self.radicale.username, self.radicale.password))
        return response.text.replace("\r\n ", "") if response.status_code == 200 else None

    def uids(self) -> set[str]:
        """The UIDs of every item of the calendar on Radicale."""
        response = httpx.request(
            "PROPFIND",
            f"{self.radicale.home_url}examens-st-andre/",
            headers={"Depth": "1"},
            auth=(self.radicale.username, self.radicale.password),
        )
        assert response.status_code == 207, response.text
        hrefs = re.findall(r"href>([^<]+)\.ics</", response.text)
        return {unquote(h.rsplit("/", 1)[-1]) for h in hrefs}

    def session_uids(self, session_id: str) -> set[str]:
        return {u for u in self.uids() if u.startswith(f"{session_id}.")}

    def exam_days(self, session_id: str) -> list[str]:
        """The exam's items on Radicale, day 1 first (each exam day is one VEVENT)."""
        found = [self.item(f"{session_id}.exam_session@syncsvc")]
        number = 2
        while (day := self.item(f"{session_id}.exam_session.day{number}@syncsvc")) is not None:
            found.append(day)
            number += 1
        assert None not in found, f"no exam item for {session_id}"
        return [f for f in found if f is not None]

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.inbox.messages if address in str(m["To"])]

    def session(self, session_id: str) -> Session:
        config = load_config(self.config, load_ruleset(self.served.settings.ruleset))
        return config.sessions[session_id]


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return html.unescape(str(body.get_content()))  # type: ignore[attr-defined, unused-ignore]


def _cli(argv: list[str]) -> int:
    """``syncsvc ARGV`` in another thread (Playwright's loop runs in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(main, argv).result()


def _config(tmp_path: Path, radicale: CalDAVServer, smtp_port: int) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "syncsvc.toml").write_text(
        f"""
dashboard_url = "http://127.0.0.1:8080"

[store]
url = "sqlite:///{tmp_path / "state.db"}"

[mail]
transport = "smtp"
host = "127.0.0.1"
port = {smtp_port}
from = "Service examens <examens@afpar.example>"
send_hour = "08:00"
rate_per_minute = 6000

[[targets]]
name = "coordination-st-andre"
kind = "caldav"
url = "{radicale.url}"
username = "{radicale.username}"
password_env = "TEST_CALDAV_PASSWORD"
calendar = "examens-st-andre"
audience = "coordinators:afpar-st-andre"
""",
        encoding="utf-8",
    )


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with radicale_server(tmp_path / "radicale") as radicale:
            monkeypatch.setenv("TEST_CALDAV_PASSWORD", radicale.password)
            _config(tmp_path, radicale, port)
            with serve(tmp_path, web_settings) as served:
                yield World(served, radicale, inbox)
    finally:
        controller.stop()


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, limited) as running:
        yield running


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page: Page, base: str, user: str = USER, password: str = PASSWORD) -> None:
    page.goto(base + "/login")
    page.get_by_label("Identifiant").fill(user)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/")


def fill_new_session(page: Page, end: str) -> None:
    page.select_option("#centre", "afpar-st-andre")
    page.select_option("#title_code", "TP-00374")
    page.fill("#start", "13/09/2027")
    page.fill("#end", end)
    page.fill("#first_day_start", "08:30")
    page.fill("#location", "Salle B12")
    page.fill("#training", "9")
    page.fill("#vae", "1")
    page.fill("#manager_name", "Jean-Luc Hoarau")
    page.fill("#manager_email", "jl.hoarau@afpar.example")
    page.fill("#coord_name_1", "Nathalie Técher")
    page.fill("#coord_email_1", "n.techer@afpar.example")
    page.fill("#jury_name_1", "Corinne Maillot")
    page.fill("#jury_email_1", "c.maillot@jury.example")
    page.fill("#jury_until_1", "30/06/2028")
    page.get_by_text("Ajouter un juré déjà connu du centre").click()
    page.get_by_label("Patrick Fontaine", exact=False).check()


def test_create_with_an_error_first_then_fixed(world: World, page: Page) -> None:
    from playwright.sync_api import expect

    base = world.served.base
    login(page, base)
    page.get_by_role("link", name="Nouvelle session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle session")
    fill_new_session(page, end="31/02/2027")
    shot(page, "create-form")
    page.get_by_role("button", name="Créer la session").click()
    expect(page.locator("#err-end")).to_have_text(
        "date « 31/02/2027 » illisible (attendu : une date jj/mm/aaaa, ex. 15/03/2027)"
    )
    expect(page.locator("#end")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-errors")).to_contain_text("Rien n'a été enregistré")
    shot(page, "create-error")
    assert not (world.config / "sessions" / f"{NEW_ID}.yaml").exists()

    page.fill("#end", "17/09/2027")
    page.get_by_role("button", name="Créer la session").click()
    expect(page).to_have_url(f"{base}/sessions/{NEW_ID}?cree=1")
    expect(page.get_by_role("status")).to_contain_text("La session est créée")
    expect(page.locator("#historique ol.history > li")).to_have_count(1)
    expect(page.locator("#historique")).to_contain_text("création")
    shot(page, "create-done")

    session = world.session(NEW_ID)
    assert (session.start, session.end) == (date(2027, 9, 13), date(2027, 9, 17))
    assert [j.email for j in session.jury] == ["c.maillot@jury.example", "p.fontaine@jury.example"]
    (entry,) = world.served.store.audit_trail(NEW_ID)
    assert (entry.user, entry.action) == (USER, "create")

    world.sync()
    exam = world.item(f"{NEW_ID}.exam_session@syncsvc")
    assert exam is not None
    assert "DTSTART;TZID=Indian/Reunion:20270913T083000" in exam
    world.notify()
    invited = world.mails_to("c.maillot@jury.example")
    subjects = [str(m["Subject"]) for m in invited]
    assert any(
        s.endswith("Secrétaire assistant (TITRE) — lundi 13 septembre 2027") for s in subjects
    )


def _edit_location(page: Page, base: str, location: str) -> None:
    page.goto(f"{base}/sessions/{SESSION_ID}/modifier")
    page.fill("#location", location)
    page.get_by_role("button", name="Voir ce que la modification change").click()


def test_edit_shows_the_preview_then_confirms(world: World, page: Page) -> None:
    from playwright.sync_api import expect

    world.sync()
    world.notify()
    assert world.mails_to("c.maillot@jury.example"), "invited before the edit"
    before = len(world.mails_to("c.maillot@jury.example"))
    days = world.exam_days(SESSION_ID)
    assert len(days) == 5
    assert all("LOCATION:AFPAR Saint-André\\, salle B12" in d for d in days)
    base = world.served.base
    login(page, base)
    page.goto(f"{base}/sessions/{SESSION_ID}")
    page.get_by_role("link", name="Modifier", exact=True).click()
    expect(page.locator("#start")).to_have_value("15/03/2027")
    expect(page.locator("#first_day_start")).to_have_value("08:30")
    page.fill("#start", "22/03/2027")
    page.fill("#end", "26/03/2027")
    page.fill("#first_day_start", "09:15")
    page.fill("#location", "Salle C4")
    shot(page, "edit-form")
    page.get_by_role("button", name="Voir ce que la modification change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce que la modification va changer")
    exam = page.locator('#moves tr[data-milestone="exam_session"]')
    expect(exam).to_contain_text("15/03/2027")
    expect(exam).to_contain_text("22/03/2027")
    expect(page.locator("#targets")).to_contain_text("coordination-st-andre")
    expect(page.locator("#jury-news")).to_contain_text("Corinne Maillot")
    expect(page.locator("#jury-news")).to_contain_text("recevra une mise à jour")
    shot(page, "edit-preview")
    assert world.session(SESSION_ID).start == date(2027, 3, 15)  # nothing written yet

    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("La modification est enregistrée")
    expect(page.locator("#historique")).to_contain_text("15/03/2027 → 22/03/2027")
    shot(page, "edit-done")
    session = world.session(SESSION_ID)
    assert (session.start, session.location) == (date(2027, 3, 22), "Salle C4")
    assert f"{session.first_day_start:%H:%M}" == "09:15"
    (entry,) = world.served.store.audit_trail(SESSION_ID)
    assert ("start", "15/03/2027", "22/03/2027") in entry.changes

    world.sync()
    days = world.exam_days(SESSION_ID)
    assert len(days) == 5
    # each exam day starts at first_day_start (no ``days:`` list): 22/03 to 26/03 at 09:15
    for number, day in enumerate(days):
        assert f"DTSTART;TZID=Indian/Reunion:202703{22 + number}T091500" in day, day
    assert all("LOCATION:Salle C4" in d for d in days), days
    assert not any("salle B12" in d for d in days)
    world.notify()
    update = world.mails_to("c.maillot@jury.example")[before:]
    assert update, "the jury gets an update"
    text = text_of(update[-1])
    assert (
        "Dates : du lundi 15 mars 2027 au vendredi 19 mars 2027 → du lundi 22 mars 2027 au "
        "vendredi 26 mars 2027"
    ) in text
    assert "Lieu : AFPAR Saint-André, salle B12 → Salle C4" in text
    assert "Horaires : de 8 h 30 à 18 h chaque jour → de 9 h 15 à 18 h chaque jour" in text
    assert any(
        str(m["Subject"]).startswith("Modification : ")
        for m in world.mails_to("p.fontaine@jury.example")
    )


def test_edit_preview_shows_a_held_invitation_then_the_sender_holds_it(
    world: World, page: Page
) -> None:
    """A habilitation that would end before the session: the preview says « Invitation
    retenue » with the reason and the new error; once written, the sender holds it too (no
    update to that juror, the coordinator is told)."""
    from playwright.sync_api import expect

    world.sync()
    world.notify()
    before = len(world.mails_to("c.maillot@jury.example"))
    told = len(world.mails_to("n.techer@afpar.example"))
    assert before
    base = world.served.base
    login(page, base)
    page.goto(f"{base}/sessions/{SESSION_ID}/modifier")
    page.fill("#jury_until_1", "01/03/2027")
    page.fill("#location", "Salle C4")
    page.get_by_role("button", name="Voir ce que la modification change").click()
    held = page.locator('#jury-news li[data-email="c.maillot@jury.example"]')
    expect(held).to_contain_text("Invitation retenue : l'habilitation de Corinne Maillot prend fin")
    expect(held).not_to_contain_text("recevra")
    fontaine = page.locator('#jury-news li[data-email="p.fontaine@jury.example"]')
    expect(fontaine).to_contain_text("recevra une mise à jour")
    expect(page.locator("#new-errors")).to_contain_text("[jury_habilitation_expired]")
    shot(page, "edit-preview-held")
    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("La modification est enregistrée")
    world.notify()
    assert len(world.mails_to("c.maillot@jury.example")) == before
    assert world.mails_to("p.fontaine@jury.example")
    hold = world.mails_to("n.techer@afpar.example")[told:]
    assert any("Invitation du jury retenue : Corinne Maillot" in str(m["Subject"]) for m in hold)


def test_two_tabs_the_second_gets_the_conflict(world: World, page: Page) -> None:
    from playwright.sync_api import expect

    base = world.served.base
    login(page, base)
    other = page.context.new_page()
    _edit_location(page, base, "Salle A1")
    _edit_location(other, base, "Salle C3")
    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("La modification est enregistrée")
    shot(page, "conflict-first-tab")
    other.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(other.locator("#conflict")).to_contain_text("rien n'a été enregistré")
    expect(other.locator("#current")).to_contain_text("Salle A1")
    expect(other.locator("#proposed")).to_contain_text("Salle C3")
    shot(other, "conflict")
    assert world.session(SESSION_ID).location == "Salle A1"
    assert len(world.served.store.audit_trail(SESSION_ID)) == 1

    world.sync()
    days = world.exam_days(SESSION_ID)
    assert len(days) == 5
    assert all("LOCATION:Salle A1" in d for d in days), days
    everything = [world.item(uid) or "" for uid in world.uids()]
    assert not any("Salle C3" in text for text in everything)


def test_duplicate_for_next_year(world: World, page: Page) -> None:
    from playwright.sync_api import expect

    copy = "sa-2028-03-st-andre"
    world.sync()
    world.notify()
    original = {uid: world.item(uid) for uid in world.session_uids(SESSION_ID)}
    assert f"{SESSION_ID}.exam_session@syncsvc" in original
    before = len(world.mails_to("c.maillot@jury.example"))
    base = world.served.base
    login(page, base)
    page.goto(f"{base}/sessions/{SESSION_ID}")
    page.get_by_role("link", name="Nouvelle session l'an prochain").click()
    expect(page.locator("#start")).to_have_value("13/03/2028")
    expect(page.locator("#end")).to_have_value("17/03/2028")
    expect(page.locator("#id")).to_have_value("")
    shot(page, "duplicate-form")
    page.get_by_role("button", name="Créer la session").click()
    expect(page).to_have_url(f"{base}/sessions/{copy}?cree=1")
    shot(page, "duplicate-done")
    session = world.session(copy)
    assert session.done == {}
    assert session.jury == world.session(SESSION_ID).jury

    world.sync()
    created = world.session_uids(copy)
    assert f"{copy}.exam_session@syncsvc" in created
    assert len(created) > 5, created  # the milestones too, not only the exam days
    exam = world.item(f"{copy}.exam_session@syncsvc")
    assert exam is not None
    assert "DTSTART;TZID=Indian/Reunion:20280313T083000" in exam
    assert {uid: world.item(uid) for uid in world.session_uids(SESSION_ID)} == original
    world.notify()
    for juror in ("c.maillot@jury.example", "p.fontaine@jury.example"):
        subjects = [str(m["Subject"]) for m in world.mails_to(juror)]
        assert any(
            s.startswith("Invitation : ") and s.endswith("— lundi 13 mars 2028") for s in subjects
        ), subjects
    news = world.mails_to("c.maillot@jury.example")[before:]
    assert all("2028" in str(m["Subject"]) for m in news), "nothing new about the original"


def test_postpone_updates_the_calendar_and_tells_the_jury(world: World, page: Page) -> None:
    from playwright.sync_api import expect

    world.sync()
    world.notify()
    assert world.mails_to("c.maillot@jury.example"), "invited before the postponement"
    before = len(world.mails_to("c.maillot@jury.example"))
    base = world.served.base
    login(page, base)
    page.goto(f"{base}/sessions/{SESSION_ID}")
    page.get_by_role("link", name="Reporter la session").click()
    page.fill("#start", "05/04/2027")
    page.fill("#end", "09/04/2027")
    page.fill("#reason", "Salle indisponible")
    shot(page, "postpone-form")
    page.get_by_role("button", name="Voir ce que le report change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce que le report va changer")
    expect(page.locator('#moves tr[data-milestone="exam_session"]')).to_contain_text("05/04/2027")
    expect(page.locator("#jury-news")).to_contain_text("recevra une mise à jour")
    shot(page, "postpone-preview")
    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Le report est enregistré")
    expect(page.locator("#historique")).to_contain_text("Salle indisponible")
    shot(page, "postpone-done")
    session = world.session(SESSION_ID)
    assert session.start == date(2027, 4, 5)
    assert session.postponed[-1].reason == "Salle indisponible"  # type: ignore[attr-defined, unused-ignore]
    (entry,) = world.served.store.audit_trail(SESSION_ID)
    assert (entry.action, entry.note) == ("postpone", "Salle indisponible")

    world.sync()
    exam = world.item(f"{SESSION_ID}.exam_session@syncsvc")
    assert exam is not None
    assert "20270405" in exam
    world.notify()
    update = world.mails_to("c.maillot@jury.example")[before:]
    assert update, "the jury gets an update"
    text = text_of(update[-1])
    assert (
        "Session reportée : du lundi 15 mars 2027 au vendredi 19 mars 2027 → du lundi 5 avril "
        "2027 au vendredi 9 avril 2027 (motif : Salle indisponible)"
    ) in text


def test_cancel_keeps_the_items_cancelled_and_tells_the_jury(world: World, page: Page) -> None:
    from playwright.sync_api import expect

    world.sync()
    world.notify()
    before = len(world.mails_to("c.maillot@jury.example"))
    base = world.served.base
    login(page, base)
    page.goto(f"{base}/sessions/{SESSION_ID}")
    page.get_by_role("link", name="Annuler la session").click()
    expect(page.locator("#ceres-ok")).to_contain_text("peut encore être supprimée dans CERES")
    page.fill("#reason", "Trop peu de candidats")
    shot(page, "cancel-form")
    page.get_by_role("button", name="Voir ce que l'annulation change").click()
    expect(page.locator("#jury-news")).to_contain_text("recevra une annulation")
    shot(page, "cancel-preview")
    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("L'annulation est enregistrée")
    shot(page, "cancel-done")
    cancelled = world.session(SESSION_ID).cancelled
    assert cancelled is not None
    assert cancelled.reason == "Trop peu de candidats"  # type: ignore[attr-defined, unused-ignore]
    (entry,) = world.served.store.audit_trail(SESSION_ID)
    assert (entry.action, entry.note) == ("cancel", "Trop peu de candidats")

    world.sync()
    exam = world.item(f"{SESSION_ID}.exam_session@syncsvc")
    assert exam is not None
    assert "STATUS:CANCELLED" in exam
    world.notify()
    cancel = world.mails_to("c.maillot@jury.example")[before:]
    (mail,) = cancel
    assert str(mail["Subject"]).startswith("Annulation : Session d'examen TP-00374")
    calendars = [p.get_content() for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert calendars
    assert "METHOD:CANCEL" in str(calendars[0])


def test_restore_shows_what_comes_back_asks_a_reason_then_invites_the_jury_again(
    world: World, page: Page
) -> None:
    """Cancelled from the dashboard, synced and told; then « Rétablir la session »: the page
    shows what comes back, the reason is required, the confirmation writes the file as it was
    before the cancellation; the items lose their cancelled mark and the jury is invited again."""
    from playwright.sync_api import expect

    path = world.config / "sessions" / f"{SESSION_ID}.yaml"
    original = path.read_text(encoding="utf-8")
    world.sync()
    world.notify()
    base = world.served.base
    login(page, base)
    page.goto(f"{base}/sessions/{SESSION_ID}")
    page.get_by_role("link", name="Annuler la session").click()
    page.fill("#reason", "Trop peu de candidats")
    page.get_by_role("button", name="Voir ce que l'annulation change").click()
    page.get_by_role("button", name="Confirmer et enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("L'annulation est enregistrée")
    world.sync()
    world.notify()
    exam = world.item(f"{SESSION_ID}.exam_session@syncsvc")
    assert exam is not None
    assert "STATUS:CANCELLED" in exam
    before = len(world.mails_to("c.maillot@jury.example"))

    page.get_by_role("link", name="Rétablir la session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rétablir la session SA 15/03")
    expect(page.locator('#resumed tr[data-milestone="exam_session"]')).to_contain_text("15/03/2027")
    expect(page.locator("#targets")).to_contain_text("coordination-st-andre")
    expect(page.locator('#jury-news li[data-email="c.maillot@jury.example"]')).to_contain_text(
        "recevra une invitation"
    )
    shot(page, "restore-preview")
    page.get_by_role("button", name="Rétablir la session").click()  # no reason yet
    expect(page.locator("#err-reason")).to_contain_text("motif obligatoire")
    shot(page, "restore-reason-missing")
    page.fill("#reason", "Candidats trouvés")
    page.get_by_role("button", name="Rétablir la session").click()
    expect(page.get_by_role("status")).to_contain_text("Le rétablissement est enregistré")
    expect(page.locator(".cancellation-history")).to_have_text(
        "Annulée le 08/02/2027 (Trop peu de candidats) puis rétablie le 08/02/2027 par Nathalie "
        "Técher : Candidats trouvés"
    )
    expect(page.locator("#cancellation-lifted")).to_have_count(0)
    expect(page.locator('#historique li[data-action="restore"]')).to_contain_text(
        "Candidats trouvés"
    )
    shot(page, "restore-done")
    assert path.read_text(encoding="utf-8") == original
    assert world.session(SESSION_ID).cancelled is None
    restored = world.served.store.audit_trail(SESSION_ID)[0]
    assert (restored.action, restored.note) == ("restore", "Candidats trouvés")

    world.sync()
    exam = world.item(f"{SESSION_ID}.exam_session@syncsvc")
    assert exam is not None
    assert "STATUS:CANCELLED" not in exam
    world.notify()
    (mail,) = world.mails_to("c.maillot@jury.example")[before:]
    assert str(mail["Subject"]).startswith("Invitation : Session d'examen TP-00374")
    calendars = [p.get_content() for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert calendars
    assert "METHOD:REQUEST" in str(calendars[0])


def test_retire_archives_the_file_then_the_items_leave_once_confirmed(
    world: World, page: Page
) -> None:
    from playwright.sync_api import expect

    world.sync()
    world.notify()
    before = len(world.mails_to("c.maillot@jury.example"))
    items = world.session_uids(SESSION_ID)
    others = world.uids() - items
    assert f"{SESSION_ID}.exam_session@syncsvc" in items
    assert any(u.startswith("ccp-ac-2027-05-st-andre.") for u in others)
    path = world.config / "sessions" / f"{SESSION_ID}.yaml"
    text = path.read_text(encoding="utf-8")
    base = world.served.base
    login(page, base)
    page.goto(f"{base}/sessions/{SESSION_ID}")
    page.get_by_role("link", name="Retirer (saisie par erreur)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirer la session SA 15/03")
    page.fill("#reason", "Saisie en double")
    shot(page, "retire-form")
    page.get_by_role("button", name="Retirer la session").click()
    expect(page.locator("#retired")).to_contain_text(f"archive/2027-02-08/{SESSION_ID}.yaml")
    expect(page.locator("#retired")).to_contain_text("attend d'être confirmée sur la page")
    shot(page, "retire-done")
    archived = world.config / "archive" / "2027-02-08" / f"{SESSION_ID}.yaml"
    assert not path.exists()
    assert archived.read_text(encoding="utf-8") == text
    (entry,) = world.served.store.audit_trail(SESSION_ID)
    assert (entry.action, entry.note) == ("archive", "Saisie en double")

    # The mass-delete guard holds the deletions (here more than half of the calendar's items):
    # the pass says so (exit code 1), the items stay, the calendars page asks for a confirmation.
    world.sync(code=1)
    assert world.session_uids(SESSION_ID) == items
    page.locator("#retired").get_by_role("link", name="« Calendriers »").click()
    held = page.locator("#held-coordination-st-andre")
    expect(held).to_contain_text(
        f"{len(items)} suppressions sur {len(items) + len(others)} éléments (plus de 50"
    )
    shot(page, "retire-held")
    held.get_by_role("button", name="Confirmer les suppressions").click()
    expect(page.get_by_role("status")).to_contain_text("Suppressions confirmées")
    shot(page, "retire-confirmed")
    world.sync()
    assert world.session_uids(SESSION_ID) == set()
    assert world.uids() == others

    world.notify()
    (mail,) = world.mails_to("c.maillot@jury.example")[before:]
    assert str(mail["Subject"]).startswith("Annulation : Session d'examen TP-00374")
    assert "n'est plus au planning du centre : votre participation est annulée" in text_of(mail)
    calendars = [p.get_content() for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert calendars
    assert "METHOD:CANCEL" in str(calendars[0])
    assert any("Annulation" in str(m["Subject"]) for m in world.mails_to("p.fontaine@jury.example"))


def test_a_coordinator_is_refused_on_another_centre(roles: Served, page: Page) -> None:
    from playwright.sync_api import expect

    login(page, roles.base)
    page.goto(f"{roles.base}/sessions/{TEE}")
    expect(page.get_by_role("link", name="Modifier", exact=True)).to_be_visible()
    page.goto(f"{roles.base}/sessions/{SESSION_ID}")
    expect(page.get_by_role("link", name="Modifier", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Marquer fait")).to_have_count(0)
    response = page.goto(f"{roles.base}/sessions/{SESSION_ID}/modifier")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Centre d'un autre coordinateur")
    shot(page, "refused-403")


def test_a_viewer_sees_no_edit_button(roles: Served, page: Page) -> None:
    from playwright.sync_api import expect

    login(page, roles.base, OTHER, OTHER_PASSWORD)
    expect(page.get_by_role("link", name="Nouvelle session")).to_have_count(0)
    page.goto(f"{roles.base}/sessions/{TEE}")
    expect(page.locator("#session-actions")).to_have_count(0)
    expect(page.get_by_role("button", name="Marquer fait")).to_have_count(0)
    response = page.goto(f"{roles.base}/sessions/{TEE}/annuler")
    assert response is not None
    assert response.status == 403
    shot(page, "viewer")
