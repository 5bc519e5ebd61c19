"""Calendar entries -> iCalendar (pure).

Vocabulary:

- a *component* is one entry spelled as a VEVENT (all-day deadline or timed exam session) or a
  VTODO (``DUE;VALUE=DATE`` = the deadline day, no DTSTART, its alarm related to DUE), without
  DTSTAMP, LAST-MODIFIED or SEQUENCE; an entry of a cancelled session is ``STATUS:CANCELLED``
  (a VEVENT and a VTODO alike: RFC 5545 §3.8.1.11), kept rather than deleted;
- a *resource* is what a calendar server stores: a VCALENDAR holding one stamped component and
  the VTIMEZONEs it uses; a *feed* or a plan export is one VCALENDAR holding many.

Nothing here reads the clock or draws random numbers: UIDs come with the entries, and
DTSTAMP/LAST-MODIFIED come from the ``generated_at`` argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from icalendar import Alarm, Calendar, Component, Event, Timezone, Todo, vCalAddress, vDuration

from syncsvc.core.entries import Entry
from syncsvc.core.labels import KIND_LABELS, STATUS_LABELS, capitalised

PRODID = "-//syncsvc//Examens Titre Professionnel//FR"
MARKER = "X-SYNCSVC-SESSION"


def component_for(entry: Entry) -> Component:
    """The VEVENT or VTODO of ``entry``.

    The exam session carries the session manager as ORGANIZER and the jury as ATTENDEEs marked
    ``SCHEDULE-AGENT=CLIENT``: servers that schedule by themselves send nothing.
    """
    component: Component = Todo() if entry.task else Event()
    component.add("uid", entry.uid)
    component.add("summary", entry.summary)
    component.add("description", entry.description)
    if entry.task:
        # DUE is the deadline day itself: task apps show it as the day the task is due. No
        # DTSTART: RFC 5545 wants DUE strictly later, and a one-day task has no other start.
        component.add("due", entry.start)
        if entry.cancelled:
            component.add("status", "CANCELLED")
        elif entry.done_on is not None:
            component.add("status", "COMPLETED")
            component.add("completed", datetime.combine(entry.done_on, time(12), UTC))
            component.add("percent-complete", 100)
        else:
            component.add("status", "NEEDS-ACTION")
        component.add("priority", 1 if entry.kind == "regulatory" else 5)
    else:
        component.add("dtstart", entry.start)
        component.add("dtend", entry.end)
        component.add("transp", "TRANSPARENT" if entry.transparent else "OPAQUE")
        component.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    if entry.location is not None:
        component.add("location", entry.location)
    if entry.organizer is not None:
        organizer = vCalAddress(f"mailto:{entry.organizer.email}")
        organizer.params["CN"] = entry.organizer.name
        component.add("organizer", organizer)
    for person in entry.attendees:
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params.update(
            {
                "CN": person.name,
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "NEEDS-ACTION",
                "RSVP": "TRUE",
                "SCHEDULE-AGENT": "CLIENT",
            }
        )
        component.add("attendee", attendee, encode=False)
    component.add(
        "categories",
        [
            "Examens TP",
            capitalised(KIND_LABELS[entry.kind]),
            capitalised(STATUS_LABELS[entry.status]),
        ],
    )
    component.add(MARKER, entry.session_id)
    component.add("x-syncsvc-milestone", entry.milestone_id)
    if entry.alarm_days is not None:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", entry.summary)
        # A task has no DTSTART: its alarm counts from DUE (RFC 5545 §3.8.6.3).
        related = {"RELATED": "END"} if entry.task else {}
        alarm.add("trigger", timedelta(days=-entry.alarm_days), parameters=related)
        component.add_component(alarm)
    return component


def stamped(component: Component, generated_at: datetime, sequence: int) -> Component:
    """A copy of ``component`` with DTSTAMP, LAST-MODIFIED and SEQUENCE set."""
    copy = type(component)()
    for name, value in component.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            copy.add(name, value, encode=False)
    for sub in component.subcomponents:
        copy.add_component(sub)
    copy.add("dtstamp", generated_at.astimezone(UTC))
    copy.add("last-modified", generated_at.astimezone(UTC))
    copy.add("sequence", sequence)
    return copy


def new_calendar(name: str | None = None, refresh_minutes: int | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if name:
        calendar.add("x-wr-calname", name)
    if refresh_minutes:
        calendar.add(
            "refresh-interval", timedelta(minutes=refresh_minutes), parameters={"VALUE": "DURATION"}
        )
        calendar.add("x-published-ttl", vDuration(timedelta(minutes=refresh_minutes)))
    return calendar


@lru_cache(maxsize=64)
def vtimezone(tzid: str) -> bytes:
    """The VTIMEZONE of ``tzid`` (2000-2045 transitions), computed once per zone."""
    zone = Timezone.from_tzid(tzid, first_date=date(2000, 1, 1), last_date=date(2045, 12, 31))
    zone.pop("COMMENT", None)  # icalendar adds one; RFC 5545 allows none on VTIMEZONE (libical)
    data: bytes = zone.to_ical()
    return data


_TZID = re.compile(rb"TZID=([^:;\r\n]+)")


def _assemble(head: Calendar, items: Iterable[bytes]) -> bytes:
    """VCALENDAR = header + the VTIMEZONE of every TZID the items use + the items."""
    bodies = list(items)
    zones = sorted({m.decode() for body in bodies for m in _TZID.findall(body)})
    start = head.to_ical().removesuffix(b"END:VCALENDAR\r\n")
    return b"".join([start, *(vtimezone(z) for z in zones), *bodies, b"END:VCALENDAR\r\n"])


def item_bytes(entry: Entry, generated_at: datetime, sequence: int) -> bytes:
    """One stamped component, serialised (what a feed keeps per item)."""
    data: bytes = stamped(component_for(entry), generated_at, sequence).to_ical()
    return data


def resource_bytes(entry: Entry, generated_at: datetime, sequence: int) -> bytes:
    """The VCALENDAR a CalDAV server stores for one item (with its VTIMEZONEs)."""
    return _assemble(new_calendar(), [item_bytes(entry, generated_at, sequence)])


def assemble(
    items: Iterable[bytes], name: str | None = None, refresh_minutes: int | None = None
) -> bytes:
    """A VCALENDAR from already serialised components (feeds keep theirs in the store)."""
    return _assemble(new_calendar(name, refresh_minutes), items)


def calendar_of(
    entries: Iterable[Entry],
    generated_at: datetime,
    name: str = "Examens Titre Professionnel",
) -> bytes:
    """Many entries as one VCALENDAR (``syncsvc plan --format ics``), SEQUENCE 0."""
    return assemble((item_bytes(e, generated_at, 0) for e in entries), name)
