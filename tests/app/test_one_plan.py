"""Issue « one plan, one meaning of --now, a mark reaches the calendars at once ».

Every face plans with the same marks and reads ``--now`` the same way; marking a milestone done
updates the calendars that show it without waiting for the next periodic pass.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syncsvc.app.sync import Syncer
from syncsvc.cli import main
from syncsvc.core.clock import instant, local_moment, local_today
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import Settings, TargetSettings
from syncsvc.state.store import Store
from tests.harness.memory_target import MemoryTarget

ROOT = Path(__file__).resolve().parents[2]
SA = "sa-2027-03-st-andre"
MARTINIQUE = ZoneInfo("America/Martinique")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example configuration, run from its own folder (its store lives there)."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNCSVC_SETTINGS", raising=False)
    return tmp_path / "config"


def json_rows(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["plan", "--format", "json", *args]) in (0, 1)
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def row(rows: list[dict[str, object]], milestone: str) -> dict[str, object]:
    return next(r for r in rows if r["session"] == SA and r["milestone"] == milestone)


# --- 1. one plan -----------------------------------------------------------------------------


def test_plan_and_validate_see_a_mark_made_with_done(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: ``syncsvc done sa-2027-03-st-andre dte_order``, then ``plan --format json``
    still said due_soon and ``validate --now 2027-03-01`` reported it overdue."""
    before = row(json_rows(capsys, "--config", str(config), "--now", "2026-12-07"), "dte_order")
    assert before["status"] == "due_soon"
    args = ["--config", str(config), "--now", "2026-12-07"]
    assert main(["done", SA, "dte_order", "--by", "Nathalie", *args]) == 0
    capsys.readouterr()
    after = row(json_rows(capsys, *args), "dte_order")
    assert after["status"] == "done"
    assert after["done_on"] == "2026-12-07"

    assert main(["validate", "--config", str(config), "--now", "2027-03-01"]) == 0
    sa_lines = [
        line for line in capsys.readouterr().out.splitlines() if f"sessions/{SA}.yaml:" in line
    ]
    assert not [line for line in sa_lines if "[overdue:dte_order]" in line]
    assert [line for line in sa_lines if "[overdue:ud_session_declaration]" in line]


def test_plan_on_a_fresh_machine_creates_no_store(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    json_rows(capsys, "--config", str(config), "--now", "2026-12-07")
    assert not (config.parent / "var").exists()


# --- 2. one meaning of --now -----------------------------------------------------------------


def test_a_date_is_each_centres_local_day_everywhere() -> None:
    day = date(2027, 1, 20)
    assert local_today(day, MARTINIQUE) == day
    assert local_moment(day, MARTINIQUE) == datetime(2027, 1, 20, tzinfo=MARTINIQUE)


def test_a_naive_date_time_is_that_wall_clock_time_in_each_centre() -> None:
    naive = datetime(2027, 1, 20, 9, 0)  # noqa: DTZ001 - a wall-clock time, on purpose
    assert local_moment(naive, MARTINIQUE) == datetime(2027, 1, 20, 9, 0, tzinfo=MARTINIQUE)
    reunion = ZoneInfo("Indian/Reunion")
    assert local_moment(naive, reunion).utcoffset() != local_moment(naive, MARTINIQUE).utcoffset()
    assert local_today(naive, reunion) == date(2027, 1, 20)


def test_an_aware_date_time_is_that_instant() -> None:
    moment = datetime(2027, 1, 20, 3, 0, tzinfo=ZoneInfo("UTC"))
    assert local_today(moment, MARTINIQUE) == date(2027, 1, 19)
    assert instant(moment) == moment


def test_the_cli_accepts_a_date_time_without_offset(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json_rows(capsys, "--config", str(config), "--now", "2026-12-11T10:00")
    assert row(rows, "dte_order")["status"] == "due_soon"  # due that day, not overdue


def test_sync_reads_a_date_as_the_centres_day_not_midnight_utc(tmp_path: Path) -> None:
    """Reported: ``sync``/``notify`` read ``--now 2027-01-20`` as midnight UTC, so a Martinique
    centre was still on 2027-01-19. Here a milestone due 2027-01-20 in Martinique must be
    overdue on 2027-01-21, as ``plan`` says."""
    folder = tmp_path / "config"
    (folder / "sessions").mkdir(parents=True)
    (folder / "centres.yaml").write_text(
        "fwi:\n  name: Centre Martinique\n  timezone: America/Martinique\n"
        '  holiday_zone: "972"\n  exam_office_email: examens@fwi.example\n'
        "  ud_email: ud@deets.example\n  sector: tertiaire\n"
        "  agrements: [{title_code: TP-00374, until: 2030-12-31, max_candidates: 15}]\n",
        encoding="utf-8",
    )
    (folder / "sessions" / "sa-fwi.yaml").write_text(
        "id: sa-fwi\ntitle: {code: TP-00374, acronym: SA, label: Secrétaire assistant}\n"
        "nature: titre\ncentre: fwi\nstart: 2027-04-22\nend: 2027-04-23\n"
        'first_day_start: "08:00"\ncandidates: {training: 5}\n'
        "session_manager: {name: Jean, email: jean@fwi.example}\n"
        "coordinators: [{name: Anne, email: anne@fwi.example}]\n",
        encoding="utf-8",
    )
    config = load_config(folder)
    assert not config.problems
    target = TargetSettings(
        name="memoire", kind="caldav", url="http://x/", calendar="c", audience="coordinators:fwi"
    )
    settings = Settings(targets=(target,))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    memory = MemoryTarget()
    Syncer(store).sync_all(settings, config, date(2027, 1, 21), targets={"memoire": memory})
    dte = memory.items["sa-fwi.dte_order@syncsvc"].entry
    assert dte.start == date(2027, 1, 20)
    assert dte.status == "overdue"
    assert dte.summary.startswith("⚠ ")
    store.close()


# --- 3. a mark reaches the calendars at once -----------------------------------------------
# (``done`` on the command line against a real Radicale: tests/system/test_cli_sync.py)


def test_a_mark_from_another_process_wakes_the_daemon(tmp_path: Path) -> None:
    """The daemon's watch job notices a mark made by ``syncsvc done`` (another process, same
    store) and asks for a reconcile at once, as it does for a file edit."""
    from syncsvc.daemon import Daemon

    (tmp_path / "config").mkdir()
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    daemon = Daemon(tmp_path / "config", Settings(), store, serve_web=False)
    asked: list[str] = []
    daemon.request_reconcile = lambda: asked.append("reconcile")  # type: ignore[method-assign]
    daemon.watch()
    assert asked == []
    store.mark_done(SA, "dte_order", date(2026, 12, 7), "cli", None, instant(date(2026, 12, 7)))
    daemon.watch()
    assert asked == ["reconcile"]
    daemon.watch()
    assert asked == ["reconcile"]  # once per change
    store.mark_undone(SA, "dte_order")
    daemon.watch()
    assert asked == ["reconcile", "reconcile"]
    store.close()
