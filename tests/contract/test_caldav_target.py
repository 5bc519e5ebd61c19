"""One contract for calendar targets, run against real CalDAV servers (Radicale, Xandikos).

Every scenario goes through the service (load -> plan -> diff -> apply -> record) and checks
both what the server holds (read directly, bypassing the counting proxy) and what the proxy
counted: a no-op sync writes nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx
import pytest
from icalendar import Calendar, Component

from syncsvc.calendars.caldav import CalDAVTarget
from syncsvc.loader import Config, load_config
from syncsvc.service import RetryPolicy, Syncer, TargetReport, plan_all
from syncsvc.settings import TargetSettings
from syncsvc.store import Store
from tests.servers import CalDAVServer

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CALENDAR = "examens-st-andre"
AUDIENCE = "coordinators:afpar-st-andre"
SA = "config/sessions/sa-2027-03-st-andre.yaml"


@dataclass
class World:
    """A config folder, a store, a server and the service between them."""

    server: CalDAVServer
    root: Path
    store: Store
    items: Literal["events", "tasks"] = "events"
    sleeps: list[float] = field(default_factory=list)

    @property
    def settings(self) -> TargetSettings:
        return TargetSettings(
            name="coordination",
            kind="caldav",
            url=self.server.url,
            calendar=CALENDAR,
            audience=AUDIENCE,
            username=self.server.username or None,
            items=self.items,
        )

    def config(self) -> Config:
        return load_config(self.root / "config")

    def sync(
        self, *, force: bool = False, now: datetime = NOW, store: Store | None = None
    ) -> TargetReport:
        target = CalDAVTarget(
            "coordination",
            self.server.url,
            CALENDAR,
            username=self.server.username or None,
            password=self.server.password or None,
        )
        config = self.config()
        syncer = Syncer(store or self.store, RetryPolicy(sleep=self.sleeps.append), force=force)
        try:
            return syncer.sync(self.settings, target, config, plan_all(config, now), now)
        finally:
            target.close()

    def remote(self) -> dict[str, Calendar]:
        """Every item of the calendar, read straight from the server (not counted)."""
        base = f"{self.server.upstream_url}{self.server.home_url.split('/', 3)[3]}{CALENDAR}/"
        with httpx.Client(auth=self.server.auth) as client:
            listing = client.request(
                "PROPFIND",
                base,
                headers={"Depth": "1", "Content-Type": "application/xml"},
                content=b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
            )
            hrefs = [h for h in _hrefs(listing.text) if h.endswith(".ics")]
            items = {}
            for href in hrefs:
                body = client.get(f"{self.server.upstream_url.rstrip('/')}{href}").content
                cal = Calendar.from_ical(body)
                for comp in cal.walk():
                    if "UID" in comp:
                        items[href] = cal
        return items

    def remote_by_uid(self) -> dict[str, tuple[str, Calendar]]:
        out: dict[str, tuple[str, Calendar]] = {}
        for href, cal in self.remote().items():
            comp = next(c for c in cal.walk() if "UID" in c)
            uid = str(comp["UID"])
            assert uid not in out, f"duplicate UID {uid}"
            out[uid] = (href, cal)
        return out

    def edit(self, name: str, change: Callable[[str], str]) -> None:
        path = self.root / name
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")

    def direct(self, method: str, href: str, body: bytes = b"") -> httpx.Response:
        with httpx.Client(auth=self.server.auth) as client:
            return client.request(
                method,
                f"{self.server.upstream_url.rstrip('/')}{href}",
                content=body,
                headers={"Content-Type": "text/calendar; charset=utf-8"} if body else {},
            )


def _hrefs(xml: str) -> list[str]:
    import re
    from urllib.parse import unquote, urlsplit

    found = re.findall(r"<(?:\w+:)?href>([^<]+)</(?:\w+:)?href>", xml)
    return [unquote(urlsplit(h).path) for h in found]


def _component(cal: Calendar) -> Component:
    return next(c for c in cal.walk() if "UID" in c)


@pytest.fixture
def world(caldav_server: CalDAVServer, tmp_path: Path) -> World:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    return World(caldav_server, tmp_path, store)


def desired_count(world: World) -> int:
    config = world.config()
    return sum(1 for s, _, ms in plan_all(config, NOW) for _ in ms if s.centre == "afpar-st-andre")


def test_create_then_noop_then_date_moved(world: World) -> None:
    expected = desired_count(world)
    first = world.sync()
    assert first.ok, first.errors
    assert first.done == {"create": expected, "update": 0, "delete": 0}
    remote = world.remote_by_uid()
    assert len(remote) == expected
    assert all(uid.endswith("@syncsvc") for uid in remote)

    world.server.proxy.reset()
    again = world.sync()
    assert again.ok
    assert again.plan is not None
    assert again.plan.is_noop
    assert world.server.proxy.writes == 0
    assert world.server.proxy.total <= 2

    # The SA session moves one week later: its items are updated in place, SEQUENCE + 1.
    world.edit(
        SA,
        lambda t: t.replace("start: 2027-03-15", "start: 2027-03-22").replace(
            "end: 2027-03-19", "end: 2027-03-26"
        ),
    )
    world.server.proxy.reset()
    moved = world.sync()
    assert moved.ok, moved.errors
    assert moved.done["create"] == moved.done["delete"] == 0
    assert moved.done["update"] > 0
    assert world.server.proxy.counts["PUT"] == moved.done["update"]
    after = world.remote_by_uid()
    assert after.keys() == remote.keys()
    href, cal = after["sa-2027-03-st-andre.dte_order@syncsvc"]
    event = _component(cal)
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART").isoformat() == "2026-12-18"  # 22 Mar 2027 - 92 d, a Friday
    assert href == remote["sa-2027-03-st-andre.dte_order@syncsvc"][0]
    untouched = _component(after["ccp-ac-2027-05-st-andre.dte_order@syncsvc"][1])
    assert untouched["SEQUENCE"] == 0


def test_deleted_session_is_removed_broken_session_is_kept(world: World) -> None:
    assert world.sync().ok
    before = world.remote_by_uid()
    ccp = {u for u in before if u.startswith("ccp-ac-2027-05-st-andre.")}
    sa = {u for u in before if u.startswith("sa-2027-03-st-andre.")}
    # A broken file: its events stay, untouched.
    world.edit(SA, lambda t: t.replace("nature: titre", "nature: titr"))
    world.server.proxy.reset()
    broken = world.sync()
    assert broken.ok
    assert broken.plan is not None
    assert broken.plan.count("delete") == 0
    assert world.server.proxy.writes == 0
    assert sa <= world.remote_by_uid().keys()
    # A deleted file: its events go.
    (world.root / "config/sessions/ccp-ac-2027-05-st-andre.yaml").unlink()
    gone = world.sync()
    assert gone.ok, gone.errors
    assert gone.done["delete"] == len(ccp)
    remaining = world.remote_by_uid().keys()
    assert not ccp & remaining
    assert sa <= remaining


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
    deleted_href = remote["sa-2027-03-st-andre.dte_order@syncsvc"][0]
    edited_href, edited = remote["sa-2027-03-st-andre.final_preparation@syncsvc"]
    assert world.direct("DELETE", deleted_href).status_code in (200, 204)
    body = edited.to_ical().replace(b"Ouvrir le pli organisateur", b"Modifie par un humain")
    assert world.direct("PUT", edited_href, body).status_code in (201, 204)

    world.server.proxy.reset()
    report = world.sync()
    assert report.ok, report.errors
    assert report.done == {"create": 1, "update": 1, "delete": 0}
    after = world.remote_by_uid()
    assert "sa-2027-03-st-andre.dte_order@syncsvc" in after
    summary = str(_component(after["sa-2027-03-st-andre.final_preparation@syncsvc"][1])["SUMMARY"])
    assert summary.startswith("[SA 15/03] Ouvrir le pli organisateur")
    world.server.proxy.reset()
    assert world.sync().plan.is_noop  # type: ignore[union-attr]
    assert world.server.proxy.writes == 0


def test_conflict_412_is_handled(world: World) -> None:
    assert world.sync().ok
    uid = "sa-2027-03-st-andre.dte_order@syncsvc"
    # Someone else wrote the item since we recorded it: our If-Match is stale.
    world.store.record_etag("coordination", uid, '"stale-etag"')
    world.edit(SA, lambda t: t.replace("start: 2027-03-15", "start: 2027-03-16"))
    report = world.sync()
    assert report.ok, report.errors
    event = _component(world.remote_by_uid()[uid][1])
    assert event.decoded("DTSTART").isoformat() == "2026-12-14"  # 16 Mar 2027 - 92 d
    assert len(world.remote_by_uid()) == desired_count(world)


def test_server_down_then_back(world: World) -> None:
    assert world.sync().ok
    recorded = world.store.recorded("coordination")
    world.edit(SA, lambda t: t.replace("start: 2027-03-15", "start: 2027-03-16"))
    world.server.proxy.down()
    try:
        down = world.sync()
    finally:
        world.server.proxy.up()
    assert not down.ok
    assert "injoignable" in " ".join(down.errors)
    assert world.store.recorded("coordination") == recorded  # state intact
    assert world.store.target_state("coordination").last_error
    back = world.sync()
    assert back.ok, back.errors
    assert back.done["update"] > 0
    assert world.store.target_state("coordination").last_error is None
    assert world.sync().plan.is_noop  # type: ignore[union-attr]


def test_temporary_errors_are_retried_honouring_retry_after(world: World) -> None:
    world.server.proxy.fail_next(2, 503, retry_after=3)
    report = world.sync()
    assert report.ok, report.errors
    assert world.sleeps == [3.0, 3.0]
    assert len(world.remote_by_uid()) == desired_count(world)


def test_a_killed_sync_leaves_exactly_one_copy_of_every_item(world: World, tmp_path: Path) -> None:
    class Crash(BaseException):
        pass

    class CrashingStore(Store):
        """Dies after the 5th successful PUT, before recording it (kill -9 at the worst time)."""

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
    report = world.sync()
    assert report.ok, report.errors
    remote = world.remote_by_uid()  # raises on a duplicate UID
    assert len(remote) == desired_count(world)
    assert len(world.store.recorded("coordination")) == desired_count(world)
    assert world.sync().plan.is_noop  # type: ignore[union-attr]


def test_items_of_others_are_never_touched(world: World) -> None:
    assert world.sync().ok
    base = next(iter(world.remote()))
    href = base.rsplit("/", 1)[0] + "/rendez-vous-perso.ics"
    mine = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//FR\r\nBEGIN:VEVENT\r\n"
        b"UID:perso-1@example.org\r\nDTSTAMP:20261120T100000Z\r\nDTSTART;VALUE=DATE:20261201\r\n"
        b"SUMMARY:Dentiste\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert world.direct("PUT", href, mine).status_code in (201, 204)
    for path in (world.root / "config/sessions").glob("*st-andre*.yaml"):
        path.unlink()
    assert world.sync(force=True).ok
    remaining = world.remote_by_uid()
    assert list(remaining) == ["perso-1@example.org"]


def test_tasks_target(world: World) -> None:
    world.items = "tasks"
    report = world.sync()
    assert report.ok, report.errors
    kinds = {c.name for cal in world.remote().values() for c in cal.walk() if "UID" in c}
    assert kinds == {"VTODO", "VEVENT"}  # the exam session stays an event
    todo = _component(world.remote_by_uid()["sa-2027-03-st-andre.dte_order@syncsvc"][1])
    assert str(todo["STATUS"]) == "NEEDS-ACTION"


def test_servers_without_sync_collection_get_an_etag_listing(world: World) -> None:
    assert world.sync().ok
    world.server.proxy.fail_next(1, 501, method="REPORT")
    world.edit(SA, lambda t: t.replace("start: 2027-03-15", "start: 2027-03-16"))
    world.server.proxy.reset()
    report = world.sync()
    assert report.ok, report.errors
    assert report.done["update"] > 0
    assert world.server.proxy.counts["PROPFIND"] >= 1  # the fallback listing
    assert len(world.remote_by_uid()) == desired_count(world)
