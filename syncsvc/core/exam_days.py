"""The days of a session's exams and their hours (pure).

A session lists its days (``days: [{date, start, end}]``) or, by default, is held on its first
day, its last day and every working day of the centre's holiday zone between them (a public
holiday in the middle of the week is no exam day), each from ``first_day_start`` to
``last_day_end``. Without ``first_day_start`` (and without ``days``), the hours are not known:
each day is a whole day.

The exam is one calendar item per day (never one block from the first morning to the last
evening through the nights) and the jury's invitation lists the days with their hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from syncsvc.core.dates import working_days
from syncsvc.core.labels import fr_day
from syncsvc.core.model import Centre, Session


@dataclass(frozen=True, slots=True)
class ExamDay:
    """One exam day: its date and, when they are known, its first and last moments (aware,
    in the centre's zone)."""

    day: date
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @property
    def timed(self) -> bool:
        return self.starts_at is not None and self.ends_at is not None

    def hours(self) -> str:
        """``08:30 – 17:30``; empty for a whole day."""
        if self.starts_at is None or self.ends_at is None:
            return ""
        return f"{self.starts_at:%H:%M} – {self.ends_at:%H:%M}"

    def line(self) -> str:
        """``lun. 15/03/2027, 08:30 – 17:30`` (the date alone for a whole day)."""
        hours = self.hours()
        return fr_day(self.day) + (f", {hours}" if hours else "")


def exam_days(session: Session, centre: Centre) -> tuple[ExamDay, ...]:
    """The exam days of ``session``, in order (at least one)."""
    tz = centre.tz
    if session.days:
        return tuple(
            ExamDay(
                d.day,
                datetime.combine(d.day, d.start, tz),
                datetime.combine(d.day, d.end, tz),
            )
            for d in session.days
        )
    calendar = working_days(centre.holiday_zone)
    found: list[date] = []
    day = session.start
    while day <= session.end:
        if day in (session.start, session.end) or calendar.is_working_day(day):
            found.append(day)
        day += timedelta(days=1)
    if session.first_day_start is None:
        return tuple(ExamDay(d) for d in found)
    return tuple(
        ExamDay(
            d,
            datetime.combine(d, session.first_day_start, tz),
            datetime.combine(d, session.last_day_end, tz),
        )
        for d in found
    )


def exam_place(session: Session, centre: Centre) -> str:
    """Where the exams are held: the session's ``location``, else the centre's name and
    address."""
    if session.location:
        return session.location
    return f"{centre.name}, {centre.address}" if centre.address else centre.name


def days_text(days: tuple[ExamDay, ...]) -> str:
    """One line per day: ``- lun. 15/03/2027, 08:30 – 17:30``."""
    return "\n".join(f"- {d.line()}" for d in days)
