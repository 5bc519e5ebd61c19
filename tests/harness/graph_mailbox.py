"""The data side of the Microsoft Graph emulator: mailboxes, calendars, events, delta rounds.

Built from Graph v1.0's public documentation (event, calendar, event: delta, Get
singleValueLegacyExtendedProperty, Create event). :class:`ApiError` carries Graph's error body
``{"error": {"code", "message"}}``. What is modelled:

- events: Graph assigns ids (opaque, URL-safe) and a ``changeKey`` that changes on every write
  (``@odata.etag`` is ``W/"<changeKey>"``); unknown properties are 400 ``RequestBodyRead``; an
  ``isAllDay`` event must run midnight to midnight in one time zone (zones: IANA names); a
  ``transactionId`` already used by an event of the calendar answers that event (no duplicate),
  and cannot be changed later; ``If-Match`` mismatches are 412 ``ErrorIrresolvableConflict``;
  single-value extended properties are returned only through ``$expand`` and filtered with
  ``eq``/``ne``/``contains``/``startswith`` on their value (case-insensitive);
- a deleted event goes to the mailbox's Deleted Items: ``/users/{m}/events/{id}`` still finds it,
  the calendar's own paths do not;
- calendarView delta: a window of at most 1,825 days; the first round returns the events of the
  window; later rounds return changed events inside it and, under ``@removed`` (reason
  ``deleted``), deleted events and events outside the window that were added, changed or deleted;
  links can be expired (410 ``SyncStateNotFound``).

Simplifications: no recurrence, no attendees, no Windows time-zone names, wall-clock timestamps.
"""

from __future__ import annotations

import base64
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_WINDOW_DAYS = 1825
WRITABLE = frozenset(
    {
        "subject", "body", "start", "end", "isAllDay", "showAs", "categories", "isReminderOn",
        "reminderMinutesBeforeStart", "location", "locations", "importance", "sensitivity",
        "attendees", "responseRequested", "allowNewTimeProposals", "hideAttendees",
        "isOnlineMeeting", "onlineMeetingProvider", "recurrence", "transactionId",
        "singleValueExtendedProperties", "multiValueExtendedProperties",
    }
)  # fmt: skip
FILTER = re.compile(
    r"^singleValueExtendedProperties/any\(ep:\s*ep/id eq '(?P<id>(?:[^']|'')*)' and\s+"
    r"(?:ep/value (?P<op>eq|ne) '(?P<value>(?:[^']|'')*)'"
    r"|(?P<fn>contains|startswith)\(ep/value,\s*'(?P<arg>(?:[^']|'')*)'\))\)$",
    re.IGNORECASE,
)
EXPAND = re.compile(
    r"^singleValueExtendedProperties\(\$filter=id eq '(?P<id>(?:[^']|'')*)'\)$", re.IGNORECASE
)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def _unquote(value: str) -> str:
    return value.replace("''", "'")


def new_id() -> str:
    return "AAMkAG" + base64.urlsafe_b64encode(secrets.token_bytes(30)).decode().rstrip("=")


def instant(moment: Any, what: str) -> datetime:
    """A ``dateTimeTimeZone`` as an aware UTC datetime (400 when malformed)."""
    if not isinstance(moment, dict) or set(moment) - {"dateTime", "timeZone"}:
        raise ApiError(400, "RequestBodyRead", f"{what}: dateTimeTimeZone attendu")
    try:
        local = datetime.fromisoformat(str(moment["dateTime"]).rstrip("Z")[:26])
        zone = ZoneInfo(str(moment.get("timeZone") or "UTC"))
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        raise ApiError(
            400, "ErrorInvalidTimeZone", f"{what}: invalid dateTime or timeZone"
        ) from None
    return local.replace(tzinfo=zone).astimezone(UTC)


@dataclass
class Calendar:
    id: str
    name: str
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    """Event id -> the change number of its last write or deletion (for delta)."""


@dataclass
class DeltaRound:
    calendar: str
    start: datetime
    end: datetime
    since: int
    pending: list[dict[str, Any]] = field(default_factory=list)


