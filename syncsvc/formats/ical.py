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

Speed: the sync path (:func:`item_bytes`, :func:`resource_bytes`, :func:`assemble`,
:func:`calendar_of`) writes the text itself, byte for byte what the ``icalendar`` library writes
from :func:`component_for` (tests/formats/test_ical_direct.py compares the two): importing
``icalendar`` costs ~65 ms and its serialisation several ms per item. ``icalendar`` is imported
only by :func:`component_for`, :func:`stamped`, :func:`new_calendar` and, for a zone this
process has not seen (:func:`remember_vtimezones`), :func:`vtimezone`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from syncsvc.core.entries import Entry
from syncsvc.core.labels import KIND_LABELS, STATUS_LABELS, capitalised

if TYPE_CHECKING:
    from icalendar import Calendar, Component

PRODID = "-//syncsvc//Examens Titre Professionnel//FR"
MARKER = "X-SYNCSVC-SESSION"


def _categories(entry: Entry) -> list[str]:
    return [
        "Examens TP",
        capitalised(KIND_LABELS[entry.kind]),
        capitalised(STATUS_LABELS[entry.status]),
    ]


def component_for(entry: Entry) -> Component:
    """The VEVENT or VTODO of ``entry`` (an ``icalendar`` component).

    The exam session carries the session manager as ORGANIZER and the jury as ATTENDEEs marked
    ``SCHEDULE-AGENT=CLIENT``: servers that schedule by themselves send nothing.
    """
    from icalendar import Alarm, Event, Todo, vCalAddress

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
    component.add("categories", _categories(entry))
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
    """The VCALENDAR header as an ``icalendar`` component (:func:`_head` writes the same)."""
    from icalendar import Calendar, vDuration

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


_VTIMEZONES: dict[str, bytes] = {}


def vtimezone(tzid: str) -> bytes:
    """The VTIMEZONE of ``tzid`` (2000-2045 transitions), computed once per zone (or given by
    :func:`remember_vtimezones`)."""
    found = _VTIMEZONES.get(tzid)
    if found is None:
        from icalendar import Timezone

        zone = Timezone.from_tzid(tzid, first_date=date(2000, 1, 1), last_date=date(2045, 12, 31))
        zone.pop("COMMENT", None)  # icalendar adds one; RFC 5545 allows none on VTIMEZONE (libical)
        found = _VTIMEZONES[tzid] = zone.to_ical()
    return found


def known_vtimezones() -> dict[str, bytes]:
    """The VTIMEZONEs computed or remembered in this process, by TZID (to keep between runs)."""
    return dict(_VTIMEZONES)


def remember_vtimezones(zones: Mapping[str, bytes]) -> None:
    """Seed :func:`vtimezone` with VTIMEZONEs kept from an earlier run (spares icalendar)."""
    _VTIMEZONES.update(zones)


# --- the direct writer: what icalendar 7.3.2 writes, rule for rule ---------------------------

_ATTENDEE_PARAMS = {
    "ROLE": "REQ-PARTICIPANT",
    "PARTSTAT": "NEEDS-ACTION",
    "RSVP": "TRUE",
    "SCHEDULE-AGENT": "CLIENT",
}

_VEVENT_ORDER = {
    name: i
    for i, name in enumerate(
        # icalendar's Event.canonical_order; the other properties follow in alphabetical order
        (
            "SUMMARY",
            "DTSTART",
            "DTEND",
            "DURATION",
            "DTSTAMP",
            "UID",
            "RECURRENCE-ID",
            "SEQUENCE",
            "RRULE",
            "RDATE",
            "EXDATE",
        )
    )
}

_UTC_TZIDS = frozenset(
    # The zones icalendar counts as UTC (icalendar.timezone.tzid.is_utc): a date-time there is
    # written with "Z" and no TZID. tests/formats/test_ical_direct.py checks the list.
    (
        "Africa/Abidjan",
        "Africa/Accra",
        "Africa/Bamako",
        "Africa/Banjul",
        "Africa/Conakry",
        "Africa/Dakar",
        "Africa/Freetown",
        "Africa/Lome",
        "Africa/Nouakchott",
        "Africa/Ouagadougou",
        "Africa/Timbuktu",
        "Atlantic/Reykjavik",
        "Atlantic/St_Helena",
        "Etc/GMT",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "Etc/GMT0",
        "Etc/Greenwich",
        "Etc/UCT",
        "Etc/UTC",
        "Etc/Universal",
        "Etc/Zulu",
        "GMT",
        "GMT+0",
        "GMT-0",
        "GMT0",
        "Greenwich",
        "Iceland",
        "UCT",
        "UTC",
        "Universal",
        "Zulu",
    )
)


class _Unsupported(Exception):
    """A value the direct writer does not spell (a tzinfo other than ZoneInfo or UTC): the
    item is written by icalendar instead."""


