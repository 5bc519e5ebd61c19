"""The target contract: one set of scenarios, run against every kind of calendar target.

Radicale, Xandikos and Cyrus (real CalDAV servers started by the tests, behind a counting proxy) and
Google Calendar (the Calendar v3 emulator) are driven through the same service, and each
scenario reads the results through a small backend-neutral :class:`Backend`. Backend-specific
checks (Google's batches and ids, CalDAV's ETag listing…) stay in ``test_caldav_target.py``
and ``test_google_target.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.sync import TargetReport
from syncsvc.core.entries import entries_for
from syncsvc.core.planner import plan_all
from syncsvc.state.store import Store
from tests.adapters.calendars import test_caldav_target as caldav
from tests.adapters.calendars import test_google_target as google
from tests.adapters.calendars import test_graph_target as graph
from tests.harness.google_emulator import CalendarEmulator
from tests.harness.graph_emulator import GraphEmulator
from tests.harness.servers import CalDAVServer

NOW = caldav.NOW
SA = caldav.SA
DTE = "sa-2027-03-st-andre.dte_order@syncsvc"
PREPARATION = "sa-2027-03-st-andre.final_preparation@syncsvc"
CCP_DTE = "ccp-ac-2027-05-st-andre.dte_order@syncsvc"
FOREIGN = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//FR\r\nBEGIN:VEVENT\r\n"
    b"UID:perso-1@example.org\r\nDTSTAMP:20261120T100000Z\r\nDTSTART;VALUE=DATE:20261201\r\n"
    b"SUMMARY:Dentiste\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@dataclass
class Backend:
    """What a scenario needs from a target under test, whatever its kind."""

    name: str
    world: Any
    sync_: Callable[..., TargetReport]
    remote: Callable[[], dict[str, dict[str, Any]]]
    """UID -> {"start": date, "summary": str, "sequence": int} for our items and others'."""
    delete_remotely: Callable[[str], None]
    edit_remotely: Callable[[str, str], None]
    add_foreign: Callable[[], str]
    writes: Callable[[], int]
    requests: Callable[[], int]
    reset: Callable[[], None]
    down: Callable[[], AbstractContextManager[None]]
    fail_next: Callable[[int, int, int], None]

    @property
    def store(self) -> Store:
        store: Store = self.world.store
        return store

    @property
    def sleeps(self) -> list[float]:
        sleeps: list[float] = self.world.sleeps
        return sleeps

    def sync(self, **kwargs: Any) -> TargetReport:
        return self.sync_(**kwargs)

    def ours(self) -> dict[str, dict[str, Any]]:
        return {u: v for u, v in self.remote().items() if u.endswith("@syncsvc")}

    def edit(self, name: str, change: Callable[[str], str]) -> None:
        self.world.edit(name, change)

    def desired_count(self) -> int:
        config = self.world.config()
        return sum(
            len(entries_for(s, c, m))  # the exam: one item per day
            for s, c, ms in plan_all(config, {}, NOW)
            for m in ms
            if s.centre == "afpar-st-andre"
        )


def _caldav_backend(name: str, world: caldav.World) -> Backend:
    proxy = world.server.proxy

    def remote() -> dict[str, dict[str, Any]]:
        out = {}
        for uid, (_, cal) in world.remote_by_uid().items():
            comp = caldav._component(cal)
            start = comp.decoded("DTSTART")
            out[uid] = {
                "start": start
                if isinstance(start, date) and not hasattr(start, "hour")
                else start.date(),
                "summary": str(comp["SUMMARY"]),
                "sequence": int(comp.get("SEQUENCE", 0)),
            }
        return out

    def href(uid: str) -> str:
        return world.remote_by_uid()[uid][0]

    def edit_remotely(uid: str, summary: str) -> None:
        _, cal = world.remote_by_uid()[uid]
        component = caldav._component(cal)
        component.pop("SUMMARY")
        component.add("summary", summary)
        body = cal.to_ical()
        assert world.direct("PUT", href(uid), body).status_code in (201, 204)

    def delete_remotely(uid: str) -> None:
        assert world.direct("DELETE", href(uid)).status_code in (200, 204)

    def add_foreign() -> str:
        base = href(DTE).rsplit("/", 1)[0]
        assert world.direct("PUT", f"{base}/rendez-vous-perso.ics", FOREIGN).status_code in (
            201,
            204,
        )
        return "perso-1@example.org"

    return Backend(
        name,
        world,
        world.sync,
        remote,
        delete_remotely,
        edit_remotely,
        add_foreign,
        lambda: proxy.writes,
        lambda: proxy.total,
        proxy.reset,
        lambda: _stopped(proxy.down, proxy.up),
        lambda n, status, retry: proxy.fail_next(n, status, retry_after=retry),
    )


