"""Issue 11, « annual programming »: « programmer les sessions de l'année N avant le 31 janvier »
is one milestone per centre and year, not one per session.

Seen: one event per session (4 identical events on 29/01 in one calendar), and for a session
starting in January, the programming landed on 30 January of the previous year.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syncsvc.core import audience
from syncsvc.core.config import Config
from syncsvc.core.entries import centre_entry_for
from syncsvc.core.model import Session
from syncsvc.core.planner import Planning, plan_sessions
from syncsvc.core.reminders import Policy, due_notifications
from syncsvc.formats.mail import compose, subject_for
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

RULESET = load_ruleset()
PARIS = ZoneInfo("Europe/Paris")
MANAGEMENT = [{"name": "Hélène Garnier", "email": "direction@centre.example"}]


def sessions_2027(count: int = 4, **changes: Any) -> list[Session]:
    starts = [date(2027, 3, 15), date(2027, 5, 10), date(2027, 6, 7), date(2027, 11, 22)]
    return [session(id=f"sa-{n}", start=starts[n], end=starts[n], **changes) for n in range(count)]


def planning(
    sessions: list[Session], now: date | datetime = date(2026, 11, 23), **c: Any
) -> Planning:
    the_centre = centre(management=MANAGEMENT, **c)
    config = Config(
        directory=Path("."),
        ruleset=RULESET,
        centres={the_centre.id: the_centre},
        rulesets={the_centre.id: RULESET},
        sessions={s.id: s for s in sessions},
    )
    return plan_sessions(config, {}, now)


def yearly(p: Planning) -> list[tuple[str, int, str, date]]:
    return [(c.centre.id, c.year, c.milestone.id, c.milestone.due) for c in p.centre_milestones]


def test_four_sessions_of_one_centre_in_2027_make_one_annual_programming() -> None:
    p = planning(sessions_2027())
    assert yearly(p) == [("centre-test", 2027, "annual_programming", date(2027, 1, 29))]
    for planned in p.planned:  # no longer one per session
        assert "annual_programming" not in {m.id for m in planned.milestones}
    (only,) = p.centre_milestones
    assert only.owner == "centre:centre-test:2027"
    entry = centre_entry_for(only.centre, only.year, only.milestone)
    assert entry.uid == "centre-test.annual_programming.2027@syncsvc"
    assert entry.session_id == "centre:centre-test:2027"
    assert (
        entry.summary
        == "[Centre de test 2027] Programmation prévisionnelle des sessions de l'année"
    )
    assert (entry.start, entry.end) == (date(2027, 1, 29), date(2027, 1, 30))
    assert entry.description.startswith("Centre de test — sessions d'examen de l'année 2027\n")
    assert (
        "Échéance avancée au jour ouvré précédent (date calculée : 30/01/2027)" in entry.description
    )


def test_a_january_session_gets_the_programming_of_its_own_year() -> None:
    p = planning([session(start=date(2027, 1, 18), end=date(2027, 1, 22))])
    # was 30/01/2026, the previous year's
    assert yearly(p) == [("centre-test", 2027, "annual_programming", date(2027, 1, 29))]


def test_one_per_year_of_the_centre_s_sessions_not_cancelled_ones() -> None:
    p = planning(
        [
            *sessions_2027(2),
            session(id="sa-2028", start=date(2028, 3, 6), end=date(2028, 3, 10)),
            session(id="sa-2029", start=date(2029, 3, 5), end=date(2029, 3, 9), cancelled=True),
        ]
    )
    assert yearly(p) == [
        ("centre-test", 2027, "annual_programming", date(2027, 1, 29)),
        ("centre-test", 2028, "annual_programming", date(2028, 1, 28)),  # 30 Jan: a Sunday
    ]


def test_marked_done_for_any_session_of_that_year() -> None:
    done = sessions_2027(2)
    done[1] = done[1].model_copy(update={"done": {"annual_programming": date(2027, 1, 12)}})
    (only,) = planning(done, date(2027, 2, 1)).centre_milestones
    assert (only.milestone.status, only.milestone.done_on) == ("done", date(2027, 1, 12))
    (late,) = planning(sessions_2027(2), date(2027, 2, 1)).centre_milestones
    assert late.milestone.status == "overdue"


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("coordinators:centre-test", True),
        ("coordinators:autre-centre", False),
        ("session_manager:jean@centre.example", False),
        ("jury:c@jury.example", False),
        ("all", True),
    ],
)
def test_only_the_centre_s_coordinators_see_it(who: str, sees: bool) -> None:
    assert audience.sees_centre(who, "centre-test") is sees


def test_the_management_is_reminded_once_not_once_per_session() -> None:
    now = datetime.combine(date(2026, 12, 30), time(9), PARIS)  # J-30 of Friday 29 Jan 2027
    p = planning(sessions_2027(), now)
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    programming = [n for n in notes if n.milestone and n.milestone.id == "annual_programming"]
    assert [n.key for n in programming] == [
        "reminder:centre:centre-test:2027:annual_programming:2027-01-29:J-30:"
        "direction@centre.example"
    ]
    (note,) = programming
    assert note.session is None
    assert note.centre is not None
    assert subject_for(note, now) == (
        "[Centre de test] Rappel : Programmation prévisionnelle des sessions de l'année "
        "(J-30, le 29/01)"
    )
    body = compose(note, "Examens <examens@example.org>", now).get_body(("plain",))
    assert body is not None
    assert "Centre : Centre de test (échéance annuelle" in body.get_content()


def test_overdue_alerts_for_the_centre_year() -> None:
    now = datetime(2027, 2, 2, 8, 30, tzinfo=UTC)  # Tuesday: 2 working days after the 29th
    p = planning(sessions_2027(), now)
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    alerts = [n.key for n in notes if n.kind == "overdue" and n.session is None]
    assert alerts == [
        "overdue:centre:centre-test:2027:annual_programming:2027-01-29:#1:direction@centre.example"
    ]
    mail = compose(
        next(n for n in notes if n.kind == "overdue" and n.session is None), "e@x.example", now
    )
    assert mail["Subject"] == (
        "[Centre de test] EN RETARD : Programmation prévisionnelle des sessions de l'année "
        "(échéance du 29/01)"
    )
