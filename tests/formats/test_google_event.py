"""Entries spelled as Google Calendar v3 event resources (pure): ids, dates, colours, alarms."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Literal

from syncsvc.app.sync import Renderer
from syncsvc.core.entries import Entry
from syncsvc.core.planner import plan_all
from syncsvc.formats.fingerprint import content_hash
from syncsvc.formats.google_event import color_for, event_id, event_resource, reminders_for
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import TargetSettings

ROOT = Path(__file__).resolve().parents[2]
NOW = date(2026, 11, 23)
DTE = "sa-2027-03-st-andre.dte_order@syncsvc"
EXAM = "sa-2027-03-st-andre.exam_session@syncsvc"
AUDIENCE = "coordinators:afpar-st-andre"


def entries(items: Literal["events", "tasks"] = "events") -> dict[str, Entry]:
    config = load_config(ROOT / "config")
    settings = TargetSettings(
        name="g",
        kind="google",
        calendar="c@group.calendar.google.com",
        audience=AUDIENCE,
        items=items,
        token_file=Path("unused.json"),
    )
    desired = Renderer().desired(settings, plan_all(config, {}, NOW), None)
    return {uid: d.entry for uid, d in desired.items()}


def test_event_ids_follow_google_rules() -> None:
    ids = {event_id(f"session-{n}.milestone@syncsvc") for n in range(500)}
    assert len(ids) == 500
    assert all(len(i) == 52 and set(i) <= set("0123456789abcdefghijklmnopqrstuv") for i in ids)
    assert event_id(DTE) == event_id(DTE)


def test_event_resource_of_an_all_day_deadline() -> None:
    entry = entries()[DTE]
    resource = event_resource(entry, content_hash(entry), 2)
    assert resource["id"] == event_id(DTE)
    assert resource["iCalUID"] == DTE
    assert resource["start"] == {"date": "2026-12-11"}
    assert resource["end"] == {"date": "2026-12-12"}
    assert resource["sequence"] == 2
    assert resource["status"] == "confirmed"
    assert resource["transparency"] == "transparent"
    assert resource["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": 14 * 24 * 60}],
    }
    assert resource["extendedProperties"]["private"] == {
        "syncsvc": "1",
        "syncsvcSession": "sa-2027-03-st-andre",
        "syncsvcHash": content_hash(entry),
    }
    assert resource["colorId"] == "9"  # regulatory, pending
    assert resource["description"].startswith("TP-00374 Secrétaire assistant")


def test_event_resource_of_the_exam_session_and_its_attendees_option() -> None:
    entry = entries()[EXAM]
    resource = event_resource(entry, content_hash(entry), 0)
    assert resource["start"] == {
        "dateTime": "2027-03-15T08:30:00+04:00",
        "timeZone": "Indian/Reunion",
    }
    assert resource["transparency"] == "opaque"
    assert resource["location"] == "AFPAR Saint-André, salle B12"
    assert resource["colorId"] == "10"
    assert "attendees" not in resource
    with_jury = event_resource(entry, content_hash(entry), 0, with_attendees=True)
    assert [a["email"] for a in with_jury["attendees"]] == [
        "c.maillot@jury.example",
        "p.fontaine@jury.example",
    ]


def test_a_task_is_an_all_day_event_on_its_deadline() -> None:
    entry = entries("tasks")[DTE]
    resource = event_resource(entry, content_hash(entry), 0)
    assert resource["start"] == {"date": "2026-12-11"}
    assert resource["end"] == {"date": "2026-12-12"}
    assert resource["transparency"] == "transparent"


def test_reminders_are_clamped_to_google_limit() -> None:
    entry = entries()[DTE]
    assert reminders_for(replace(entry, alarm_days=40)) == [{"method": "popup", "minutes": 40320}]
    assert reminders_for(replace(entry, alarm_days=1)) == [{"method": "popup", "minutes": 1440}]
    assert reminders_for(replace(entry, alarm_days=None)) == []


def test_colours_by_status_and_kind_read_codes_not_labels() -> None:
    entry = entries()[DTE]
    advice = replace(entry, kind="advice")
    assert color_for(entry) == "9"
    assert color_for(advice) == "2"
    assert color_for(replace(advice, status="due_soon")) == "6"
    assert color_for(replace(entry, status="overdue")) == "11"
    assert color_for(replace(entry, status="done")) == "8"
    assert color_for(entries()[EXAM]) == "10"
    assert color_for(replace(entries()[EXAM], status="done")) == "8"
