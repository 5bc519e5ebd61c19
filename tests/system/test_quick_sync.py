"""`syncsvc sync` when nothing changed: one request, nothing loaded, planned or rendered.

And the other side of the shortcut, the one that matters for trust: every kind of change —
a session file, a mark, the day, the settings, an item edited or deleted on the server, the
store, a broken file — makes the next sync a full pass, which does what it always did.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import syncsvc.app.quick as quick
from syncsvc.app.desired import Renderer
from syncsvc.app.fence import Fence
from syncsvc.app.sync import Syncer
from syncsvc.cli import main
from syncsvc.inputs.settings import load_settings
from syncsvc.state.store import Store
from tests.harness.servers import CalDAVServer, radicale_server
from tests.system.test_cli_sync import write_config

NOW = "2026-11-23"
UID = "sa-2027-03-st-andre.dte_order@syncsvc"


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[CalDAVServer]:
    with radicale_server(tmp_path / "radicale") as server:
        yield server


class Runs:
    """``syncsvc sync --once`` in-process, counting the full passes (the planner's way)."""

    def __init__(self, config: Path, capsys: pytest.CaptureFixture[str], server: CalDAVServer):
        self.config, self.capsys, self.server = config, capsys, server
        self.full = 0
        self.out = self.err = ""

    def sync(self, *extra: str, now: str = NOW) -> int:
        self.server.proxy.reset()
        code = main(["sync", "--once", "--config", str(self.config), "--now", now, *extra])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code

    def item_url(self, uid: str = UID) -> str:
        return f"{self.server.home_url}examens-st-andre/{uid.replace('@', '%40')}.ics"


@pytest.fixture
def runs(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Runs:
    monkeypatch.setenv("TEST_CALDAV_PASSWORD", radicale.password)
    monkeypatch.chdir(tmp_path)
    found = Runs(write_config(tmp_path, radicale), capsys, radicale)
    original = Syncer.sync_all

    def counted(self: Syncer, *args: Any, **kwargs: Any) -> Any:
        found.full += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Syncer, "sync_all", counted)
    assert found.sync() == 0
    assert found.full == 1
    assert "40 création(s)" in found.out
    return found


def test_nothing_changed_costs_one_report_and_no_pass(runs: Runs) -> None:
    assert runs.sync() == 0
    assert runs.full == 1  # no new full pass: nothing loaded, planned or rendered
    assert "0 création(s), 0 mise(s) à jour, 0 suppression(s), 40 inchangé(s)" in runs.out
    assert dict(runs.server.proxy.counts) == {"REPORT": 1}
    assert runs.sync() == 0  # and again: the token it recorded is good
    assert runs.full == 1
    assert dict(runs.server.proxy.counts) == {"REPORT": 1}


HEAVY = ("sqlalchemy", "httpx", "pydantic", "holidays", "icalendar", "yaml", "ruamel")
PROBE = (
    "import sys\n"
    "from syncsvc.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "loaded = {m.split('.')[0] for m, v in sys.modules.items() if v}  # None: marked absent\n"
    f"print('heavy:', sorted(loaded & set({HEAVY!r})))\n"
    "sys.exit(code)\n"
)


def test_nothing_changed_imports_no_heavy_library(runs: Runs, tmp_path: Path) -> None:
    """Issue 16: the whole process of a no-op sync — no SQL toolkit, HTTP client, settings
    validation, planner or iCalendar library (see syncsvc.app.unchanged)."""
    env = {**os.environ, "TEST_CALDAV_PASSWORD": runs.server.password}
    argv = ["sync", "--once", "--config", str(runs.config), "--now", NOW]
    runs.server.proxy.reset()
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
    assert "0 création(s), 0 mise(s) à jour, 0 suppression(s), 40 inchangé(s)" in done.stdout
    assert "heavy: []" in done.stdout
    assert dict(runs.server.proxy.counts) == {"REPORT": 1}
    runs.server.proxy.reset()
    (runs.config / "sessions" / "sa-2027-03-st-andre.yaml").write_text(
        (runs.config / "sessions" / "sa-2027-03-st-andre.yaml").read_text() + "\n# vu\n"
    )
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
    assert done.returncode == 0, done.stderr  # a file changed: only its session is rendered
    assert "heavy: []" not in done.stdout


def test_without_the_bare_shortcut_the_store_s_own_check_holds(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store the bare shortcut declines (PostgreSQL, say): the full store checks the same
    stamp, with one request and no full pass either."""
    declined: list[object] = []
    monkeypatch.setattr("syncsvc.app.unchanged.unchanged_sync", lambda *a, **k: declined.append(a))
    assert runs.sync() == 0
    assert declined
    assert runs.full == 1
    assert "40 inchangé(s)" in runs.out
    assert dict(runs.server.proxy.counts) == {"REPORT": 1}


def test_nothing_changed_is_still_refused_while_the_service_runs(
    runs: Runs, tmp_path: Path
) -> None:
    """The shortcut takes the instance lease first: with the service active on the store,
    `sync` is refused as always, and the server is not even asked."""
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    service = Fence.take(store, 60)  # the lease and its lock file, as `syncsvc run` holds them
    assert service is not None
    try:
        assert runs.sync() == 2
        assert "le service (syncsvc run) est actif" in runs.err
        assert dict(runs.server.proxy.counts) == {}
    finally:
        service.give_back()
        store.close()
    assert runs.sync() == 0
    assert "40 inchangé(s)" in runs.out


def test_an_edited_session_file_is_synced_alone(runs: Runs) -> None:
    """Only the session files changed: no full pass, that session alone is written (see
    tests/system/test_changed_sync.py), and its new state is stamped in turn."""
    path = runs.config / "sessions/sa-2027-03-st-andre.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("start: 2027-03-15", "start: 2027-03-22")
        .replace("end: 2027-03-19", "end: 2027-03-26"),
        encoding="utf-8",
    )
    assert runs.sync() == 0
    assert runs.full == 1
    assert runs.server.proxy.counts["PUT"] > 0
    assert runs.sync() == 0
    assert runs.full == 1
    assert dict(runs.server.proxy.counts) == {"REPORT": 1}


def test_a_broken_file_is_reported_on_every_sync(runs: Runs) -> None:
    """A pass that leaves something aside records no stamp: the problem is printed each time
    (the shortcut would hide it) and the broken session's items are kept."""
    path = runs.config / "sessions/sa-2027-03-st-andre.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  : : [\n", encoding="utf-8")
    for expected_full in (2, 3):
        assert runs.sync() == 0
        assert runs.full == expected_full
        assert "sa-2027-03-st-andre.yaml" in runs.err
        assert runs.server.proxy.counts["DELETE"] == 0


def test_a_done_mark_makes_a_full_pass(runs: Runs) -> None:
    assert (
        main(
            ["done", "sa-2027-03-st-andre", "dte_order", "--config", str(runs.config), "--now", NOW]
        )
        == 0
    )
    runs.capsys.readouterr()
    runs.full = 0
    assert runs.sync() == 0  # `done` synced the targets itself, without a stamp
    assert runs.full == 1
    assert runs.sync() == 0
    assert runs.full == 1


def test_the_next_day_makes_a_full_pass(runs: Runs) -> None:
    assert runs.sync(now="2026-11-24") == 0
    assert runs.full == 2
    assert runs.sync(now="2026-11-24") == 0
    assert runs.full == 2


def test_changed_settings_make_a_full_pass(runs: Runs) -> None:
    settings = runs.config / "syncsvc.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            'audience = "coordinators:afpar-st-andre"',
            'audience = "coordinators:afpar-st-andre"\ndisplay_name = "Examens Saint-André"',
        ),
        encoding="utf-8",
    )
    assert runs.sync() == 0
    assert runs.full == 2


