"""Calendar entries -> Microsoft Graph v1.0 event JSON (pure).

- ownership: one single-value extended property, :data:`UID_PROPERTY`, carries the entry's UID;
  syncsvc lists, finds and adopts its events by it (``$filter`` on its value), and never reads
  or touches an event without it. Graph gives events their ids: the id is what the store keeps
  as the item's href;
- creates carry a ``transactionId`` derived from the UID, the sequence and the content hash
  (:func:`transaction_id`): Graph answers a retried create with the event it already made, so a
  create whose answer was lost is never duplicated;
- an all-day item is ``isAllDay`` from midnight to midnight (exclusive end, in UTC: an all-day
  Outlook event is a day, not an instant), ``showAs: free``; the exam days are timed events in the
  centre's zone (its IANA name, which Graph accepts beside Windows names), ``showAs: busy``; a task
  (Outlook has none in calendars) is an all-day event on its deadline;
- ``categories`` name the entry's codes (``syncsvc:regulatory``, ``syncsvc:overdue``,
  ``syncsvc:exam_session``…), never its French labels; the ✓ of a done milestone is already in the
  entry's summary;
- one reminder (``reminderMinutesBeforeStart``) from the entry's alarm, none without one;
- no attendees: Graph would send its own invitations; the jury's go out as iMIP mail;
- an item of a cancelled session is kept as an ordinary event: its subject starts with
  « ANNULÉE — », its body with the day and reason of the cancellation, category
  ``syncsvc:cancelled``, ``showAs: free``, no reminder. Graph's ``isCancelled`` is not a property
  an update sets: only the ``cancel`` action sets it, which only a meeting's organiser may call,
  which sends a cancellation to the attendees and moves the event to « Éléments supprimés »
  (https://learn.microsoft.com/graph/api/event-cancel). syncsvc's events have no attendees (the
  jury's invitations and cancellations go out as iMIP mail) and must stay visible, so syncsvc
  never calls it and never writes ``isCancelled``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from syncsvc.core.entries import Entry

UID_PROPERTY = "String {5f0e9c3a-7d1b-4e62-9a8f-3c2b1d4e6a70} Name syncsvcUid"
"""The single-value extended property that marks an event as syncsvc's and carries its UID."""
CATEGORY_PREFIX = "syncsvc:"
UTC_ZONE = "UTC"


def transaction_id(uid: str, sequence: int, content_hash: str) -> str:
    """The ``transactionId`` of one create: the same write retried gets the same id (Graph
    answers it with the event it made); a later, different write of the UID gets another."""
    digest = hashlib.sha256(f"{uid}\n{sequence}\n{content_hash}".encode()).hexdigest()
    return f"syncsvc-{digest[:40]}"


def categories_for(entry: Entry) -> list[str]:
    """The entry's codes as Outlook categories: kind, status, and the exam itself."""
    codes = [entry.kind, entry.status] + (["exam_session"] if entry.exam else [])
    return [CATEGORY_PREFIX + code for code in codes]


def _moment(value: datetime) -> dict[str, str]:
    """A ``dateTimeTimeZone``: the wall-clock time in the value's zone, and the zone's name."""
    zone = getattr(value.tzinfo, "key", None)
    if zone is None:
        value, zone = value.astimezone(UTC), UTC_ZONE
    return {"dateTime": value.replace(tzinfo=None).isoformat(timespec="seconds"), "timeZone": zone}


def _midnight(day: date) -> dict[str, str]:
    return {"dateTime": f"{day.isoformat()}T00:00:00", "timeZone": UTC_ZONE}


def when(entry: Entry) -> tuple[dict[str, str], dict[str, str], bool]:
    """(start, end, isAllDay) of the event."""
    if isinstance(entry.start, datetime) and isinstance(entry.end, datetime):
        return _moment(entry.start), _moment(entry.end), False
    first: date = entry.start
    last: date = first + timedelta(days=1) if entry.task else entry.end
    return _midnight(first), _midnight(max(last, first + timedelta(days=1))), True


def event_body(entry: Entry) -> dict[str, Any]:
    """The event JSON of one entry, for a create or a full update (see the module docstring)."""
    start, end, all_day = when(entry)
    body: dict[str, Any] = {
        "subject": entry.summary,
        "body": {"contentType": "text", "content": entry.description},
        "start": start,
        "end": end,
        "isAllDay": all_day,
        "showAs": "free" if entry.transparent else "busy",
        "categories": categories_for(entry),
        "isReminderOn": entry.alarm_days is not None,
        "location": {"displayName": entry.location or ""},
        "singleValueExtendedProperties": [{"id": UID_PROPERTY, "value": entry.uid}],
    }
    if entry.alarm_days is not None:
        body["reminderMinutesBeforeStart"] = entry.alarm_days * 24 * 60
    return body


def create_body(entry: Entry, sequence: int, content_hash: str) -> dict[str, Any]:
    """:func:`event_body` with the create's ``transactionId``."""
    return {**event_body(entry), "transactionId": transaction_id(entry.uid, sequence, content_hash)}


def uid_of(event: dict[str, Any]) -> str | None:
    """The syncsvc UID an event carries (from ``$expand`` of :data:`UID_PROPERTY`), or None."""
    for prop in event.get("singleValueExtendedProperties") or ():
        if isinstance(prop, dict) and str(prop.get("id", "")).lower() == UID_PROPERTY.lower():
            value = prop.get("value")
            return str(value) if value else None
    return None


def etag_of(event: dict[str, Any]) -> str | None:
    """The event's ETag: ``@odata.etag``, or the weak tag of its ``changeKey``."""
    etag = event.get("@odata.etag")
    if etag:
        return str(etag)
    key = event.get("changeKey")
    return f'W/"{key}"' if key else None