class Mailbox:
    """One user mailbox: calendars, and the events deleted into Deleted Items."""

    counter = itertools.count(1)

    def __init__(self, address: str) -> None:
        self.address = address
        self.calendars: dict[str, Calendar] = {}
        self.deleted: dict[str, dict[str, Any]] = {}

    # --- calendars --------------------------------------------------------------------------

    def add_calendar(self, name: str) -> Calendar:
        calendar = Calendar("AAMkCal" + secrets.token_hex(12), name)
        self.calendars[calendar.id] = calendar
        return calendar

    def calendar(self, calendar_id: str) -> Calendar:
        found = self.calendars.get(calendar_id)
        if found is None:
            raise ApiError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return found

    # --- events -----------------------------------------------------------------------------

    @staticmethod
    def _check(body: Any, creating: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "RequestBodyRead", "An event object was expected.")
        for key in body:
            if key not in WRITABLE:
                raise ApiError(
                    400,
                    "RequestBodyRead",
                    f"The property '{key}' does not exist on type 'microsoft.graph.event'. Make "
                    "sure to only use property names that are defined by the type.",
                )
        if creating and ("start" not in body or "end" not in body):
            raise ApiError(400, "ErrorInvalidRequest", "start and end are required.")
        return body

    @staticmethod
    def _validate(event: dict[str, Any]) -> None:
        start, end = instant(event.get("start"), "start"), instant(event.get("end"), "end")
        if end < start:
            raise ApiError(400, "ErrorInvalidRequest", "The end is before the start.")
        if event.get("isAllDay"):
            same_zone = event["start"].get("timeZone") == event["end"].get("timeZone")
            midnight = all(
                str(event[k]["dateTime"])[11:19] in ("", "00:00:00") for k in ("start", "end")
            )
            if not (same_zone and midnight) or end == start:
                raise ApiError(
                    400,
                    "ErrorInvalidRequest",
                    "An all-day event must start and end at midnight in the same time zone.",
                )

    def _touch(self, calendar: Calendar, event: dict[str, Any]) -> None:
        key = base64.b64encode(secrets.token_bytes(12)).decode()
        event["changeKey"] = key
        event["@odata.etag"] = f'W/"{key}"'
        event["lastModifiedDateTime"] = datetime.now(UTC).isoformat(timespec="seconds")
        event["_revisions"] = event.get("_revisions", -1) + 1  # the tests' view, never served
        calendar.changed[event["id"]] = next(self.counter)

    def create(self, calendar: Calendar, body: Any) -> tuple[dict[str, Any], bool]:
        """(the event, created?): a known ``transactionId`` answers the existing event."""
        body = self._check(body, creating=True)
        tid = body.get("transactionId")
        if tid:
            for event in calendar.events.values():
                if event.get("transactionId") == tid:
                    return event, False
        event = {"id": new_id(), "iCalUId": "040000008200E000" + secrets.token_hex(24)}
        event.update({"isAllDay": False, "showAs": "busy", "categories": [], "transactionId": None})
        event.update(body)
        event["createdDateTime"] = datetime.now(UTC).isoformat(timespec="seconds")
        self._validate(event)
        calendar.events[event["id"]] = event
        self._touch(calendar, event)
        return event, True

    def find(self, calendar: Calendar | None, event_id: str) -> tuple[Calendar, dict[str, Any]]:
        for cal in [calendar] if calendar else self.calendars.values():
            if event_id in cal.events:
                return cal, cal.events[event_id]
        raise ApiError(404, "ErrorItemNotFound", "The specified object was not found in the store.")

    @staticmethod
    def _match(event: dict[str, Any], if_match: str | None) -> None:
        if if_match and if_match != "*" and if_match != event["@odata.etag"]:
            raise ApiError(
                412,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key "
                "passed in the request does not match the current change key for the item.",
            )

    def update(
        self, calendar: Calendar | None, event_id: str, body: Any, if_match: str | None
    ) -> dict[str, Any]:
        calendar, event = self.find(calendar, event_id)
        body = self._check(body, creating=False)
        self._match(event, if_match)
        if "transactionId" in body and body["transactionId"] != event.get("transactionId"):
            raise ApiError(400, "ErrorInvalidRequest", "transactionId cannot be changed.")
        merged = {
            **event,
            **{k: v for k, v in body.items() if k != "singleValueExtendedProperties"},
        }
        props = {p["id"]: p for p in event.get("singleValueExtendedProperties", [])}
        props.update({p["id"]: p for p in body.get("singleValueExtendedProperties", [])})
        merged["singleValueExtendedProperties"] = list(props.values())
        self._validate(merged)
        event.clear()
        event.update(merged)
        self._touch(calendar, event)
        return event

    def delete(self, calendar: Calendar | None, event_id: str, if_match: str | None) -> None:
        calendar, event = self.find(calendar, event_id)
        self._match(event, if_match)
        del calendar.events[event_id]
        calendar.changed[event_id] = next(self.counter)
        self.deleted[event_id] = event

    # --- reading ----------------------------------------------------------------------------

    @staticmethod
    def view(event: dict[str, Any], select: str | None, expand: str | None) -> dict[str, Any]:
        """The representation Graph returns: no extended property unless expanded."""
        out = {
            k: v
            for k, v in event.items()
            if k != "singleValueExtendedProperties" and not k.startswith("_")
        }
        if select:
            keep = {s.strip() for s in select.split(",")} | {"id", "@odata.etag"}
            out = {k: v for k, v in out.items() if k in keep}
        if expand:
            match = EXPAND.match(expand.strip())
            if match is None:
                raise ApiError(400, "BadRequest", f"Unsupported $expand: {expand}")
            wanted = _unquote(match["id"])
            props = [p for p in event.get("singleValueExtendedProperties", []) if p["id"] == wanted]
            out["singleValueExtendedProperties"] = props
        return out

    @staticmethod
    def matches(event: dict[str, Any], expression: str | None) -> bool:
        if not expression:
            return True
        match = FILTER.match(expression.strip())
        if match is None:
            raise ApiError(400, "ErrorInvalidUrlQueryFilter", f"Unsupported $filter: {expression}")
        wanted = _unquote(match["id"])
        for prop in event.get("singleValueExtendedProperties", []):
            if prop["id"] != wanted:
                continue
            value = str(prop.get("value", "")).lower()
            if match["op"]:
                target = _unquote(match["value"]).lower()
                return (value == target) if match["op"].lower() == "eq" else (value != target)
            arg = _unquote(match["arg"]).lower()
            return arg in value if match["fn"].lower() == "contains" else value.startswith(arg)
        return False

    # --- delta --------------------------------------------------------------------------

    @staticmethod
    def window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
        if not start or not end:
            raise ApiError(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
            )
        try:
            first = datetime.fromisoformat(start.replace("Z", "+00:00"))
            last = datetime.fromisoformat(end.replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(
                400, "ErrorInvalidParameter", "Invalid StartDateTime or EndDateTime."
            ) from None
        first = first if first.tzinfo else first.replace(tzinfo=UTC)
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        if last - first > timedelta(days=MAX_WINDOW_DAYS):
            raise ApiError(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. The range between the start and end dates is "
                f"greater than the allowed range. Maximum number of days: {MAX_WINDOW_DAYS}",
            )
        return first, last

    @staticmethod
    def inside(event: dict[str, Any], first: datetime, last: datetime) -> bool:
        start, end = instant(event["start"], "start"), instant(event["end"], "end")
        return start < last and (end > first or (end == start and start >= first))

    def delta_items(self, round_: DeltaRound, initial: bool) -> list[dict[str, Any]]:
        calendar = self.calendar(round_.calendar)
        items: list[dict[str, Any]] = []
        for event_id, number in sorted(calendar.changed.items(), key=lambda kv: kv[1]):
            if not initial and number <= round_.since:
                continue
            event = calendar.events.get(event_id)
            if event is not None and self.inside(event, round_.start, round_.end):
                items.append(
                    {"@odata.type": "#microsoft.graph.event", **self.view(event, None, None)}
                )
            elif not initial:
                items.append({"id": event_id, "@removed": {"reason": "deleted"}})
        return items
