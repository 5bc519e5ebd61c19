"""In a real browser (Debian's Chromium through Playwright): a coordinator finds a convened
person's agenda link in the « Agendas personnels » part of the « Annuaire du jury » page, and
replaces it with « Nouveau lien »; the old link then answers 404, the new one the person's
calendar (``[feeds] per_person = true``; tests/harness/convened.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar

from tests.harness.convened import LINE, convened_config
from tests.web.conftest import PASSWORD, SECRET, SECRET_ENV, USER, Served, serve
from tests.web.test_browser_config import ARTIFACTS, chromium, log_in, page
from tests.web.test_person_feeds import per_person

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["chromium", "page"]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    convened_config(tmp_path)
    with serve(tmp_path, per_person) as running:
        yield running


def test_a_coordinator_copies_and_renews_a_person_s_agenda_link(served: Served, page: Page) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, served, USER, PASSWORD)
    page.get_by_role("link", name="Annuaire du jury").click()
    part = page.locator("#agendas")
    expect(part.get_by_role("heading", level=2)).to_contain_text("Agendas personnels")
    row = part.locator(f'tr[data-person="{LINE}"]')
    expect(row.locator("th")).to_have_text("Line Hoarau")
    expect(row.locator(".convened")).to_contain_text("surveillant(e)")
    expect(row.locator(".convened")).to_contain_text("jury")
    expect(row.locator(".convened")).to_contain_text("comédien")
    old = row.locator(".feed-url").inner_text()
    assert old.startswith("https://examens.example.org/feeds/")
    page.screenshot(path=str(ARTIFACTS / "annuaire-jury-agendas.png"), full_page=True)

    row.get_by_role("button", name="Nouveau lien").click()
    expect(page.get_by_role("status")).to_contain_text(f"Nouveau lien d'agenda pour {LINE}")
    new = page.locator(f'#agendas tr[data-person="{LINE}"] .feed-url').inner_text()
    assert new != old
    with httpx.Client(base_url=served.base, timeout=30) as client:
        assert client.get(urlsplit(old).path).status_code == 404
        answer = client.get(urlsplit(new).path)
    assert answer.status_code == 200
    assert len(Calendar.from_ical(answer.content).walk("VEVENT")) == 15
    (entry,) = served.store.audit_trail()
    assert entry.action == "person_feed_rotate"
