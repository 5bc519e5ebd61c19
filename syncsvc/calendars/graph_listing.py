"""Reading a Graph calendar: the owned events, the calendarView delta, and lookups by UID.

Change detection (see the README, « Publier dans les agendas »):

- ``events/delta`` without a time window exists only in Graph's beta (v1.0 answers 400), so
  syncsvc follows a **calendarView delta** over a window of 1,825 days (Graph's maximum for a
  calendar view), from one year back to four years ahead. The window is fixed in the delta link;
- an event outside the window is reported under ``@removed`` whenever it is added, changed or
  deleted, exactly like an event deleted inside it. Every ``@removed`` id is therefore checked
  (one GET per id, 20 per ``$batch``): gone (404) is a deletion; still there and carrying
  syncsvc's UID is a change (its new ETag); someone else's event is left alone;
- a **full listing** (the events carrying the UID property, ``$filter`` on its value, ids, ETags
  and UIDs only, 999 a page) and a new delta link are taken when there is no token, when Graph
  answers 410 or ``SyncStateNotFound`` on the link, when the calendar changed, and once a day
  (``full_every``), which also moves the window forward and re-reads every owned item, inside
  the window or not.

A person's own events in the calendar appear in the delta (Graph's delta cannot be filtered):
their ids and ETags are passed on like any other, and the application ignores ids it never
wrote; they are never read otherwise, stored or touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from syncsvc.calendars.graph_errors import DeltaExpired, error_for, is_expired_delta
from syncsvc.calendars.graph_http import MAX_BATCH, GraphClient
from syncsvc.core.entries import UID_SUFFIX
from syncsvc.formats.graph_event import UID_PROPERTY, etag_of, uid_of

PAGE = 999
WINDOW_PAST = timedelta(days=365)
WINDOW = timedelta(days=1825)
EXPAND = f"singleValueExtendedProperties($filter=id eq '{UID_PROPERTY}')"
TOKEN_VERSION = 1


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def owned_filter(uid: str | None = None) -> str:
    """The ``$filter`` of syncsvc's events (all of them, or the one with ``uid``)."""
    test = (
        f"ep/value eq {_quoted(uid)}"
        if uid is not None
        else f"contains(ep/value, {_quoted(UID_SUFFIX)})"
    )
    return f"singleValueExtendedProperties/Any(ep: ep/id eq {_quoted(UID_PROPERTY)} and {test})"


@dataclass(frozen=True, slots=True)
class Owned:
    """One of syncsvc's events as a listing saw it."""

    id: str
    uid: str
    etag: str | None