def _text(value: str) -> str:
    """TEXT escaping (icalendar.parser.string._escape_char, same order)."""
    return (
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> bytes:
    """The content line, encoded and folded as icalendar.parser.string._foldline folds it: each
    physical line holds the most characters that fit in 74 octets (75 with the leading space of
    a continuation), never splitting a UTF-8 sequence; a line that would end with ``\\`` or
    ``^`` (an escape) leaves that character to the next line."""
    data = line.encode()
    size = len(data)
    if size < 75:
        return data
    parts = []
    start = 0
    while size - start > 74:
        end = start + 74
        while data[end] & 0xC0 == 0x80:  # a continuation byte: the character starts before
            end -= 1
        if data[end - 1] in b"\\^":
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts)


_RFC6868 = re.compile(r'\^|\r\n|\r|\n|"')
_RFC6868_BY = {"^": "^^", "\n": "^n", "\r": "^n", "\r\n": "^n", '"': "^'"}
_QUOTABLE = re.compile("[,;:’]")  # icalendar's QUOTABLE
_ALWAYS_QUOTED = frozenset(
    {"ALTREP", "DELEGATED-FROM", "DELEGATED-TO", "DIR", "MEMBER", "SENT-BY"}
    | {"X-ADDRESS", "X-TITLE", "LINKREL"}
)


def _param(key: str, value: str) -> str:
    """``KEY=value`` (icalendar Parameters.to_ical: RFC 6868, then quoting when needed)."""
    quote = key in _ALWAYS_QUOTED or (key == "CN" and (" " in value or "'" in value))
    spelled = _RFC6868.sub(lambda m: _RFC6868_BY[m.group(0)], value).replace('"', "'")
    if quote or _QUOTABLE.search(spelled):
        spelled = f'"{spelled}"'
    return f"{key}={spelled}"


def _params(params: Mapping[str, str]) -> str:
    """``;K1=v1;K2=v2`` in key order, as icalendar sorts them."""
    return "".join(";" + _param(k, params[k]) for k in sorted(params))


def _duration(td: timedelta) -> str:
    """icalendar vDuration.to_ical."""
    sign = ""
    if td.days < 0:
        sign = "-"
        td = -td
    timepart = ""
    if td.seconds:
        timepart = "T"
        hours = td.seconds // 3600
        minutes = td.seconds % 3600 // 60
        seconds = td.seconds % 60
        if hours:
            timepart += f"{hours}H"
        if minutes or (hours and seconds):
            timepart += f"{minutes}M"
        if seconds:
            timepart += f"{seconds}S"
    if td.days == 0 and timepart:
        return f"{sign}P{timepart}"
    return f"{sign}P{abs(td.days)}D{timepart}"


def _when(name: str, value: date) -> str:
    """A DATE (``;VALUE=DATE``) or DATE-TIME (``;TZID=…``, or ``Z`` in UTC) property."""
    if not isinstance(value, datetime):
        return f"{name};VALUE=DATE:{value.year:04}{value.month:02}{value.day:02}"
    spelled = (
        f"{value.year:04}{value.month:02}{value.day:02}"
        f"T{value.hour:02}{value.minute:02}{value.second:02}"
    )
    zone = value.tzinfo
    if zone is UTC:
        return f"{name}:{spelled}Z"
    if type(zone) is not ZoneInfo or zone.key is None:
        raise _Unsupported(repr(zone))
    if zone.key in _UTC_TZIDS:
        return f"{name}:{spelled}Z"
    return f"{name};{_param('TZID', zone.key)}:{spelled}"


def _verbatim(value: str) -> str:
    """A value icalendar writes as is: a CAL-ADDRESS (vCalAddress) or an X- property
    (vUnknown, RFC 7265 §5). With a line feed it would make no content line (icalendar raises
    an AssertionError): left to icalendar, to fail the same way."""
    if "\n" in value:
        raise _Unsupported("line feed in a verbatim value")
    return value


def _address(name: str, email: str, params: Mapping[str, str]) -> str:
    if "\r" in email:
        raise _Unsupported("carriage return in an address")  # icalendar: ValueError
    return f"{name}{_params(params)}:mailto:{_verbatim(email)}"


