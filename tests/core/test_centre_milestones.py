"""Issue 11, « annual programming »: « programmer les sessions de l'année N avant le 31 janvier »
is one milestone per centre and year, not one per session.

Seen: one event per session (4 identical events on 29/01 in one calendar), and for a session
starting in January, the programming landed on 30 January of the previous year.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syncsvc.core import audience
from syncsvc.core.config import Config
from syncsvc.core.entries import centre_entry_for
from syncsvc.core.model import Session
from syncsvc.core.planner import Planning, plan_sessions
from syncsvc.core.reminders import Notification, Policy, due_notifications
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


DIRECTION = "direction@centre.example"
CHECKED = {"agrement_check": date(2026, 7, 1)}
"""So that the management's mail of the day holds the annual programming alone."""
OWNER = "centre:centre-test:2027"


def about(notes: list[Notification], milestone: str) -> list[tuple[str, str, str, int]]:
    """(key, owner, state, days) of every mention of ``milestone``: mails of the day (each
    line) and weekly points (each entry, with ``weekly`` as its state)."""
    found: list[tuple[str, str, str, int]] = [
        (n.key, i.owner, i.state, i.days)
        for n in notes
        for i in n.items
        if i.milestone.id == milestone
    ]
    found += [
        (n.key, e.owner, "weekly", 0)
        for n in notes
        for e in (*n.overdue, *n.upcoming)
        if e.milestone.id == milestone
    ]
    return found


def test_the_management_is_reminded_once_not_once_per_session() -> None:
    now = datetime.combine(date(2026, 12, 30), time(9), PARIS)  # J-30 of Friday 29 Jan 2027
    p = planning(sessions_2027(done=CHECKED), now)
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    # Once for the centre and year, to the management, in their mail of the day (issue 11's
    # one mail a day per person): no mail, no key of its own.
    assert about(notes, "annual_programming") == [
        (f"daily:2026-12-30:{DIRECTION}", OWNER, "soon", 30)
    ]
    (note,) = [n for n in notes if n.recipient.email == DIRECTION and n.kind == "reminder"]
    (item,) = note.items
    assert (item.session, item.centre.id, item.year) == (None, "centre-test", 2027)
    assert note.session_ids == (OWNER,)
    assert subject_for(note, now) == (
        "[Centre de test] Rappel : Programmation prévisionnelle des sessions de l'année "
        "(J-30, le 29/01)"
    )
    body = compose(note, "Examens <examens@example.org>", now).get_body(("plain",))
    assert body is not None
    assert "Centre : Centre de test (échéance annuelle" in body.get_content()


def test_overdue_alerts_for_the_centre_year() -> None:
    now = datetime(2027, 2, 2, 8, 30, tzinfo=UTC)  # Tuesday: 2 working days after the 29th
    p = planning(sessions_2027(done=CHECKED), now)
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    assert about(notes, "annual_programming") == [
        (f"daily:2027-02-02:{DIRECTION}", OWNER, "overdue", 4)
    ]
    note = next(n for n in notes if n.key == f"daily:2027-02-02:{DIRECTION}")
    mail = compose(note, "e@x.example", now)
    assert mail["Subject"] == (
        "[Centre de test] EN RETARD : Programmation prévisionnelle des sessions de l'année "
        "(échéance du 29/01)"
    )


def test_the_centre_year_follows_the_overdue_schedule_then_the_weekly_point() -> None:
    """Lived day by day: J-30, J-14, J-7, then 1, 2, 4, 8 and 16 working days late in the
    management's mail of the day; from 5 days late, every Monday in their weekly point (the
    escalation of regulatory milestones), and no longer in the mail of the day."""
    queued: set[str] = set()
    daily: list[tuple[date, str, int]] = []
    weekly: list[date] = []
    per_day: dict[tuple[date, str], int] = {}
    day = date(2026, 12, 1)
    while day <= date(2027, 3, 31):
        now = datetime.combine(day, time(9), PARIS)
        p = planning(sessions_2027(done=CHECKED), now)
        notes = due_notifications(
            p.planned,
            Policy(),
            now,
            queued=queued.__contains__,
            centre_milestones=p.centre_milestones,
        )
        for n in notes:
            if n.key in queued or n.skipped:
                continue
            queued.add(n.key)
            if n.kind == "reminder":
                per_day[day, n.recipient.email] = per_day.get((day, n.recipient.email), 0) + 1
            for _key, owner, state, days in about([n], "annual_programming"):
                assert (n.recipient.email, owner) == (DIRECTION, OWNER)
                if state == "weekly":
                    weekly.append(day)
                else:
                    daily.append((day, state, days))
        # run again the same day: nothing more (the keys are in the outbox)
        again = due_notifications(
            p.planned,
            Policy(),
            now,
            queued=queued.__contains__,
            centre_milestones=p.centre_milestones,
        )
        assert all(n.key in queued or n.skipped for n in again), day
        day += timedelta(days=1)
    assert max(per_day.values()) == 1  # one mail of the day per person, at most
    assert daily == [
        (date(2026, 12, 30), "soon", 30),
        (date(2027, 1, 15), "soon", 14),
        (date(2027, 1, 22), "soon", 7),
        (date(2027, 2, 1), "overdue", 3),  # 1 working day late
        (date(2027, 2, 2), "overdue", 4),  # 2
        (date(2027, 2, 4), "overdue", 6),  # 4
        (date(2027, 2, 10), "overdue", 12),  # 8
        (date(2027, 2, 22), "overdue", 24),  # 16
    ]
    assert weekly == [date(2027, 2, 8) + timedelta(weeks=k) for k in range(8)]