def _google_backend(world: google.World) -> Backend:
    emulator = world.emulator

    def remote() -> dict[str, dict[str, Any]]:
        out = {}
        for event in emulator.events(google.CALENDAR).values():
            start = event["start"]
            day = start.get("date") or start["dateTime"][:10]
            out[event.get("iCalUID") or event["id"]] = {
                "start": date.fromisoformat(day),
                "summary": event.get("summary", ""),
                "sequence": int(event.get("sequence", 0)),
            }
        return out

    def event_id(uid: str) -> str:
        return str(world.remote_by_uid()[uid]["id"])

    def add_foreign() -> str:
        made = emulator.user_insert(
            google.CALENDAR,
            {
                "summary": "Dentiste",
                "iCalUID": "perso-1@example.org",
                "start": {"date": "2026-12-01"},
                "end": {"date": "2026-12-02"},
            },
        )
        return str(made.get("iCalUID") or made["id"])

    return Backend(
        "google",
        world,
        world.sync,
        remote,
        lambda uid: emulator.user_delete(google.CALENDAR, event_id(uid)),
        lambda uid, summary: emulator.user_patch(
            google.CALENDAR, event_id(uid), {"summary": summary}
        ),
        add_foreign,
        lambda: emulator.writes,
        lambda: emulator.http_requests,
        emulator.reset_counts,
        emulator.stopped,
        lambda n, status, retry: emulator.fail_next(n, status, retry_after=retry, scope="http"),
    )


def _graph_backend(world: graph.World) -> Backend:
    emulator = world.emulator

    def remote() -> dict[str, dict[str, Any]]:
        return {
            uid: {
                "start": date.fromisoformat(event["start"]["dateTime"][:10]),
                "summary": event.get("subject", ""),
                "sequence": event["_revisions"],  # Graph has no SEQUENCE: writes since creation
            }
            for uid, event in world.remote_by_uid().items()
        }

    def event_id(uid: str) -> str:
        return str(world.remote_by_uid()[uid]["id"])

    def add_foreign() -> str:
        made = emulator.user_create(
            graph.MAILBOX,
            graph.CALENDAR,
            {
                "subject": "Dentiste",
                "start": {"dateTime": "2026-12-01T09:00:00", "timeZone": "Europe/Paris"},
                "end": {"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Paris"},
            },
        )
        return str(made["iCalUId"])

    return Backend(
        "graph",
        world,
        world.sync,
        remote,
        lambda uid: emulator.user_delete(graph.MAILBOX, event_id(uid)),
        lambda uid, summary: emulator.user_patch(
            graph.MAILBOX, event_id(uid), {"subject": summary}
        ),
        add_foreign,
        lambda: emulator.writes,
        lambda: emulator.requests,
        emulator.reset_counts,
        emulator.stopped,
        lambda n, status, retry: emulator.fail_next(n, status, retry_after=retry, scope="http"),
    )


class _stopped(AbstractContextManager[None]):  # used like a function
    def __init__(self, down: Callable[[], None], up: Callable[[], None]) -> None:
        self._down, self._up = down, up

    def __enter__(self) -> None:
        self._down()

    def __exit__(self, *exc: object) -> None:
        self._up()


