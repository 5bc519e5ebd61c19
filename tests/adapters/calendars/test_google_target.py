"""The calendar target contract, run against GoogleTarget on the Calendar v3 emulator.

The scenarios of ``test_caldav_target.py`` (create, no-op, move, deletions, remote edits,
conflicts, server down, crash between write and record, other people's events), plus what is
Google's own: batching (1,000 items in at most 25 HTTP requests), quotas (429 and 403
``rateLimitExceeded`` retried with the recorded fake sleeps honouring ``Retry-After``, the
per-calendar rate limiter on a fake clock), cancelled tombstones, stale sync tokens, sequences
raised remotely, and credentials (service account with delegation, authorized-user file)
obtained from the emulator's token endpoint. Nothing sleeps for real and nothing leaves
127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest

from syncsvc.app.apply import RetryPolicy
from syncsvc.app.sync import Renderer, Syncer, TargetReport
from syncsvc.app.targets import make_target
from syncsvc.calendars.base import Item, Write, Written
from syncsvc.calendars.google import GoogleTarget
from syncsvc.calendars.quota import RateLimiter, RateLimiters
from syncsvc.core.config import Config
from syncsvc.core.entries import Entry, entries_for, uid_for
from syncsvc.core.planner import plan_all
from syncsvc.errors import PermanentError, TemporaryError
from syncsvc.formats.google_event import event_id
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import TargetSettings
from syncsvc.state.store import Store
from tests.adapters.calendars.test_caldav_target import AUDIENCE, NOW, ROOT, SA
from tests.harness.google_emulator import CalendarEmulator, write_service_account

CALENDAR = "examens-st-andre@group.calendar.google.com"
TOKEN = "ya29.test-access-token"
DTE = "sa-2027-03-st-andre.dte_order@syncsvc"
PREPARATION = "sa-2027-03-st-andre.final_preparation@syncsvc"
EXAM = "sa-2027-03-st-andre.exam_session@syncsvc"


@dataclass
class FakeTime:
    """A clock and a sleep for the rate limiter: sleeping only moves the clock."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class World:
    """A config folder, a store, the emulator and the service between them."""

    emulator: CalendarEmulator
    root: Path
    store: Store
    items: Literal["events", "tasks"] = "events"
    sleeps: list[float] = field(default_factory=list)
    time: FakeTime = field(default_factory=FakeTime)
    per_minute: float = 300.0
    timeout: float = 5.0
    limiter: RateLimiter | None = None

    @property
    def settings(self) -> TargetSettings:
        return TargetSettings(
            name="coordination",
            kind="google",
            calendar=CALENDAR,
            audience=AUDIENCE,
            api_endpoint=self.emulator.api_endpoint,
            batch_uri=self.emulator.batch_uri,
            items=self.items,
            token_file=Path("unused-token.json"),  # the test builds the target itself
        )

    def rate_limiter(self) -> RateLimiter:
        """One limiter for the calendar, kept across runs (like the process-wide one)."""
        if self.limiter is None:
            self.limiter = RateLimiter(
                self.per_minute, clock=self.time.clock, sleep=self.time.sleep
            )
        return self.limiter

    def target(self) -> GoogleTarget:
        return GoogleTarget(
            "coordination",
            CALENDAR,
            self.emulator.credentials(),
            api_endpoint=self.emulator.api_endpoint,
            batch_uri=self.emulator.batch_uri,
            limiter=self.rate_limiter(),
            timeout=self.timeout,
        )

    def config(self) -> Config:
        return load_config(self.root / "config")

    def sync(
        self, *, force: bool = False, now: datetime = NOW, store: Store | None = None
    ) -> TargetReport:
        target = self.target()
        config = self.config()
        syncer = Syncer(store or self.store, RetryPolicy(sleep=self.sleeps.append), force=force)
        try:
            return syncer.sync(self.settings, target, config, plan_all(config, {}, now), now)
        finally:
            target.close()

    def remote(self) -> dict[str, dict[str, Any]]:
        """Every live event of the calendar, read straight from the emulator (not counted)."""
        return self.emulator.events(CALENDAR)

    def remote_by_uid(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for event in self.remote().values():
            uid = event["iCalUID"]
            assert uid not in out, f"duplicate UID {uid}"
            out[uid] = event
        return out

    def edit(self, name: str, change: Callable[[str], str]) -> None:
        path = self.root / name
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@pytest.fixture(autouse=True)
def local_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuses, and fails the test on, any attempt to reach a host other than 127.0.0.1 (a
    token refresh or a lookup that google-auth would send to Google, say)."""
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        host = str(address[0]) if isinstance(address, tuple) else None
        if host is not None and host not in LOCAL_HOSTS:
            attempts.append(host)
            raise ConnectionRefusedError(f"the tests stay on 127.0.0.1, not {host}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and str(host) not in LOCAL_HOSTS:
            attempts.append(str(host))
            raise socket.gaierror(f"the tests stay on 127.0.0.1, not {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert attempts == []


@pytest.fixture
def emulator() -> Iterator[CalendarEmulator]:
    with CalendarEmulator(token=TOKEN) as running:
        running.add_calendar(CALENDAR)
        yield running


@pytest.fixture
def world(emulator: CalendarEmulator, tmp_path: Path) -> Iterator[World]:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    yield World(emulator, tmp_path, store)
    store.close()


def desired_count(world: World) -> int:
    config = world.config()
    return sum(
        len(entries_for(s, c, m))  # the exam: one item per day
        for s, c, ms in plan_all(config, {}, NOW)
        for m in ms
        if s.centre == "afpar-st-andre"
    )


def write_calls(emulator: CalendarEmulator) -> list[Any]:
    return [c for c in emulator.log if c.name in ("events.insert", "events.update")]


# --- the contract -----------------------------------------------------------------------------


def test_create_then_noop_then_date_moved(world: World) -> None:
    expected = desired_count(world)
    first = world.sync()
    assert first.ok, first.errors
    assert first.done == {"create": expected, "update": 0, "delete": 0}
    remote = world.remote_by_uid()
    assert len(remote) == expected
    assert all(uid.endswith("@syncsvc") for uid in remote)
    assert all(event["id"] == event_id(uid) for uid, event in remote.items())
    # one listing, one batch, one listing for the token that covers our own writes
    assert world.emulator.http_requests == 3
    assert world.emulator.batch_calls == expected
    assert all(c.params["sendUpdates"] == ["none"] for c in write_calls(world.emulator))
    assert "attendees" not in remote[EXAM]

    world.emulator.reset_counts()
    again = world.sync()
    assert again.ok
    assert again.plan is not None
    assert again.plan.is_noop
    assert world.emulator.writes == 0
    assert world.emulator.http_requests == 1  # events.list with the sync token

    # The SA session moves one week later: its items are updated in place, sequence + 1.
    world.edit(
        SA,
        lambda t: t.replace("start: 2027-03-15", "start: 2027-03-22").replace(
            "end: 2027-03-19", "end: 2027-03-26"
        ),
    )
    world.emulator.reset_counts()
    moved = world.sync()
    assert moved.ok, moved.errors
    assert moved.done["create"] == moved.done["delete"] == 0
    assert moved.done["update"] > 0
    assert world.emulator.calls["events.update"] == moved.done["update"]
    assert all("If-Match" in c.headers for c in write_calls(world.emulator))
    after = world.remote_by_uid()
    assert after.keys() == remote.keys()
    event = after[DTE]
    assert event["sequence"] == 1
    assert event["start"] == {"date": "2026-12-18"}  # 22 Mar 2027 - 92 d, a Friday
    assert event["end"] == {"date": "2026-12-19"}
    assert event["id"] == remote[DTE]["id"]
    assert event["etag"] != remote[DTE]["etag"]
    assert after["ccp-ac-2027-05-st-andre.dte_order@syncsvc"]["sequence"] == 0
    exam = after[EXAM]
    assert exam["start"] == {"dateTime": "2027-03-22T08:30:00+04:00", "timeZone": "Indian/Reunion"}


def test_deleted_session_is_removed_broken_session_is_kept(world: World) -> None:
    assert world.sync().ok
    before = world.remote_by_uid()
    ccp = {u for u in before if u.startswith("ccp-ac-2027-05-st-andre.")}
    sa = {u for u in before if u.startswith("sa-2027-03-st-andre.")}
    world.edit(SA, lambda t: t.replace("nature: titre", "nature: titr"))
    world.emulator.reset_counts()
    broken = world.sync()
    assert broken.ok
    assert broken.plan is not None
    assert broken.plan.count("delete") == 0
    assert world.emulator.writes == 0
    assert sa <= world.remote_by_uid().keys()
    (world.root / "config/sessions/ccp-ac-2027-05-st-andre.yaml").unlink()
    assert world.sync().refused is not None  # waits for a person's confirmation
    gone = world.sync(force=True)
    assert gone.ok, gone.errors
    assert gone.done["delete"] == len(ccp)
    remaining = world.remote_by_uid().keys()
    assert not ccp & remaining
    assert sa <= remaining
    tombstones = world.emulator.events(CALENDAR, deleted=True)
    assert {tombstones[event_id(u)]["status"] for u in ccp} == {"cancelled"}


def test_mass_delete_is_refused_unless_forced(world: World) -> None:
    assert world.sync().ok
    count = len(world.remote_by_uid())
    for path in (world.root / "config/sessions").glob("*st-andre*.yaml"):
        path.unlink()
    refused = world.sync()
    assert not refused.ok
    assert refused.refused is not None
    assert "--force" in refused.refused
    assert len(world.remote_by_uid()) == count
    forced = world.sync(force=True)
    assert forced.ok
    assert forced.done["delete"] == count
    assert world.remote_by_uid() == {}


def test_remote_deletion_is_restored_and_remote_edit_overwritten(world: World) -> None:
    assert world.sync().ok
    remote = world.remote_by_uid()
    world.emulator.user_delete(CALENDAR, remote[DTE]["id"])
    world.emulator.user_patch(
        CALENDAR,
        remote[PREPARATION]["id"],
        {"summary": "Modifié par un humain", "extendedProperties": {"private": {"note": "x"}}},
    )

    world.emulator.reset_counts()
    report = world.sync()
    assert report.ok, report.errors
    assert report.done == {"create": 1, "update": 1, "delete": 0}
    after = world.remote_by_uid()
    assert after[DTE]["id"] == remote[DTE]["id"]  # the tombstone brought back, same id
    assert after[DTE]["status"] == "confirmed"
    assert after[PREPARATION]["summary"].startswith("J-5 · Préparation finale — SA ")
    assert "note" not in after[PREPARATION]["extendedProperties"]["private"]
    world.emulator.reset_counts()
    noop = world.sync()
    assert noop.plan is not None
    assert noop.plan.is_noop
    assert world.emulator.writes == 0


def test_conflict_412_is_handled(world: World) -> None:
    assert world.sync().ok
    world.store.record_etag("coordination", DTE, '"stale-etag"')
    world.edit(SA, lambda t: t.replace("start: 2027-03-15", "start: 2027-03-16"))
    world.emulator.reset_counts()
    report = world.sync()
    assert report.ok, report.errors
    assert any(c.status == 412 for c in world.emulator.log)
    event = world.remote_by_uid()[DTE]
    assert event["start"] == {"date": "2026-12-14"}  # 16 Mar 2027 - 92 d
    assert len(world.remote_by_uid()) == desired_count(world)


def test_server_down_then_back(world: World) -> None:
    assert world.sync().ok
    recorded = world.store.recorded("coordination")
    world.edit(SA, lambda t: t.replace("start: 2027-03-15", "start: 2027-03-16"))
    with world.emulator.stopped():
        down = world.sync()
    assert not down.ok
    assert "injoignable" in " ".join(down.errors)
    assert world.sleeps == []  # unreachable: the next scheduled run retries, not this one
    assert world.store.recorded("coordination") == recorded
    assert world.store.target_state("coordination").last_error
    back = world.sync()
    assert back.ok, back.errors
    assert back.done["update"] > 0
    assert world.store.target_state("coordination").last_error is None
    again = world.sync()
    assert again.plan is not None
    assert again.plan.is_noop


def test_temporary_errors_are_retried_honouring_retry_after(world: World) -> None:
    world.emulator.fail_next(2, 503, retry_after=3, scope="http")
    report = world.sync()
    assert report.ok, report.errors
    assert world.sleeps == [3.0, 3.0]
    assert len(world.remote_by_uid()) == desired_count(world)


def test_a_killed_sync_leaves_exactly_one_copy_of_every_item(world: World, tmp_path: Path) -> None:
    class Crash(BaseException):
        pass

    class CrashingStore(Store):
        """Dies after the batch, at the 5th record (kill -9 at the worst time)."""

        pushes = 0

        def record_push(self, *args: object, **kwargs: object) -> None:
            CrashingStore.pushes += 1
            if CrashingStore.pushes == 5:
                raise Crash
            super().record_push(*args, **kwargs)  # type: ignore[arg-type]

    crashing = CrashingStore(f"sqlite:///{tmp_path / 'state.db'}")
    with pytest.raises(Crash):
        world.sync(store=crashing)
    crashing.close()
    assert len(world.store.recorded("coordination")) == 4
    assert len(world.remote_by_uid()) == desired_count(world)  # the whole batch was written
    report = world.sync()
    assert report.ok, report.errors
    remote = world.remote_by_uid()  # raises on a duplicate UID
    assert len(remote) == desired_count(world)
    assert len(world.store.recorded("coordination")) == desired_count(world)
    # the 36 unrecorded creates: 409 in the batch, then one by one: 409, adopted, updated
    unrecorded = desired_count(world) - 4
    assert world.emulator.calls["events.insert"] == desired_count(world) + 2 * unrecorded
    assert world.emulator.calls["events.update"] == unrecorded
    again = world.sync()
    assert again.plan is not None
    assert again.plan.is_noop


def test_items_of_others_are_never_touched(world: World) -> None:
    assert world.sync().ok
    mine = world.emulator.user_insert(
        CALENDAR,
        {
            "summary": "Dentiste",
            "start": {"date": "2026-12-01"},
            "end": {"date": "2026-12-02"},
        },
    )
    # Someone else's event already sits at the id of an item we are about to create.
    squatted = uid_for("sa-2027-03-st-andre", "squatted")
    squatter = world.emulator.user_insert(
        CALENDAR,
        {
            "id": event_id(squatted),
            "summary": "Réunion",
            "start": {"date": "2026-12-03"},
            "end": {"date": "2026-12-04"},
        },
    )
    target = world.target()
    item = Item(_entry(squatted), 0, NOW, "h")
    try:
        with pytest.raises(PermanentError, match="pas été créé par syncsvc"):
            target.etag_if_ours(event_id(squatted), squatted)
        results = dict(target.write_many([Write("create", event_id(squatted), item, None)]))
    finally:
        target.close()
    assert not isinstance(results[0], Written)
    assert world.emulator.events(CALENDAR)[squatter["id"]] == squatter

    for path in (world.root / "config/sessions").glob("*st-andre*.yaml"):
        path.unlink()
    assert world.sync(force=True).ok
    remaining = world.remote()
    assert sorted(remaining) == sorted([mine["id"], squatter["id"]])
    assert remaining[mine["id"]]["etag"] == mine["etag"]


def test_tasks_target(world: World) -> None:
    world.items = "tasks"
    report = world.sync()
    assert report.ok, report.errors
    remote = world.remote_by_uid()
    todo = remote[DTE]  # Google has no tasks: an all-day event on the deadline, 2026-12-11
    assert todo["start"] == {"date": "2026-12-11"}
    assert todo["end"] == {"date": "2026-12-12"}
    assert todo["transparency"] == "transparent"
    assert "dateTime" in remote[EXAM]["start"]  # the exam session stays a timed event


# --- Google's own -----------------------------------------------------------------------------

CENTRE = """\
centre-a:
  name: "Centre A"
  timezone: Europe/Paris
  exam_office_email: examens@centre-a.example
  ud_email: ud@centre-a.example
  sector: tertiaire
  agrements: [{title_code: TP-00374, until: 2031-12-31, max_candidates: 15}]
"""
SESSION = """\
id: bulk-{n:04d}
title: {{code: TP-00374, acronym: B{n}, label: "Titre de test", transport: false}}
nature: titre
centre: centre-a
start: {start}
end: {end}
first_day_start: "08:30"
candidates: {{training: 8, vae: 1}}
session_manager: {{name: "Responsable {n}", email: rs{n}@centre.example}}
coordinators: [{{name: "Coordination {n}", email: coord{n}@centre.example}}]
jury:
  - {{name: "Jury A{n}", email: a{n}@jury.example, habilitation_until: 2031-12-31}}
  - {{name: "Jury B{n}", email: b{n}@jury.example, habilitation_until: 2031-12-31}}
"""


def write_bulk_config(directory: Path, sessions: int) -> None:
    """``sessions`` sessions of one centre (about 20 items each for its coordinators, one per exam
    day: the agrément covers them and the centre sends no candidate mail, so
    agrement_request and candidate_info_mail do not apply; the annual programming is the
    centre's)."""
    directory.mkdir(parents=True)
    (directory / "centres.yaml").write_text(CENTRE, encoding="utf-8")
    (directory / "sessions").mkdir()
    for n in range(sessions):
        start = date(2027, 2, 1) + timedelta(days=(n * 3) % 500)
        (directory / "sessions" / f"bulk-{n:04d}.yaml").write_text(
            SESSION.format(n=n, start=start, end=start + timedelta(days=4)), encoding="utf-8"
        )


def test_pushing_1000_items_takes_at_most_25_http_requests_within_quota(
    emulator: CalendarEmulator, tmp_path: Path
) -> None:
    write_bulk_config(tmp_path / "bulk" / "config", 50)
    store = Store(f"sqlite:///{tmp_path / 'bulk.db'}")
    store.migrate()
    world = World(emulator, tmp_path / "bulk", store)
    settings = world.settings.model_copy(update={"audience": "coordinators:centre-a"})
    config = world.config()
    assert not config.problems, config.problems[:3]
    planned = plan_all(config, {}, NOW)
    items = len(Renderer().desired(settings, planned))
    assert items >= 1000
    target = world.target()
    try:
        began = world.time.now
        report = Syncer(store, RetryPolicy(sleep=world.sleeps.append)).sync(
            settings, target, config, planned, NOW
        )
    finally:
        target.close()
    assert report.ok, report.errors[:3]
    assert report.done["create"] == items
    assert emulator.http_requests <= 25
    assert emulator.batches == -(-items // 50)
    assert emulator.batch_calls == items
    assert len(emulator.events(CALENDAR)) == items
    # Quota: 300 calls a minute after a first burst of 50, on the fake clock.
    calls = sum(emulator.calls.values())
    elapsed = world.time.now - began
    assert elapsed >= (calls - 50) / 5.0 - 1e-6
    assert world.sleeps == []
    store.close()


def test_rate_limited_calls_in_a_batch_are_retried_and_the_state_is_exact(world: World) -> None:
    world.emulator.fail_next(3, 429, retry_after=7, only="events.insert")
    world.emulator.fail_next(2, 403, "rateLimitExceeded", only="events.insert")
    world.per_minute = 1e9  # leave the limiter's waits to the server's pushback
    report = world.sync()
    assert report.ok, report.errors
    refused = [c for c in world.emulator.log if c.status in (403, 429)]
    assert [c.in_batch for c in refused] == [True] * 5
    assert 7.0 in world.time.sleeps  # the limiter waited as Retry-After asked
    assert world.sleeps == []  # the retried calls then went through at once
    remote = world.remote_by_uid()
    assert len(remote) == desired_count(world)
    assert len(world.store.recorded("coordination")) == desired_count(world)
    world.emulator.reset_counts()
    again = world.sync()
    assert again.plan is not None
    assert again.plan.is_noop
    assert world.emulator.writes == 0


def test_a_rate_limited_batch_is_retried_with_backoff(world: World) -> None:
    world.emulator.fail_next(1, "timeout")  # the first listing times out
    world.emulator.fail_next(1, 429, retry_after=5, scope="http", only="batch")
    world.emulator.fail_next(2, 403, "userRateLimitExceeded", scope="http", only="batch")
    world.timeout = 0.2
    report = world.sync()
    assert report.ok, report.errors
    assert len(world.sleeps) == 4
    assert 0.5 <= world.sleeps[0] <= 1.0  # the listing: backoff with jitter, attempt 0
    assert world.sleeps[1] == 5.0  # the batch: Retry-After honoured
    assert 1.0 <= world.sleeps[2] <= 2.0  # then exponential backoff with jitter
    assert 2.0 <= world.sleeps[3] <= 4.0
    assert world.emulator.batches == 1  # the refused batches never reached the calls
    assert len(world.remote_by_uid()) == desired_count(world)


def test_quota_errors_stop_after_the_retry_budget(world: World) -> None:
    world.emulator.fail_next(1000, 403, "rateLimitExceeded", scope="http")
    report = world.sync()
    assert not report.ok
    assert "rateLimitExceeded" in report.errors[0]
    assert sum(world.sleeps) <= 300  # the pass's budget (RetryPolicy.budget_seconds)
    assert sum(world.sleeps) > 200  # and it was used, not 4 attempts then give up
    assert world.remote() == {}


def test_five_quota_answers_in_a_row_do_not_lose_the_pass(world: World) -> None:
    """Reported: four attempts lost a sync after five consecutive Google rate-limit answers
    (3 × 429 then 2 × 403 ``rateLimitExceeded``: ``sync --once`` exited 1)."""
    world.emulator.fail_next(3, 429, scope="http", only="batch")
    world.emulator.fail_next(2, 403, "rateLimitExceeded", scope="http", only="batch")
    report = world.sync()
    assert report.ok, report.errors
    assert len(world.sleeps) == 5
    assert len(world.remote_by_uid()) == desired_count(world)


def test_stale_sync_token_gets_a_full_listing(world: World) -> None:
    assert world.sync().ok
    world.emulator.expire_sync_tokens(CALENDAR)
    world.emulator.reset_counts()
    report = world.sync()
    assert report.ok, report.errors
    assert report.plan is not None
    assert report.plan.is_noop
    assert [c.status for c in world.emulator.log] == [410, 200]
    assert "privateExtendedProperty" in world.emulator.log[1].params
    world.emulator.reset_counts()
    assert world.sync().ok
    assert [c.status for c in world.emulator.log] == [200]
    assert "syncToken" in world.emulator.log[0].params


def test_listing_without_sync_token_still_syncs(tmp_path: Path) -> None:
    with CalendarEmulator(token=TOKEN, sync_token_with_filters=False) as emulator:
        emulator.add_calendar(CALENDAR)
        shutil.copytree(ROOT / "config", tmp_path / "config")
        store = Store(f"sqlite:///{tmp_path / 'state.db'}")
        store.migrate()
        world = World(emulator, tmp_path, store)
        assert world.sync().ok
        emulator.user_delete(CALENDAR, event_id(DTE))
        report = world.sync()
        assert report.ok, report.errors
        assert report.done == {"create": 1, "update": 0, "delete": 0}
        emulator.reset_counts()
        noop = world.sync()
        assert noop.plan is not None
        assert noop.plan.is_noop
        assert emulator.writes == 0
        store.close()


def test_people_s_changes_in_an_incremental_listing_are_ignored(world: World) -> None:
    assert world.sync().ok
    other = world.emulator.user_insert(
        CALENDAR, {"summary": "Pot", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}}
    )
    world.emulator.user_delete(CALENDAR, other["id"])
    world.emulator.reset_counts()
    report = world.sync()
    assert report.ok
    assert report.plan is not None
    assert report.plan.is_noop
    assert world.emulator.writes == 0


def test_a_sequence_raised_on_google_is_not_a_failure(world: World) -> None:
    assert world.sync().ok
    world.emulator.user_patch(CALENDAR, event_id(DTE), {"sequence": 4, "summary": "Changé"})
    report = world.sync()
    assert report.ok, report.errors
    event = world.remote_by_uid()[DTE]
    assert event["sequence"] == 4
    assert " — SA " in event["summary"]


def test_a_restored_item_keeps_its_google_sequence(world: World) -> None:
    assert world.sync().ok
    world.emulator.user_patch(CALENDAR, event_id(DTE), {"sequence": 3})
    world.emulator.user_delete(CALENDAR, event_id(DTE))
    report = world.sync()
    assert report.ok, report.errors
    assert world.remote_by_uid()[DTE]["sequence"] == 3


# --- credentials, built by make_target from the configuration -------------------------------


def test_service_account_with_delegation_from_the_configuration(
    emulator: CalendarEmulator, tmp_path: Path
) -> None:
    (tmp_path / "secrets").mkdir()
    write_service_account(tmp_path / "secrets" / "sa.json", emulator.token_uri)
    settings = TargetSettings(
        name="google-coordination",
        kind="google",
        calendar=CALENDAR,
        audience=AUDIENCE,
        service_account_file=Path("secrets/sa.json"),
        subject="coordination@example.org",
        api_endpoint=emulator.api_endpoint,
        batch_uri=emulator.batch_uri,
    )
    target = make_target(settings, tmp_path, RateLimiters())
    try:
        assert isinstance(target, GoogleTarget)
        assert target.changes(None).full
    finally:
        target.close()
    assert emulator.grants == [
        ("urn:ietf:params:oauth:grant-type:jwt-bearer", "coordination@example.org")
    ]


def test_authorized_user_token_file_from_the_configuration(
    emulator: CalendarEmulator, tmp_path: Path
) -> None:
    token_file = tmp_path / "token.json"
    token_file.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "id.apps.googleusercontent.com",
                "client_secret": "not-a-secret",
                "refresh_token": "1//refresh",
                "token": TOKEN,
                "expiry": "2999-01-01T00:00:00Z",
            }
        ),
        encoding="utf-8",
    )
    settings = TargetSettings(
        name="google-coordination",
        kind="google",
        calendar=CALENDAR,
        audience=AUDIENCE,
        token_file=token_file,
        api_endpoint=emulator.api_endpoint,
        batch_uri=emulator.batch_uri,
    )
    target = make_target(settings, tmp_path, RateLimiters())
    assert isinstance(target, GoogleTarget)
    try:
        item = Item(_entry(DTE), 0, NOW, "h")
        results = dict(target.write_many([Write("create", target.href_for(DTE), item, None)]))
        assert isinstance(results[0], Written)
    finally:
        target.close()
    assert emulator.grants == []  # the stored access token was still valid: no refresh
    assert all(c.status == 200 for c in emulator.log)