def test_done_for_any_session_of_the_year_stops_it() -> None:
    now = datetime(2027, 2, 8, 8, 30, tzinfo=UTC)  # Monday: mail of the day and weekly point
    sessions = sessions_2027(done=CHECKED)
    p = planning(sessions, now)
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    assert about(notes, "annual_programming")
    marks = {**CHECKED, "annual_programming": date(2027, 2, 5)}
    sessions[2] = sessions[2].model_copy(update={"done": marks})
    p = planning(sessions, now)
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    assert about(notes, "annual_programming") == []


def test_one_group_of_its_own_in_a_mail_with_sessions_and_no_done_link() -> None:
    """« Marquer comme fait » links mark a session's milestone from its page: the annual
    programming is on no session's page (tests/web/test_done_links.py), so its group has no
    link, and says how to mark it done."""
    now = datetime(2027, 2, 2, 8, 30, tzinfo=UTC)
    p = planning(sessions_2027(), now)  # agrement_check overdue for three sessions too
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    (note,) = [n for n in notes if n.recipient.email == DIRECTION and n.kind == "reminder"]
    assert note.session_ids == ("sa-0", "sa-1", "sa-2", OWNER)
    assert subject_for(note, now) == "Examens TP : 4 échéances en retard"

    def link(session_id: str, milestone_id: str) -> str:
        return f"https://examens.example.org/done/{session_id}/{milestone_id}?t=jeton"

    message = compose(note, "e@x.example", now, link)
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    text = plain.get_content()
    assert (
        "\n\nCentre Centre de test — échéance annuelle 2027\n"
        "  - EN RETARD de 4 jours : Programmation prévisionnelle des sessions de l'année "
        "(échéance du vendredi 29 janvier 2027)\n"
    ) in text
    assert text.count("Marquer comme fait : ") == 3  # the three sessions' agrement_check
    assert "/annual_programming" not in text
    assert (
        "Centre : Centre de test (échéance annuelle, pour toutes ses sessions de l'année 2027)\n"
        "Échéance : vendredi 29 janvier 2027 (réglementaire)\n"
        "Pour la marquer faite : « syncsvc done <session> annual_programming » pour l'une des "
        "sessions de 2027 du centre (ou « done: » dans le fichier de l'une d'elles) ; elle l'est "
        "alors pour toutes.\n"
    ) in text
    assert html.get_content().count(">Marquer comme fait</a>") == 3


def test_alone_in_a_mail_the_footer_does_not_promise_a_link() -> None:
    now = datetime(2027, 2, 2, 8, 30, tzinfo=UTC)
    p = planning(sessions_2027(done=CHECKED), now)
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    note = next(n for n in notes if n.key == f"daily:2027-02-02:{DIRECTION}")
    link = "https://examens.example.org/done/x/y?t=jeton"
    plain = compose(note, "e@x.example", now, lambda s, m: link).get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "Marquer comme fait" not in text
    assert "Une échéance marquée faite disparaît des messages suivants.\n" in text


def test_in_the_management_s_weekly_point_as_a_centre_group() -> None:
    now = datetime(2027, 2, 8, 8, 30, tzinfo=UTC)  # Monday, 10 days late
    p = planning(sessions_2027(done=CHECKED), now)
    notes = due_notifications(p.planned, Policy(), now, centre_milestones=p.centre_milestones)
    (point,) = [n for n in notes if n.kind == "digest" and n.recipient.email == DIRECTION]
    assert [(e.owner, e.milestone.id, e.escalated) for e in point.overdue] == [
        ("sa-0", "dte_order", True),
        ("sa-0", "ud_session_declaration", True),
        (OWNER, "annual_programming", True),
    ]
    plain = compose(point, "e@x.example", now).get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert (
        "Voici le point de la semaine du lundi 8 février 2027 : ces échéances réglementaires de "
        "votre centre et de ses sessions sont en retard depuis 5 jours ou plus.\n"
    ) in text
    assert (
        "\n\nCentre Centre de test — échéance annuelle 2027\n"
        "  - vendredi 29 janvier 2027 : Programmation prévisionnelle des sessions de l'année "
        "(10 jours de retard)\n"
    ) in text
    # the coordinators' and the session manager's points do not list it
    others = [n for n in notes if n.kind == "digest" and n.recipient.email != DIRECTION]
    assert not about(others, "annual_programming")


def test_a_centre_year_whose_reminders_fail_is_set_apart_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> list[object]:
        raise RuntimeError("injected")

    monkeypatch.setattr("syncsvc.core.reminders.centre_candidates", broken)
    now = datetime(2027, 2, 2, 8, 30, tzinfo=UTC)
    p = planning(sessions_2027(), now)
    failed: dict[str, str] = {}
    notes = due_notifications(
        p.planned, Policy(), now, failed, centre_milestones=p.centre_milestones
    )
    assert failed == {OWNER: "calcul des rappels impossible (RuntimeError)"}
    assert about(notes, "annual_programming") == []
    assert about(notes, "agrement_check")  # the sessions' lines still go
