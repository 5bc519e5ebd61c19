"""Issue 16: `syncsvc sync` after some session files changed, and nothing else: only these
sessions are loaded, planned, rendered and written (syncsvc.app.changed), and the calendar
and the store end exactly as a full pass leaves them.

Two copies of the example configuration, each with its own store and its own calendar on one
Radicale: the same edit is synced through the shortcut on one, through the full pass on the
other (the shortcut switched off), and the items on the server, the store's records and the
next sync are compared. Anything the shortcut does not cover — a session moved to another
year, a change on the server, a file added — takes the full pass.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from lxml import etree

import syncsvc.app.unchanged as unchanged
from syncsvc.app.sync import Syncer
from syncsvc.cli import main
from tests.harness.servers import CalDAVServer, radicale_server

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-23"
SESSION = "sessions/sa-2027-03-st-andre.yaml"
TARGET = "coordination-st-andre"


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[CalDAVServer]:
    with radicale_server(tmp_path / "radicale") as server:
        yield server


class Rig:
    """One copy of the example configuration, its store, its calendar; ``sync`` runs
    ``syncsvc sync --once`` in-process and counts the full passes."""

    def __init__(self, root: Path, server: CalDAVServer, calendar: str) -> None:
        self.root, self.server, self.calendar = root, server, calendar
        self.config = root / "config"
        shutil.copytree(ROOT / "config", self.config)
        (self.config / "syncsvc.toml").write_text(
            f'[store]\nurl = "sqlite:///{root / "state.db"}"\n\n[[targets]]\n'
            f'name = "{TARGET}"\nkind = "caldav"\nurl = "{server.url}"\n'
            f'username = "{server.username}"\npassword_env = "TEST_CALDAV_PASSWORD"\n'
            f'calendar = "{calendar}"\naudience = "coordinators:afpar-st-andre"\n',
            encoding="utf-8",
        )
        self.full = 0
        self.out = self.err = ""

    def sync(self, capsys: pytest.CaptureFixture[str]) -> int:
        self.server.proxy.reset()
        code = main(["sync", "--once", "--config", str(self.config), "--now", NOW])
        captured = capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code

    def edit(self, change: Callable[[str], str], file: str = SESSION) -> None:
        path = self.config / file
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")

    def items(self) -> dict[str, bytes]:
        """Every item of the calendar, by file name, as the server holds it."""
        auth = (self.server.username, self.server.password)
        url = f"{self.server.home_url}{self.calendar}/"
        body = '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
        listing = httpx.request("PROPFIND", url, content=body, headers={"Depth": "1"}, auth=auth)
        hrefs = [e.text or "" for e in etree.fromstring(listing.content).iter("{DAV:}href")]
        found = {}
        for href in hrefs:
            if href.endswith(".ics"):
                name = unquote(href.rsplit("/", 1)[1])
                found[name] = httpx.get(f"{url}{href.rsplit('/', 1)[1]}", auth=auth).content
        return found

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.root / "state.db") as db:
            return [tuple(row) for row in db.execute(sql)]

    def records(self) -> list[tuple[Any, ...]]:
        """The pushed items, their address without the calendar's name."""
        rows = self.rows(
            "SELECT uid, session_id, milestone_id, href, etag, content_hash, sequence, "
            "pushed_at FROM pushed_items ORDER BY uid"
        )
        return [(*r[:3], r[3].rsplit("/", 1)[1], *r[4:]) for r in rows]

    def state(self) -> tuple[Any, ...]:
        [row] = self.rows(
            "SELECT inputs_stamp, stamp_zones, stamp_parts, last_error, held_fingerprint "
            "FROM target_state"
        )
        return row


@pytest.fixture
def rigs(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Rig, Rig]:
    """Two rigs synced once (full passes): ``quick`` takes the shortcut, ``full`` never does."""
    monkeypatch.setenv("TEST_CALDAV_PASSWORD", radicale.password)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    quick, full = Rig(tmp_path / "a", radicale, "quick"), Rig(tmp_path / "b", radicale, "full")
    original_sync_all, original_unchanged = Syncer.sync_all, unchanged.unchanged_sync

    def counted(self: Syncer, settings: Any, config: Any, *args: Any, **kwargs: Any) -> Any:
        rig = quick if config.directory == quick.config else full
        rig.full += 1
        return original_sync_all(self, settings, config, *args, **kwargs)

    def shortcut(config_dir: Path, *args: Any, **kwargs: Any) -> Any:
        if Path(config_dir) == full.config:
            return None  # the full rig: as if the shortcut did not exist
        return original_unchanged(config_dir, *args, **kwargs)

    monkeypatch.setattr(Syncer, "sync_all", counted)
    monkeypatch.setattr(unchanged, "unchanged_sync", shortcut)
    for rig in (quick, full):
        assert rig.sync(capsys) == 0, rig.err
        assert "40 création(s)" in rig.out
        assert rig.full == 1
    return quick, full


def _moved(text: str) -> str:
    return text.replace("start: 2027-03-15", "start: 2027-03-22").replace(
        "end: 2027-03-19", "end: 2027-03-26"
    )


EDITS: dict[str, Callable[[str], str]] = {
    "moved a week, another room": lambda t: _moved(t).replace("salle B12", "salle C4"),
    "one exam day less": lambda t: t.replace("end: 2027-03-19", "end: 2027-03-18"),
    "a comment only": lambda t: t + "\n# relu\n",
    "a juror replaced": lambda t: t.replace(
        'Patrick Fontaine", email: p.fontaine@', 'Paul Fontaine", email: paul.fontaine@'
    ),
}