def test_missing_or_unreadable_credentials_are_permanent_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactement un de token_file"):
        TargetSettings(name="g", kind="google", calendar=CALENDAR, audience=AUDIENCE)
    base = TargetSettings(
        name="g",
        kind="google",
        calendar=CALENDAR,
        audience=AUDIENCE,
        service_account_file=Path("missing.json"),
    )
    with pytest.raises(PermanentError):
        make_target(base, tmp_path, RateLimiters())
    (tmp_path / "bad.json").write_text('{"private_key": "secret-value"}', encoding="utf-8")
    broken = base.model_copy(update={"service_account_file": Path("bad.json")})
    with pytest.raises(PermanentError) as caught:
        make_target(broken, tmp_path, RateLimiters())
    assert "secret-value" not in str(caught.value)


def test_a_missing_calendar_is_a_clear_error(emulator: CalendarEmulator) -> None:
    target = GoogleTarget(
        "g",
        "nobody@example.org",
        emulator.credentials(),
        api_endpoint=emulator.api_endpoint,
        batch_uri=emulator.batch_uri,
        limiter=RateLimiter(1e9),
    )
    try:
        with pytest.raises(PermanentError, match="introuvable ou non partagé"):
            target.changes(None)
    finally:
        target.close()


def test_timeouts_are_temporary(emulator: CalendarEmulator) -> None:
    emulator.fail_next(1, "timeout")
    target = GoogleTarget(
        "g",
        CALENDAR,
        emulator.credentials(),
        api_endpoint=emulator.api_endpoint,
        batch_uri=emulator.batch_uri,
        limiter=RateLimiter(1e9),
        timeout=1.0,  # the held request costs this; the recovery must fit in it on a loaded machine
    )
    try:
        with pytest.raises(TemporaryError, match="délai dépassé"):
            target.changes(None)
        assert target.changes(None).full  # the connection recovers
    finally:
        target.close()


