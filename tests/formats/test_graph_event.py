"""Entries spelled as Microsoft Graph event JSON (pure): dates, ownership, categories, alarms."""

from __future__ import annotations

from dataclasses import replace

from syncsvc.formats.graph_event import (
    UID_PROPERTY,
    categories_for,
    create_body,
    event_body,
    transaction_id,
    uid_of,
)
from tests.formats.test_google_event import DTE, EXAM, entries


def test_an_all_day_milestone_runs_midnight_to_midnight_free() -> None:
    body = event_body(entries()[DTE])
    assert body["isAllDay"] is True
    assert body["start"] == {"dateTime": "2026-12-11T00:00:00", "timeZone": "UTC"}
    assert body["end"] == {"dateTime": "2026-12-12T00:00:00", "timeZone": "UTC"}  # exclusive
    assert body["showAs"] == "free"
    assert body["singleValueExtendedProperties"] == [{"id": UID_PROPERTY, "value": DTE}]
    assert "attendees" not in body
    assert "transactionId" not in body  # never sent with an update


def test_the_exam_is_timed_in_the_centres_zone_and_busy() -> None:
    body = event_body(entries()[EXAM])
    assert body["isAllDay"] is False
    assert body["start"] == {"dateTime": "2027-03-15T08:30:00", "timeZone": "Indian/Reunion"}
    assert body["showAs"] == "busy"
    assert body["location"]["displayName"]
    assert "syncsvc:exam_session" in body["categories"]


def test_categories_are_codes_never_french_labels() -> None:
    entry = entries()[DTE]
    assert categories_for(entry) == ["syncsvc:regulatory", f"syncsvc:{entry.status}"]
    done = replace(entry, status="done", summary="✓ " + entry.summary, alarm_days=None)
    body = event_body(done)
    assert "syncsvc:done" in body["categories"]
    assert body["subject"].startswith("✓ ")
    assert body["isReminderOn"] is False
    assert "reminderMinutesBeforeStart" not in body


def test_one_reminder_from_the_alarm() -> None:
    entry = replace(entries()[DTE], alarm_days=7)
    body = event_body(entry)
    assert body["isReminderOn"] is True
    assert body["reminderMinutesBeforeStart"] == 7 * 24 * 60


def test_a_task_is_an_all_day_event_on_its_deadline() -> None:
    task = entries("tasks")[DTE]
    body = event_body(task)
    assert body["isAllDay"] is True
    assert body["end"]["dateTime"][:10] > body["start"]["dateTime"][:10]


def test_transaction_ids_name_one_write() -> None:
    entry = entries()[DTE]
    first = create_body(entry, 0, "h1")["transactionId"]
    assert first == transaction_id(DTE, 0, "h1")
    assert transaction_id(DTE, 1, "h1") != first  # a restore after a deletion is a new create
    assert transaction_id(DTE, 0, "h2") != first
    assert len(first) <= 50


def test_uid_of_reads_the_expanded_property() -> None:
    assert uid_of({"singleValueExtendedProperties": [{"id": UID_PROPERTY, "value": DTE}]}) == DTE
    assert (
        uid_of({"singleValueExtendedProperties": [{"id": "String {x} Name y", "value": "z"}]})
        is None
    )
    assert uid_of({}) is None
