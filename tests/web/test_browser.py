"""In a real browser: Debian's Chromium, headless, driven by Playwright (its bundled driver).

Log in, open a session, mark an overdue milestone done, see it turn green; the store holds the
mark and the mailer's reminders for it stop. Screenshots of the dashboard and of the session
page are kept in ``test-artifacts/`` at the repository root.

Chromium comes from Debian (``apt-get install chromium``), never from ``playwright install``.
When it is missing: installed by the test when ``SYNCSVC_INSTALL_SYSTEM_DEPS=1`` (as root),
skipped on a developer's machine, a failure when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from syncsvc.app.notify import policy_of
from syncsvc.core.planner import plan_all
from syncsvc.core.reminders import Notification, due_notifications
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.harness.exclusive import one_at_a_time
from tests.web.conftest import NAME, NOW, PASSWORD, ROOT, SESSION_ID, USER, Served

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
APT_PACKAGES = ("chromium", "chromium-l10n")  # l10n: French date fields in the screenshots
ARTIFACTS = ROOT / "test-artifacts"
MILESTONE = "dte_order"
GREEN = "rgb(46, 125, 50)"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=fr-FR",  # date fields as jj/mm/aaaa when chromium-l10n is installed
]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser test must run)")
    pytest.skip(reason)


def _install_chromium() -> str:
    if os.environ.get("SYNCSVC_INSTALL_SYSTEM_DEPS") != "1":
        return "set SYNCSVC_INSTALL_SYSTEM_DEPS=1 (as root) to let the test install it"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "SYNCSVC_INSTALL_SYSTEM_DEPS=1 but not root or no apt-get: not installed"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    output = ""
    # Without the recommended packages (about half as many to unpack: udev, upower, perl, …;
    # the fonts come as dependencies), and `apt-get update` only when the lists are too old
    # for the install to succeed without it. Once per machine: the fixture sees it installed.
    install = ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    for argv in (install, ["apt-get", "update"], install):
        try:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=900, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"`{' '.join(argv)}` failed: {exc}"
        output = (done.stdout + done.stderr).strip()[-1500:]
        if argv is install and done.returncode == 0:
            break
    return f"`{' '.join(install)}`: {output}"


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        with one_at_a_time("apt"):  # another test process may be installing it
            note = "" if CHROMIUM.exists() else _install_chromium()
        if not CHROMIUM.exists():
            _unavailable(f"{CHROMIUM} is missing ({note})")
    return CHROMIUM


@pytest.fixture
def page(chromium: Path) -> Iterator[Page]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable(
            "playwright is not installed (pip install playwright; never `playwright install`)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium),
            args=CHROMIUM_ARGS,
            env={**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"},
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def _about_milestone(served: Served) -> list[Notification]:
    """The mailer's due notifications (mails of the day, weekly points) about MILESTONE."""
    config = load_config(served.config, load_ruleset(served.settings.ruleset))
    planned = plan_all(config, served.store.done_marks(), NOW)
    found = []
    for n in due_notifications(planned, policy_of(served.settings), NOW):
        about = [(i.owner, i.milestone.id) for i in n.items]
        about += [(e.owner, e.milestone.id) for e in (*n.overdue, *n.upcoming)]
        if (SESSION_ID, MILESTONE) in about:
            found.append(n)
    return found


def test_mark_done_in_the_browser_turns_green_and_stops_reminders(
    served: Served, page: Page
) -> None:
    from playwright.sync_api import expect

    assert _about_milestone(served), "the milestone should have reminders before"
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(served.base + "/")
    expect(page).to_have_url(f"{served.base}/login?next=%2F")
    page.get_by_label("Identifiant").fill(USER)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sessions d'examen")
    expect(page.locator("header .user")).to_have_text(NAME)
    expect(page.locator("table.sessions tbody tr")).to_have_count(5)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.locator(f"#s-{SESSION_ID} a").click()
    expect(page).to_have_url(f"{served.base}/sessions/{SESSION_ID}")
    row = page.locator(f"tr#m-{MILESTONE}")
    expect(row).to_have_attribute("data-status", "overdue")
    expect(row.locator(".badge")).to_have_text("En retard")
    page.locator(f"#note-{MILESTONE}").fill("Pli commandé, accusé de réception reçu")
    row.get_by_role("button", name="Marquer fait").click()

    expect(page.get_by_role("status")).to_contain_text("est marqué fait")
    row = page.locator(f"tr#m-{MILESTONE}")
    expect(row).to_have_attribute("data-status", "done")
    expect(row.locator(".badge")).to_have_text("Fait")
    expect(row.locator(".badge")).to_have_css("background-color", GREEN)
    expect(row.locator(".done-on")).to_contain_text("Fait le 08/02/2027")
    marker = page.locator(f'svg.timeline g[data-milestone="{MILESTONE}"]')
    expect(marker).to_have_attribute("data-status", "done")
    expect(marker.locator(".marker")).to_have_attribute("fill", "#2e7d32")
    page.screenshot(path=str(ARTIFACTS / "session.png"), full_page=True)

    assert served.store.done_marks()[SESSION_ID][MILESTONE] == NOW.date()
    assert _about_milestone(served) == []
