"""The Graph emulator against the official MSAL client and plain httpx, never the adapter.

Each test asserts behaviour taken from Microsoft's public documentation (token endpoint and
AADSTS errors, event create/list/update/delete, extended properties, calendarView delta,
JSON batching, Outlook's 4 concurrent requests per mailbox), so that the emulator cannot drift
into agreeing with :mod:`syncsvc.calendars.graph`.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msal
import pytest

from tests.harness.graph_emulator import GraphEmulator

MAILBOX = "examens@centre.example"
SCOPE = ["https://graph.microsoft.com/.default"]
PROP = "String {00020329-0000-0000-c000-000000000046} Name testUid"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[GraphEmulator]:
    with GraphEmulator(folder=tmp_path) as running:
        running.add_calendar(MAILBOX, "Examens")
        yield running


def _app(
    emulator: GraphEmulator, secret: str = "s3cret-value"
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        "syncsvc-app",
        client_credential=secret,
        authority=emulator.authority + "contoso-tenant",
        instance_discovery=False,  # a non-default host: no call to Microsoft's discovery
    )


@pytest.fixture
def http(emulator: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emulator.tls.ca_file))  # MSAL's requests
    token = _app(emulator).acquire_token_for_client(scopes=SCOPE)["access_token"]
    with httpx.Client(
        base_url=emulator.graph_url,
        verify=_trust(emulator),
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


def _trust(emulator: GraphEmulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(emulator.tls.ca_file))


def _calendar(emulator: GraphEmulator) -> str:
    return f"users/{MAILBOX}/calendars/{emulator.calendar_named(MAILBOX, 'Examens').id}"


def _event(day: str = "2027-01-04", uid: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "Jalon",
        "start": {"dateTime": f"{day}T00:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{day}T23:00:00", "timeZone": "UTC"},
        **extra,
    }
    if uid:
        body["singleValueExtendedProperties"] = [{"id": PROP, "value": uid}]
    return body


# --- Entra, through MSAL -------------------------------------------------------------------


def test_msal_gets_a_token_and_keeps_it(
    emulator: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emulator.tls.ca_file))
    app = _app(emulator)
    first = app.acquire_token_for_client(scopes=SCOPE)
    second = app.acquire_token_for_client(scopes=SCOPE)
    assert first["token_type"] == "Bearer"
    assert second["access_token"] == first["access_token"]
    assert emulator.token_requests == 1
    assert emulator.discovery_requests == 1


def test_msal_sees_entra_refusals(emulator: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emulator.tls.ca_file))
    wrong = _app(emulator, "nope").acquire_token_for_client(scopes=SCOPE)
    assert wrong["error"] == "invalid_client"
    assert "AADSTS7000215" in wrong["error_description"]
    emulator.entra.expire_secret("s3cret-value")
    expired = _app(emulator).acquire_token_for_client(scopes=SCOPE)
    assert "AADSTS7000222" in expired["error_description"]


def test_a_throttled_token_request_is_replayed_by_msal(
    emulator: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emulator.tls.ca_file))
    emulator.fail_next(1, 429, retry_after=30, scope="token")
    app = _app(emulator)
    assert "error" in app.acquire_token_for_client(scopes=SCOPE)
    assert "error" in app.acquire_token_for_client(scopes=SCOPE)
    assert emulator.token_requests == 1  # the second answer came from MSAL's http cache


def test_graph_refuses_a_missing_or_expired_token(
    emulator: GraphEmulator, http: httpx.Client
) -> None:
    bare = httpx.get(emulator.graph_url + f"users/{MAILBOX}/calendars", verify=_trust(emulator))
    assert bare.status_code == 401
    assert bare.json()["error"]["code"] == "InvalidAuthenticationToken"
    emulator.entra.expire_tokens()
    assert http.get(f"users/{MAILBOX}/calendars").status_code == 401


# --- events -------------------------------------------------------------------------------


def test_transaction_id_answers_the_event_already_made(
    emulator: GraphEmulator, http: httpx.Client
) -> None:
    path = _calendar(emulator) + "/events"
    first = http.post(path, json=_event(transactionId="tx-1"))
    again = http.post(path, json=_event(transactionId="tx-1"))
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len(emulator.events(MAILBOX, "Examens")) == 1
    patched = http.patch(f"{path}/{first.json()['id']}", json={"transactionId": "tx-2"})
    assert patched.status_code == 400


def test_extended_properties_filter_and_expand(emulator: GraphEmulator, http: httpx.Client) -> None:
    path = _calendar(emulator) + "/events"
    for n in range(3):
        assert http.post(path, json=_event(uid=f"u{n}@syncsvc")).status_code == 201
    assert http.post(path, json=_event()).status_code == 201
    plain = http.get(path).json()["value"]
    assert len(plain) == 4
    assert all("singleValueExtendedProperties" not in e for e in plain)
    anyp = f"singleValueExtendedProperties/Any(ep: ep/id eq '{PROP}' and "
    query = {
        "$filter": anyp + "contains(ep/value, '@syncsvc'))",
        "$expand": f"singleValueExtendedProperties($filter=id eq '{PROP}')",
        "$select": "id",
        "$top": "2",
    }
    page = http.get(path, params=query).json()
    assert len(page["value"]) == 2
    rest = http.get(page["@odata.nextLink"]).json()
    values = page["value"] + rest["value"]
    assert sorted(e["singleValueExtendedProperties"][0]["value"] for e in values) == [
        "u0@syncsvc", "u1@syncsvc", "u2@syncsvc"
    ]  # fmt: skip
    one = {**query, "$filter": anyp + "ep/value eq 'U1@SYNCSVC')"}
    assert len(http.get(path, params=one).json()["value"]) == 1  # values compare case-insensitively


def test_if_match_and_deleted_items(emulator: GraphEmulator, http: httpx.Client) -> None:
    path = _calendar(emulator) + "/events"
    made = http.post(path, json=_event()).json()
    stale = http.patch(
        f"{path}/{made['id']}", json={"subject": "x"}, headers={"If-Match": 'W/"old"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "ErrorIrresolvableConflict"
    ok = http.patch(
        f"{path}/{made['id']}", json={"subject": "x"}, headers={"If-Match": made["@odata.etag"]}
    )
    assert ok.status_code == 200
    assert ok.json()["@odata.etag"] != made["@odata.etag"]
    assert http.delete(f"{path}/{made['id']}").status_code == 204
    assert http.get(f"{path}/{made['id']}").status_code == 404
    assert http.get(f"users/{MAILBOX}/events/{made['id']}").status_code == 200  # Deleted Items
    bad = http.post(path, json={**_event(), "colour": "red"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "RequestBodyRead"
    not_midnight = http.post(path, json={**_event(), "isAllDay": True})
    assert not_midnight.status_code == 400


# --- delta ------------------------------------------------------------------------------


def test_calendar_view_delta(emulator: GraphEmulator, http: httpx.Client) -> None:
    cal = _calendar(emulator)
    window = {"startDateTime": "2026-06-01T00:00:00Z", "endDateTime": "2028-06-01T00:00:00Z"}
    too_wide = {**window, "endDateTime": "2031-06-02T00:00:00Z"}
    assert http.get(f"{cal}/calendarView/delta", params=too_wide).status_code == 400
    assert http.get(f"users/{MAILBOX}/events/delta").status_code == 400  # beta only
    inside = [http.post(f"{cal}/events", json=_event(f"2027-01-0{n}")).json() for n in (1, 2, 3)]
    http.post(f"{cal}/events", json=_event("2040-01-01"))
    page = http.get(
        f"{cal}/calendarView/delta", params=window, headers={"Prefer": "odata.maxpagesize=2"}
    ).json()
    seen = [e["id"] for e in page["value"]]
    while "@odata.nextLink" in page:
        page = http.get(page["@odata.nextLink"]).json()
        seen += [e["id"] for e in page["value"]]
    assert sorted(seen) == sorted(e["id"] for e in inside)  # the 2040 event is outside
    link = page["@odata.deltaLink"]
    http.patch(f"{cal}/events/{inside[0]['id']}", json={"subject": "changé"})
    http.delete(f"{cal}/events/{inside[1]['id']}")
    far = http.post(f"{cal}/events", json=_event("2041-01-01")).json()
    changes = http.get(link).json()
    by_id = {e["id"]: e for e in changes["value"]}
    assert by_id[inside[0]["id"]]["subject"] == "changé"
    assert by_id[inside[1]["id"]]["@removed"] == {"reason": "deleted"}
    assert by_id[far["id"]]["@removed"] == {"reason": "deleted"}  # added outside the window
    emulator.expire_delta_links()
    gone = http.get(changes["@odata.deltaLink"])
    assert gone.status_code == 410


# --- batches and throttling ----------------------------------------------------------------


def test_json_batch(emulator: GraphEmulator, http: httpx.Client) -> None:
    cal = "/" + _calendar(emulator)
    too_many = [{"id": str(n), "method": "GET", "url": f"{cal}/events"} for n in range(21)]
    assert http.post("$batch", json={"requests": too_many}).status_code == 400
    requests = [
        {"id": "1", "method": "POST", "url": f"{cal}/events", "body": _event(),
         "headers": {"Content-Type": "application/json"}},
        {"id": "2", "method": "PATCH", "url": f"{cal}/events/nope", "body": {"subject": "x"},
         "headers": {"Content-Type": "application/json"}, "dependsOn": ["1"]},
        {"id": "3", "method": "GET", "url": f"{cal}/events", "dependsOn": ["2"]},
    ]  # fmt: skip
    answer = http.post("$batch", json={"requests": requests})
    assert answer.status_code == 200
    statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
    assert statuses == {"1": 201, "2": 404, "3": 424}


def test_more_than_4_concurrent_requests_on_a_mailbox_are_throttled(
    emulator: GraphEmulator, http: httpx.Client
) -> None:
    emulator.hold = threading.Event()  # the granted requests keep their slots until released
    statuses: list[httpx.Response] = []
    four_refused = threading.Event()

    def get() -> None:
        answer = http.get(f"users/{MAILBOX}/calendars")
        statuses.append(answer)
        if sum(r.status_code == 429 for r in statuses) == 4:
            four_refused.set()

    threads = [threading.Thread(target=get) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert four_refused.wait(20), [r.status_code for r in statuses]
    emulator.hold.set()
    for thread in threads:
        thread.join(20)
    emulator.hold = None
    refused = [r for r in statuses if r.status_code == 429]
    assert len(refused) == 4
    assert len(statuses) == 8
    assert refused[0].headers["Retry-After"]
    assert "MailboxConcurrency" in refused[0].json()["error"]["message"]
