"""One manual entry of a juror's answer, for every exam day: which replies it records."""

from __future__ import annotations

from datetime import date, timedelta

from syncsvc.core.jury import manual_entries

WEEK = [date(2027, 3, 15) + timedelta(days=n) for n in range(5)]
THU = WEEK[3]
NOTHING: dict[date, str | None] = dict.fromkeys(WEEK)


def test_yes_except_thursday_is_the_session_then_the_day() -> None:
    wanted = {**NOTHING, THU: "DECLINED"}
    assert manual_entries("ACCEPTED", wanted, NOTHING, WEEK) == [
        (None, "ACCEPTED"),
        (THU, "DECLINED"),
    ]


def test_every_day_overrides_the_days_left_as_shown() -> None:
    shown = {**dict.fromkeys(WEEK, "ACCEPTED"), THU: "DECLINED"}
    assert manual_entries("ACCEPTED", shown, shown, WEEK) == [(None, "ACCEPTED")]


def test_only_the_days_changed_are_written() -> None:
    shown = dict.fromkeys(WEEK, "ACCEPTED")
    wanted = {**shown, THU: "TENTATIVE"}
    assert manual_entries(None, wanted, shown, WEEK) == [(THU, "TENTATIVE")]
    assert manual_entries(None, shown, shown, WEEK) == []


def test_a_day_left_without_answer_is_not_written() -> None:
    shown = {**NOTHING, THU: "DECLINED"}
    assert manual_entries(None, shown, shown, WEEK) == []
    assert manual_entries(None, NOTHING, NOTHING, WEEK) == []


def test_a_day_set_back_to_no_answer_takes_it_back() -> None:
    shown = {**NOTHING, THU: "DECLINED"}
    assert manual_entries(None, NOTHING, shown, WEEK) == [(None, "NEEDS-ACTION")]  # nothing left


def test_the_same_answer_on_every_day_is_one_answer() -> None:
    shown = {**dict.fromkeys(WEEK, "ACCEPTED"), THU: "DECLINED"}
    wanted = dict.fromkeys(WEEK, "ACCEPTED")
    assert manual_entries(None, wanted, shown, WEEK) == [(None, "ACCEPTED")]
    assert manual_entries(None, dict.fromkeys(WEEK, "DECLINED"), NOTHING, WEEK) == [
        (None, "DECLINED")
    ]


def test_some_days_answered_leave_the_others_open() -> None:
    wanted = {**NOTHING, WEEK[0]: "ACCEPTED", WEEK[2]: "DECLINED"}
    assert manual_entries(None, wanted, NOTHING, WEEK) == [
        (WEEK[0], "ACCEPTED"),
        (WEEK[2], "DECLINED"),
    ]
