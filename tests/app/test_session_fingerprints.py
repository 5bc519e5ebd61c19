"""Issue 16: a pass renders only the sessions whose inputs changed.

Each session's items on a target carry a fingerprint of what they were rendered from (the
session and its centre, the planned milestones — the day, the ruleset, the done marks —, the
target's audience, the code) and of the items the target holds for it. A session whose
fingerprint holds is neither rendered nor hashed; every other one is, and its items are
written as a full pass writes them. Renders are counted at the app layer (each session the
:class:`~syncsvc.app.desired.Renderer` renders, each entry it hashes), never timed.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.desired import Renderer, session_fingerprint
from syncsvc.app.sync import Syncer
from syncsvc.core.config import Config
from syncsvc.core.planner import plan_sessions
from syncsvc.errors import PermanentError
from syncsvc.formats.fingerprint import content_hash
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import Settings, TargetSettings
from syncsvc.state.store import Store
from tests.harness.memory_target import MemoryTarget

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MOVED = "tee-2027-04-strasbourg"
REMOVED = "dwwm-2027-06-venissieux"
TARGET = TargetSettings(
    name="memoire", kind="caldav", url="http://x/", calendar="c", audience="all"
)
SETTINGS = Settings(targets=(TARGET,))


class Rig:
    """The example configuration (a copy), a store, a calendar in memory, counted renders."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = tmp_path / "config"
        shutil.copytree(ROOT / "config", self.folder)
        self.store = Store(f"sqlite:///{tmp_path / 's.db'}")
        self.store.migrate()
        self.memory = MemoryTarget()
        self.rendered: Counter[str] = Counter()
        self.hashed = 0
        original = Renderer._session

        def counted(renderer: Renderer, target: Any, session: Any, *args: Any) -> Any:
            self.rendered[session.id] += 1
            return original(renderer, target, session, *args)

        monkeypatch.setattr(Renderer, "_session", counted)

        def counted_hash(entry: Any) -> str:
            self.hashed += 1
            return content_hash(entry)

        monkeypatch.setattr("syncsvc.app.desired.content_hash", counted_hash)

    def config(self) -> Config:
        loaded = load_config(self.folder)
        assert not loaded.problems
        return loaded

    def sync(self, now: datetime = NOW, *, dry_run: bool = False, force: bool = False) -> Any:
        self.rendered.clear()
        self.hashed = 0
        [report] = Syncer(self.store, force=force).sync_all(
            SETTINGS, self.config(), now, dry_run=dry_run, targets={"memoire": self.memory}
        )
        assert report.ok, report.errors
        return report

    def of_session(self, session_id: str) -> dict[str, Any]:
        return {u: i for u, i in self.memory.items.items() if i.entry.session_id == session_id}

    def fresh(self, now: datetime = NOW) -> dict[str, Any]:
        """What a full render from scratch wants on the target: UID -> entry."""
        config = self.config()
        planning = plan_sessions(config, self.store.done_marks(), now)
        wanted = Renderer().desired(
            TARGET, planning.planned, None, None, planning.centre_milestones
        )
        return {uid: d.entry for uid, d in wanted.items()}


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rig:
    found = Rig(tmp_path, monkeypatch)
    report = found.sync()
    assert report.done["create"] == len(found.memory.items) > 0
    assert set(found.rendered) == set(found.config().sessions)  # the first pass renders all
    return found


def assert_as_fresh(rig: Rig, now: datetime = NOW) -> None:
    """The target holds exactly what a full render from scratch wants."""
    wanted = rig.fresh(now)
    assert rig.memory.items.keys() == wanted.keys()
    for uid, entry in wanted.items():
        assert rig.memory.items[uid].entry == entry, uid


def test_an_unchanged_session_is_neither_rendered_nor_hashed(rig: Rig) -> None:
    held = dict(rig.memory.items)
    report = rig.sync()
    assert rig.rendered == Counter()
    centre_years = [i for i in held.values() if i.entry.session_id.startswith("centre:")]
    assert rig.hashed == len(centre_years) > 0  # only the centres' yearly items are rendered
    assert report.done == {"create": 0, "update": 0, "delete": 0}
    assert report.plan.kept == len(held)
    assert rig.memory.items == held


def test_a_changed_session_alone_is_rendered_and_all_its_items_are_updated(rig: Rig) -> None:
    before = rig.of_session(MOVED)
    path = rig.folder / "sessions" / f"{MOVED}.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.split("\nstart: ")[1].split("\n")[0]
    end = text.split("\nend: ")[1].split("\n")[0]
    # two weeks later: 10-14/05/2027, five working days as before (a week later holds Ascension)
    later = {d: (date.fromisoformat(d).toordinal() + 14) for d in (start, end)}
    for old, day in later.items():
        text = text.replace(f"\nstart: {old}\n", f"\nstart: {date.fromordinal(day)}\n")
        text = text.replace(f"\nend: {old}\n", f"\nend: {date.fromordinal(day)}\n")
    path.write_text(text, encoding="utf-8")

    report = rig.sync()
    assert set(rig.rendered) == {MOVED}
    after = rig.of_session(MOVED)
    assert after.keys() == before.keys()
    assert all(after[uid].entry != before[uid].entry for uid in before)  # every one rewritten
    assert report.done["update"] == len(before)
    assert report.done["create"] == report.done["delete"] == 0
    assert_as_fresh(rig)
    rig.sync()
    assert rig.rendered == Counter()  # the new state is fingerprinted in turn


