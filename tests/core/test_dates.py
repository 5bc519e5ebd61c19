"""Date arithmetic and working days, against dates worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncsvc.core.dates import HOLIDAY_ZONES, MAX_SHIFT_DAYS, add_months, add_offset, working_days
from syncsvc.core.rules import Offset


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 8, 31), -6, date(2027, 2, 28)),  # clamped to February's end
        (date(2028, 8, 31), -6, date(2028, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # 29 February + 1 year
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2027, 3, 15), -8, date(2026, 7, 15)),  # across a year boundary
        (date(2027, 3, 19), 60, date(2032, 3, 19)),
        (date(2027, 12, 31), 0, date(2027, 12, 31)),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_offset_strings() -> None:
    assert add_offset(date(2027, 3, 15), Offset.model_validate("-92d")) == date(2026, 12, 13)
    assert add_offset(date(2027, 3, 15), Offset.model_validate("+2mo")) == date(2027, 5, 15)
    assert str(Offset.model_validate(" +5 d")) == "+5d"
    assert str(Offset.model_validate("0d")) == "0d"


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        ("metropole", date(2026, 12, 13), date(2026, 12, 11)),  # Sunday -> Friday
        ("metropole", date(2027, 3, 29), date(2027, 3, 26)),  # Easter Monday -> Good Friday
        ("alsace-moselle", date(2027, 3, 29), date(2027, 3, 25)),  # ... a holiday there too
        ("alsace-moselle", date(2027, 3, 26), date(2027, 3, 25)),  # Good Friday
        ("metropole", date(2027, 3, 26), date(2027, 3, 26)),  # a working day in metropole
        ("metropole", date(2027, 5, 8), date(2027, 5, 7)),  # 8 May on a Saturday
        ("metropole", date(2027, 5, 6), date(2027, 5, 5)),  # Ascension Thursday
        ("974", date(2027, 12, 20), date(2027, 12, 17)),  # abolition of slavery, La Réunion
        ("metropole", date(2027, 12, 20), date(2027, 12, 20)),  # a working day in metropole
        ("alsace-moselle", date(2026, 12, 28), date(2026, 12, 28)),
        ("alsace-moselle", date(2028, 12, 26), date(2028, 12, 22)),  # 26 Dec after Christmas Mon
        ("metropole", date(2028, 12, 26), date(2028, 12, 26)),
        ("972", date(2027, 5, 22), date(2027, 5, 21)),  # Martinique, 22 May (a Saturday)
        ("metropole", date(2028, 2, 29), date(2028, 2, 29)),  # 29 February, a Tuesday
    ],
)
def test_shift_to_previous_working_day(zone: str, day: date, expected: date) -> None:
    assert working_days(zone).shift(day, "previous") == expected


def test_shift_next_and_none() -> None:
    cal = working_days("metropole")
    assert cal.shift(date(2026, 12, 13), "next") == date(2026, 12, 14)
    assert cal.shift(date(2026, 12, 13), "none") == date(2026, 12, 13)
    assert cal.shift(date(2026, 12, 25), "next") == date(2026, 12, 28)


def test_holiday_names_are_french() -> None:
    assert working_days("974").holiday_name(date(2027, 12, 20)) is not None
    assert working_days("metropole").holiday_name(date(2027, 7, 14)) == "Fête nationale"
    assert working_days("metropole").holiday_name(date(2027, 7, 15)) is None


def test_unknown_zone() -> None:
    with pytest.raises(ValueError, match="holiday zone"):
        working_days("75")


days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


@given(day=days, zone=st.sampled_from(HOLIDAY_ZONES))
def test_shifted_day_is_a_working_day_never_later_at_most_a_few_days_earlier(
    day: date, zone: str
) -> None:
    cal = working_days(zone)
    shifted = cal.shift(day, "previous")
    assert cal.is_working_day(shifted)
    assert shifted <= day
    assert day - shifted <= timedelta(days=MAX_SHIFT_DAYS)
    if cal.is_working_day(day):
        assert shifted == day


@given(day=days, zone=st.sampled_from(HOLIDAY_ZONES))
def test_next_shift_is_a_working_day_never_earlier(day: date, zone: str) -> None:
    cal = working_days(zone)
    shifted = cal.shift(day, "next")
    assert cal.is_working_day(shifted)
    assert day <= shifted <= day + timedelta(days=MAX_SHIFT_DAYS)


@given(day=days, months=st.integers(min_value=-120, max_value=120))
def test_add_months_lands_in_the_right_month(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == day.day or moved.day < day.day
    assert (moved + timedelta(days=1)).month != moved.month or moved.day == day.day
