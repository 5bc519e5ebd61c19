"""Issue 12: « the Calendriers page shows only the server root, not each calendar's own URL to
paste into Thunderbird/DAVx5/Apple Calendar », and « the README says ‹ sans mot de passe › but
clients send an empty password that is refused » (the demo's Radicale)."""

from __future__ import annotations

import base64
import html
import re
import shutil
from pathlib import Path

import httpx
import pytest

from syncsvc import demo
from syncsvc.cli import main
from tests.harness.servers import free_port, radicale_server
from tests.web.conftest import ROOT, SECRET, SECRET_ENV, serve

PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:">'
    "<d:prop><d:resourcetype/><d:displayname/></d:prop></d:propfind>"
)
CALENDARS = {
    "coordination-st-andre": ("examens-st-andre", "coordinators:afpar-st-andre"),
    "coordination-venissieux": ("examens-venissieux", "coordinators:greta-lyon-venissieux"),
}


def _propfind(url: str, auth: tuple[str, str] | None) -> httpx.Response:
    return httpx.request(
        "PROPFIND",
        url,
        content=PROPFIND,
        headers={"Depth": "0", "Content-Type": "application/xml"},
        auth=auth,
        timeout=30,
    )


def _settings(config: Path, tmp_path: Path, url: str) -> None:
    targets = "".join(
        f'[[targets]]\nname = "{name}"\nkind = "caldav"\nurl = "{url}"\n'
        f'username = "coordination"\npassword_env = "TEST_CALENDARS_PASSWORD"\n'
        f'calendar = "{calendar}"\naudience = "{audience}"\n\n'
        for name, (calendar, audience) in CALENDARS.items()
    )
    (config / "syncsvc.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "state.db"}"\n\n{targets}', encoding="utf-8"
    )


def _row(page: str, name: str) -> str:
    found = re.search(rf'<tr id="t-{name}">.*?</tr>', page, re.S)
    assert found is not None, name
    return html.unescape(found.group(0))


def test_the_calendars_page_gives_each_calendars_own_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    with radicale_server(tmp_path) as server:
        monkeypatch.setenv("TEST_CALENDARS_PASSWORD", server.password or "")
        _settings(config, tmp_path, server.url)
        # Before the first synchronisation: the server, and when the address will be known.
        with serve(tmp_path) as running, running.logged_in() as client:
            before = client.get("/targets").text
        row = _row(before, "coordination-st-andre")
        assert "connue après la première synchronisation" in row
        assert server.calendar_url("examens-st-andre") not in row

        assert main(["sync", "--once", "--config", str(config), "--now", "2027-02-08"]) == 0

        with serve(tmp_path) as running, running.logged_in() as client:
            page = client.get("/targets").text
        for name, (calendar, _) in CALENDARS.items():
            url = server.calendar_url(calendar)
            row = _row(page, name)
            assert f'<code class="url">{url}</code>' in row, row
            assert "Thunderbird" in html.unescape(page)
            # the address is the calendar itself: a CalDAV client finds a calendar there
            answer = _propfind(url, server.auth)
            assert answer.status_code == 207
            assert "calendar" in answer.text
            assert "resourcetype" in answer.text


def test_a_calendar_given_by_its_full_address_is_shown_before_any_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "syncsvc.toml").write_text(
        '[[targets]]\nname = "complet"\nkind = "caldav"\n'
        'url = "https://dav.example.org/remote.php/dav/"\nusername = "coordination"\n'
        'calendar = "/remote.php/dav/calendars/coordination/examens/"\naudience = "all"\n',
        encoding="utf-8",
    )
    with serve(tmp_path) as running, running.logged_in() as client:
        page = client.get("/targets").text
    assert (
        '<code class="url">https://dav.example.org/remote.php/dav/calendars/coordination/examens/'
        "</code>" in _row(page, "complet")
    )


def _readme_demo_credentials() -> tuple[str, str]:
    """The demo calendar's user and password, as the README gives them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("`make run` démarre") :].split("\n\n")[0]
    text = " ".join(paragraph.split())
    found = re.search(
        r"serveur CalDAV local \(Radicale, `http://127\.0\.0\.1:5232/`, utilisateur `(\w+)`, "
        r"mot de passe `(\w+)`",
        text,
    )
    assert found is not None, "the README no longer gives the demo calendar's credentials"
    assert "sans mot de passe" not in text
    return found.group(1), found.group(2)


def test_a_client_with_the_readmes_credentials_reaches_the_demo_calendar(tmp_path: Path) -> None:
    """Reported: the README said « sans mot de passe » but an empty password was refused."""
    user, password = _readme_demo_credentials()
    port = free_port()
    with demo.radicale(tmp_path / "var", port) as url:
        home = f"{url}{user}/"
        assert _propfind(home, (user, password)).status_code == 207
        # what a client sends when it is told « no password »: refused, as the README says
        assert _propfind(home, (user, "")).status_code == 401
        assert _propfind(home, None).status_code == 401
        # the manager's demo calendar account too (config/syncsvc.toml: username chabert)
        assert _propfind(f"{url}chabert/", ("chabert", password)).status_code == 207
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        assert token  # the Basic credentials a client builds from the README
