"""The direct iCalendar writer (issue 16) writes exactly what icalendar writes.

The sync path renders items without the ``icalendar`` library (its import alone costs ~65 ms);
``component_for`` + ``stamped`` + ``to_ical`` stay as the reference, and every test here compares
the two byte for byte."""

from __future__ import annotations

import subprocess
import sys
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from benchmarks.generate import write_config
from syncsvc.core.entries import Entry, as_cancelled, centre_entry_for, entries_for
from syncsvc.core.model import Cancellation, Person
from syncsvc.core.planner import plan_sessions
from syncsvc.core.same_day import grouped_entry, same_day_groups
from syncsvc.formats import ical
from syncsvc.inputs.loader import load_config

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 23, 6, 0, 17, tzinfo=UTC)
NAIVE_FROM = datetime(1990, 1, 1, tzinfo=UTC).replace(tzinfo=None)
NAIVE_TO = datetime(2060, 1, 1, tzinfo=UTC).replace(tzinfo=None)
ITEMS: tuple[Literal["events", "tasks"], ...] = ("events", "tasks")


def reference_item(entry: Entry, generated_at: datetime = AT, sequence: int = 3) -> bytes:
    data: bytes = ical.stamped(ical.component_for(entry), generated_at, sequence).to_ical()
    return data


def outcome(render: Callable[..., bytes], *args: Any) -> bytes | str:
    """What ``render(*args)`` gives, or the name of the exception it raises."""
    try:
        return render(*args)
    except Exception as exc:
        return type(exc).__name__


def reference_calendar(
    items: list[bytes], name: str | None = None, refresh_minutes: int | None = None
) -> bytes:
    """What ``assemble`` wrote through icalendar before issue 16."""
    head = ical.new_calendar(name, refresh_minutes).to_ical().removesuffix(b"END:VCALENDAR\r\n")
    zones = sorted({m.decode() for body in items for m in ical._TZID.findall(body)})
    return b"".join([head, *(ical.vtimezone(z) for z in zones), *items, b"END:VCALENDAR\r\n"])


def planned_entries(directory: Path, now: date) -> Iterator[Entry]:
    """Every entry a sync could render from the configuration in ``directory``: events and
    tasks, organisers' and a juror's calendars, grouped days, cancelled sessions, done marks,
    the centres' yearly milestones."""
    config = load_config(directory)
    # marks: half the milestones of every session done (tasks then say COMPLETED)
    first = plan_sessions(config, {}, now)
    marks = {
        p.session.id: {m.id: m.due - timedelta(days=3) for m in p.milestones[::2]}
        for p in first.planned
    }
    planning = plan_sessions(config, marks, now)
    for p in planning.planned:
        s, c = p.session, p.centre
        juror = s.jury[0].email if s.jury else None
        gone = s.model_copy(
            update={"cancelled": Cancellation(on=now, reason="Salle; fermée, \\ »")}
        )
        for items in ITEMS:
            for m in p.milestones:
                for who in (None, juror):
                    for e in entries_for(s, c, m, items, "https://examens.example/", who):
                        yield e
                        yield as_cancelled(e, gone)
        for group in same_day_groups(p.milestones):
            if len(group) > 1:
                yield grouped_entry(s, c, group, None)
    for yearly in planning.centre_milestones:
        for items in ITEMS:
            yield centre_entry_for(yearly.centre, yearly.year, yearly.milestone, items, None)


@pytest.fixture(scope="module")
def all_entries(tmp_path_factory: pytest.TempPathFactory) -> list[Entry]:
    generated = tmp_path_factory.mktemp("generated")
    write_config(generated, 6, ["ca", "cb", "cc"])
    entries: list[Entry] = []
    for now in (date(2026, 11, 23), date(2027, 3, 1), date(2027, 9, 1)):
        entries += planned_entries(ROOT / "config", now)
        entries += planned_entries(generated, now)
    return entries


