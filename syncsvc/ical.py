"""Milestones -> iCalendar components with stable UIDs (pure).

Nothing here reads the clock or draws random numbers: the UID derives from (session id,
milestone id) and DTSTAMP/LAST-MODIFIED come from the ``generated_at`` argument, so rendering the
same plan twice gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress

from syncsvc.model import Centre, Milestone, Session

PRODID = "-//syncsvc//Examens Titre Professionnel//FR"
UID_DOMAIN = "syncsvc"
KIND_LABELS = {"regulatory": "Réglementaire", "advice": "Conseil"}
STATUS_LABELS = {
    "pending": "À venir",
    "due_soon": "Bientôt",
    "overdue": "En retard",
    "done": "Fait",
}
STATUS_MARKS = {"done": "✓ ", "overdue": "⚠ "}


def uid_for(session_id: str, milestone_id: str) -> str:
    """The calendar UID of one milestone: stable for the life of the session."""
    return f"{session_id}.{milestone_id}@{UID_DOMAIN}"


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
        lines.append(
            f"Échéance avancée au jour ouvré précédent (date calculée : "
            f"{milestone.unshifted:%d/%m/%Y})"
            if milestone.due < milestone.unshifted
            else f"Échéance reportée au jour ouvré suivant (date calculée : "
            f"{milestone.unshifted:%d/%m/%Y})"
        )
    if milestone.done_on is not None:
        lines.append(f"Fait le {milestone.done_on:%d/%m/%Y}")
    for source in rule.sources:
        lines.append(f"Source {source.ref} : « {source.quote} »")
    if rule.note:
        lines.append(f"Note : {rule.note}")
    if dashboard_url:
        lines += ["", f"Tableau de bord : {dashboard_url.rstrip('/')}/sessions/{session.id}"]
    return "\n".join(lines)


def event_for(
    session: Session,
    centre: Centre,
    milestone: Milestone,
    generated_at: datetime,
    dashboard_url: str | None = None,
) -> Event:
    """One VEVENT: all-day for a deadline, timed in the centre's zone for the exam session."""
    rule = milestone.rule
    event = Event()
    event.add("uid", uid_for(session.id, milestone.id))
    event.add("dtstamp", generated_at)
    event.add("last-modified", generated_at)
    event.add("summary", summary_for(session, milestone))
    event.add("description", description_for(session, milestone, dashboard_url))
    if milestone.starts_at is not None and milestone.ends_at is not None:
        event.add("dtstart", milestone.starts_at)
        event.add("dtend", milestone.ends_at)
        event.add("transp", "OPAQUE")
    else:
        last = milestone.ends_on or milestone.due
        event.add("dtstart", milestone.due)
        event.add("dtend", last + timedelta(days=1))
        event.add("transp", "TRANSPARENT" if rule.tracked else "OPAQUE")
    if rule.id == "exam_session":
        where = session.location or centre.name
        event.add("location", where)
        organizer = vCalAddress(f"mailto:{session.session_manager.email}")
        organizer.params["CN"] = session.session_manager.name
        event.add("organizer", organizer)
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
            event.add("attendee", attendee, encode=False)
    event.add("status", "CONFIRMED")
    event.add(
        "categories",
        ["Examens TP", KIND_LABELS[rule.kind], STATUS_LABELS[milestone.status]],
    )
    event.add("x-syncsvc-session", session.id)
    event.add("x-syncsvc-milestone", milestone.id)
    if rule.reminders and milestone.status not in ("done",):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary_for(session, milestone))
        alarm.add("trigger", timedelta(days=-rule.reminders[0]))
        event.add_component(alarm)
    return event


def calendar_of(
    items: Iterable[tuple[Session, Centre, Milestone]],
    generated_at: datetime,
    name: str = "Examens Titre Professionnel",
    dashboard_url: str | None = None,
) -> Calendar:
    """A VCALENDAR holding one VEVENT per milestone, with every VTIMEZONE it uses."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for session, centre, milestone in items:
        calendar.add_component(event_for(session, centre, milestone, generated_at, dashboard_url))
    calendar.add_missing_timezones()
    return calendar
