"""Issue 11, « annual programming », as the calendars and feeds get it: four sessions of one
centre in 2027 gave four identical « Programmation prévisionnelle » events on 29/01 in the
coordinators' calendar; now one item per centre and year, and its own deletion policy.

Deletion policy of a centre's yearly item (see syncsvc.app.desired.spare_centre_items): no
session protects it (it is updated while a session file is broken), it leaves a calendar when
its centre has no session left that year, but never while a session file fails to load.
"""

from __future__ import annotations

import email
import email.policy
import shutil
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from syncsvc.app.feeds import FeedPublisher
from syncsvc.app.notify import notify
from syncsvc.app.sync import Syncer
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import MailSettings, Settings, TargetSettings
from syncsvc.inputs.watcher import ConfigSource
from syncsvc.state.store import Store
from tests.harness.memory_target import MemoryTarget

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
UID = "afpar-st-andre.annual_programming.2027@syncsvc"
STARTS = ("2027-03-15", "2027-05-10", "2027-06-07", "2027-11-22")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """The example's centres with four Saint-André sessions in 2027."""
    folder = tmp_path / "config"
    (folder / "sessions").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "centres.yaml", folder / "centres.yaml")
    text = (ROOT / "config" / "sessions" / "sa-2027-03-st-andre.yaml").read_text("utf-8")
    for n, start in enumerate(STARTS, start=1):
        session = text.replace("id: sa-2027-03-st-andre", f"id: sa-{n}-st-andre")
        session = session.replace("start: 2027-03-15", f"start: {start}")
        session = session.replace("end: 2027-03-19", f"end: {start}")
        (folder / "sessions" / f"sa-{n}-st-andre.yaml").write_text(session, "utf-8")
    return folder


def settings_for(tmp_path: Path, *targets: TargetSettings) -> Settings:
    return Settings(
        targets=targets, mail=MailSettings(transport="maildir", maildir=tmp_path / "mail")
    )


def caldav(name: str, audience: str) -> TargetSettings:
    return TargetSettings(
        name=name, kind="caldav", url="http://x/", calendar="c", audience=audience
    )


def programming(memory: MemoryTarget) -> list[str]:
    return sorted(uid for uid in memory.items if "annual_programming" in uid)


def test_one_item_per_centre_and_year_in_the_coordinators_calendar(
    config_dir: Path, tmp_path: Path
) -> None:
    config = load_config(config_dir)
    assert not config.problems
    coordination, manager = MemoryTarget(), MemoryTarget()
    settings = settings_for(
        tmp_path,
        caldav("coordination", "coordinators:afpar-st-andre"),
        caldav("responsable", "session_manager:jl.hoarau@afpar.example"),
    )
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    try:
        targets = {"coordination": coordination, "responsable": manager}
        reports = Syncer(store).sync_all(settings, config, NOW, targets=targets)
        assert all(r.ok for r in reports), [r.errors for r in reports]
        assert programming(coordination) == [UID]  # was 4 items, one per session
        item = coordination.items[UID]
        assert item.entry.session_id == "centre:afpar-st-andre:2027"
        assert item.entry.start.isoformat() == "2027-01-29"
        assert programming(manager) == []
        recorded = store.recorded("coordination")[UID]
        assert recorded.session_id == "centre:afpar-st-andre:2027"
    finally:
        store.close()


def test_kept_while_a_session_file_is_broken_deleted_when_no_session_is_left(
    config_dir: Path, tmp_path: Path
) -> None:
    memory = MemoryTarget()
    settings = settings_for(tmp_path, caldav("coordination", "coordinators:afpar-st-andre"))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    syncer = Syncer(store, force=True)

    def sync(now: datetime = NOW) -> None:
        report = syncer.sync_all(
            settings, load_config(config_dir), now, targets={"coordination": memory}
        )
        assert report[0].ok, report[0].errors

    try:
        sync()
        assert programming(memory) == [UID]
        sessions = sorted((config_dir / "sessions").glob("sa-*.yaml"))
        sessions[0].unlink()
        sessions[1].unlink()
        sessions[2].write_text("id: sa-3-st-andre\nstart: [\n", "utf-8")  # broken
        later = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
        sync(later)
        # no session protects it: brought up to date (overdue now) while a file is broken
        assert programming(memory) == [UID]
        assert memory.items[UID].entry.summary.startswith("⚠ ")
        sessions[3].unlink()
        sync(later)
        # the broken file may hold 2027's only session left: kept as it is
        assert programming(memory) == [UID]
        sessions[2].unlink()
        sync(later)
        assert programming(memory) == []  # no session left in 2027
    finally:
        store.close()


def test_the_feeds_publish_it_once(config_dir: Path, tmp_path: Path) -> None:
    feed = TargetSettings(name="flux", kind="feed", audience="coordinators:afpar-st-andre")
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    try:
        publisher = FeedPublisher(
            settings_for(tmp_path, feed),
            store,
            ConfigSource(config_dir, "tp-2025"),
            lambda: NOW,
        )
        body = publisher.feed(publisher.targets["flux"]).body
        assert body.count(b"UID:afpar-st-andre.annual_programming.2027@syncsvc\r\n") == 1
        assert body.count(b"X-SYNCSVC-MILESTONE:annual_programming\r\n") == 1
        assert b"X-SYNCSVC-SESSION:centre:afpar-st-andre:2027\r\n" in body
    finally:
        store.close()


def test_the_management_s_mail_of_the_day_carries_it_once(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through notify: once for the centre and year (not once per session), in the
    management's one mail of the day, without a « Marquer comme fait » link even where the
    sessions' milestones get one; run again, nothing more."""
    monkeypatch.setenv("SYNCSVC_SECRET_KEY", "clé")
    settings = Settings(
        mail=MailSettings(transport="maildir", maildir=tmp_path / "mail"),
        dashboard_url="https://examens.example.org",
    )
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    try:
        tuesday = datetime(2027, 2, 2, 5, 0, tzinfo=UTC)  # 09:00 in La Réunion, 2 days late
        report = notify(settings, load_config(config_dir), store, tuesday)
        assert report.failed == {}
        daily = [r for r in store.messages() if r.kind == "reminder"]
        assert max(Counter(r.key.rpartition(":")[2] for r in daily).values()) == 1
        direction = "direction.st-andre@afpar.example"
        (row,) = [r for r in daily if direction in r.recipient]
        assert (row.key, row.session_id, row.milestone_id) == (
            f"daily:2027-02-02:{direction}",
            None,  # a centre year is no session
            "annual_programming",
        )
        assert row.subject == (
            "[AFPAR Saint-André] EN RETARD : Programmation prévisionnelle des sessions de "
            "l'année (échéance du 29/01)"
        )
        message = email.message_from_bytes(row.message, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "Centre : AFPAR Saint-André (échéance annuelle" in text
        assert "Marquer comme fait" not in text
        others = [r for r in daily if direction not in r.recipient]
        assert others
        assert all(b"annual_programming" not in r.message for r in others)
        assert any(b"Marquer comme fait" in r.message for r in others)
        again = notify(settings, load_config(config_dir), store, tuesday)
        assert again.queued == []
    finally:
        store.close()