def test_every_planned_entry_is_written_as_icalendar_writes_it(all_entries: list[Entry]) -> None:
    seen = [ical.item_bytes(e, AT, 3) for e in all_entries]
    for entry, data in zip(all_entries, seen, strict=True):
        assert data == reference_item(entry), entry.uid
    # the cases the planned entries cover (so that this test means something)
    for needed in (
        b"BEGIN:VTODO",
        b"BEGIN:VEVENT",
        b"STATUS:CANCELLED",
        b"STATUS:COMPLETED",
        b"STATUS:NEEDS-ACTION",
        b"TRANSP:OPAQUE",
        b"LOCATION:",
        b"ORGANIZER;CN=",
        b"ATTENDEE;CN=",
        b"TRIGGER;RELATED=END:-P",
        b"TRIGGER:-P",
        b"DTSTART;TZID=Europe/Paris:",
        b"DTSTART;VALUE=DATE:",
        b"\r\n ",  # folded lines
    ):
        assert any(needed in data for data in seen), needed
    assert any(b"BEGIN:VALARM" not in data for data in seen)
    assert any(b"ORGANIZER" not in data for data in seen)


def test_resources_and_calendars_are_written_as_icalendar_writes_them(
    all_entries: list[Entry],
) -> None:
    for entry in all_entries[::7]:
        item = reference_item(entry, AT, 0)
        assert ical.resource_bytes(entry, AT, 0) == reference_calendar([item])
    items = [reference_item(e, AT, 0) for e in all_entries[:60]]
    name = "Examens Titre Professionnel"
    assert ical.calendar_of(all_entries[:60], AT) == reference_calendar(items, name)
    for refresh in (None, 0, 1, 59, 60, 61, 90, 1440, 1441, 2880, 10_000):
        for title in (None, "", "Flux — Lyon, Villeurbanne; « tâches » \\", "a\nb", "a\rb"):
            expected = outcome(reference_calendar, items[:3], title, refresh)
            assert outcome(ical.assemble, items[:3], title, refresh) == expected


# --- generated text --------------------------------------------------------------------------

TRICKY = ",;:\\\"'’^\n\r\t éèàçÉ€😀𝄞\x7f"
text = st.text(
    st.one_of(
        st.sampled_from(TRICKY),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from("abcXYZ 019-_.@/"),
    ),
    max_size=200,
)
# values around the 75-octet fold: ASCII padding then tricky characters
near_fold = st.builds(
    lambda n, tail: "x" * n + tail,
    st.integers(40, 160),
    st.text(st.sampled_from(TRICKY + "ab"), min_size=0, max_size=8),
)
any_text = st.one_of(text, near_fold)


@given(st.one_of(any_text, st.text(st.sampled_from("\\^aé😀"), max_size=400)))
def test_lines_are_folded_as_icalendar_folds_them(value: str) -> None:
    from icalendar.parser.string import _foldline

    line = "X:" + value.replace("\n", " ")
    assert ical._fold(line) == _foldline(line).encode()


def a_person(name: str, email: str) -> Person:
    return Person.model_construct(name=name, email=email, phone=None)


def base_entries(all_entries: list[Entry]) -> tuple[Entry, Entry]:
    exam = next(e for e in all_entries if e.organizer is not None and e.attendees and e.timed)
    task = next(e for e in all_entries if e.task and e.alarm_days is not None)
    return exam, task


@pytest.fixture(scope="module")
def bases(all_entries: list[Entry]) -> tuple[Entry, Entry]:
    return base_entries(all_entries)


@given(
    summary=any_text,
    description=any_text,
    location=st.none() | any_text,
    names=st.lists(st.tuples(any_text, any_text), min_size=1, max_size=3),
    session_id=any_text,
    milestone_id=any_text,
    uid=any_text,
    sequence=st.integers(0, 10**6),
    alarm=st.none() | st.integers(0, 400),
)
@example(
    summary="x" * 73 + "\\,",
    description="y" * 60 + "é" * 10 + "😀" * 3,
    location="a\r\nb\rc\nd\\Ne",
    names=[("Jean d'Arc", "j@x"), ('Marie "Mimi" ^Dupont’', "m@x")],
    session_id="s;1,2:3",
    milestone_id="m" * 74,
    uid="u" * 75,
    sequence=0,
    alarm=7,
)
def test_any_text_is_written_as_icalendar_writes_it(
    bases: tuple[Entry, Entry],
    summary: str,
    description: str,
    location: str | None,
    names: list[tuple[str, str]],
    session_id: str,
    milestone_id: str,
    uid: str,
    sequence: int,
    alarm: int | None,
) -> None:
    people = tuple(a_person(n, e) for n, e in names)
    for base in bases:
        entry = replace(
            base,
            uid=uid,
            summary=summary,
            description=description,
            location=location,
            organizer=people[0],
            attendees=people[1:],
            session_id=session_id,
            milestone_id=milestone_id,
            alarm_days=alarm,
        )
        expected = outcome(reference_item, entry, AT, sequence)
        assert outcome(ical.item_bytes, entry, AT, sequence) == expected


