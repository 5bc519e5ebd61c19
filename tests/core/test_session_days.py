"""Issue 11, « Session days »: a session lists its days (``days: [{date, start, end}]``) or is
held on every working day of its centre's zone from start to end; the exam is one calendar item
per day with that day's hours, never one block from Monday 08:30 to Friday 18:00 through the
nights. The first day keeps the exam's UID (items pushed before are updated, not doubled); a day
that goes away is deleted from the calendars.

And « What each audience receives » for jurors: in a juror's calendar an exam day says only
what a juror needs (days and hours, place, the session manager's contact, what to bring and
read), never the organisers' checklist or another person's address."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syncsvc.app.desired import Renderer
from syncsvc.core.checks import check_session
from syncsvc.core.entries import Entry, entries_for, entry_for
from syncsvc.core.exam_days import exam_days
from syncsvc.core.invitations import (
    Briefing,
    InvitationChange,
    InvitationState,
    changes,
    meaning,
)
from syncsvc.core.planner import Planned, plan_session
from syncsvc.core.reconcile import Recorded, diff
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.inputs.settings import TargetSettings
from tests.harness.factories import SESSION, centre, session, write_config

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RULESET = load_ruleset()
COORDINATION = TargetSettings(name="c", kind="feed", audience="coordinators:centre-test")
JUROR = "c@jury.example"
OTHER_JUROR = "p@jury.example"
JURY_FEED = TargetSettings(name="j", kind="feed", audience=f"jury:{JUROR}")
DAYS = [
    {"date": "2027-03-17", "start": "13:30", "end": "17:00"},
    {"date": "2027-03-15", "start": "08:30", "end": "17:30"},
    {"date": "2027-03-16", "start": "09:00", "end": "12:00"},
]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PARIS)


def problems(tmp_path: Path, **changes: Any) -> list[str]:
    config = load_config(write_config(tmp_path, [{**SESSION, **changes}]))
    return [str(p) for p in config.problems]


# --- the model -------------------------------------------------------------------------------


def test_days_are_optional_and_read_in_date_order() -> None:
    assert session().days == ()
    listed = session(days=DAYS)
    assert [(d.day, d.start, d.end) for d in listed.days] == [
        (date(2027, 3, 15), time(8, 30), time(17, 30)),
        (date(2027, 3, 16), time(9, 0), time(12, 0)),
        (date(2027, 3, 17), time(13, 30), time(17, 0)),
    ]


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        pytest.param(
            [{"date": "2027-03-22", "start": "08:30", "end": "17:00"}],
            "sa-test.yaml: ligne 28, days: jour 1 (2027-03-22) hors de la session (attendu : une "
            "date du 2027-03-15 au 2027-03-19, entre start et end)",
            id="outside-the-session",
        ),
        pytest.param(
            [
                {"date": "2027-03-15", "start": "08:30", "end": "17:00"},
                {"date": "2027-03-15", "start": "13:00", "end": "17:00"},
            ],
            "sa-test.yaml: ligne 28, days: jour 2 (2027-03-15) déjà listé (attendu : chaque date "
            "une seule fois dans days)",
            id="the-same-date-twice",
        ),
        pytest.param(
            [{"date": "2027-03-15", "start": "17:30", "end": "08:00"}],
            "sa-test.yaml: ligne 31, days[1].end: l'heure de fin (08:00) ne suit pas l'heure de "
            "début (17:30) (attendu : une fin après le début, le même jour)",
            id="end-before-start",
        ),
        pytest.param(
            [{"date": "2027-03-15", "start": "08:30"}],
            "sa-test.yaml: ligne 29, days[1].end: champ obligatoire manquant (attendu : une valeur "
            "pour end)",
            id="no-end",
        ),
        pytest.param(
            [{"date": "2027-03-15", "start": "08:30", "end": "12:00", "salle": "B"}],
            "sa-test.yaml: ligne 32, days[1].salle: clé inconnue (attendu : une des clés date, "
            "start, end)",
            id="unknown-key",
        ),
        pytest.param(
            [{"date": "2027-03-15", "start": 510, "end": "12:00"}],
            "sa-test.yaml: ligne 30, days[1].start: heure lue comme le nombre « 510 » (attendu : "
            'une heure entre guillemets, ex. "08:30")',
            id="unquoted-time",
        ),
    ],
)
def test_badly_written_days_are_refused_in_french(
    tmp_path: Path, days: list[dict[str, Any]], expected: str
) -> None:
    found = problems(tmp_path, days=days)
    assert len(found) == 1, found
    assert found[0].endswith(expected), found


def test_a_last_day_end_before_the_first_day_start_is_refused(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, first_day_start="19:00")
    assert found.endswith(
        "sa-test.yaml: last_day_end (18:00) ne suit pas first_day_start (19:00) : chaque jour "
        "d'examen va de first_day_start à last_day_end (attendu : une fin après le début, ou "
        "les jours et leurs heures listés sous days)"
    )
    assert problems(tmp_path / "listed", first_day_start="19:00", days=DAYS[:1]) == []


# --- the days ----------------------------------------------------------------------------------


def test_by_default_every_working_day_with_the_first_and_last_hours() -> None:
    # Ascension is Thursday 6 May 2027: no exam that day in metropolitan France.
    days = exam_days(session(start=date(2027, 5, 3), end=date(2027, 5, 7)), centre())
    assert [(d.starts_at, d.ends_at) for d in days] == [
        (at(date(2027, 5, day), 8, 30), at(date(2027, 5, day), 18)) for day in (3, 4, 5, 7)
    ]


def test_the_working_days_are_those_of_the_centre_s_zone() -> None:
    # Good Friday (26 March 2027) is a public holiday in Alsace-Moselle only; the weekend never
    # is an exam day; the first and last days are, whatever they are.
    week = session(start=date(2027, 3, 22), end=date(2027, 3, 29))
    metropole = [d.day.day for d in exam_days(week, centre())]
    alsace = [d.day.day for d in exam_days(week, centre(holiday_zone="alsace-moselle"))]
    assert metropole == [22, 23, 24, 25, 26, 29]
    assert alsace == [22, 23, 24, 25, 29]
    saturday = session(start=date(2027, 3, 15), end=date(2027, 3, 20))
    assert [d.day.day for d in exam_days(saturday, centre())] == [15, 16, 17, 18, 19, 20]


def test_listed_days_keep_their_own_hours() -> None:
    days = exam_days(session(days=DAYS), centre())
    assert [(d.starts_at, d.ends_at) for d in days] == [
        (at(date(2027, 3, 15), 8, 30), at(date(2027, 3, 15), 17, 30)),
        (at(date(2027, 3, 16), 9), at(date(2027, 3, 16), 12)),
        (at(date(2027, 3, 17), 13, 30), at(date(2027, 3, 17), 17)),
    ]


def test_without_a_start_time_each_day_is_a_whole_day() -> None:
    days = exam_days(session(first_day_start=None), centre())
    assert [(d.day, d.starts_at) for d in days] == [(date(2027, 3, d), None) for d in range(15, 20)]


# --- the calendar items ------------------------------------------------------------------------


def exam_entries(target: TargetSettings = COORDINATION, **changes: Any) -> list[Entry]:
    built, place = session(**changes), centre(address="3 rue des Examens, 97440 Saint-André")
    planned = [Planned(built, place, plan_session(built, place, RULESET, NOW))]
    desired = Renderer().desired(target, planned)
    return sorted(
        (d.entry for d in desired.values() if d.milestone_id == "exam_session"),
        key=lambda e: e.start,
    )


def test_the_exam_is_one_timed_event_per_day() -> None:
    entries = exam_entries()
    assert [(e.uid, e.start, e.end) for e in entries] == [
        ("sa-test.exam_session@syncsvc", at(date(2027, 3, 15), 8, 30), at(date(2027, 3, 15), 18)),
        *(
            (
                f"sa-test.exam_session.day{day - 14}@syncsvc",
                at(date(2027, 3, day), 8, 30),
                at(date(2027, 3, day), 18),
            )
            for day in (16, 17, 18, 19)
        ),
    ]
    assert [e.summary for e in entries][:2] == [
        "Session d'examen (jour 1/5) — SA Centre de test",
        "Session d'examen (jour 2/5) — SA Centre de test",
    ]
    assert [e.alarm_days for e in entries] == [7, None, None, None, None]
    first = entries[0].description
    assert first.startswith(
        "TP-00374 Secrétaire assistant — session du 15/03/2027 au 19/03/2027\n"
        "Jour 1/5 : lun. 15/03/2027, 08:30 – 18:00\n\nJours d'examen :\n"
        "- lun. 15/03/2027, 08:30 – 18:00\n"
    )
    assert "- ven. 19/03/2027, 08:30 – 18:00\n\nLa session d'examen elle-même" in first
    assert "À faire :" in first  # the organisers keep their checklist
    assert all(
        e.location == "Centre de test, 3 rue des Examens, 97440 Saint-André" for e in entries
    )


def test_listed_days_are_the_events() -> None:
    entries = exam_entries(days=DAYS)
    assert [(e.uid, e.start, e.end) for e in entries] == [
        (
            "sa-test.exam_session@syncsvc",
            at(date(2027, 3, 15), 8, 30),
            at(date(2027, 3, 15), 17, 30),
        ),
        (
            "sa-test.exam_session.day2@syncsvc",
            at(date(2027, 3, 16), 9),
            at(date(2027, 3, 16), 12),
        ),
        (
            "sa-test.exam_session.day3@syncsvc",
            at(date(2027, 3, 17), 13, 30),
            at(date(2027, 3, 17), 17),
        ),
    ]


def test_a_one_day_session_keeps_its_title_and_uid() -> None:
    (entry,) = exam_entries(start=date(2027, 3, 15), end=date(2027, 3, 15), last_day_end="12:30")
    assert entry.uid == "sa-test.exam_session@syncsvc"
    assert entry.summary == "Session d'examen — SA Centre de test"
    assert (entry.start, entry.end) == (at(date(2027, 3, 15), 8, 30), at(date(2027, 3, 15), 12, 30))


def test_a_day_taken_away_is_deleted_and_a_changed_day_updated() -> None:
    before = {e.uid: e for e in exam_entries(days=DAYS)}
    renderer = Renderer()
    built, place = session(days=DAYS), centre(address="3 rue des Examens, 97440 Saint-André")
    desired = renderer.desired(
        COORDINATION, [Planned(built, place, plan_session(built, place, RULESET, NOW))]
    )
    recorded = {
        uid: Recorded(uid, d.session_id, f"/{uid}", "e", d.content_hash, 0)
        for uid, d in desired.items()
    }
    after = session(days=[DAYS[1], {**DAYS[2], "end": "12:30"}])
    now_desired = renderer.desired(
        COORDINATION, [Planned(after, place, plan_session(after, place, RULESET, NOW))]
    )
    plan = diff("c", now_desired, recorded)
    changed = {(op.action, op.uid) for op in plan.operations}
    assert ("delete", "sa-test.exam_session.day3@syncsvc") in changed
    assert ("update", "sa-test.exam_session.day2@syncsvc") in changed
    assert ("update", "sa-test.exam_session@syncsvc") in changed  # its list of days changed
    assert set(before) == {op.uid for op in plan.operations if "exam_session" in op.uid}


def test_a_session_moved_a_week_updates_its_days_in_place() -> None:
    renderer, place = Renderer(), centre()
    built = session()
    desired = renderer.desired(
        COORDINATION, [Planned(built, place, plan_session(built, place, RULESET, NOW))]
    )
    recorded = {
        uid: Recorded(uid, d.session_id, f"/{uid}", "e", d.content_hash, 0)
        for uid, d in desired.items()
    }
    moved = session(start=date(2027, 3, 22), end=date(2027, 3, 26))
    plan = diff(
        "c",
        renderer.desired(
            COORDINATION, [Planned(moved, place, plan_session(moved, place, RULESET, NOW))]
        ),
        recorded,
    )
    exam = {(op.action, op.uid) for op in plan.operations if "exam_session" in op.uid}
    assert exam == {("update", "sa-test.exam_session@syncsvc")} | {
        ("update", f"sa-test.exam_session.day{n}@syncsvc") for n in range(2, 6)
    }


# --- a juror's calendar ------------------------------------------------------------------------


MANAGER = {"name": "Jean Hoarau", "email": "jean@centre.example", "phone": "0692 00 00 00"}


def test_a_juror_s_exam_days_say_only_what_a_juror_needs() -> None:
    entries = exam_entries(JURY_FEED, session_manager=MANAGER, days=DAYS)
    assert len(entries) == 3
    for index, entry in enumerate(entries):
        text = entry.description
        assert text.startswith("Jury — TP-00374 Secrétaire assistant (TITRE)\n")
        assert f"Jour {index + 1}/3 : " in text
        assert (
            "Jours d'examen :\n- lun. 15/03/2027, 08:30 – 17:30\n- mar. 16/03/2027, 09:00 – 12:00"
            "\n- mer. 17/03/2027, 13:30 – 17:00"
        ) in text
        assert "Lieu : Centre de test, 3 rue des Examens, 97440 Saint-André" in text
        assert (
            "Responsable de session : Jean Hoarau <jean@centre.example>, tél. 0692 00 00 00" in text
        )
        assert "pièce d'identité" in text
        assert "À faire" not in text
        assert "Source" not in text
        assert "Tableau de bord" not in text
        assert OTHER_JUROR not in text
        assert "nathalie@centre.example" not in text  # the coordinator
        assert [a.email for a in entry.attendees] == [JUROR]
    assert len(entries[0].description) < 800


def test_entry_for_a_juror_never_carries_the_checklist() -> None:
    built, place = session(), centre()
    exam = next(m for m in plan_session(built, place, RULESET, NOW) if m.id == "exam_session")
    organiser = entry_for(built, place, exam, dashboard_url="https://x.example")
    juror = entry_for(built, place, exam, dashboard_url="https://x.example", juror=JUROR)
    assert "À faire" in organiser.description
    assert "À faire" not in juror.description
    assert "x.example" not in juror.description
    assert len(entries_for(built, place, exam, juror=JUROR)) == 5


# --- the jury's invitation -------------------------------------------------------------------


def invitation_after(before: Any, after: Any) -> InvitationChange:
    place = centre()
    exam_before = next(
        m for m in plan_session(before, place, RULESET, NOW) if m.id == "exam_session"
    )
    state = InvitationState(
        "sa-test",
        JUROR,
        "Corinne Maillot",
        0,
        meaning(before, place, exam_before),
        "invited",
        briefing=Briefing.of(before, place, exam_before).dumps(),
    )
    found = changes(
        [Planned(after, place, plan_session(after, place, RULESET, NOW))],
        {("sa-test", JUROR): state},
    )
    return next(c for c in found if c.email == JUROR)


def test_a_day_s_hours_changed_sends_an_update_saying_so() -> None:
    later = [DAYS[0], DAYS[1], {**DAYS[2], "end": "12:30"}]
    change = invitation_after(session(days=DAYS), session(days=later))
    assert (change.method, change.sequence, change.update) == ("REQUEST", 1, True)
    assert [d.field for d in change.differences()] == ["hours"]


def test_a_day_taken_away_changes_the_dates_only() -> None:
    same = [{**day, "start": "08:30", "end": "17:30"} for day in DAYS]
    change = invitation_after(session(days=same), session(days=[same[0], same[1]]))
    assert [d.field for d in change.differences()] == ["dates"]
    change = invitation_after(session(days=DAYS), session(days=DAYS[1:]))
    assert [d.field for d in change.differences()] == ["dates", "hours"]  # 08:30–17:30 gone


def test_the_default_days_keep_the_meaning_of_invitations_already_sent() -> None:
    """Invitations sent before the days existed are not all sent again: without ``days:``, the
    meaning is what it was (the days follow from start, end and the hours, already in it)."""
    built, place = session(), centre()
    exam = next(m for m in plan_session(built, place, RULESET, NOW) if m.id == "exam_session")
    before = "|".join(
        [
            "TP-00374",
            "Secrétaire assistant",
            "titre",
            "",
            "2027-03-15 08:30:00+01:00",
            "2027-03-19 18:00:00+01:00",
            "Centre de test",
            "jean@centre.example",
        ]
    )
    assert meaning(built, place, exam) == hashlib.sha256(before.encode()).hexdigest()
    assert meaning(session(days=DAYS), place, exam) != meaning(built, place, exam)


# --- the checks --------------------------------------------------------------------------------


def codes(**changes: Any) -> set[str]:
    built, place = session(**changes), centre()
    return {
        f.code for f in check_session(built, place, plan_session(built, place, RULESET, NOW), NOW)
    }


def test_listed_days_give_the_hours_and_the_holidays_that_count() -> None:
    assert "first_day_start_missing" in codes(first_day_start=None)
    assert "first_day_start_missing" not in codes(first_day_start=None, days=DAYS)
    # Ascension (Thursday 6 May 2027) inside the session: a warning, unless the days listed
    # leave it out.
    week = {"start": date(2027, 5, 3), "end": date(2027, 5, 7)}
    assert "session_on_holiday" in codes(**week)
    listed = [{"date": f"2027-05-0{d}", "start": "08:30", "end": "17:00"} for d in (3, 4, 5, 7)]
    assert "session_on_holiday" not in codes(**week, days=listed)
    on_it = [*listed, {"date": "2027-05-06", "start": "08:30", "end": "12:00"}]
    assert "session_on_holiday" in codes(**week, days=on_it)
