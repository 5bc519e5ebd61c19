"""Milestones -> iCalendar components with stable UIDs and a content hash (pure).

Vocabulary:

- a *component* is the meaning of one milestone for one audience: a VEVENT (all-day deadline or
  timed exam session) or a VTODO, without DTSTAMP, LAST-MODIFIED or SEQUENCE;
- its *content hash* is the SHA-256 of that component's serialisation, so a re-render of an
  unchanged milestone hashes the same and is never written again;
- a *resource* is what a calendar server stores: a VCALENDAR holding one stamped component and
  the VTIMEZONEs it uses.

Nothing here reads the clock or draws random numbers: UIDs derive from (session id, milestone
id), and DTSTAMP/LAST-MODIFIED come from the ``generated_at`` argument.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal

from icalendar import Alarm, Calendar, Component, Event, Timezone, Todo, vCalAddress, vDuration

from syncsvc.core.model import Centre, Milestone, Session

PRODID = "-//syncsvc//Examens Titre Professionnel//FR"
UID_DOMAIN = "syncsvc"
UID_SUFFIX = f"@{UID_DOMAIN}"
MARKER = "X-SYNCSVC-SESSION"
KIND_LABELS = {"regulatory": "Réglementaire", "advice": "Conseil"}
STATUS_LABELS = {
    "pending": "À venir",
    "due_soon": "Bientôt",
    "overdue": "En retard",
    "done": "Fait",
}
STATUS_MARKS = {"done": "✓ ", "overdue": "⚠ "}
Items = Literal["events", "tasks"]


def uid_for(session_id: str, milestone_id: str) -> str:
    """The calendar UID of one milestone: stable for the life of the session."""
    return f"{session_id}.{milestone_id}{UID_SUFFIX}"


def summary_for(session: Session, milestone: Milestone) -> str:
    """``[SA 15/03] Commander le pli d'examen (DTE)``, marked ✓ when done, ⚠ when overdue."""
    mark = STATUS_MARKS.get(milestone.status, "") if milestone.rule.tracked else ""
    return f"{mark}[{session.short_label}] {milestone.title}"


def description_for(session: Session, milestone: Milestone, dashboard_url: str | None) -> str:
    rule = milestone.rule
    lines = [
        f"{session.title.code} {session.title.label} — session du "
        f"{session.start:%d/%m/%Y} au {session.end:%d/%m/%Y}",
        "",
    ]
    if rule.description:
        lines += [rule.description.strip(), ""]
    lines.append(f"Type : {KIND_LABELS[rule.kind].lower()}")
    if milestone.due != milestone.unshifted:
        direction = (
            "avancée au jour ouvré précédent"
            if milestone.due < milestone.unshifted
            else ("reportée au jour ouvré suivant")
        )
        lines.append(f"Échéance {direction} (date calculée : {milestone.unshifted:%d/%m/%Y})")
    if milestone.done_on is not None:
        lines.append(f"Fait le {milestone.done_on:%d/%m/%Y}")
    for source in rule.sources:
        lines.append(f"Source {source.ref} : « {source.quote} »")
    if rule.note:
        lines.append(f"Note : {rule.note}")
    if dashboard_url:
        lines += ["", f"Tableau de bord : {dashboard_url.rstrip('/')}/sessions/{session.id}"]
    return "\n".join(lines)