# --- rendering and quotas (pure) --------------------------------------------------------------


def _entry(uid: str) -> Entry:
    session_id, _, rest = uid.partition(".")
    return Entry(
        uid=uid,
        session_id=session_id,
        milestone_id=rest.removesuffix("@syncsvc"),
        summary="Test",
        description="",
        kind="regulatory",
        status="pending",
        tracked=True,
        task=False,
        start=date(2026, 12, 1),
        end=date(2026, 12, 2),
    )


def test_event_ids_follow_google_rules() -> None:
    ids = {event_id(f"session-{n}.milestone@syncsvc") for n in range(500)}
    assert len(ids) == 500
    assert all(len(i) == 52 and set(i) <= set("0123456789abcdefghijklmnopqrstuv") for i in ids)
    assert event_id(DTE) == event_id(DTE)


def test_the_rate_limiter_keeps_the_average_rate() -> None:
    clock = FakeTime()
    limiter = RateLimiter(300, clock=clock.clock, sleep=clock.sleep)
    for _ in range(20):
        limiter.acquire(50)  # twenty batches of 50 calls
    assert clock.sleeps == [10.0] * 19  # the first batch is the burst
    assert clock.now - 1000.0 == pytest.approx((1000 - 50) / 5.0)
    limiter.defer(30)
    before = clock.now
    limiter.acquire(1)
    assert clock.now - before >= 30


