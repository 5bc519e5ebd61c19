"""CalDAV-specific checks, on real Radicale and Xandikos servers behind a counting proxy.

The scenarios every target must pass are in ``test_targets.py``; this module provides the
CalDAV :class:`World` they use and the checks that only make sense for CalDAV (VTODO items,
the ETag-listing fallback when sync-collection is missing).
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

from syncsvc.app.apply import RetryPolicy
from syncsvc.app.sync import Syncer, TargetReport
from syncsvc.calendars.caldav import CalDAVTarget
from syncsvc.core.config import Config
from syncsvc.core.entries import Entry, entries_for
from syncsvc.core.planner import plan_all
from syncsvc.errors import PermanentError
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import TargetSettings
from syncsvc.state.store import Store
from tests.harness.servers import CalDAVServer

ROOT = Path(__file__).resolve().parents[3]
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
    concurrency: int = 1

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
            concurrency=self.concurrency,
        )

    def config(self) -> Config:
        return load_config(self.root / "config")

    def sync(
        self,
        *,
        force: bool = False,
        now: datetime = NOW,
        store: Store | None = None,
        syncer: Syncer | None = None,
    ) -> TargetReport:
        """One pass, by a new :class:`Syncer` unless ``syncer`` (the daemon keeps its own)."""
        target = CalDAVTarget(
            "coordination",
            self.server.url,
            CALENDAR,
            username=self.server.username or None,
            password=self.server.password or None,
        )
        config = self.config()
        if syncer is None:
            syncer = Syncer(store or self.store, RetryPolicy(sleep=self.sleeps.append), force=force)
        try:
            return syncer.sync(self.settings, target, config, plan_all(config, {}, now), now)
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
    return sum(
        len(entries_for(s, c, m))  # the exam: one item per day
        for s, c, ms in plan_all(config, {}, NOW)
        for m in ms
        if s.centre == "afpar-st-andre"
    )


def test_tasks_target(world: World) -> None:
    world.items = "tasks"
    report = world.sync()
    assert report.ok, report.errors
    kinds = {c.name for cal in world.remote().values() for c in cal.walk() if "UID" in c}
    assert kinds == {"VTODO", "VEVENT"}  # the exam session stays an event
    todo = _component(world.remote_by_uid()["sa-2027-03-st-andre.dte_order@syncsvc"][1])
    assert str(todo["STATUS"]) == "NEEDS-ACTION"


def test_a_long_lived_syncer_writes_again_from_kept_hashes_the_same_bytes(world: World) -> None:
    """The daemon keeps its Syncer, whose Renderer keeps the items' hashes and not their
    entries: an item deleted or edited on the server is written back from its entry rendered
    again, and the server holds what it held (but the SEQUENCE)."""
    syncer = Syncer(world.store, RetryPolicy(sleep=world.sleeps.append))
    assert world.sync(syncer=syncer).ok
    before = world.remote_by_uid()
    gone, edited = sorted(before)[:2]
    assert world.direct("DELETE", before[gone][0]).status_code in (200, 204)
    body = before[edited][1].to_ical().replace(b"SUMMARY:", b"SUMMARY:modifi\xc3\xa9 ")
    assert world.direct("PUT", before[edited][0], body).status_code in (201, 204)
    report = world.sync(syncer=syncer)
    assert report.ok, report.errors
    assert report.plan is not None
    written = {op.uid: op.desired for op in report.plan.operations}
    assert written.keys() == {gone, edited}
    # Both given by the renderer from what it kept (a hit): no entry was kept to write.
    assert all(want is not None and not isinstance(want.source, Entry) for want in written.values())
    after = world.remote_by_uid()

    def unsequenced(cal: Calendar) -> bytes:
        _component(cal).pop("SEQUENCE")
        return bytes(cal.to_ical())

    for uid in (gone, edited):
        assert unsequenced(after[uid][1]) == unsequenced(before[uid][1])


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


def test_concurrent_writes_make_exactly_one_copy(world: World) -> None:
    world.concurrency = 4
    first = world.sync()
    if world.server.name == "xandikos":
        # Xandikos locks its store per write and answers 423 Locked to the others: a
        # temporary error, retried; what still fails is left for the next run, never doubled.
        assert all("HTTP 423" in e for e in first.errors), first.errors
        world.concurrency = 1
        assert world.sync().ok
    else:
        assert first.ok, first.errors
    assert len(world.remote_by_uid()) == desired_count(world)  # raises on a duplicate UID
    world.edit(SA, lambda t: t.replace("start: 2027-03-15", "start: 2027-03-16"))
    moved = world.sync()
    assert moved.ok, moved.errors
    assert moved.done["update"] > 0
    assert len(world.store.recorded("coordination")) == desired_count(world)
    assert world.sync().plan.is_noop  # type: ignore[union-attr]


def test_concurrent_writes_stop_when_the_server_goes_down(world: World) -> None:
    world.concurrency = 4
    world.server.proxy.down()
    try:
        report = world.sync()
    finally:
        world.server.proxy.up()
    assert not report.ok
    assert "injoignable" in " ".join(report.errors)
    back = world.sync()
    assert back.ok, back.errors
    assert len(world.remote_by_uid()) == desired_count(world)


def test_a_calendar_named_alone_is_found_under_the_user_s_home(world: World) -> None:
    """Two PROPFIND (current-user-principal, then calendar-home-set) find where the calendar
    goes; a refusal or a server that names no home is one French line, nothing created."""
    target = CalDAVTarget(
        "coordination",
        world.server.url,
        CALENDAR,
        username=world.server.username or None,
        password=world.server.password or None,
    )
    try:
        url = target.prepare()
    finally:
        target.close()
    assert url.endswith(f"/{CALENDAR}/")
    assert world.server.proxy.counts["PROPFIND"] == 3  # principal, home, the calendar itself
    assert world.server.proxy.counts["MKCALENDAR"] == 1

    world.server.proxy.reset()
    world.server.proxy.fail_next(1, 403, method="PROPFIND")
    refused = CalDAVTarget("coordination", world.server.url, "autre", username="x", password="y")
    with pytest.raises(PermanentError, match=r"^découverte CalDAV refusée : PROPFIND .*HTTP 403"):
        refused.prepare()
    refused.close()

    world.server.proxy.reset()
    world.server.proxy.fail_next(2, 404, method="PROPFIND")
    lost = CalDAVTarget(
        "coordination",
        world.server.url,
        "autre",
        username=world.server.username or None,
        password=world.server.password or None,
    )
    with pytest.raises(PermanentError, match=r"pas de calendar-home-set.*URL complète"):
        lost.prepare()
    lost.close()
    assert world.server.proxy.counts["MKCALENDAR"] == 0