def component_for(
    session: Session,
    centre: Centre,
    milestone: Milestone,
    items: Items = "events",
    dashboard_url: str | None = None,
) -> Component:
    """The meaning of one milestone: a VEVENT, or a VTODO when ``items`` is ``tasks``.

    The exam session is always a VEVENT (timed in the centre's zone when its start time is
    known), with the session manager as ORGANIZER and the jury as ATTENDEEs marked
    ``SCHEDULE-AGENT=CLIENT``: servers that schedule by themselves send nothing.
    """
    rule = milestone.rule
    as_task = items == "tasks" and rule.tracked
    component: Component = Todo() if as_task else Event()
    component.add("uid", uid_for(session.id, milestone.id))
    component.add("summary", summary_for(session, milestone))
    component.add("description", description_for(session, milestone, dashboard_url))
    if as_task:
        component.add("dtstart", milestone.due)
        component.add("due", milestone.due + timedelta(days=1))
        if milestone.done_on is not None:
            component.add("status", "COMPLETED")
            component.add("completed", datetime.combine(milestone.done_on, time(12), UTC))
            component.add("percent-complete", 100)
        else:
            component.add("status", "NEEDS-ACTION")
        component.add("priority", 1 if rule.kind == "regulatory" else 5)
    elif milestone.starts_at is not None and milestone.ends_at is not None:
        component.add("dtstart", milestone.starts_at)
        component.add("dtend", milestone.ends_at)
        component.add("transp", "OPAQUE")
        component.add("status", "CONFIRMED")
    else:
        last = milestone.ends_on or milestone.due
        component.add("dtstart", milestone.due)
        component.add("dtend", last + timedelta(days=1))
        component.add("transp", "TRANSPARENT" if rule.tracked else "OPAQUE")
        component.add("status", "CONFIRMED")
    if rule.id == "exam_session":
        _add_people(component, session, centre)
    component.add(
        "categories",
        ["Examens TP", KIND_LABELS[rule.kind], STATUS_LABELS[milestone.status]],
    )
    component.add(MARKER, session.id)
    component.add("x-syncsvc-milestone", milestone.id)
    if rule.reminders and milestone.status != "done":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary_for(session, milestone))
        alarm.add("trigger", timedelta(days=-rule.reminders[0]))
        component.add_component(alarm)
    return component


def _add_people(component: Component, session: Session, centre: Centre) -> None:
    component.add("location", session.location or centre.name)
    organizer = vCalAddress(f"mailto:{session.session_manager.email}")
    organizer.params["CN"] = session.session_manager.name
    component.add("organizer", organizer)
    for member in session.jury:
        attendee = vCalAddress(f"mailto:{member.email}")
        attendee.params.update(
            {
                "CN": member.name,
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "NEEDS-ACTION",
                "RSVP": "TRUE",
                "SCHEDULE-AGENT": "CLIENT",
            }
        )
        component.add("attendee", attendee, encode=False)


def content_hash(component: Component) -> str:
    """SHA-256 of the meaning: DTSTAMP, LAST-MODIFIED, SEQUENCE and PRODID are left out."""
    volatile = {"DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "PRODID"}
    digest = hashlib.sha256()
    for line in component.content_lines():
        if line.split(":", 1)[0].split(";", 1)[0].upper() not in volatile:
            digest.update(line.encode())
            digest.update(b"\n")
    return digest.hexdigest()


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


def resource_bytes(component: Component, generated_at: datetime, sequence: int) -> bytes:
    """The VCALENDAR a CalDAV server stores for one item (with its VTIMEZONEs)."""
    return _assemble(new_calendar(), [stamped(component, generated_at, sequence).to_ical()])


def calendar_bytes(
    components: Iterable[tuple[Component, int, datetime]],
    name: str | None = None,
    refresh_minutes: int | None = None,
) -> bytes:
    """One VCALENDAR holding every (component, sequence, stamp) and every VTIMEZONE used."""
    return _assemble(
        new_calendar(name, refresh_minutes),
        (stamped(c, stamp, sequence).to_ical() for c, sequence, stamp in components),
    )


def assemble(
    items: Iterable[bytes], name: str | None = None, refresh_minutes: int | None = None
) -> bytes:
    """A VCALENDAR from already serialised components (feeds keep theirs in the store)."""
    return _assemble(new_calendar(name, refresh_minutes), items)


def calendar_of(
    items: Iterable[tuple[Session, Centre, Milestone]],
    generated_at: datetime,
    name: str = "Examens Titre Professionnel",
    dashboard_url: str | None = None,
) -> bytes:
    """A whole plan as one VCALENDAR (``syncsvc plan --format ics``)."""
    components = [
        (component_for(s, c, m, dashboard_url=dashboard_url), 0, generated_at) for s, c, m in items
    ]
    return calendar_bytes(components, name)