@pytest.fixture(params=["radicale", "xandikos", "cyrus", "google", "graph"])
def backend(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fresh_caldav: Callable[[str], CalDAVServer],
) -> Iterator[Backend]:
    shutil.copytree(caldav.ROOT / "config", tmp_path / "config")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    try:
        if request.param == "google":
            with CalendarEmulator(token=google.TOKEN) as emulator:
                emulator.add_calendar(google.CALENDAR)
                yield _google_backend(google.World(emulator, tmp_path, store))
        elif request.param == "graph":
            with GraphEmulator(folder=tmp_path / "graph") as graph_emulator:
                graph_emulator.mailbox(graph.MAILBOX)
                yield _graph_backend(graph.World(graph_emulator, tmp_path, store))
        else:
            server = fresh_caldav(request.param)
            yield _caldav_backend(request.param, caldav.World(server, tmp_path, store))
    finally:
        store.close()


def _move_sa(days: str) -> Callable[[str], str]:
    return lambda t: t.replace("start: 2027-03-15", f"start: 2027-03-{days}").replace(
        "end: 2027-03-19", f"end: 2027-03-{int(days) + 4}"
    )


class TestTargetContract:
    def test_create_then_noop_then_date_moved(self, backend: Backend) -> None:
        expected = backend.desired_count()
        first = backend.sync()
        assert first.ok, first.errors
        assert first.done == {"create": expected, "update": 0, "delete": 0}
        assert len(backend.ours()) == expected

        backend.reset()
        again = backend.sync()
        assert again.ok
        assert again.plan is not None
        assert again.plan.is_noop
        assert backend.writes() == 0
        assert backend.requests() <= 2

        backend.edit(SA, _move_sa("22"))
        backend.reset()
        moved = backend.sync()
        assert moved.ok, moved.errors
        assert moved.done["create"] == moved.done["delete"] == 0
        assert moved.done["update"] > 0
        after = backend.ours()
        assert after.keys() == backend.ours().keys()
        assert after[DTE]["start"] == date(2026, 12, 18)  # 22 Mar 2027 - 92 d, a Friday
        assert after[DTE]["sequence"] == 1
        assert after[CCP_DTE]["sequence"] == 0

    def test_deleted_session_is_removed_broken_session_is_kept(self, backend: Backend) -> None:
        assert backend.sync().ok
        before = backend.ours()
        ccp = {u for u in before if u.startswith("ccp-ac-2027-05-st-andre.")}
        sa = {u for u in before if u.startswith("sa-2027-03-st-andre.")}
        backend.edit(SA, lambda t: t.replace("nature: titre", "nature: titr"))
        backend.reset()
        broken = backend.sync()
        assert broken.ok
        assert broken.plan is not None
        assert broken.plan.count("delete") == 0
        assert backend.writes() == 0
        assert sa <= backend.ours().keys()
        (backend.world.root / "config/sessions/ccp-ac-2027-05-st-andre.yaml").unlink()
        # A removed file on a calendar holding other sessions: the deletions wait for a
        # person's confirmation (a file moved by mistake must never empty a calendar).
        waiting = backend.sync()
        assert waiting.refused is not None
        assert "« ccp-ac-2027-05-st-andre »" in waiting.refused
        assert waiting.done["delete"] == 0
        assert ccp <= backend.ours().keys()
        state = backend.store.target_state(waiting.name)
        assert state.held_fingerprint is not None
        assert backend.store.confirm_deletions(waiting.name, state.held_fingerprint, "admin")
        gone = backend.sync()
        assert gone.ok, gone.errors
        assert gone.done["delete"] == len(ccp)
        assert not ccp & backend.ours().keys()
        assert sa <= backend.ours().keys()
        assert backend.store.target_state(gone.name).held_fingerprint is None

    def test_mass_delete_is_refused_unless_forced(self, backend: Backend) -> None:
        assert backend.sync().ok
        count = len(backend.ours())
        for path in (backend.world.root / "config/sessions").glob("*st-andre*.yaml"):
            path.unlink()
        refused = backend.sync()
        assert refused.refused is not None
        assert "--force" in refused.refused
        assert len(backend.ours()) == count
        forced = backend.sync(force=True)
        assert forced.ok
        assert forced.done["delete"] == count
        assert backend.ours() == {}

    def test_remote_deletion_restored_remote_edit_overwritten(self, backend: Backend) -> None:
        assert backend.sync().ok
        backend.delete_remotely(DTE)
        backend.edit_remotely(PREPARATION, "Modifié par un humain")
        report = backend.sync()
        assert report.ok, report.errors
        assert report.done == {"create": 1, "update": 1, "delete": 0}
        after = backend.ours()
        assert DTE in after
        assert after[PREPARATION]["summary"].startswith("J-5 · Préparation finale — SA ")
        backend.reset()
        noop = backend.sync()
        assert noop.plan is not None
        assert noop.plan.is_noop
        assert backend.writes() == 0

    def test_conflict_on_a_stale_etag_is_handled(self, backend: Backend) -> None:
        assert backend.sync().ok
        backend.store.record_etag("coordination", DTE, '"stale-etag"')
        backend.edit(SA, _move_sa("16"))
        report = backend.sync()
        assert report.ok, report.errors
        assert backend.ours()[DTE]["start"] == date(2026, 12, 14)  # 16 Mar 2027 - 92 d
        assert len(backend.ours()) == backend.desired_count()

    def test_server_down_then_back(self, backend: Backend) -> None:
        assert backend.sync().ok
        recorded = backend.store.recorded("coordination")
        backend.edit(SA, _move_sa("16"))
        with backend.down():
            down = backend.sync()
        assert not down.ok
        assert "injoignable" in " ".join(down.errors)
        assert backend.store.recorded("coordination") == recorded
        assert backend.store.target_state("coordination").last_error
        back = backend.sync()
        assert back.ok, back.errors
        assert back.done["update"] > 0
        assert backend.store.target_state("coordination").last_error is None
        again = backend.sync()
        assert again.plan is not None
        assert again.plan.is_noop

    def test_temporary_errors_are_retried_honouring_retry_after(self, backend: Backend) -> None:
        backend.fail_next(2, 503, 3)
        report = backend.sync()
        assert report.ok, report.errors
        assert backend.sleeps == [3.0, 3.0]
        assert len(backend.ours()) == backend.desired_count()

    def test_a_killed_sync_leaves_exactly_one_copy(self, backend: Backend, tmp_path: Path) -> None:
        class Crash(BaseException):
            pass

        class CrashingStore(Store):
            """Dies after the 5th remote write, before recording it."""

            pushes = 0

            def record_push(self, *args: Any, **kwargs: Any) -> None:
                CrashingStore.pushes += 1
                if CrashingStore.pushes == 5:
                    raise Crash
                super().record_push(*args, **kwargs)

        crashing = CrashingStore(f"sqlite:///{tmp_path / 'state.db'}")
        with pytest.raises(Crash):
            backend.sync(store=crashing)
        crashing.close()
        assert len(backend.store.recorded("coordination")) == 4
        report = backend.sync()
        assert report.ok, report.errors
        assert len(backend.ours()) == backend.desired_count()  # no duplicate, nothing missing
        assert len(backend.store.recorded("coordination")) == backend.desired_count()
        again = backend.sync()
        assert again.plan is not None
        assert again.plan.is_noop

    def test_items_of_others_are_never_touched(self, backend: Backend) -> None:
        assert backend.sync().ok
        foreign = backend.add_foreign()
        for path in (backend.world.root / "config/sessions").glob("*st-andre*.yaml"):
            path.unlink()
        assert backend.sync(force=True).ok
        assert list(backend.remote()) == [foreign]
