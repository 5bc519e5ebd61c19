"""Milestones -> calendar entries: what one calendar item says, before any format spells it (pure).

An :class:`Entry` is the meaning of one milestone in one target's calendar: its identity (UID,
derived from the session and milestone ids, stable for the life of the session; for a centre's
yearly milestone, from the centre, the milestone and the year), its words
(summary, description, in French), its dates, and the codes that formats map to their own
vocabulary (status, kind, exam or deadline, event or task). Every format renders entries:
iCalendar for CalDAV servers and feeds (:mod:`syncsvc.formats.ical`), Calendar v3 JSON for
Google (:mod:`syncsvc.formats.google_event`); none parses another's output.

Candidates' personal data is never in an entry: only counts are used.

A cancelled session keeps its items, as cancelled (:func:`as_cancelled`): status ``cancelled``
(``STATUS:CANCELLED`` in iCalendar), title starting with « ANNULÉE — », description starting with
the day and reason of the cancellation, no alarm, nobody busy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from syncsvc.core.exam_days import ExamDay, days_text, exam_days, exam_place
from syncsvc.core.labels import (
    CANCELLED_PREFIX,
    INVITATION_SUMMARIES,
    JUROR_DAY_NOTE,
    JURY_WELCOME_LABEL,
    KIND_LABELS,
    REDO_LABEL,
    fr_date,
    fr_day,
)
from syncsvc.core.model import Centre, ConvenedRole, Milestone, Person, Session, Status
from syncsvc.core.rules import Kind
from syncsvc.core.titles import session_name, title_for
from syncsvc.core.words import cancellation_text, postponement_texts, sources_text

UID_DOMAIN = "syncsvc"
UID_SUFFIX = f"@{UID_DOMAIN}"
EXAM = "exam_session"
"""The milestone id of the exam itself (a timed event with the jury, never a task)."""
Items = Literal["events", "tasks"]


def uid_for(session_id: str, milestone_id: str) -> str:
    """The calendar UID of one milestone: stable for the life of the session (the exam's is
    its first day's, see :func:`exam_day_uid`)."""
    return f"{session_id}.{milestone_id}{UID_SUFFIX}"


def exam_day_uid(session_id: str, number: int) -> str:
    """The UID of the exam's day ``number`` (1 for the first): the exam's own
    (:func:`uid_for`) for the first day, so that an item pushed before the exam had its days is
    updated, not doubled; ``<session>.exam_session.day<n>@syncsvc`` for the others. A day's UID
    is its rank, not its date: a session moved to other dates updates its items in place; a day
    taken away deletes the last one. (A centre's yearly milestone ends with its year, digits
    only: the two never meet.)"""
    if number == 1:
        return uid_for(session_id, EXAM)
    return f"{session_id}.{EXAM}.day{number}{UID_SUFFIX}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One calendar item, format-neutral.

    Dates: an all-day item runs from ``start`` to ``end`` exclusive (``date`` values); a timed
    one from ``start`` to ``end`` (aware ``datetime`` values, in the centre's zone). A task's
    deadline is ``start`` (its last day).
    """

    uid: str
    session_id: str
    milestone_id: str
    summary: str
    description: str
    kind: Kind
    status: Status
    tracked: bool
    """Tracked milestones are deadlines someone marks done; the exam itself is not."""
    task: bool
    start: date | datetime
    end: date | datetime
    done_on: date | None = None
    location: str | None = None
    organizer: Person | None = None
    attendees: tuple[Person, ...] = ()
    alarm_days: int | None = None
    """A display alarm this many days before the start (None: no alarm)."""

    @property
    def exam(self) -> bool:
        return self.milestone_id == EXAM

    @property
    def timed(self) -> bool:
        return isinstance(self.start, datetime)

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def transparent(self) -> bool:
        """Deadlines do not make anyone busy; the exam days do, unless cancelled."""
        return self.task or self.cancelled or (self.tracked and not self.timed)


def summary_for(session: Session, centre: Centre, milestone: Milestone) -> str:
    """``J-92 · DTE — SA St-André``, marked ✓ when done, ⚠ when overdue (see
    :mod:`syncsvc.core.titles`)."""
    return title_for([milestone], session_name(session, centre), session.title.transport)


def description_for(session: Session, milestone: Milestone, dashboard_url: str | None) -> str:
    rule = milestone.rule
    lines = [
        f"{session.title.code} {session.title.label} — session du "
        f"{fr_date(session.start)} au {fr_date(session.end)}",
        *postponement_texts(session),
        "",
    ]
    if rule.description:
        lines += [rule.description.strip(), ""]
    lines.append(f"Type : {KIND_LABELS[rule.kind]}")
    if milestone.due != milestone.unshifted:
        direction = (
            "avancée au jour ouvré précédent"
            if milestone.due < milestone.unshifted
            else "reportée au jour ouvré suivant"
        )
        lines.append(f"Échéance {direction} (date calculée : {fr_date(milestone.unshifted)})")
    if milestone.done_on is not None:
        lines.append(f"Fait le {fr_date(milestone.done_on)}")
    if milestone.redo_of is not None and session.postponed_on is not None:
        lines.append(
            f"{REDO_LABEL.capitalize()} : fait le {fr_date(milestone.redo_of)}, avant le report "
            f"du {fr_date(session.postponed_on)}"
        )
    if rule.note:
        lines.append(f"Note : {rule.note}")
    if rule.sources:
        lines += ["", sources_text(rule)]
    if dashboard_url:
        lines += ["", f"Tableau de bord : {dashboard_url.rstrip('/')}/sessions/{session.id}"]
    return "\n".join(lines)


def as_cancelled(entry: Entry, session: Session) -> Entry:
    """``entry`` of a cancelled session as it stays in calendars: status ``cancelled``, title
    « ANNULÉE — … », the cancellation (day, reason) first in its description, no alarm; an
    entry of a session that is not cancelled is returned as it is."""
    text = cancellation_text(session)
    if text is None:
        return entry
    return replace(
        entry,
        status="cancelled",
        summary=CANCELLED_PREFIX + entry.summary,
        description=f"{text}\n\n{entry.description}",
        alarm_days=None,
    )


def entry_for(
    session: Session,
    centre: Centre,
    milestone: Milestone,
    items: Items = "events",
    dashboard_url: str | None = None,
    juror: str | None = None,
) -> Entry:
    """The entry of one milestone; a task when ``items`` is ``tasks`` (the exam stays an event).

    The exam session carries the place, the session manager as organiser and the jury as
    attendees — only ``juror`` in the own calendar of a person convened to the exam (``juror``:
    their address; a juror, the surveillant or the comédien, see
    :meth:`~syncsvc.core.model.Session.convened`), who never sees another person's address; it
    is timed in the centre's zone when its first day's start time is known.
    """
    entry = _entry_for(session, centre, milestone, items, dashboard_url, juror)
    return as_cancelled(entry, session)


def _entry_for(
    session: Session,
    centre: Centre,
    milestone: Milestone,
    items: Items,
    dashboard_url: str | None,
    juror: str | None,
) -> Entry:
    """:func:`entry_for`, before a cancellation marks it."""
    rule = milestone.rule
    task = items == "tasks" and rule.tracked
    start: date | datetime = milestone.due
    end: date | datetime = (milestone.ends_on or milestone.due) + timedelta(days=1)
    if task:
        end = milestone.due
    elif milestone.starts_at is not None and milestone.ends_at is not None:
        start, end = milestone.starts_at, milestone.ends_at
    exam = rule.id == EXAM
    convened = session.convened_as(juror) if exam and juror is not None else None
    entry = Entry(
        uid=uid_for(session.id, milestone.id),
        session_id=session.id,
        milestone_id=milestone.id,
        summary=summary_for(session, centre, milestone),
        description=(
            juror_description(session, centre, exam_days(session, centre), 0, convened[1])
            if convened is not None
            else description_for(session, milestone, dashboard_url)
        ),
        kind=rule.kind,
        status=milestone.status,
        tracked=rule.tracked,
        task=task,
        start=start,
        end=end,
        done_on=milestone.done_on,
        location=exam_place(session, centre) if exam else None,
        organizer=session.session_manager if exam else None,
        attendees=_attendees(session, juror, convened) if exam else (),
        alarm_days=rule.reminders[0] if rule.reminders and milestone.status != "done" else None,
    )
    return entry


def entries_for(
    session: Session,
    centre: Centre,
    milestone: Milestone,
    items: Items = "events",
    dashboard_url: str | None = None,
    juror: str | None = None,
) -> list[Entry]:
    """The entries of one milestone: one (:func:`entry_for`), or one per day for the exam
    (:func:`syncsvc.core.exam_days.exam_days`), each timed with that day's hours.

    In the calendar of a person convened to the exam (``juror``: a juror, the surveillant or the
    comédien), an exam day says only what their invitation says: the days and their hours, the
    place, the session manager's contact, what a juror brings and reads — never the organisers'
    checklist, the dashboard or another person's address."""
    if milestone.id != EXAM:
        return [entry_for(session, centre, milestone, items, dashboard_url, juror)]
    entry = _entry_for(session, centre, milestone, items, dashboard_url, juror)
    days = exam_days(session, centre)
    out = []
    for index, day in enumerate(days):
        start: date | datetime = day.day
        end: date | datetime = day.day + timedelta(days=1)
        if day.starts_at is not None and day.ends_at is not None:
            start, end = day.starts_at, day.ends_at
        numbered = f"Jour {index + 1}/{len(days)}"
        convened = session.convened_as(juror) if juror is not None else None
        if convened is not None:
            description = juror_description(session, centre, days, index, convened[1])
        else:
            head, _, rest = entry.description.partition("\n")  # after the session's line
            description = (
                f"{head}\n{numbered} : {day.line()}\n\nJours d'examen :\n{days_text(days)}\n" + rest
            )
        out.append(
            replace(  # then marked cancelled, each day, when the session is
                entry,
                uid=exam_day_uid(session.id, index + 1),
                summary=(
                    entry.summary.replace(" — ", f" ({numbered.lower()}) — ", 1)
                    if len(days) > 1
                    else entry.summary
                ),
                description=description,
                start=start,
                end=end,
                alarm_days=entry.alarm_days if index == 0 else None,
            )
        )
    return [as_cancelled(e, session) for e in out]


def _attendees(
    session: Session, juror: str | None, convened: tuple[Person, ConvenedRole] | None
) -> tuple[Person, ...]:
    """The exam's attendees: the jury in the organisers' calendars; in a convened person's own
    calendar, that person alone (none when ``juror`` is not convened to this session)."""
    if juror is None:
        return tuple(session.jury)
    return (convened[0],) if convened is not None else ()


def juror_description(
    session: Session,
    centre: Centre,
    days: tuple[ExamDay, ...],
    index: int,
    role: ConvenedRole = "jury",
) -> str:
    """What a person convened as ``role`` (a juror, the surveillant, the comédien) reads on one
    exam day of their calendar, as their invitation says it: nothing of the organisers'
    checklists, no dashboard, no other person than the session manager to contact; what to
    bring and read for a juror only."""
    manager = session.session_manager
    contact = f"{manager.name} <{manager.email}>" + (
        f", tél. {manager.phone}" if manager.phone else ""
    )
    nature = session.nature.upper() + (f" {session.ccp_code}" if session.ccp_code else "")
    lines = [
        f"{INVITATION_SUMMARIES[role]} — {session.title.code} {session.title.label} ({nature})",
        f"Jour {index + 1}/{len(days)} : {days[index].line()}",
    ]
    if session.jury_welcome is not None:
        lines.append(
            f"{JURY_WELCOME_LABEL} : {fr_day(days[0].day)} à {session.jury_welcome:%H:%M}, "
            "avant le début des épreuves"
        )
    lines += [
        "",
        "Jours d'examen :",
        days_text(days),
        "",
        f"Lieu : {exam_place(session, centre)}",
        f"Responsable de session : {contact}",
    ]
    if centre.phone:
        lines.append(f"Centre : {centre.name}, tél. {centre.phone}")
    if role == "jury":
        lines += ["", JUROR_DAY_NOTE]
    return "\n".join(lines)


# --- a centre's yearly milestones ---------------------------------------------------------------


def centre_uid_for(centre_id: str, milestone_id: str, year: int) -> str:
    """The calendar UID of a centre's yearly milestone, ``<centre>.<rule>.<year>@syncsvc``: two
    dots, where a session's has one (ids hold none), so the two never meet."""
    return f"{centre_id}.{milestone_id}.{year}{UID_SUFFIX}"


def centre_entry_for(
    centre: Centre,
    year: int,
    milestone: Milestone,
    items: Items = "events",
    dashboard_url: str | None = None,
) -> Entry:
    """The entry of a centre's yearly milestone (one per centre and year, never per session):
    its owner, where a session's entries name their session, is ``milestone.session_id``
    (``centre:<centre>:<year>``)."""
    rule = milestone.rule
    task = items == "tasks" and rule.tracked
    lines = [f"{centre.name} — sessions d'examen de l'année {year}", ""]
    if rule.description:
        lines += [rule.description.strip(), ""]
    lines.append(f"Type : {KIND_LABELS[rule.kind]}")
    if milestone.due != milestone.unshifted:
        direction = "avancée au jour ouvré précédent"
        if milestone.due > milestone.unshifted:
            direction = "reportée au jour ouvré suivant"
        lines.append(f"Échéance {direction} (date calculée : {fr_date(milestone.unshifted)})")
    if milestone.done_on is not None:
        lines.append(f"Fait le {fr_date(milestone.done_on)}")
    if rule.note:
        lines.append(f"Note : {rule.note}")
    if rule.sources:
        lines += ["", sources_text(rule)]
    if dashboard_url:
        lines += ["", f"Tableau de bord : {dashboard_url.rstrip('/')}/"]
    return Entry(
        uid=centre_uid_for(centre.id, rule.id, year),
        session_id=milestone.session_id,
        milestone_id=rule.id,
        summary=title_for([milestone], f"{centre.short_name} {year}"),
        description="\n".join(lines),
        kind=rule.kind,
        status=milestone.status,
        tracked=rule.tracked,
        task=task,
        start=milestone.due,
        end=milestone.due if task else milestone.due + timedelta(days=1),
        done_on=milestone.done_on,
        alarm_days=rule.reminders[0] if rule.reminders and milestone.status != "done" else None,
    )
