"""Every rule of the default ruleset against dates worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncsvc.core.dates import HOLIDAY_ZONES, MAX_SHIFT_DAYS, working_days
from syncsvc.core.model import Milestone
from syncsvc.core.planner import anchor_date, plan_session
from syncsvc.core.rules import Ruleset
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

RULESET = load_ruleset()
NOW = date(2026, 11, 23)


def due_dates(milestones: list[Milestone]) -> dict[str, date]:
    return {m.id: m.due for m in milestones}


def test_sa_session_in_la_reunion_every_rule() -> None:
    """SA, 15-19 March 2027, La Réunion: the whole timeline, computed by hand."""
    plan = plan_session(session(), centre(holiday_zone="974"), RULESET, NOW)
    assert due_dates(plan) == {
        "agrement_check": date(2026, 7, 15),
        "ceres_session_create": date(2026, 12, 11),  # 13 Dec is a Sunday
        "dte_order": date(2026, 12, 11),
        "ud_session_declaration": date(2026, 12, 11),
        "jury_convocation": date(2027, 2, 12),
        "candidates_registration": date(2027, 2, 12),
        "candidate_convocation": date(2027, 2, 12),
        "dte_reception": date(2027, 2, 22),
        "dte_reception_check": date(2027, 2, 23),  # after the expected reception
        "final_preparation": date(2027, 3, 10),
        "exam_session": date(2027, 3, 15),
        "results_entry": date(2027, 3, 19),
        "pv_signature": date(2027, 3, 19),
        "ceres_session_close": date(2027, 3, 19),
        "pv_transmission": date(2027, 3, 24),
        "retake_window_end": date(2028, 3, 17),  # 19 Mar 2028 is a Sunday
        "archive_retention_end": date(2032, 3, 19),
    }
    # event anchors not given: no results_posting, no parchemins_report; the annual programming
    # is the centre's (tests/core/test_centre_milestones.py); not applicable here: the agrément
    # runs to 2035, the centre sends no candidate mails (tests/core/test_applicability.py)
    assert [m.due for m in plan] == sorted(m.due for m in plan)
    on = plan_session(
        session(), centre(holiday_zone="974", candidate_info_mail=True, agrements=[]), RULESET, NOW
    )
    assert due_dates(on)["agrement_request"] == date(2026, 9, 15)
    assert due_dates(on)["candidate_info_mail"] == date(2027, 3, 12)


def test_event_anchors_only_when_given() -> None:
    plan = plan_session(
        session(
            pv_validated_on=date(2027, 4, 2),
            parchemins_received_on=date(2027, 4, 30),
            training_end=date(2027, 2, 26),
        ),
        centre(),
        RULESET,
        NOW,
    )
    due = due_dates(plan)
    assert due["results_posting"] == date(2027, 4, 2)
    assert due["parchemins_report"] == date(2027, 6, 30)
    assert due["retake_window_end"] == date(2028, 2, 25)  # 26 Feb 2028 is a Saturday


def test_easter_monday_and_good_friday() -> None:
    """PV due 29 March 2027 (Easter Monday): Friday 26 in metropole, Thursday 25 in Alsace."""
    s = session(start=date(2027, 3, 22), end=date(2027, 3, 24))
    pv = {
        z: due_dates(plan_session(s, centre(holiday_zone=z), RULESET, NOW))["pv_transmission"]
        for z in ("metropole", "alsace-moselle")
    }
    assert pv == {"metropole": date(2027, 3, 26), "alsace-moselle": date(2027, 3, 25)}


def test_8_may_on_a_saturday() -> None:
    s = session(start=date(2027, 5, 3), end=date(2027, 5, 3))
    assert due_dates(plan_session(s, centre(), RULESET, NOW))["pv_transmission"] == date(2027, 5, 7)


def test_20_december_in_la_reunion_but_not_in_metropole() -> None:
    s = session(start=date(2028, 3, 21), end=date(2028, 3, 24))  # 21 Mar 2028 - 92 d = 20 Dec
    reunion = due_dates(plan_session(s, centre(holiday_zone="974"), RULESET, NOW))
    metropole = due_dates(plan_session(s, centre(), RULESET, NOW))
    assert reunion["dte_order"] == date(2027, 12, 17)
    assert metropole["dte_order"] == date(2027, 12, 20)


def test_month_end_clamping_31_august_minus_6_months() -> None:
    no_agrement = centre(agrements=[])  # agrement_request applies only then
    plan = plan_session(
        session(start=date(2027, 8, 31), end=date(2027, 9, 3)), no_agrement, RULESET, NOW
    )
    request = next(m for m in plan if m.id == "agrement_request")
    assert request.unshifted == date(2027, 2, 28)  # clamped
    assert request.due == date(2027, 2, 26)  # 28 Feb 2027 is a Sunday


def test_29_february() -> None:
    s = session(start=date(2028, 2, 29), end=date(2028, 2, 29))
    due = due_dates(plan_session(s, centre(agrements=[]), RULESET, NOW))
    assert due["agrement_request"] == date(2027, 8, 27)  # 29 Aug 2027 Sunday -> Fri 27
    assert due["archive_retention_end"] == date(2033, 2, 28)  # clamped, a Monday
    assert due["retake_window_end"] == date(2029, 2, 28)


def test_archive_retention_moves_later_never_earlier() -> None:
    s = session(start=date(2027, 3, 8), end=date(2027, 3, 12))  # + 5 years = Sun 12 Mar 2032?
    archive = next(
        m for m in plan_session(s, centre(), RULESET, NOW) if m.id == "archive_retention_end"
    )
    assert archive.unshifted == date(2032, 3, 12)
    assert archive.due >= archive.unshifted


@pytest.mark.parametrize(
    ("transport", "end", "expected"),
    [
        (True, date(2027, 6, 9), date(2027, 6, 11)),  # +2 days
        (False, date(2027, 6, 9), date(2027, 6, 14)),  # +5 days
        (True, date(2027, 2, 26), date(2027, 2, 26)),  # Fri + 2 = Sunday -> back to Friday
    ],
)
def test_transport_title_pv_at_plus_2_days(transport: bool, end: date, expected: date) -> None:
    s = session(
        title={
            "code": "TP-01287",
            "acronym": "CTRMP",
            "label": "Conducteur",
            "transport": transport,
        },
        start=end - timedelta(days=2),
        end=end,
    )
    assert due_dates(plan_session(s, centre(), RULESET, NOW))["pv_transmission"] == expected


def test_shift_can_be_switched_off_per_centre() -> None:
    due = due_dates(plan_session(session(), centre(working_day_shift=False), RULESET, NOW))
    assert due["dte_order"] == date(2026, 12, 13)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 11, 23), "pending"),
        (date(2026, 11, 27), "due_soon"),  # 14 days before 11 Dec: first reminder
        (date(2026, 12, 11), "due_soon"),
        (date(2026, 12, 12), "overdue"),
    ],
)
def test_status_follows_today(today: date, status: str) -> None:
    plan = plan_session(session(), centre(), RULESET, today)
    assert next(m for m in plan if m.id == "dte_order").status == status


def test_done_marks_from_file_and_store() -> None:
    s = session(done={"dte_order": date(2026, 12, 1)}, declared_on=None)
    plan = plan_session(
        s, centre(), RULESET, date(2027, 1, 5), done={"candidate_convocation": date(2027, 1, 4)}
    )
    by_id = {m.id: m for m in plan}
    assert by_id["dte_order"].status == "done"
    assert by_id["dte_order"].done_on == date(2026, 12, 1)
    assert by_id["candidate_convocation"].status == "done"
    assert by_id["ceres_session_create"].status == "overdue"


def test_exam_session_is_timed_in_the_centre_zone() -> None:
    plan = plan_session(session(), centre(timezone="Indian/Reunion"), RULESET, NOW)
    exam = next(m for m in plan if m.id == "exam_session")
    tz = ZoneInfo("Indian/Reunion")
    assert exam.starts_at == datetime(2027, 3, 15, 8, 30, tzinfo=tz)
    assert exam.ends_at == datetime(2027, 3, 19, 18, 0, tzinfo=tz)
    assert exam.status == "pending"
    after = plan_session(session(), centre(), RULESET, date(2027, 3, 20))
    assert next(m for m in after if m.id == "exam_session").status == "done"
    during = plan_session(session(), centre(), RULESET, date(2027, 3, 17))
    assert next(m for m in during if m.id == "exam_session").status == "due_soon"


def test_exam_session_without_start_time_is_all_day_over_the_session() -> None:
    plan = plan_session(session(first_day_start=None), centre(), RULESET, NOW)
    exam = next(m for m in plan if m.id == "exam_session")
    assert exam.starts_at is None
    assert (exam.due, exam.ends_on) == (date(2027, 3, 15), date(2027, 3, 19))


def test_now_as_aware_datetime_uses_the_centre_local_day() -> None:
    # 21:30 UTC on 11 Dec is already 12 Dec in La Réunion (UTC+4): the DTE order is overdue there.
    moment = datetime(2026, 12, 11, 21, 30, tzinfo=ZoneInfo("UTC"))
    reunion = plan_session(session(), centre(timezone="Indian/Reunion"), RULESET, moment)
    paris = plan_session(session(), centre(), RULESET, moment)
    assert next(m for m in reunion if m.id == "dte_order").status == "overdue"
    assert next(m for m in paris if m.id == "dte_order").status == "due_soon"


def test_centre_customisation_is_applied() -> None:
    from syncsvc.core.rules import CentreRules, customise

    custom, problems = customise(
        RULESET,
        CentreRules.model_validate(
            {"overrides": {"dte_order": {"offset": "-100d"}}, "disable": ["dte_reception_check"]}
        ),
    )
    assert problems == []
    due = due_dates(plan_session(session(), centre(), custom, NOW))
    assert due["dte_order"] == date(2026, 12, 4)  # 15 Mar 2027 - 100 d = Fri 4 Dec
    assert "dte_reception_check" not in due


# --- properties -------------------------------------------------------------------------------

BEFORE_START = [r.id for r in RULESET.rules if r.anchor == "start" and r.offset.amount < 0]


@st.composite
def sessions(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
    end = start + timedelta(days=draw(st.integers(min_value=0, max_value=12)))
    later = st.none() | st.dates(min_value=end, max_value=end + timedelta(days=400))
    return {
        "start": start,
        "end": end,
        "title": {
            "code": "TP-00374",
            "acronym": "SA",
            "label": "SA",
            "transport": draw(st.booleans()),
        },
        "pv_validated_on": draw(later),
        "parchemins_received_on": draw(later),
        "training_end": draw(
            st.none() | st.dates(min_value=start - timedelta(days=30), max_value=end)
        ),
    }


@given(changes=sessions(), zone=st.sampled_from(HOLIDAY_ZONES))
def test_shifted_days_are_working_days_on_the_safe_side_of_their_event(
    changes: dict[str, Any], zone: str
) -> None:
    """Shifted days are working days; a milestone counted before the start is before it, never
    later than its computed day; an after-event one is never before its event."""
    s = session(**changes)
    plan = plan_session(s, centre(holiday_zone=zone, candidate_info_mail=True), RULESET, NOW)
    cal = working_days(zone)
    for milestone in plan:
        rule = milestone.rule
        if milestone.id in BEFORE_START:
            assert milestone.due < s.start, milestone.id
        if rule.shift != "none":
            assert cal.is_working_day(milestone.due), milestone.id
        if rule.shift == "previous" and not rule.after_event:
            assert milestone.due <= milestone.unshifted
        if rule.shift == "next":
            assert milestone.due >= milestone.unshifted
        if rule.after_event:
            event = anchor_date(rule, s)
            assert event is not None
            assert milestone.due >= event, milestone.id
            assert milestone.due - milestone.unshifted <= timedelta(days=MAX_SHIFT_DAYS)


def test_ruleset_fixture_is_the_default() -> None:
    assert isinstance(RULESET, Ruleset)
    assert RULESET.version == "tp-2025"


def test_declared_on_marks_the_ceres_creation_done() -> None:
    plan = plan_session(session(declared_on=date(2026, 11, 20)), centre(), RULESET, NOW)
    ceres = next(m for m in plan if m.id == "ceres_session_create")
    assert (ceres.status, ceres.done_on) == ("done", date(2026, 11, 20))
