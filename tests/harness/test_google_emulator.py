"""Self-test of tests/google_emulator.py: Google's rules, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from tests.harness.google_emulator import CalendarEmulator, Discovery, parse_fields, select_fields

CAL = "centre@example.org"
TOKEN = "emulator-token"
EVENTS = f"/calendar/v3/calendars/{quote(CAL)}/events"


def _event(**extra: Any) -> dict[str, Any]:
    return {"summary": "x", "start": {"date": "2027-01-04"}, "end": {"date": "2027-01-05"}, **extra}


@pytest.fixture
def emulator() -> Iterator[CalendarEmulator]:
    with CalendarEmulator(token=TOKEN) as running:
        running.add_calendar(CAL)
        yield running


class Client:
    """Raw HTTP/1.1 on one keep-alive connection."""

    def __init__(self, emulator: CalendarEmulator, timeout: float = 5.0) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=timeout)

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        target = path + ("?" + urlencode(query, doseq=True) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        self.connection.request(method, target, data, {**sent, **(headers or {})})
        response = self.connection.getresponse()
        raw = response.read()
        parsed = json.loads(raw) if raw and raw.startswith(b"{") else raw
        return response.status, dict(response.getheaders()), parsed


@pytest.fixture
def api(emulator: CalendarEmulator) -> Iterator[Client]:
    client = Client(emulator)
    yield client
    client.connection.close()


def test_routes_and_schemas_come_from_the_discovery_document() -> None:
    discovery = Discovery()
    names = {route.name for route in discovery.routes}
    assert {"events.insert", "events.list", "events.patch", "calendars.get"} <= names
    assert discovery.required("Event", "calendar.events.insert") == ["end", "start"]
    assert {"created", "updated", "htmlLink", "creator"} <= discovery.read_only("Event")


def test_unknown_and_mistyped_fields_are_refused_like_google(api: Client) -> None:
    status, _, body = api("POST", EVENTS, _event(colour="red"))
    assert status == 400
    assert body["error"]["code"] == 400
    assert 'Unknown name "colour"' in body["error"]["message"]
    assert body["error"]["errors"][0]["reason"] == "invalid"
    status, _, body = api("POST", EVENTS, _event(sequence="abc"))
    assert status == 400
    assert "resource.sequence" in body["error"]["message"]
    status, _, body = api("POST", EVENTS, _event(start={"date": 20270104}))
    assert status == 400
    status, _, body = api("POST", EVENTS, _event(reminders={"overrides": {"minutes": 5}}))
    assert status == 400
    status, _, _ = api("GET", EVENTS, query={"maxResults": "many"})
    assert status == 400
    status, _, _ = api("GET", EVENTS, query={"colour": "red"})
    assert status == 400


@pytest.mark.parametrize("bad", ["ABCDEF", "abcd", "abcdefw", "abc-def", "x" * 1025])
def test_event_ids_follow_google_rules(api: Client, bad: str) -> None:
    status, _, body = api("POST", EVENTS, _event(id=bad))
    assert status == 400
    assert body["error"]["message"] == "Invalid resource id value."


def test_google_rules_on_times_and_reminders(api: Client) -> None:
    cases = [
        {"summary": "no end", "start": {"date": "2027-01-04"}},
        _event(end={"date": "2027-01-04"}),  # exclusive end: empty range
        _event(start={"dateTime": "2027-01-04T10:00:00"}, end={"dateTime": "2027-01-04T11:00"}),
        _event(
            reminders={"useDefault": False, "overrides": [{"method": "popup", "minutes": 40321}]}
        ),
        _event(
            reminders={
                "useDefault": False,
                "overrides": [{"method": "popup", "minutes": m} for m in range(6)],
            }
        ),
        _event(colorId="12"),
    ]
    for case in cases:
        status, _, _ = api("POST", EVENTS, case)
        assert status == 400, case


def test_deleted_events_stay_as_cancelled_tombstones(
    api: Client, emulator: CalendarEmulator
) -> None:
    status, headers, created = api("POST", EVENTS, _event(id="abcdef0123"))
    assert status == 200
    assert headers["ETag"] == created["etag"]
    assert api("POST", EVENTS, _event(id="abcdef0123"))[0] == 409
    assert api("DELETE", f"{EVENTS}/abcdef0123")[0] == 204
    status, _, tombstone = api("GET", f"{EVENTS}/abcdef0123")
    assert status == 200  # "the get method always returns them"
    assert tombstone["status"] == "cancelled"
    assert tombstone["summary"] == "x"
    assert api("DELETE", f"{EVENTS}/abcdef0123")[0] == 410
    status, _, body = api("POST", EVENTS, _event(id="abcdef0123"))
    assert status == 409
    assert body["error"]["errors"][0]["reason"] == "duplicate"
    status, _, back = api("PUT", f"{EVENTS}/abcdef0123", _event(status="confirmed"))
    assert status == 200
    assert back["status"] == "confirmed"
    assert len({created["etag"], tombstone["etag"], back["etag"]}) == 3
    assert api("GET", f"{EVENTS}/nosuchevent")[0] == 404
    assert api("PUT", f"{EVENTS}/nosuchevent", _event())[0] == 404


def test_if_match_and_sequence(api: Client) -> None:
    _, _, created = api("POST", EVENTS, _event(id="seq0000001", sequence=2))
    path = f"{EVENTS}/seq0000001"
    stale = {"If-Match": '"stale"'}
    assert api("PUT", path, _event(sequence=3), headers=stale)[0] == 412
    assert api("DELETE", path, headers=stale)[0] == 412
    status, _, body = api("PUT", path, _event(sequence=1), headers={"If-Match": created["etag"]})
    assert status == 400
    assert "sequence" in body["error"]["message"]
    assert api("PUT", path, _event(sequence=2), headers={"If-Match": created["etag"]})[0] == 200


def test_patch_merges_extended_properties_and_null_removes(api: Client) -> None:
    private = {"syncsvc": "1", "keep": "a"}
    api("POST", EVENTS, _event(id="patch00001", extendedProperties={"private": private}))
    status, _, patched = api(
        "PATCH",
        f"{EVENTS}/patch00001",
        {"summary": "y", "extendedProperties": {"private": {"keep": None, "new": "b"}}},
    )
    assert status == 200
    assert patched["summary"] == "y"
    assert patched["extendedProperties"]["private"] == {"syncsvc": "1", "new": "b"}
    assert patched["start"] == {"date": "2027-01-04"}


def test_listing_pages_sync_tokens_and_filters(api: Client, emulator: CalendarEmulator) -> None:
    for n in range(5):
        ours = {"private": {"syncsvc": "1"}} if n < 3 else {"private": {"other": "1"}}
        api("POST", EVENTS, _event(id=f"list{n:06d}", extendedProperties=ours))
    query: dict[str, Any] = {"privateExtendedProperty": "syncsvc=1", "maxResults": 2}
    _, _, first = api("GET", EVENTS, query=query)
    assert [e["id"] for e in first["items"]] == ["list000000", "list000001"]
    assert "nextSyncToken" not in first
    _, _, last = api("GET", EVENTS, query={**query, "pageToken": first["nextPageToken"]})
    assert [e["id"] for e in last["items"]] == ["list000002"]
    token = last["nextSyncToken"]
    # a page token belongs to its query
    assert api("GET", EVENTS, query={"pageToken": first["nextPageToken"]})[0] == 400

    emulator.user_delete(CAL, "list000001")
    emulator.user_patch(CAL, "list000004", {"summary": "someone else's"})
    _, _, changed = api("GET", EVENTS, query={"syncToken": token})
    assert {e["id"]: e["status"] for e in changed["items"]} == {
        "list000001": "cancelled",
        "list000004": "confirmed",
    }
    assert set(changed["items"][0]) <= {"kind", "etag", "id", "status"}  # only the id is sure
    status, _, body = api(
        "GET", EVENTS, query={"syncToken": token, "privateExtendedProperty": "syncsvc=1"}
    )
    assert status == 400
    assert "privateExtendedProperty" in body["error"]["message"]
    emulator.expire_sync_tokens(CAL)
    status, _, body = api("GET", EVENTS, query={"syncToken": token})
    assert status == 410
    assert body["error"]["errors"][0]["reason"] == "fullSyncRequired"
    assert api("GET", EVENTS, query={"syncToken": "garbage"})[0] == 410
    _, _, shown = api("GET", EVENTS, query={"showDeleted": "true", "fields": "items(id,status)"})
    assert shown["items"][1] == {"id": "list000001", "status": "cancelled"}
    assert set(shown) == {"items"}


def test_fields_selection() -> None:
    tree = parse_fields("items(id,start/date),nextPageToken")
    value = {"items": [{"id": "a", "start": {"date": "d", "x": 1}, "y": 2}], "z": 3}
    assert select_fields(value, tree) == {"items": [{"id": "a", "start": {"date": "d"}}]}


def test_unknown_calendar_credentials_and_unemulated_methods(
    api: Client, emulator: CalendarEmulator
) -> None:
    assert api("GET", "/calendar/v3/calendars/nobody%40example.org/events")[0] == 404
    assert api("GET", EVENTS, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert api("POST", f"{EVENTS}/quickAdd", query={"text": "x"})[0] == 501


def _service(emulator: CalendarEmulator) -> Any:
    return build(
        "calendar",
        "v3",
        credentials=emulator.credentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.api_endpoint},
    )


def test_batches_answer_each_call_with_its_content_id(emulator: CalendarEmulator) -> None:
    service = _service(emulator)
    answers: dict[str, Any] = {}

    def collect(request_id: str, response: Any, exception: Exception | None) -> None:
        answers[request_id] = exception or response

    batch = BatchHttpRequest(callback=collect, batch_uri=emulator.batch_uri)
    batch.add(service.events().insert(calendarId=CAL, body=_event(id="batch00001")), request_id="a")
    batch.add(service.events().insert(calendarId=CAL, body=_event(id="BAD")), request_id="b")
    batch.add(service.events().get(calendarId=CAL, eventId="batch00001"), request_id="c")
    batch.add(service.events().delete(calendarId=CAL, eventId="batch00001"), request_id="d")
    batch.execute()
    assert answers["a"]["id"] == "batch00001"
    assert isinstance(answers["b"], HttpError)
    assert answers["b"].resp.status == 400
    assert answers["c"]["etag"] == answers["a"]["etag"]
    assert not answers["d"]  # 204: no content
    assert emulator.http_requests == 1
    assert emulator.batches == 1
    assert emulator.batch_calls == 4
    assert emulator.writes == 3
    service.close()


def test_batch_wire_format_and_size_limit(api: Client, emulator: CalendarEmulator) -> None:
    def multipart(count: int) -> bytes:
        parts = [
            f"--b\r\nContent-Type: application/http\r\nContent-ID: <item{n}:x>\r\n\r\n"
            f"GET {EVENTS}/none{n:06d} HTTP/1.1\r\n\r\n"
            for n in range(count)
        ]
        return ("".join(parts) + "--b--\r\n").encode()

    connection = api.connection
    for count, expected in ((2, 200), (51, 400)):
        connection.request(
            "POST",
            "/batch/calendar/v3",
            multipart(count),
            {"Content-Type": "multipart/mixed; boundary=b", "Authorization": f"Bearer {TOKEN}"},
        )
        response = connection.getresponse()
        body = response.read().decode()
        assert response.status == expected
    connection.request(
        "POST",
        "/batch/calendar/v3",
        multipart(2),
        {"Content-Type": "multipart/mixed; boundary=b", "Authorization": f"Bearer {TOKEN}"},
    )
    response = connection.getresponse()
    body = response.read().decode()
    assert response.getheader("Content-Type", "").startswith("multipart/mixed; boundary=")
    assert "Content-ID: <response-item0:x>" in body
    assert "HTTP/1.1 404 Not Found" in body


def test_fault_injection(api: Client, emulator: CalendarEmulator) -> None:
    emulator.fail_next(1, 429, retry_after=3)
    emulator.fail_next(1, 403, "rateLimitExceeded")
    emulator.fail_next(1, 500, only="events.insert")
    status, headers, body = api("GET", EVENTS)
    assert (status, headers["Retry-After"]) == (429, "3")
    status, _, body = api("GET", EVENTS)
    assert status == 403
    assert body["error"]["errors"][0] == {
        "domain": "usageLimits",
        "reason": "rateLimitExceeded",
        "message": "rateLimitExceeded",
    }
    assert api("GET", EVENTS)[0] == 200  # the 500 waits for an insert
    assert api("POST", EVENTS, _event())[0] == 500
    assert api("POST", EVENTS, _event())[0] == 200
    assert emulator.http_requests == 5
    assert emulator.calls["events.list"] == 3


def test_a_timeout_holds_the_answer_until_the_client_gives_up(emulator: CalendarEmulator) -> None:
    emulator.fail_next(1, "timeout")
    client = Client(emulator, timeout=0.1)
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        client("GET", EVENTS)
    assert time.monotonic() - began < 2
    client.connection.close()
    client = Client(emulator)
    assert client("GET", EVENTS)[0] == 200
    client.connection.close()


def test_down_refuses_connections_and_up_keeps_the_state(
    api: Client, emulator: CalendarEmulator
) -> None:
    api("POST", EVENTS, _event(id="kept000001"))
    with emulator.stopped(), pytest.raises(ConnectionRefusedError):
        Client(emulator)("GET", EVENTS)
    assert "kept000001" in emulator.events(CAL)


def test_keep_alive_without_nagle_delays(api: Client) -> None:
    api("GET", EVENTS)
    sock = api.connection.sock
    began = time.perf_counter()
    for _ in range(20):
        assert api("POST", EVENTS, _event())[0] == 200
    elapsed = time.perf_counter() - began
    assert api.connection.sock is sock  # one connection for all
    assert elapsed < 20 * 0.02  # Nagle + delayed ACK would cost ~40 ms a request
