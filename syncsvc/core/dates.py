"""Calendar arithmetic: offsets in days and clamped months, working days per holiday zone (pure).

Public holidays come from the ``holidays`` package (computed, not fetched), one year at a time,
as a table of days and French names. The tables can be kept between runs
(:func:`known_holidays`) and given back to a later process (:func:`remember_holidays`), which
then needs the package only for the years it was not given (a sync after one session file
changed does without importing it: some 0.06 s of its start). Holiday zones:

- ``metropole``: the 11 national public holidays;
- ``alsace-moselle``: adds Good Friday and 26 December;
- ``971`` Guadeloupe, ``972`` Martinique, ``973`` Guyane, ``974`` La Réunion, ``976`` Mayotte:
  add the local abolition-of-slavery day (20 December in La Réunion, 27 May in Martinique…).
"""

from __future__ import annotations

import calendar
import importlib.util
import sys
import threading
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from syncsvc.core.rules import Offset, Shift

_SUBDIVISIONS: dict[str, str | None] = {
    "metropole": None,
    "alsace-moselle": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}
HOLIDAY_ZONES = tuple(_SUBDIVISIONS)
MAX_SHIFT_DAYS = 5
"""The longest run of non-working days a shift can cross (a weekend plus a holiday bridge)."""


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the end of the month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if day.day <= 28:  # every month has it: the common case, no calendar arithmetic
        return date(year, month, day.day)
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def add_offset(day: date, offset: Offset) -> date:
    if offset.unit == "d":
        return day + timedelta(days=offset.amount)
    return add_months(day, offset.amount)


class WorkingDays:
    """Working days of one holiday zone: Monday to Friday, public holidays excluded."""

    def __init__(self, zone: str = "metropole") -> None:
        if zone not in _SUBDIVISIONS:
            raise ValueError(f"unknown holiday zone {zone!r}; expected one of {HOLIDAY_ZONES}")
        self.zone = zone
        self._years: dict[int, dict[date, str]] = {}
        """Each year's public holidays (day -> French name), computed once, or given back."""
        self._years_lock = threading.Lock()
        self._working: dict[date, bool] = {}
        """Days already looked up (planning asks for the same days again and again). A few
        thousand entries at most: the days of a few years."""
        self._shifted: dict[tuple[date, Shift], date] = {}

    def _year(self, year: int) -> dict[date, str]:
        table = self._years.get(year)
        if table is None:
            with self._years_lock:
                table = self._years.get(year)
                if table is None:
                    found = _france()(subdiv=_SUBDIVISIONS[self.zone], years=year, language="fr")
                    table = {day: str(name) for day, name in found.items() if day.year == year}
                    self._years[year] = table
        return table

    def holiday_name(self, day: date) -> str | None:
        return self._year(day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        working = self._working.get(day)
        if working is None:
            working = self._working[day] = day.weekday() < 5 and day not in self._year(day.year)
        return working

    def shift(self, day: date, policy: Shift) -> date:
        """Move ``day`` to the nearest working day in the direction ``policy`` says."""
        if policy == "none":
            return day
        shifted = self._shifted.get((day, policy))
        if shifted is None:
            shifted = day
            step = timedelta(days=-1 if policy == "previous" else 1)
            while not self.is_working_day(shifted):
                shifted += step
            self._shifted[day, policy] = shifted
        return shifted

    def known(self) -> dict[int, dict[date, str]]:
        """The years computed (or given back) so far."""
        with self._years_lock:
            return {year: dict(table) for year, table in self._years.items()}

    def remember(self, years: Mapping[int, Mapping[date, str]]) -> None:
        """Take these years' tables as computed (by the same version of the package: the
        caller makes sure of it)."""
        with self._years_lock:
            for year, table in years.items():
                self._years.setdefault(year, dict(table))


HolidayTables = dict[str, dict[str, dict[str, str]]]
"""zone -> year -> ISO day -> name: :func:`known_holidays` as JSON takes it."""


def known_holidays() -> HolidayTables:
    """Every year's table computed (or given back) in this process, per zone, as JSON takes
    it (for :func:`remember_holidays` in a later process)."""
    return {
        zone: {
            str(year): {day.isoformat(): name for day, name in sorted(table.items())}
            for year, table in sorted(working_days(zone).known().items())
        }
        for zone in HOLIDAY_ZONES
        if zone in _CALENDARS
    }


def remember_holidays(tables: object) -> bool:
    """Give back what :func:`known_holidays` returned in an earlier process run by the same
    code and libraries; anything malformed is ignored as a whole (False): the years are then
    computed again."""
    try:
        parsed = {
            zone: {
                int(year): {date.fromisoformat(day): str(name) for day, name in table.items()}
                for year, table in years.items()
            }
            for zone, years in tables.items()  # type: ignore[attr-defined]
            if zone in _SUBDIVISIONS
        }
    except (AttributeError, TypeError, ValueError):
        return False
    for zone, years in parsed.items():
        working_days(zone).remember(years)
    return True


FRANCE = "holidays.countries.france"
_LOADING = threading.Lock()


@cache
def _france() -> Any:
    """The ``holidays`` package's France, what ``holidays.country_holidays("FR", …)`` makes —
    its module loaded alone: the package's ``countries`` imports every country of the world
    first (some 0.1 s of a command's start), whereas this module needs none of them. Any
    surprise (a package laid out otherwise) takes the package's own way."""
    import holidays  # only when a year's table is not known yet

    with _LOADING:  # a daemon plans from several threads: one loads, the others wait
        module = sys.modules.get(FRANCE)
        if module is None:
            path = Path(holidays.__file__).parent / "countries" / "france.py"
            spec = importlib.util.spec_from_file_location(FRANCE, path)
            if spec is None or spec.loader is None or not path.is_file():
                return holidays.country_holidays("FR").__class__
            module = importlib.util.module_from_spec(spec)
            sys.modules[FRANCE] = module  # the package's countries, when imported, reuse it
            try:
                spec.loader.exec_module(module)
            except Exception:
                del sys.modules[FRANCE]
                return holidays.country_holidays("FR").__class__
        return module.France


_CALENDARS: dict[str, WorkingDays] = {}


def working_days(zone: str) -> WorkingDays:
    """The shared calendar of one zone (holiday years are computed once, on demand)."""
    found = _CALENDARS.get(zone)
    if found is None:  # two threads at once: one calendar is kept, the other dropped unused
        found = _CALENDARS.setdefault(zone, WorkingDays(zone))
    return found