def _lines(entry: Entry, generated_at: datetime, sequence: int) -> list[str]:
    """The content lines (unfolded) of the stamped component of ``entry``."""
    props: list[tuple[str, str]] = [
        ("UID", f"UID:{_text(entry.uid)}"),
        ("SUMMARY", f"SUMMARY:{_text(entry.summary)}"),
        ("DESCRIPTION", f"DESCRIPTION:{_text(entry.description)}"),
    ]
    add = props.append
    if entry.task:
        add(("DUE", _when("DUE", entry.start)))
        if entry.cancelled:
            add(("STATUS", "STATUS:CANCELLED"))
        elif entry.done_on is not None:
            add(("STATUS", "STATUS:COMPLETED"))
            add(("COMPLETED", _when("COMPLETED", datetime.combine(entry.done_on, time(12), UTC))))
            add(("PERCENT-COMPLETE", "PERCENT-COMPLETE:100"))
        else:
            add(("STATUS", "STATUS:NEEDS-ACTION"))
        add(("PRIORITY", f"PRIORITY:{1 if entry.kind == 'regulatory' else 5}"))
    else:
        add(("DTSTART", _when("DTSTART", entry.start)))
        add(("DTEND", _when("DTEND", entry.end)))
        add(("TRANSP", "TRANSP:TRANSPARENT" if entry.transparent else "TRANSP:OPAQUE"))
        add(("STATUS", "STATUS:CANCELLED" if entry.cancelled else "STATUS:CONFIRMED"))
    if entry.location is not None:
        add(("LOCATION", f"LOCATION:{_text(entry.location)}"))
    if entry.organizer is not None:
        organizer = entry.organizer
        add(("ORGANIZER", _address("ORGANIZER", organizer.email, {"CN": organizer.name})))
    for person in entry.attendees:
        params = _ATTENDEE_PARAMS | {"CN": person.name}
        add(("ATTENDEE", _address("ATTENDEE", person.email, params)))
    categories = ",".join(_text(c) for c in _categories(entry))
    add(("CATEGORIES", f"CATEGORIES:{categories}"))
    add((MARKER, f"{MARKER}:{_verbatim(entry.session_id)}"))
    add(("X-SYNCSVC-MILESTONE", f"X-SYNCSVC-MILESTONE:{_verbatim(entry.milestone_id)}"))
    stamp = generated_at.astimezone(UTC)
    add(("DTSTAMP", _when("DTSTAMP", stamp)))
    add(("LAST-MODIFIED", _when("LAST-MODIFIED", stamp)))
    add(("SEQUENCE", f"SEQUENCE:{int(sequence)}"))
    if entry.task:
        props.sort(key=lambda p: p[0])  # VTODO: alphabetical (stable: ATTENDEEs keep order)
        kind = "VTODO"
    else:
        rank = _VEVENT_ORDER
        size = len(rank)
        props.sort(key=lambda p: (rank.get(p[0], size), "" if p[0] in rank else p[0]))
        kind = "VEVENT"
    lines = [f"BEGIN:{kind}", *(line for _, line in props)]
    if entry.alarm_days is not None:
        related = ";RELATED=END" if entry.task else ""
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{_text(entry.summary)}",
            f"TRIGGER{related}:{_duration(timedelta(days=-entry.alarm_days))}",
            "END:VALARM",
        ]
    lines.append(f"END:{kind}")
    return lines


def _icalendar_item_bytes(entry: Entry, generated_at: datetime, sequence: int) -> bytes:
    """:func:`item_bytes` through icalendar (the reference the direct writer matches)."""
    data: bytes = stamped(component_for(entry), generated_at, sequence).to_ical()
    return data


def item_bytes(entry: Entry, generated_at: datetime, sequence: int) -> bytes:
    """One stamped component, serialised (what a feed keeps per item)."""
    try:
        lines = _lines(entry, generated_at, sequence)
    except _Unsupported:
        return _icalendar_item_bytes(entry, generated_at, sequence)
    return b"\r\n".join(map(_fold, lines)) + b"\r\n"


@lru_cache(maxsize=16)
def _head(name: str | None = None, refresh_minutes: int | None = None) -> bytes:
    """The start of the VCALENDAR of :func:`new_calendar` (without its END line); a name with
    a line feed is left to icalendar (which refuses it)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{_text(PRODID)}", "CALSCALE:GREGORIAN"]
    if name:
        lines.append(f"X-WR-CALNAME:{_verbatim(name)}")
    if refresh_minutes:
        every = _duration(timedelta(minutes=refresh_minutes))
        lines += [f"REFRESH-INTERVAL;VALUE=DURATION:{every}", f"X-PUBLISHED-TTL:{every}"]
    return b"\r\n".join(map(_fold, lines)) + b"\r\n"


_TZID = re.compile(rb"TZID=([^:;\r\n]+)")


def _assemble(head: bytes, items: Iterable[bytes]) -> bytes:
    """VCALENDAR = header + the VTIMEZONE of every TZID the items use + the items."""
    bodies = list(items)
    zones = sorted({m.decode() for body in bodies for m in _TZID.findall(body)})
    return b"".join([head, *(vtimezone(z) for z in zones), *bodies, b"END:VCALENDAR\r\n"])


def resource_bytes(entry: Entry, generated_at: datetime, sequence: int) -> bytes:
    """The VCALENDAR a CalDAV server stores for one item (with its VTIMEZONEs)."""
    return _assemble(_head(), [item_bytes(entry, generated_at, sequence)])


def assemble(
    items: Iterable[bytes], name: str | None = None, refresh_minutes: int | None = None
) -> bytes:
    """A VCALENDAR from already serialised components (feeds keep theirs in the store)."""
    try:
        head = _head(name, refresh_minutes)
    except _Unsupported:
        head = new_calendar(name, refresh_minutes).to_ical().removesuffix(b"END:VCALENDAR\r\n")
    return _assemble(head, items)


def calendar_of(
    entries: Iterable[Entry],
    generated_at: datetime,
    name: str = "Examens Titre Professionnel",
) -> bytes:
    """Many entries as one VCALENDAR (``syncsvc plan --format ics``), SEQUENCE 0."""
    return assemble((item_bytes(e, generated_at, 0) for e in entries), name)
