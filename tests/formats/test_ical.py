"""Milestones rendered as iCalendar: stable, deterministic, private."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icalendar import Calendar

from syncsvc.core.entries import entry_for, uid_for
from syncsvc.core.planner import plan_session
from syncsvc.formats.ical import calendar_of, resource_bytes
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.harness.factories import centre, session

ROOT = Path(__file__).resolve().parents[2]
RULESET = load_ruleset()
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def render(now: date = date(2026, 11, 23), generated_at: datetime = AT) -> bytes:
    s = session(
        candidates={
            "training": 1,
            "list": [{"name": "Karim Benali", "email": "karim@mail.example"}],
        }
    )
    c = centre(timezone="Indian/Reunion", holiday_zone="974")
    entries = [entry_for(s, c, m) for m in plan_session(s, c, RULESET, now)]
    return calendar_of(entries, generated_at)


def test_rendering_is_deterministic_and_uids_are_derived() -> None:
    first, second = render(), render()
    assert first == second
    cal = Calendar.from_ical(first)
    uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
    # 17: agrement_request and candidate_info_mail do not apply (agrément to 2035, no candidate
    # mails), the annual programming is the centre's, not the session's (issue 11)
    assert len(uids) == len(set(uids)) == 17
    assert uid_for("sa-test", "dte_order") in uids
    assert b"DTSTAMP:20261123T060000Z" in first


def test_all_day_milestones_and_timed_exam_session_with_its_timezone() -> None:
    cal = Calendar.from_ical(render())
    events = {str(e["X-SYNCSVC-MILESTONE"]): e for e in cal.walk("VEVENT")}
    dte = events["dte_order"]
    assert dte.decoded("DTSTART") == date(2026, 12, 11)
    assert dte.decoded("DTEND") == date(2026, 12, 12)  # exclusive
    assert str(dte["SUMMARY"]) == "[SA 15/03] Commander le pli d'examen (DTE)"
    exam = events["exam_session"]
    assert exam["DTSTART"].params["TZID"] == "Indian/Reunion"
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Indian/Reunion"]
    attendees = exam.get("ATTENDEE")
    assert [a.params["SCHEDULE-AGENT"] for a in attendees] == ["CLIENT", "CLIENT"]
    assert str(exam["ORGANIZER"]) == "mailto:jean@centre.example"


def test_status_is_visible_in_the_title() -> None:
    cal = Calendar.from_ical(render(now=date(2026, 12, 14)))
    summaries = {str(e["X-SYNCSVC-MILESTONE"]): str(e["SUMMARY"]) for e in cal.walk("VEVENT")}
    assert summaries["dte_order"].startswith("⚠ [SA 15/03]")


def test_no_candidate_data_in_any_calendar() -> None:
    text = render().decode()
    assert "Benali" not in text
    assert "karim@" not in text


def test_a_task_is_due_on_its_deadline_day() -> None:
    """Issue 11, « tasks due a day late »: with ``items = "tasks"``, « Adresser l'original du PV
    à l'UD » of the CTRMP session, due Friday 26/02/2027, showed as due Saturday 27/02 (the VTODO
    carried the exclusive end of an all-day event as its DUE)."""
    config = load_config(ROOT / "config")
    s = config.sessions["ctrmp-2027-02-venissieux"]
    c = config.centres[s.centre]
    planned = plan_session(s, c, config.rulesets[c.id], date(2026, 11, 23))
    pv = next(m for m in planned if m.id == "pv_transmission")
    assert pv.due == date(2027, 2, 26)
    data = resource_bytes(entry_for(s, c, pv, "tasks"), AT, 0)
    todo = Calendar.from_ical(data).walk("VTODO")[0]
    assert b"\r\nDUE;VALUE=DATE:20270226\r\n" in data
    assert todo.decoded("DUE") == date(2027, 2, 26)
    # RFC 5545 wants DUE later than DTSTART: a one-day task has no DTSTART, and its alarm
    # counts from the due day (RELATED=END)
    assert "DTSTART" not in todo
    alarm = todo.walk("VALARM")[0]
    assert alarm["TRIGGER"].params["RELATED"] == "END"
    assert alarm.decoded("TRIGGER") == timedelta(days=-14)