@pytest.mark.parametrize("edit", EDITS)
def test_the_shortcut_leaves_what_the_full_pass_leaves(
    rigs: tuple[Rig, Rig], capsys: pytest.CaptureFixture[str], edit: str
) -> None:
    quick, full = rigs
    for rig in (quick, full):
        rig.edit(EDITS[edit])
        assert rig.sync(capsys) == 0, rig.err
    assert quick.full == 1  # no full pass: the shortcut took it
    assert full.full == 2
    assert quick.out.replace("quick", "") == full.out.replace("full", "")  # the same counts
    assert quick.items() == full.items()  # the same bytes on the server
    assert quick.records() == full.records()  # the same records (ETags included)
    fingerprints = "SELECT session_id, fingerprint FROM session_fingerprints ORDER BY 1"
    assert quick.rows(fingerprints) == full.rows(fingerprints)
    assert quick.state()[1:] == full.state()[1:]  # zones, parts, no error, nothing held
    assert quick.rows("SELECT count(*) FROM item_errors") == [(0,)]
    if edit == "a comment only":
        assert "PUT" not in quick.server.proxy.counts
    # The stamp recorded is the one a full pass records: the next sync is a no-op…
    for rig in (quick, full):
        assert rig.sync(capsys) == 0
        assert "0 création(s), 0 mise(s) à jour, 0 suppression(s)" in rig.out
        assert rig.server.proxy.counts["REPORT"] == 1
        assert rig.server.proxy.writes == 0
    assert quick.full == 1


def test_a_full_pass_after_the_shortcut_writes_nothing_and_stamps_the_same(
    rigs: tuple[Rig, Rig], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    quick, _ = rigs
    quick.edit(EDITS["moved a week, another room"])
    assert quick.sync(capsys) == 0
    assert quick.full == 1
    stamped = quick.state()
    monkeypatch.setattr(unchanged, "unchanged_sync", lambda *a, **k: None)
    assert quick.sync(capsys) == 0  # the full store's check: the stamp it computes holds
    assert quick.full == 1
    assert dict(quick.server.proxy.counts) == {"REPORT": 1}
    monkeypatch.setattr("syncsvc.cli.service.stamp_holds", lambda *a: False)
    assert quick.sync(capsys) == 0  # a full pass: nothing to write, the same stamp
    assert quick.full == 2
    assert "0 création(s), 0 mise(s) à jour, 0 suppression(s)" in quick.out
    assert quick.server.proxy.writes == 0
    assert quick.state() == stamped


@pytest.mark.parametrize(
    "how",
    ["another year", "a file added", "a file removed", "an item changed on the server"],
)
def test_anything_else_takes_the_full_pass(
    rigs: tuple[Rig, Rig], capsys: pytest.CaptureFixture[str], how: str
) -> None:
    quick, _ = rigs
    if how == "another year":  # the centre's yearly items may change with it
        quick.edit(
            lambda t: t.replace("start: 2027-03-15", "start: 2028-03-13").replace(
                "end: 2027-03-19", "end: 2028-03-17"
            )
        )
    elif how == "a file added":
        quick.edit(_moved)
        source = quick.config / SESSION
        copy = source.read_text(encoding="utf-8").replace(
            "id: sa-2027-03-st-andre", "id: sa-2027-09-st-andre"
        )
        (quick.config / "sessions/sa-2027-09-st-andre.yaml").write_text(copy, encoding="utf-8")
    elif how == "a file removed":
        quick.edit(_moved)
        (quick.config / "sessions/ccp-ac-2027-05-st-andre.yaml").unlink()
    else:
        quick.edit(_moved)
        auth = (quick.server.username, quick.server.password)
        url = f"{quick.server.home_url}quick/"
        [name] = [n for n in quick.items() if n.startswith("ccp-ac-2027-05-st-andre.")][:1]
        assert httpx.delete(f"{url}{name.replace('@', '%40')}", auth=auth).is_success
    if how == "a file removed":  # its items: deletions held until a person confirms them
        assert quick.sync(capsys) == 1
        assert "suppressions en attente de confirmation" in quick.out
    else:
        assert quick.sync(capsys) == 0, quick.err
    assert quick.full == 2


HEAVY = ("sqlalchemy", "httpx", "holidays", "icalendar")
"""The SQL toolkit, the keep-alive HTTP library, the public holidays package and the iCalendar
library (the stamped pass recorded the years and the time zones it computed:
syncsvc.app.quick.remember_computed; items are written without the library)."""
PROBE = (
    "import sys\n"
    "from syncsvc.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "loaded = {m.split('.')[0] for m, v in sys.modules.items() if v}  # None: marked absent\n"
    f"print('heavy:', sorted(loaded & set({HEAVY!r})))\n"
    "sys.exit(code)\n"
)


def test_the_shortcut_imports_no_sql_toolkit_http_library_holidays_nor_icalendar(
    rigs: tuple[Rig, Rig], tmp_path: Path
) -> None:
    quick, _ = rigs
    quick.edit(EDITS["moved a week, another room"])
    env = {**os.environ, "TEST_CALDAV_PASSWORD": quick.server.password}
    quick.server.proxy.reset()
    argv = ["sync", "--once", "--config", str(quick.config), "--now", NOW]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "0 création(s), 21 mise(s) à jour, 0 suppression(s)" in done.stdout
    assert "heavy: []" in done.stdout
    assert dict(quick.server.proxy.counts) == {"REPORT": 1, "PUT": 21}
