"""Calendar arithmetic: offsets in days and clamped months, working days per holiday zone (pure).

Public holidays come from the ``holidays`` package (computed, not fetched). Holiday zones:

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
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import holidays

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
        self._holidays = _france()(subdiv=_SUBDIVISIONS[zone], language="fr")
        self._working: dict[date, bool] = {}
        """Days already looked up (a holiday lookup is slow; planning asks for the same days
        again and again). A few thousand entries at most: the days of a few years."""
        self._shifted: dict[tuple[date, Shift], date] = {}

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day)
        return str(name) if name is not None else None

    def is_working_day(self, day: date) -> bool:
        working = self._working.get(day)
        if working is None:
            working = self._working[day] = day.weekday() < 5 and day not in self._holidays
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


FRANCE = "holidays.countries.france"
_LOADING = threading.Lock()


@cache
def _france() -> Any:
    """The ``holidays`` package's France, what ``holidays.country_holidays("FR", …)`` makes —
    its module loaded alone: the package's ``countries`` imports every country of the world
    first (some 0.1 s of a command's start), whereas this module needs none of them. Any
    surprise (a package laid out otherwise) takes the package's own way."""
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


@cache
def working_days(zone: str) -> WorkingDays:
    """The shared, cached calendar of one zone (holiday years are computed once, on demand)."""
    return WorkingDays(zone)
