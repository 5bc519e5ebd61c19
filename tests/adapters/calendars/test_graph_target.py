"""GraphTarget on the local Microsoft Graph emulator: what is Graph's own.

The shared scenarios run in ``test_targets.py`` (the ``graph`` backend). Here: batches of at most
20, ``transactionId`` idempotence, delta links expired (410), writes out of the delta window,
partly failed batches, the per-mailbox concurrency limit, token renewal, refused secrets in
French, a lost state recovered by the UID property, and people's own events. The target is
built by ``make_target`` from ``TargetSettings`` as in production (MSAL against the emulator's
token endpoint, over HTTPS with the emulator's test CA). Nothing sleeps for real and nothing
leaves 127.0.0.1.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.apply import RetryPolicy
from syncsvc.app.sync import Syncer, TargetReport
from syncsvc.app.targets import address_of, make_target
from syncsvc.calendars.base import Target
from syncsvc.calendars.graph import GraphTarget
from syncsvc.calendars.quota import RateLimiters
from syncsvc.core.config import Config
from syncsvc.core.entries import entries_for
from syncsvc.core.planner import plan_all
from syncsvc.formats.graph_event import UID_PROPERTY, uid_of
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import TargetSettings
from syncsvc.oauth.microsoft import SHARED
from syncsvc.state.store import Store
from tests.adapters.calendars.test_caldav_target import AUDIENCE, NOW, ROOT, SA
from tests.harness.graph_emulator import GraphEmulator

MAILBOX = "examens@centre.example"
CALENDAR = "Échéances examens"
TENANT = "contoso-tenant"
CLIENT = "syncsvc-app"
SECRET = "s3cret-value"
DTE = "sa-2027-03-st-andre.dte_order@syncsvc"
PREPARATION = "sa-2027-03-st-andre.final_preparation@syncsvc"


@dataclass
class World:
    """A config folder, a store, the emulator and the service between them."""

    emulator: GraphEmulator
    root: Path
    store: Store
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.set_secret(SECRET)

    def set_secret(self, secret: str) -> None:
        (self.root / "config" / "graph-secret").write_text(secret, encoding="utf-8")

    def settings(self, **overrides: Any) -> TargetSettings:
        values: dict[str, Any] = {
            "name": "coordination",
            "kind": "graph",
            "audience": AUDIENCE,
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "client_secret_file": Path("graph-secret"),
            "mailbox": MAILBOX,
            "calendar": CALENDAR,
            "authority": self.emulator.authority,
            "graph_url": self.emulator.graph_url,
            "ca_bundle": self.emulator.tls.ca_file,
            "timeout": 5.0,
        }
        return TargetSettings(**{**values, **overrides})

    def target(self, **overrides: Any) -> Target:
        return make_target(self.settings(**overrides), self.root / "config", RateLimiters())

    def config(self) -> Config:
        return load_config(self.root / "config")

    def sync(
        self,
        *,
        force: bool = False,
        now: datetime = NOW,
        store: Store | None = None,
        target: Target | None = None,
    ) -> TargetReport:
        used = target or self.target()
        config = self.config()
        syncer = Syncer(store or self.store, RetryPolicy(sleep=self.sleeps.append), force=force)
        try:
            return syncer.sync(self.settings(), used, config, plan_all(config, {}, now), now)
        finally:
            if target is None:
                used.close()

    def remote(self) -> dict[str, dict[str, Any]]:
        """Every event of the calendar, read straight from the emulator (not counted)."""
        try:
            return self.emulator.events(MAILBOX, CALENDAR)
        except AssertionError:
            return {}

    def remote_by_uid(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for event in self.remote().values():
            uid = uid_of(event) or str(event["iCalUId"])
            assert uid not in out, f"duplicate UID {uid}"
            out[uid] = event
        return out

    def edit(self, name: str, change: Callable[[str], str]) -> None:
        path = self.root / name
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


@pytest.fixture(autouse=True)
def _fresh_token_caches() -> Iterator[None]:
    SHARED.clear()
    yield
    SHARED.clear()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[GraphEmulator]:
    with GraphEmulator(folder=tmp_path / "graph") as running:
        running.mailbox(MAILBOX)
        yield running


@pytest.fixture
def world(emulator: GraphEmulator, tmp_path: Path) -> Iterator[World]:
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


def _move_sa(world: World, day: str) -> None:
    world.edit(
        SA,
        lambda t: t.replace("start: 2027-03-15", f"start: 2027-03-{day}").replace(
            "end: 2027-03-19", f"end: 2027-03-{int(day) + 4}"
        ),
    )


# --- batches and requests --------------------------------------------------------------------


def test_first_push_goes_20_writes_a_batch_and_a_noop_costs_one_request(world: World) -> None:
    report = world.sync()
    assert report.ok, report.errors
    count = desired_count(world)
    assert report.done["create"] == count
    assert world.emulator.batch_sizes
    assert max(world.emulator.batch_sizes) <= 20
    assert world.emulator.calls["POST cal_events"] == count  # every create inside a batch
    assert world.emulator.token_requests == 1
    world.emulator.reset_counts()
    again = world.sync()
    assert again.plan is not None
    assert again.plan.is_noop
    assert world.emulator.requests == 1  # the delta link: nothing changed
    assert world.emulator.writes == 0
    assert world.emulator.token_requests == 0  # the token outlives the target


def test_a_moved_session_writes_only_its_items(world: World) -> None:
    assert world.sync().ok
    before = world.remote_by_uid()
    _move_sa(world, "22")
    world.emulator.reset_counts()
    moved = world.sync()
    assert moved.ok, moved.errors
    after = world.remote_by_uid()
    changed = {u for u in after if after[u]["@odata.etag"] != before[u]["@odata.etag"]}
    assert changed
    assert all(u.startswith("sa-2027-03-st-andre.") for u in changed)
    assert world.emulator.writes == moved.done["update"] == len(changed)
    assert after[DTE]["start"]["dateTime"].startswith("2026-12-18")


def test_a_create_whose_answer_was_lost_is_not_duplicated(world: World) -> None:
    """The first create is carried out but answered 504: retried with its transactionId,
    Graph answers the event it made."""
    world.emulator.fail_next(1, 504, retry_after=0, scope="batched", after=True)
    report = world.sync()
    assert report.ok, report.errors
    count = desired_count(world)
    assert world.emulator.calls["POST cal_events"] == count + 1
    assert len(world.remote_by_uid()) == count  # remote_by_uid fails on a duplicate UID
    assert len(world.store.recorded("coordination")) == count


def test_a_partly_failed_batch_retries_only_its_failed_writes(world: World) -> None:
    assert world.sync().ok
    _move_sa(world, "16")
    world.emulator.fail_next(3, 429, retry_after=2, scope="batched")
    world.emulator.reset_counts()
    report = world.sync()
    assert report.ok, report.errors
    updates = report.done["update"]
    assert world.emulator.calls["PATCH cal_event"] == updates + 3
    assert world.sleeps == [2.0]  # one wait, for the three together (Retry-After)


# --- change detection ------------------------------------------------------------------------


def test_an_expired_delta_link_falls_back_to_a_full_listing(world: World) -> None:
    assert world.sync().ok
    world.emulator.user_delete(MAILBOX, str(world.remote_by_uid()[DTE]["id"]))
    world.emulator.expire_delta_links()
    report = world.sync()
    assert report.ok, report.errors
    assert report.done == {"create": 1, "update": 0, "delete": 0}
    assert DTE in world.remote_by_uid()
    world.emulator.reset_counts()
    again = world.sync()
    assert again.plan is not None
    assert again.plan.is_noop
    assert world.emulator.requests == 1


def test_items_outside_the_delta_window_are_watched_too(world: World) -> None:
    """Archive milestones lie 5 years ahead, beyond the 1,825-day window: their deletion or
    change comes back under @removed, and each is checked."""
    assert world.sync().ok
    by_uid = world.remote_by_uid()
    far = sorted(u for u, e in by_uid.items() if e["start"]["dateTime"][:4] >= "2031")
    assert len(far) >= 2
    world.emulator.user_delete(MAILBOX, str(by_uid[far[0]]["id"]))
    world.emulator.user_patch(MAILBOX, str(by_uid[far[1]]["id"]), {"subject": "Changé"})
    report = world.sync()
    assert report.ok, report.errors
    assert report.done == {"create": 1, "update": 1, "delete": 0}
    after = world.remote_by_uid()
    assert far[0] in after
    assert after[far[1]]["subject"] != "Changé"


def test_an_event_moved_out_of_the_window_is_brought_back_not_duplicated(world: World) -> None:
    assert world.sync().ok
    event = world.remote_by_uid()[DTE]
    world.emulator.user_patch(
        MAILBOX,
        str(event["id"]),
        {
            "start": {"dateTime": "2045-01-02T00:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2045-01-03T00:00:00", "timeZone": "UTC"},
        },
    )
    report = world.sync()
    assert report.ok, report.errors
    after = world.remote_by_uid()
    assert after[DTE]["id"] == event["id"]
    assert after[DTE]["start"] == event["start"]


def test_a_lost_state_adopts_the_events_by_their_uid_property(world: World, tmp_path: Path) -> None:
    assert world.sync().ok
    ids = {u: e["id"] for u, e in world.remote_by_uid().items()}
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.migrate()
    try:
        report = world.sync(store=fresh)
        assert report.ok, report.errors
        assert world.emulator.calls["POST cal_events"] == len(ids)  # none more
        assert {u: e["id"] for u, e in world.remote_by_uid().items()} == ids
        assert {r.href for r in fresh.recorded("coordination").values()} == set(ids.values())
    finally:
        fresh.close()


def test_peoples_events_are_neither_stored_nor_touched(world: World) -> None:
    world.emulator.add_calendar(MAILBOX, CALENDAR)
    mine = world.emulator.user_create(
        MAILBOX,
        CALENDAR,
        {
            "subject": "Réunion perso",
            "start": {"dateTime": "2026-12-02T09:00:00", "timeZone": "Europe/Paris"},
            "end": {"dateTime": "2026-12-02T10:00:00", "timeZone": "Europe/Paris"},
        },
    )
    assert world.sync().ok
    world.emulator.user_patch(MAILBOX, mine["id"], {"subject": "Réunion déplacée"})
    assert world.sync().ok
    hrefs = {r.href for r in world.store.recorded("coordination").values()}
    assert mine["id"] not in hrefs
    assert world.remote()[mine["id"]]["subject"] == "Réunion déplacée"
    assert not [c for c in world.emulator.log if mine["id"] in c[1]]


# --- authentication ----------------------------------------------------------------------------


def test_a_token_is_fetched_again_when_graph_refuses_it(world: World) -> None:
    assert world.sync().ok
    world.emulator.entra.expire_tokens()  # revoked on Microsoft's side
    _move_sa(world, "16")
    report = world.sync()
    assert report.ok, report.errors
    assert world.emulator.token_requests == 2


def test_a_token_near_its_end_is_renewed_before_use(emulator: GraphEmulator, world: World) -> None:
    emulator.entra.lifetime = 200  # under MSAL's 5-minute margin: renewed on every use
    target = world.target()
    assert isinstance(target, GraphTarget)
    try:
        target.prepare(None)
        target.changes(None)
    finally:
        target.close()
    assert emulator.token_requests >= 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("wrong", "secret de l'application invalide (révoqué ou mal copié ?) (AADSTS7000215)"),
        ("expire", "secret de l'application expiré (AADSTS7000222)"),
    ],
)
def test_a_refused_secret_is_one_french_line(world: World, change: str, expected: str) -> None:
    if change == "wrong":
        world.set_secret("not-the-secret")
    else:
        world.emulator.entra.expire_secret(SECRET)
    report = world.sync()
    assert not report.ok
    assert expected in report.errors[0]
    assert SECRET not in report.errors[0]
    last_error = world.store.target_state("coordination").last_error
    assert last_error is not None
    assert "AADSTS" in last_error


def test_a_certificate_credential_is_accepted(world: World, tmp_path: Path) -> None:
    from tests.harness.graph_tls import make_client_certificate

    pem = make_client_certificate(tmp_path / "client.pem")
    world.emulator.entra.register_certificate(pem)
    report = world.sync(
        target=world.target(
            client_secret_file=None, client_certificate_file=tmp_path / "client.pem"
        )
    )
    assert report.ok, report.errors


def test_a_mailbox_outside_the_access_policy_is_a_french_refusal(world: World) -> None:
    world.emulator.denied.add(MAILBOX)
    report = world.sync()
    assert not report.ok
    assert "New-ApplicationAccessPolicy" in report.errors[0]


# --- concurrency -------------------------------------------------------------------------------


def test_targets_of_one_mailbox_stay_within_its_4_concurrent_requests(world: World) -> None:
    """Three calendars of one mailbox pushed at once, each request slowed down: the process's
    MailboxConcurrency keeps Graph's limit, nothing is refused."""
    world.emulator.latency = 0.01
    reports: list[TargetReport] = []

    def push(calendar: str) -> None:
        target = world.target(calendar=calendar, name=f"cal-{len(calendar)}")
        config = world.config()
        syncer = Syncer(world.store, RetryPolicy(sleep=world.sleeps.append))
        settings = world.settings(calendar=calendar, name=f"cal-{len(calendar)}")
        try:
            reports.append(syncer.sync(settings, target, config, plan_all(config, {}, NOW), NOW))
        finally:
            target.close()

    threads = [threading.Thread(target=push, args=(n,)) for n in ("A", "BB", "CCC")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(reports) == 3
    assert all(r.ok for r in reports), [r.errors for r in reports]
    assert world.emulator.throttled == 0
    assert world.emulator.peak_in_flight <= 4


# --- settings ------------------------------------------------------------------------------------


def test_settings_name_what_a_graph_target_needs(world: World) -> None:
    with pytest.raises(ValueError, match="mailbox, calendar manquant"):
        TargetSettings(
            name="x", kind="graph", audience=AUDIENCE, tenant_id="t", client_id="c",
            client_secret_env="S",
        )  # fmt: skip
    with pytest.raises(ValueError, match="exactement un de client_secret_env"):
        world.settings(client_secret_env="S")
    settings = world.settings()
    assert MAILBOX in address_of(settings)
    assert CALENDAR in address_of(settings)
    assert UID_PROPERTY.startswith("String {")


# --- a cancelled session (issue 12) --------------------------------------------------------------

CANCELLATION = 'cancelled: {on: 2026-11-24, reason: "Nombre de candidats insuffisant"}\n'


def test_a_cancelled_session_keeps_its_events_with_the_prefixed_subject(world: World) -> None:
    """``isCancelled`` is read-only in Graph (only the organiser's ``cancel`` action sets it,
    and it removes the event): a cancelled session's events stay, their subject « ANNULÉE — »,
    free, without reminder, in the category ``syncsvc:cancelled``."""
    assert world.sync().ok
    before = world.remote_by_uid()
    world.edit(SA, lambda t: t + CANCELLATION)
    world.emulator.reset_counts()
    cancelled = world.sync()
    assert cancelled.ok, cancelled.errors
    assert cancelled.done["delete"] == cancelled.done["create"] == 0
    after = world.remote_by_uid()
    assert after.keys() == before.keys()
    sa = [u for u in after if u.startswith("sa-2027-03-st-andre.")]
    assert sa
    for uid in sa:
        event = after[uid]
        assert event["subject"].startswith("ANNULÉE — "), uid
        assert event["body"]["content"].startswith(
            "Session annulée le 24/11/2026 : Nombre de candidats insuffisant\n\n"
        ), uid
        assert "syncsvc:cancelled" in event["categories"], uid
        assert (event["showAs"], event["isReminderOn"]) == ("free", False), uid
        assert not event.get("isCancelled"), uid
    assert after[DTE]["subject"] == "ANNULÉE — J-92 · DTE — SA St-André"
