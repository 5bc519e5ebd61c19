"""Calendar entries -> Google Calendar v3 event resources (pure).

- the event ``id`` derives from the UID: the base32hex spelling (lowercase ``[a-v0-9]``, no
  padding, 52 characters) of the UID's SHA-256, valid for Google's id rules, so a create
  retried after a crash finds its event instead of duplicating it;
- ownership lives in ``extendedProperties.private``: ``syncsvc=1``, ``syncsvcSession`` and
  ``syncsvcHash`` (the content hash);
- all-day items use ``start.date``/``end.date`` (exclusive end); timed ones ``start.dateTime``
  with the IANA ``timeZone``; a task (Google Calendar has none) is an all-day event on its
  deadline, transparent;
- reminders: one ``popup`` override from the entry's alarm (at most 40,320 minutes);
- attendees only when asked (``with_attendees``: Workspace-internal juries); jury invitations
  otherwise go out as iMIP mail;
- an item of a cancelled session stays ``"status": "confirmed"``: in Calendar v3, ``cancelled``
  means *deleted* (« The event is cancelled (deleted) »: a tombstone that listings return only
  with ``showDeleted`` or a sync token, and clients hide), which is what the people of a
  cancelled session must not get. The event is
  kept instead, its summary starting with « ANNULÉE — » and its description with the day and
  reason of the cancellation (the entry's words), transparent, graphite, without reminder;
- colours (``colorId``, the event palette of the ``colors`` endpoint), from the entry's codes:

==============================  ====  ==========
item                            id    colour
==============================  ====  ==========
of a cancelled session          8     graphite
done                            8     graphite
the exam session itself         10    basil
overdue                         11    tomato
due soon                        6     tangerine
regulatory, pending             9     blueberry
advice, pending                 2     sage
==============================  ====  ==========
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from syncsvc.core.entries import Entry

OWNER_KEY = "syncsvc"
SESSION_KEY = "syncsvcSession"
HASH_KEY = "syncsvcHash"
MAX_REMINDER_MINUTES = 40320
COLORS = {
    "done": "8",
    "exam_session": "10",
    "overdue": "11",
    "due_soon": "6",
    "regulatory": "9",
    "advice": "2",
}


def event_id(uid: str) -> str:
    """The Google event id of ``uid``: base32hex of its SHA-256, lowercase, unpadded."""
    digest = hashlib.sha256(uid.encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def color_for(entry: Entry) -> str:
    """The ``colorId`` of an entry: by status first, then the exam session, then by kind."""
    if entry.status in ("done", "cancelled"):
        return COLORS["done"]
    if entry.exam:
        return COLORS["exam_session"]
    if entry.status in ("overdue", "due_soon"):
        return COLORS[entry.status]
    return COLORS[entry.kind]


def reminders_for(entry: Entry) -> list[dict[str, Any]]:
    """One popup reminder ``alarm_days`` before the start (none without an alarm)."""
    if entry.alarm_days is None:
        return []
    minutes = min(MAX_REMINDER_MINUTES, entry.alarm_days * 24 * 60)
    return [{"method": "popup", "minutes": minutes}]


def _moment(value: datetime) -> dict[str, str]:
    """A timed ``EventDateTime``: the offset in the value, the zone's IANA name beside it."""
    moment = {"dateTime": value.isoformat()}
    zone = getattr(value.tzinfo, "key", None)
    if zone is None and value.utcoffset() == timedelta(0):
        zone = "UTC"
    if zone:
        moment["timeZone"] = zone
    return moment


def when(entry: Entry) -> tuple[dict[str, str], dict[str, str]]:
    """(start, end) of the event."""
    if isinstance(entry.start, datetime) and isinstance(entry.end, datetime):
        return _moment(entry.start), _moment(entry.end)
    first: date = entry.start
    last: date = first + timedelta(days=1) if entry.task else entry.end
    return {"date": first.isoformat()}, {"date": max(last, first + timedelta(1)).isoformat()}


def event_resource(
    entry: Entry, content_hash: str, sequence: int, *, with_attendees: bool = False
) -> dict[str, Any]:
    """The Calendar v3 event resource of one entry (see the module docstring)."""
    start, end = when(entry)
    resource: dict[str, Any] = {
        "id": event_id(entry.uid),
        "iCalUID": entry.uid,
        "status": "confirmed",
        "summary": entry.summary,
        "description": entry.description,
        "start": start,
        "end": end,
        "sequence": sequence,
        "transparency": "transparent" if entry.transparent else "opaque",
        "colorId": color_for(entry),
        "reminders": {"useDefault": False, "overrides": reminders_for(entry)},
        "extendedProperties": {
            "private": {
                OWNER_KEY: "1",
                SESSION_KEY: entry.session_id,
                HASH_KEY: content_hash,
            }
        },
    }
    if entry.location is not None:
        resource["location"] = entry.location
    if with_attendees and entry.attendees:
        resource["attendees"] = [
            {"email": person.email, "displayName": person.name} for person in entry.attendees
        ]
    return resource