def test_a_removed_session_has_its_items_deleted_and_nothing_rendered(rig: Rig) -> None:
    gone = rig.of_session(REMOVED)
    assert gone
    (rig.folder / "sessions" / f"{REMOVED}.yaml").unlink()
    report = rig.sync(force=True)  # a whole session gone: confirmed (--force)
    assert rig.rendered == Counter()
    assert report.done == {"create": 0, "update": 0, "delete": len(gone)}
    assert not rig.of_session(REMOVED)
    assert_as_fresh(rig)


def test_a_done_mark_renders_its_session_only(rig: Rig) -> None:
    rig.store.mark_done(MOVED, "dte_order", date(2026, 11, 30), "test", None, NOW)
    rig.sync()
    assert set(rig.rendered) == {MOVED}
    assert_as_fresh(rig)


def test_another_day_renders_the_sessions_whose_milestones_moved(rig: Rig) -> None:
    later = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)  # statuses change (due, overdue…)
    rig.sync(later)
    assert rig.rendered  # some sessions changed…
    assert_as_fresh(rig, later)  # …and the target holds what a full render wants
    rig.sync(later)
    assert rig.rendered == Counter()


def test_an_item_the_store_forgot_makes_its_session_render_again(rig: Rig) -> None:
    uid = next(iter(rig.of_session(MOVED)))
    rig.store.forget("memoire", uid)
    report = rig.sync()
    assert set(rig.rendered) == {MOVED}
    assert report.done["create"] == 1  # adopted back (ours, already there), not duplicated
    assert uid in rig.store.recorded("memoire")
    assert_as_fresh(rig)


def test_an_item_whose_write_failed_is_written_next_time(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = rig.folder / "sessions" / f"{MOVED}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# édité\n", encoding="utf-8")
    rig.sync()
    assert rig.rendered == Counter()  # a comment changes no input: nothing to render

    refused: set[str] = set()
    failing = [True]
    original = rig.memory.update

    def update(href: str, item: Any, etag: str | None) -> Any:
        if failing[0] and item.entry.session_id == MOVED and (not refused or href in refused):
            refused.add(href)
            raise PermanentError("refusé")
        return original(href, item, etag)

    monkeypatch.setattr(rig.memory, "update", update)
    later = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
    [report] = Syncer(rig.store).sync_all(
        SETTINGS, rig.config(), later, targets={"memoire": rig.memory}
    )
    assert len(refused) == 1  # one item of the session was not written
    assert report.errors
    failing[0] = False
    rig.sync(later)
    assert MOVED in rig.rendered  # its session was not fingerprinted: rendered again
    assert_as_fresh(rig, later)
    rig.sync(later)
    assert rig.rendered == Counter()


def test_a_dry_run_records_no_fingerprint(rig: Rig) -> None:
    rig.store.record_session_fingerprints("memoire", {})
    rig.sync(dry_run=True)
    assert rig.store.session_fingerprints("memoire") == {}


def test_every_planned_value_is_part_of_the_fingerprint() -> None:
    """A milestone moved, done, timed otherwise, or another rule: another fingerprint (the
    day, the marks and the ruleset reach the items only through these values)."""
    config = load_config(ROOT / "config")
    planned = plan_sessions(config, {}, NOW).planned[0]
    first = planned.milestones[0]

    def fingerprint(*milestones: Any) -> str:
        return session_fingerprint("v", TARGET, planned.session, planned.centre, milestones, None)

    base = fingerprint(first)
    assert fingerprint(first) == base
    later = first.due + timedelta(days=1)
    changed = [
        replace(first, due=later),
        replace(first, unshifted=later),
        replace(first, status="done" if first.status != "done" else "pending"),
        replace(first, done_on=later),
        replace(first, ends_on=later),
        replace(first, rule=first.rule.model_copy(update={"title": "Autre titre"})),
    ]
    assert len({fingerprint(m) for m in changed} | {base}) == len(changed) + 1
    assert fingerprint(first, planned.milestones[1]) != base
    elsewhere = TARGET.model_copy(update={"audience": "coordinators:afpar-st-andre"})
    session, centre = planned.session, planned.centre
    assert session_fingerprint("v", elsewhere, session, centre, [first], None) != base
    assert session_fingerprint("w", TARGET, session, centre, [first], None) != base  # the code
