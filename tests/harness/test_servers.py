"""Self-test of tests/servers.py: real Radicale, Xandikos and Cyrus behind the counting proxy."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from caldav.davclient import DAVClient

from tests.harness.servers import (
    CalDAVServer,
    cyrus_server,
    ensure_cyrus,
    radicale_server,
    xandikos_server,
)

EVENT = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//syncsvc//tests//EN\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:servers-self-test@syncsvc.test\r\n"
    "DTSTAMP:20250101T000000Z\r\n"
    "DTSTART:20250102T090000Z\r\n"
    "DTEND:20250102T100000Z\r\n"
    "SUMMARY:self-test\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)

Starter = Callable[[Path], AbstractContextManager[CalDAVServer]]


@pytest.fixture(params=[radicale_server, xandikos_server], ids=["radicale", "xandikos"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CalDAVServer]:
    start: Starter = request.param
    with start(tmp_path) as running:
        yield running


def test_server_behind_counting_proxy(server: CalDAVServer) -> None:
    proxy = server.proxy
    calendar_url = server.calendar_url("test")

    # auth_type="basic" sends credentials up front; without it caldav sends its first request
    # unauthenticated and repeats it after Radicale's 401 (one extra request in the counts).
    with DAVClient(
        url=server.url,
        username=server.username or None,
        password=server.password or None,
        auth_type="basic" if server.auth else None,
    ) as client:
        assert client.mkcalendar(calendar_url).status == 201
        urls = {str(calendar.url) for calendar in client.get_calendars()}
    assert calendar_url in urls  # discovery through the proxy finds the home we advertise
    assert proxy.counts["MKCALENDAR"] == 1
    assert proxy.writes == 1

    proxy.reset()
    event_url = f"{calendar_url}x.ics"
    with httpx.Client(auth=server.auth, timeout=5.0) as http:
        put = http.put(
            event_url,
            content=EVENT.encode(),
            headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
        )
        assert put.status_code in (201, 204)
        assert proxy.counts["PUT"] == 1
        assert proxy.writes == 1
        assert proxy.log == [("PUT", "/" + event_url.split("/", 3)[3], put.status_code)]

        got = http.get(event_url)
        assert got.status_code == 200
        assert "UID:servers-self-test@syncsvc.test" in got.text

        # Injected fault: answered by the proxy itself, not forwarded.
        forwarded_before = sum(proxy.forwarded.values())
        proxy.fail_next(1, 503, retry_after=2)
        failed = http.get(event_url)
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "2"
        assert sum(proxy.forwarded.values()) == forwarded_before
        assert proxy.log[-1] == ("GET", proxy.log[-1][1], 503)
        assert http.get(event_url).status_code == 200  # only one request was failed

        # Down: connection refused, on the same kept-alive client.
        proxy.down()
        with pytest.raises(httpx.ConnectError):
            http.get(event_url)
        proxy.up()
        assert http.get(event_url).status_code == 200

        # The same UID again with If-None-Match: * is refused by both servers.
        again = http.put(
            event_url,
            content=EVENT.encode(),
            headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
        )
        assert again.status_code == 412
    assert proxy.counts["PUT"] == 2


def _needs_cyrus() -> None:
    reason = ensure_cyrus()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Cyrus is required in CI: {reason}")
        pytest.skip(reason)


def test_cyrus_behind_counting_proxy(tmp_path: Path) -> None:
    _needs_cyrus()
    with cyrus_server(tmp_path) as server, httpx.Client(auth=server.auth, timeout=10.0) as http:
        proxy = server.proxy
        calendar_url = server.home_url + "test/"
        assert server.calendar_url("test") == calendar_url
        assert http.request("MKCALENDAR", calendar_url).status_code == 201
        put = http.put(
            f"{calendar_url}x.ics",
            content=EVENT.encode(),
            headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
        )
        assert put.status_code == 201, put.text
        assert proxy.counts["MKCALENDAR"] == 1
        assert proxy.counts["PUT"] == 1
        assert proxy.writes == 2
        assert proxy.log[-1] == ("PUT", "/dav/calendars/user/coordination/test/x.ics", 201)
        got = http.get(f"{calendar_url}x.ics")
        assert got.status_code == 200
        assert "UID:servers-self-test@syncsvc.test" in got.text


@pytest.mark.parametrize(
    "start", [radicale_server, xandikos_server, cyrus_server], ids=["radicale", "xandikos", "cyrus"]
)
def test_fresh_gives_each_test_an_empty_home_behind_a_restored_proxy(
    start: Starter, tmp_path: Path
) -> None:
    if start is cyrus_server:
        _needs_cyrus()
    headers = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
    with start(tmp_path) as shared:
        at_start = shared.home_members()
        with shared.fresh() as first, httpx.Client(auth=first.auth, timeout=10.0) as http:
            assert first.proxy is shared.proxy
            assert http.request("MKCALENDAR", first.calendar_url("test")).status_code == 201
            put = http.put(f"{first.calendar_url('test')}x.ics", content=EVENT, headers=headers)
            assert put.status_code == 201, put.text
            assert "test" in first.home_members()
            first.proxy.fail_next(5, 503)
            first.proxy.down()  # as a test that fails inside `with backend.down()` leaves it
        assert shared.proxy.is_up
        assert shared.proxy.total == 0

        with shared.fresh() as second, httpx.Client(auth=second.auth, timeout=10.0) as http:
            assert second.proxy.total == 0
            assert "test" not in second.home_members()
            if shared.add_user is None:  # Xandikos: one user, whose home was emptied
                assert second.home_url == first.home_url == shared.home_url
                assert second.home_members() == at_start == shared.keep
            else:  # a new user with its own home; the shared one's password is refused
                assert second.username not in (first.username, shared.username)
                assert second.home_url != first.home_url
                assert http.get(second.home_url, auth=(second.username, "wrong")).status_code == 401
            # No fault left over; the same calendar name and UID again (on Cyrus, a UID must be
            # unique across all of one user's calendars, so this needs a user of its own).
            assert http.request("MKCALENDAR", second.calendar_url("test")).status_code == 201
            put = http.put(f"{second.calendar_url('test')}x.ics", content=EVENT, headers=headers)
            assert put.status_code == 201, put.text
            assert second.proxy.writes == 2  # this test's own, no more
        if shared.add_user is None:
            assert shared.home_members() == shared.keep  # emptied on exit too