# --- a cancelled session (issue 12) --------------------------------------------------------------

CANCELLATION = 'cancelled: {on: 2026-11-24, reason: "Nombre de candidats insuffisant"}\n'


def test_a_cancelled_session_keeps_its_events_confirmed_and_prefixed(world: World) -> None:
    """Google's « cancelled » is a deletion (a tombstone hidden from clients): a cancelled
    session's events stay « confirmed », titled « ANNULÉE — », graphite, without reminder."""
    assert world.sync().ok
    before = world.remote_by_uid()
    world.edit(SA, lambda t: t + CANCELLATION)
    world.emulator.reset_counts()
    cancelled = world.sync()
    assert cancelled.ok, cancelled.errors
    assert cancelled.done["delete"] == cancelled.done["create"] == 0
    sa = {u for u in before if u.startswith("sa-2027-03-st-andre.")}
    assert cancelled.done["update"] == len(sa)
    after = world.remote_by_uid()
    assert after.keys() == before.keys()
    for uid in sa:
        event = after[uid]
        assert event["status"] == "confirmed", uid
        assert event["summary"].startswith("ANNULÉE — "), uid
        assert event["description"].startswith(
            "Session annulée le 24/11/2026 : Nombre de candidats insuffisant\n\n"
        ), uid
        assert (event["colorId"], event["transparency"]) == ("8", "transparent"), uid
        assert event["reminders"] == {"useDefault": False, "overrides": []}, uid
    assert after[EXAM]["summary"] == "ANNULÉE — Session d'examen (jour 1/5) — SA St-André"
    assert not after["ccp-ac-2027-05-st-andre.dte_order@syncsvc"]["summary"].startswith("ANNULÉE")