@pytest.mark.parametrize("how", ["edited", "deleted"])
def test_an_item_changed_on_the_server_is_restored(
    runs: Runs, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restored by a full pass that renders the item's session alone (issue 16: the other
    sessions' fingerprints hold)."""
    rendered: set[str] = set()
    original = Renderer._session

    def counted(self: Renderer, target: Any, session: Any, *args: Any) -> Any:
        rendered.add(session.id)
        return original(self, target, session, *args)

    monkeypatch.setattr(Renderer, "_session", counted)
    auth = (runs.server.username, runs.server.password)
    url = runs.item_url()
    if how == "edited":
        body = httpx.get(url, auth=auth).text.replace("SUMMARY:", "SUMMARY:modifié à la main ")
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        assert httpx.put(url, content=body.encode(), headers=headers, auth=auth).is_success
    else:
        assert httpx.delete(url, auth=auth).is_success
    assert runs.sync() == 0
    assert runs.full == 2
    written = [status for method, _, status in runs.server.proxy.log if method == "PUT"]
    assert written.count(204 if how == "edited" else 201) == 1
    assert "modifié à la main" not in httpx.get(url, auth=auth).text
    assert rendered == {"sa-2027-03-st-andre"}


def test_a_changed_store_makes_a_full_pass(runs: Runs, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.execute("DELETE FROM pushed_items WHERE uid = ?", (UID,))
    assert runs.sync() == 0
    assert runs.full == 2
    written = [status for method, _, status in runs.server.proxy.log if method == "PUT"]
    assert written.count(201) == 0  # ours on the server: found again, not created twice
    store = Store(load_settings(runs.config).store.url)
    try:
        assert UID in store.recorded("coordination-st-andre")
    finally:
        store.close()


def test_a_dry_run_never_takes_the_shortcut_nor_stamps(runs: Runs) -> None:
    assert runs.sync("--dry-run") == 0
    assert runs.full == 2
    assert "simulation" in runs.out
    assert runs.sync() == 0
    assert runs.full == 2  # the stamp of the real pass still holds


def test_the_code_is_part_of_the_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, runs: Runs
) -> None:
    """A new release (any file of the package changed) makes a full pass. A process takes
    the code's version once (code_version is cached): each sync here stands for a new
    process, hence the cache cleared before it."""
    package = tmp_path / "package"
    package.mkdir()
    (package / "formats.py").write_text("FORMAT_VERSION = 3\n")
    monkeypatch.setattr(quick, "PACKAGE", package)
    request.addfinalizer(quick.code_version.cache_clear)  # the next tests: the real package
    quick.code_version.cache_clear()
    assert runs.sync() == 0
    assert runs.full == 2  # another code: the stamp of the first pass does not hold
    quick.code_version.cache_clear()
    assert runs.sync() == 0
    assert runs.full == 2
    os.utime(package / "formats.py", ns=(1, 1))
    assert runs.sync() == 0
    assert runs.full == 2  # the same process: it runs the code it loaded
    quick.code_version.cache_clear()
    assert runs.sync() == 0
    assert runs.full == 3