ZONES = sorted(zoneinfo.available_timezones())


@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(NAIVE_FROM, NAIVE_TO),
    stamp=st.datetimes(NAIVE_FROM, NAIVE_TO, timezones=st.timezones()),
    done=st.none() | st.dates(date(2020, 1, 1), date(2040, 1, 1)),
)
def test_any_zone_and_time_are_written_as_icalendar_writes_them(
    bases: tuple[Entry, Entry], zone: str, start: datetime, stamp: datetime, done: date | None
) -> None:
    exam, task = bases
    begin = start.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    entry = replace(exam, start=begin, end=begin + timedelta(hours=3, minutes=1, seconds=5))
    assert ical.item_bytes(entry, stamp, 1) == reference_item(entry, stamp, 1)
    todo = replace(task, start=start.date(), done_on=done, status="done" if done else task.status)
    assert ical.item_bytes(todo, stamp, 1) == reference_item(todo, stamp, 1)


def test_the_zones_written_in_utc_are_those_icalendar_counts_as_utc() -> None:
    from icalendar.timezone.tzid import is_utc

    counted = {z for z in ZONES if is_utc(zoneinfo.ZoneInfo(z))}
    assert counted <= ical._UTC_TZIDS
    assert {z for z in ical._UTC_TZIDS if z in ZONES} == counted


def test_a_time_zone_of_another_kind_is_left_to_icalendar(bases: tuple[Entry, Entry]) -> None:
    from datetime import timezone

    exam, _ = bases
    begin = datetime(2027, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=2), "Ailleurs"))
    entry = replace(exam, start=begin, end=begin + timedelta(hours=8))
    assert ical.item_bytes(entry, AT, 0) == reference_item(entry, AT, 0)


# --- no icalendar on the sync path -----------------------------------------------------------


def python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_sync_path_does_not_import_icalendar() -> None:
    code = """
import sys
from datetime import UTC, date, datetime
import syncsvc.formats.ical, syncsvc.calendars.bare
print(sorted(m for m in sys.modules if m.split(".")[0] == "icalendar"))
"""
    assert python(code) == "[]"


SAMPLE_EXAM = """
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo
from syncsvc.core.entries import Entry
begin = datetime(2027, 3, 1, 8, 30, tzinfo=ZoneInfo("Indian/Reunion"))
exam = Entry(
    uid="s.exam@syncsvc", session_id="s", milestone_id="exam_session", summary="Examen",
    description="Jour 1", kind="regulatory", status="pending", tracked=False, task=False,
    start=begin, end=begin + timedelta(hours=8),
)
"""


def test_seeded_vtimezones_spare_icalendar() -> None:
    """``known_vtimezones`` gives what ``remember_vtimezones`` takes back, in another process:
    rendering a resource there then needs no icalendar."""
    known = python(
        "from syncsvc.formats import ical\n"
        "ical.vtimezone('Europe/Paris'); ical.vtimezone('Indian/Reunion')\n"
        "print(repr(ical.known_vtimezones()))"
    )
    code = f"""{SAMPLE_EXAM}
import sys
from syncsvc.formats import ical
ical.remember_vtimezones({known})
data = ical.resource_bytes(exam, datetime(2026, 1, 1, tzinfo=UTC), 0)
assert b"BEGIN:VTIMEZONE\\r\\nTZID:Indian/Reunion" in data, data
print(sorted(ical.known_vtimezones()), "icalendar" in sys.modules)
"""
    assert python(code) == "['Europe/Paris', 'Indian/Reunion'] False"
    assert eval(known)["Europe/Paris"] == ical.vtimezone("Europe/Paris")
    # without the seed, the same rendering computes the zone with icalendar
    unseeded = f"""{SAMPLE_EXAM}
import sys
from syncsvc.formats import ical
ical.resource_bytes(exam, datetime(2026, 1, 1, tzinfo=UTC), 0)
print(sorted(ical.known_vtimezones()), "icalendar" in sys.modules)
"""
    assert python(unseeded) == "['Indian/Reunion'] True"
