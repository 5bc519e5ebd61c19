"""Which mails are due when: the mail of the day, the overdue schedule, the weekly point and
its escalation, candidate notices (pure)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from syncsvc.core.daily_mail import overdue_schedule
from syncsvc.core.dates import working_days
from syncsvc.core.model import Centre, Session
from syncsvc.core.planner import plan_session
from syncsvc.core.reminders import Notification, Policy, due_notifications
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

RULESET = load_ruleset()
REUNION = ZoneInfo("Indian/Reunion")
POLICY = Policy()
COORDINATOR = "nathalie@centre.example"
MANAGER = "jean@centre.example"
DEPUTY = "deputy@centre.example"
DIRECTION = "direction@centre.example"


def sa() -> tuple[Session, Centre]:
    return (
        session(
            deputy_manager={"name": "Sandrine Grondin", "email": DEPUTY},
            done={"agrement_check": date(2026, 7, 1), "agrement_request": date(2026, 9, 1)},
        ),
        centre(
            timezone="Indian/Reunion",
            holiday_zone="974",
            management=[{"name": "Direction", "email": DIRECTION}],
        ),
    )


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), REUNION)


def due(
    when: datetime,
    sessions: list[tuple[Session, Centre]] | None = None,
    done: dict[str, date] | None = None,
    queued: set[str] | None = None,
) -> list[Notification]:
    sessions = sessions or [sa()]
    planned = [(s, c, plan_session(s, c, RULESET, when, done)) for s, c in sessions]
    sent = queued or set()
    return due_notifications(planned, POLICY, when, queued=sent.__contains__)


def daily(notes: list[Notification], email: str = COORDINATOR) -> Notification | None:
    found = [n for n in notes if n.kind == "reminder" and n.recipient.email == email]
    assert len(found) <= 1, "one mail of the day per person at most"
    return found[0] if found else None


def lines(n: Notification | None, milestone: str | None = None) -> list[tuple[str, str, int]]:
    """(milestone, state, days) of a mail of the day."""
    if n is None:
        return []
    return [
        (i.milestone.id, i.state, i.days)
        for i in n.items
        if milestone is None or i.milestone.id == milestone
    ]


def test_reminders_at_j14_j7_j1_at_the_sending_hour_in_one_mail_of_the_day() -> None:
    # dte_order is due Friday 11 December 2026 for a session starting 15 March 2027.
    assert lines(daily(due(at(date(2026, 11, 27), 7, 59))), "dte_order") == []
    j14 = daily(due(at(date(2026, 11, 27))))
    assert j14 is not None
    assert j14.key == f"daily:2026-11-27:{COORDINATOR}"
    assert j14.send_at == at(date(2026, 11, 27))
    # dte_order and ud_session_declaration (same day, same person): one mail, two lines.
    assert lines(j14) == [("dte_order", "soon", 14), ("ud_session_declaration", "soon", 14)]
    assert lines(daily(due(at(date(2026, 12, 4)))), "dte_order") == [("dte_order", "soon", 7)]
    assert lines(daily(due(at(date(2026, 12, 10)))), "dte_order") == [("dte_order", "soon", 1)]


def test_run_twice_the_same_day_nothing_the_second_time_and_no_repeat_the_next_day() -> None:
    first = daily(due(at(date(2026, 11, 27))))
    assert first is not None
    queued = {first.key}
    assert daily(due(at(date(2026, 11, 27), 15), queued=queued)) is None
    # Monday 30: the J-14 reminder went out on Friday; nothing new has come up.
    assert daily(due(at(date(2026, 11, 30)), queued=queued)) is None


def test_a_mail_missed_while_the_service_was_down_is_carried_once() -> None:
    # Down on Friday 27 November: Monday's mail carries the J-14 reminder, once.
    monday = daily(due(at(date(2026, 11, 30), 10)))
    assert monday is not None
    assert monday.key == f"daily:2026-11-30:{COORDINATOR}"
    assert ("dte_order", "soon", 11) in lines(monday)
    assert daily(due(at(date(2026, 12, 1)), queued={monday.key})) is None


def test_a_reminder_falling_on_a_sunday_goes_on_the_friday() -> None:
    s, c = sa()
    s = s.model_copy(update={"start": date(2027, 3, 16), "end": date(2027, 3, 19)})
    # dte_order due Monday 14 Dec 2026; its J-1 (Sunday 13) is sent on Friday 11 Dec.
    mail = daily(due(at(date(2026, 12, 11)), [(s, c)]))
    assert mail is not None
    assert lines(mail, "dte_order") == [("dte_order", "soon", 3)]
    assert mail.send_at == at(date(2026, 12, 11))


def test_the_overdue_schedule_thins_out_then_is_weekly() -> None:
    # Due Friday 11 December 2026 in La Réunion (20 December, 25 December, 1 January off).
    days = overdue_schedule(date(2026, 12, 11), POLICY, working_days("974"))
    assert [next(days) for _ in range(8)] == [
        date(2026, 12, 14),  # 1 working day late
        date(2026, 12, 15),  # 2
        date(2026, 12, 17),  # 4
        date(2026, 12, 23),  # 8
        date(2027, 1, 6),  # 16
        date(2027, 1, 13),  # then every 5 working days
        date(2027, 1, 20),
        date(2027, 1, 27),
    ]


def test_an_overdue_milestone_comes_back_on_its_schedule_only() -> None:
    queued: set[str] = set()
    seen = []
    day = date(2026, 12, 12)
    while day <= date(2027, 2, 5):
        mail = daily(due(at(day, 9), queued=queued), MANAGER)
        if mail is not None:
            queued.add(mail.key)
            seen += [(day, days) for _, _, days in lines(mail, "ud_session_declaration")]
        day += timedelta(days=1)
    # The session manager is in its audience; he gets no weekly point listing it before it
    # is 5 days late, then the weekly point is its weekly return: the steps only.
    assert seen == [
        (date(2026, 12, 14), 3),
        (date(2026, 12, 15), 4),
        (date(2026, 12, 17), 6),
        (date(2026, 12, 23), 12),
        (date(2027, 1, 6), 26),
    ]


def test_past_the_steps_the_weekly_return_goes_to_who_has_no_weekly_point_for_it() -> None:
    # agrement_check (advice, for the management) overdue since July: the management's weekly
    # point lists only regulatory milestones, so the mail of the day brings it back weekly.
    s, c = sa()
    s = s.model_copy(update={"done": {"agrement_request": date(2026, 9, 1)}})
    mentions = []
    queued: set[str] = set()
    day = date(2026, 10, 1)
    while day <= date(2026, 11, 30):
        mail = daily(due(at(day, 9), [(s, c)], queued=queued), DIRECTION)
        if mail is not None:
            queued.add(mail.key)
            if lines(mail, "agrement_check"):
                mentions.append(day)
        day += timedelta(days=1)
    assert len(mentions) >= 8
    assert all(7 <= (b - a).days <= 8 for a, b in pairwise(mentions)), mentions  # 11/11 off


def test_done_stops_it_at_once() -> None:
    notes = due(at(date(2026, 12, 16)), done={"dte_order": date(2026, 12, 15)})
    assert lines(daily(notes), "dte_order") == []
    digest = next(n for n in notes if n.kind == "digest" and n.recipient.email == COORDINATOR)
    assert "dte_order" not in [e.milestone.id for e in (*digest.overdue, *digest.upcoming)]


def test_several_sessions_one_mail_grouped_by_session_most_urgent_first() -> None:
    s, c = sa()
    later = s.model_copy(
        update={"id": "sa-later", "start": date(2027, 3, 22), "end": date(2027, 3, 26)}
    )
    mail = daily(due(at(date(2026, 12, 14)), [(later, c), (s, c)]))
    assert mail is not None
    # sa-test's milestones are 3 days late, sa-later's are due in 4 days.
    assert [(i.owner, i.milestone.id, i.state) for i in mail.items] == [
        ("sa-test", "dte_order", "overdue"),
        ("sa-test", "ud_session_declaration", "overdue"),
        ("sa-later", "dte_order", "soon"),
        ("sa-later", "ud_session_declaration", "soon"),
    ]
    assert mail.session_ids == ("sa-test", "sa-later")


def test_escalation_is_weekly_to_managers_and_regulatory_to_the_management() -> None:
    # Nobody escalates in the mail of the day: the deputy is in no audience.
    for day in (date(2026, 12, 16), date(2026, 12, 18), date(2026, 12, 22)):
        assert daily(due(at(day)), DEPUTY) is None
    monday = due(at(date(2026, 12, 21)))
    points = {n.recipient.email: n for n in monday if n.kind == "digest"}
    assert set(points) == {COORDINATOR, MANAGER, DEPUTY, DIRECTION}
    # 10 days late on Monday 21 December: dte_order, ud_session_declaration (regulatory);
    # dte_reception_check (advice) is not due yet.
    for email in (MANAGER, DEPUTY, DIRECTION):
        entries = points[email].overdue
        assert [e.milestone.id for e in entries] == ["dte_order", "ud_session_declaration"]
        assert all(e.escalated for e in entries), email
    assert not any(e.escalated for e in points[COORDINATOR].overdue)
    # The week before (3 days late on Monday 14), nothing escalates yet.
    before = {n.recipient.email for n in due(at(date(2026, 12, 14))) if n.kind == "digest"}
    assert before == {COORDINATOR}


def test_advice_milestones_escalate_without_the_management() -> None:
    # dte_reception_check (advice) is due Tuesday 23 Feb, after the expected reception (issue
    # 11; was 15 Feb): 6 days late in the point of Monday 1 March
    notes = due(at(date(2027, 3, 1)))
    points = {n.recipient.email: n for n in notes if n.kind == "digest"}
    assert "dte_reception_check" in [e.milestone.id for e in points[MANAGER].overdue]
    assert "dte_reception_check" not in [e.milestone.id for e in points[DIRECTION].overdue]


def test_weekly_point_on_monday_morning_overdue_first() -> None:
    def points(when: datetime) -> list[Notification]:
        return [n for n in due(when) if n.kind == "digest" and n.recipient.email == COORDINATOR]

    sunday = points(at(date(2026, 12, 13)))
    # last Monday's, more than a day ago: only noted as skipped (if it did not go out)
    assert [(n.key, n.skipped) for n in sunday] == [(f"digest:2026-W50:{COORDINATOR}", True)]
    tuesday = points(at(date(2026, 12, 8), 7, 59))
    assert [n.key for n in tuesday] == [f"digest:2026-W50:{COORDINATOR}"]  # < 1 day
    assert points(at(date(2026, 12, 14), 7)) == []  # not due yet; last week's superseded
    monday = points(at(date(2026, 12, 14)))
    assert [n.key for n in monday] == [f"digest:2026-W51:{COORDINATOR}"]
    digest = monday[0]
    # ceres_session_create counts as done: declared_on says when it was created in CERES.
    assert [e.milestone.id for e in digest.overdue] == ["dte_order", "ud_session_declaration"]
    assert all(date(2026, 12, 14) <= e.milestone.due <= date(2027, 1, 4) for e in digest.upcoming)


def test_exam_session_reminders_go_to_the_organisers_never_to_the_jury() -> None:
    # Issue 11: jurors got « Rappel : « Session d'examen » est à faire… »; what they need comes
    # with the invitation and their calendar.
    notes = due(at(date(2027, 3, 8)))
    assert lines(daily(notes, COORDINATOR), "exam_session") == [("exam_session", "soon", 7)]
    for email in ("c@jury.example", "p@jury.example"):
        assert not [n for n in notes if n.recipient.email == email]


def test_candidate_notice_only_when_enabled_and_only_to_listed_emails() -> None:
    _, c = sa()
    listed = session(
        candidates={
            "training": 2,
            "list": [
                {"name": "Karim Benali", "email": "karim@mail.example"},
                {"name": "Julie Perret"},
            ],
        }
    )
    day = at(date(2027, 3, 12))  # start - 3 days
    assert [n for n in due(day, [(listed, c)]) if n.kind == "candidate_info"] == []
    enabled = c.model_copy(update={"candidate_info_mail": True})
    notes = [n for n in due(day, [(listed, enabled)]) if n.kind == "candidate_info"]
    assert [n.recipient.email for n in notes] == ["karim@mail.example"]
    # …and never in anyone's mail of the day or weekly point.
    for n in due(day, [(listed, enabled)]):
        if n.kind != "candidate_info":
            assert n.session is None


def test_twenty_sessions_one_coordinator_one_mail_a_day_at_most() -> None:
    """The mailbox of issue 11: twenty sessions of one coordinator, lived day by day."""
    _, c = sa()
    sessions = [
        (
            session(
                id=f"sa-{k:02d}",
                start=date(2027, 3, 1) + timedelta(weeks=k),
                end=date(2027, 3, 5) + timedelta(weeks=k),
                declared_on=None,
            ),
            c,
        )
        for k in range(20)
    ]
    queued: set[str] = set()
    per_day: dict[date, int] = {}
    widest = 0
    day = date(2026, 11, 2)
    while day <= date(2027, 1, 31):
        for n in due(at(day, 9), sessions, queued=queued):
            if n.key in queued or n.skipped or n.recipient.email != COORDINATOR:
                continue
            queued.add(n.key)
            if n.kind == "reminder":
                per_day[day] = per_day.get(day, 0) + 1
                widest = max(widest, len(n.session_ids))
        day += timedelta(days=1)
    assert max(per_day.values()) == 1
    assert widest >= 3  # one mail speaks of several sessions
    assert len(per_day) <= 66  # working days from November to January