@dataclass(frozen=True, slots=True)
class DeltaState:
    """What the sync token holds: the delta link, when the last full listing was, on which
    calendar."""

    link: str
    full_at: float
    calendar: str

    def dump(self) -> str:
        return json.dumps(
            {"v": TOKEN_VERSION, "delta": self.link, "full": self.full_at, "cal": self.calendar}
        )

    @staticmethod
    def load(token: str | None) -> DeltaState | None:
        try:
            data = json.loads(token or "")
            if data.get("v") != TOKEN_VERSION:
                return None
            return DeltaState(str(data["delta"]), float(data["full"]), str(data["cal"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


class CalendarReader:
    """The read side of one calendar of one mailbox."""

    def __init__(self, client: GraphClient, mailbox: str, what: str) -> None:
        self.client = client
        self.mailbox = mailbox
        self.what = what
        self.calendar_id = ""

    # --- paths --------------------------------------------------------------------------

    @property
    def calendar_path(self) -> str:
        return f"users/{quote(self.mailbox)}/calendars/{quote(self.calendar_id, safe='')}"

    def event_path(self, event_id: str) -> str:
        return f"{self.calendar_path}/events/{quote(event_id, safe='')}"

    def _relative(self, path: str) -> str:
        """A path for a request inside ``$batch`` (relative to the version root)."""
        return "/" + path

    # --- owned events --------------------------------------------------------------------

    def owned(self, uid: str | None = None) -> Iterator[Owned]:
        """syncsvc's events in the calendar (or the one of ``uid``), page after page."""
        params: dict[str, str] | None = {
            "$filter": owned_filter(uid),
            "$select": "id",
            "$expand": EXPAND,
            "$top": str(PAGE),
        }
        url = f"{self.calendar_path}/events"
        while url:
            page = self.client.send("GET", url, f"{self.what} (liste)", params=params).json()
            for event in page.get("value", []):
                found = uid_of(event)
                if found is not None and (uid is None or found == uid):
                    yield Owned(str(event["id"]), found, etag_of(event))
            url, params = page.get("@odata.nextLink") or "", None

    def lookup_requests(self, uids: Iterable[str]) -> list[dict[str, Any]]:
        """Batch requests finding each UID's event (by the extended property)."""
        requests: list[dict[str, Any]] = []
        for uid in uids:
            query = f"$filter={quote(owned_filter(uid))}&$select=id&$expand={quote(EXPAND)}&$top=2"
            requests.append(
                {
                    "id": str(len(requests)),
                    "method": "GET",
                    "url": self._relative(f"{self.calendar_path}/events?{query}"),
                }
            )
        return requests

    def lookup(self, uids: list[str]) -> dict[str, Owned]:
        """The events of ``uids`` that exist, by UID (20 look-ups per ``$batch``)."""
        found: dict[str, Owned] = {}
        for start in range(0, len(uids), MAX_BATCH):
            chunk = uids[start : start + MAX_BATCH]
            answers = self.client.batch(self.lookup_requests(chunk), f"{self.what} (recherche)")
            for index, uid in enumerate(chunk):
                answer = answers.get(str(index))
                if answer is None or answer.status != 200:
                    status = answer.status if answer else 0
                    headers = answer.headers if answer else {}
                    raise error_for(status, answer.body if answer else None, headers, self.what)
                for event in (answer.body or {}).get("value", []):
                    if uid_of(event) == uid:
                        found[uid] = Owned(str(event["id"]), uid, etag_of(event))
        return found

    # --- delta ----------------------------------------------------------------------------

    def delta_start(self, today: datetime) -> str:
        """A new delta round over the window around ``today``: its contents are skipped (the
        full listing reads the owned events), its delta link returned."""
        start = (today - WINDOW_PAST).replace(hour=0, minute=0, second=0, microsecond=0)
        params: dict[str, str] | None = {
            "startDateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": (start + WINDOW).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        url = f"{self.calendar_path}/calendarView/delta"
        while True:
            page = self._delta_page(url, params)
            params = None
            if page.get("@odata.deltaLink"):
                return str(page["@odata.deltaLink"])
            url = str(page["@odata.nextLink"])

    def _delta_page(self, url: str, params: dict[str, str] | None) -> dict[str, Any]:
        response = self.client.send(
            "GET",
            url,
            f"{self.what} (delta)",
            params=params,
            headers={"Prefer": f"odata.maxpagesize={PAGE}"},
            ok=(400, 404, 410),
        )
        if response.status_code != 200:
            if is_expired_delta(response.status_code, response.content):
                raise DeltaExpired
            raise error_for(response.status_code, response.content, response.headers, self.what)
        page: dict[str, Any] = response.json()
        return page

    def delta(self, link: str) -> tuple[str, dict[str, str | None], set[str]]:
        """(next delta link, present ids -> ETags, ``@removed`` ids) since ``link``."""
        present: dict[str, str | None] = {}
        removed: set[str] = set()
        url = link
        while True:
            page = self._delta_page(url, None)
            for event in page.get("value", []):
                event_id = str(event.get("id", ""))
                if "@removed" in event:
                    removed.add(event_id)
                    present.pop(event_id, None)
                else:
                    present[event_id] = etag_of(event)
                    removed.discard(event_id)
            if page.get("@odata.deltaLink"):
                return str(page["@odata.deltaLink"]), present, removed
            url = str(page["@odata.nextLink"])

    def check_removed(self, ids: list[str]) -> tuple[dict[str, str | None], set[str]]:
        """Sort ``@removed`` ids: (ours still there -> ETag, gone). Others' events are left out."""
        present: dict[str, str | None] = {}
        gone: set[str] = set()
        for start in range(0, len(ids), MAX_BATCH):
            chunk = ids[start : start + MAX_BATCH]
            requests = [
                {
                    "id": str(i),
                    "method": "GET",
                    "url": self._relative(
                        f"{self.event_path(event_id)}?$select=id&$expand={quote(EXPAND)}"
                    ),
                }
                for i, event_id in enumerate(chunk)
            ]
            answers = self.client.batch(requests, f"{self.what} (vérification)")
            for index, event_id in enumerate(chunk):
                answer = answers.get(str(index))
                if answer is not None and answer.status == 404:
                    gone.add(event_id)
                elif answer is not None and answer.status == 200:
                    if uid_of(answer.body or {}) is not None:
                        present[event_id] = etag_of(answer.body or {})
                else:
                    status = answer.status if answer else 0
                    headers = answer.headers if answer else {}
                    raise error_for(status, answer.body if answer else None, headers, self.what)
        return present, gone
