"""Which mails are due when: reminders, overdue alerts, escalation, digests (pure)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from syncsvc.core.model import Centre, Session
from syncsvc.core.planner import plan_session
from syncsvc.core.reminders import Notification, Policy, due_notifications
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

RULESET = load_ruleset()
REUNION = ZoneInfo("Indian/Reunion")
POLICY = Policy()


def sa() -> tuple[Session, Centre]:
    return (
        session(
            deputy_manager={"name": "Sandrine Grondin", "email": "deputy@centre.example"},
            done={"agrement_check": date(2026, 7, 1), "agrement_request": date(2026, 9, 1)},
        ),
        centre(
            timezone="Indian/Reunion",
            holiday_zone="974",
            management=[{"name": "Direction", "email": "direction@centre.example"}],
        ),
    )


def due(
    at: datetime,
    s: Session | None = None,
    c: Centre | None = None,
    done: dict[str, date] | None = None,
) -> list[Notification]:
    if s is None or c is None:
        s, c = sa()
    planned = [(s, c, plan_session(s, c, RULESET, at, done))]
    return due_notifications(planned, POLICY, at)


def keys(notes: list[Notification], milestone: str, kind: str = "reminder") -> set[str]:
    return {n.key for n in notes if n.milestone and n.milestone.id == milestone and n.kind == kind}


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), REUNION)


def test_reminders_at_j14_j7_j1_at_the_sending_hour() -> None:
    # dte_order is due Friday 11 December 2026 for a session starting 15 March 2027.
    assert keys(due(at(date(2026, 11, 27), 7, 59)), "dte_order") == set()
    j14 = keys(due(at(date(2026, 11, 27))), "dte_order")
    assert j14 == {"reminder:sa-test:dte_order:2026-12-11:J-14:nathalie@centre.example"}
    assert keys(due(at(date(2026, 12, 3))), "dte_order") == j14  # still the latest one
    assert keys(due(at(date(2026, 12, 4))), "dte_order") == {
        "reminder:sa-test:dte_order:2026-12-11:J-7:nathalie@centre.example"
    }
    assert keys(due(at(date(2026, 12, 10))), "dte_order") == {
        "reminder:sa-test:dte_order:2026-12-11:J-1:nathalie@centre.example"
    }


def test_a_reminder_falling_on_a_sunday_goes_on_the_friday() -> None:
    s, c = sa()
    s = s.model_copy(update={"start": date(2027, 3, 16), "end": date(2027, 3, 19)})
    # dte_order due Monday 14 Dec 2026; its J-1 (Sunday 13) is sent on Friday 11 Dec.
    notes = due(at(date(2026, 12, 11)), s, c)
    assert keys(notes, "dte_order") == {
        "reminder:sa-test:dte_order:2026-12-14:J-1:nathalie@centre.example"
    }
    assert [n.send_at for n in notes if n.milestone and n.milestone.id == "dte_order"] == [
        at(date(2026, 12, 11))
    ]


def test_overdue_alerts_every_two_working_days_then_escalated() -> None:
    def alerts(day: date) -> set[tuple[str, str]]:
        return {
            (n.key.split(":")[4], n.recipient.email)
            for n in due(at(day))
            if n.kind == "overdue" and n.milestone and n.milestone.id == "dte_order"
        }

    assert alerts(date(2026, 12, 11)) == set()  # due day: reminders only
    assert alerts(date(2026, 12, 14)) == {("#1", "nathalie@centre.example")}
    assert alerts(date(2026, 12, 15)) == {("#1", "nathalie@centre.example")}  # same key
    escalated = {
        ("#2", "nathalie@centre.example"),
        ("#2", "jean@centre.example"),
        ("#2", "deputy@centre.example"),
        ("#2", "direction@centre.example"),
    }
    assert alerts(date(2026, 12, 16)) == escalated  # 5 days late: escalated
    assert {k for k, _ in alerts(date(2026, 12, 18))} == {"#3"}
    # 20 Dec 2026 is a Sunday: Monday 21 is a working day, so #4 is Tuesday 22.
    assert {k for k, _ in alerts(date(2026, 12, 21))} == {"#3"}
    assert {k for k, _ in alerts(date(2026, 12, 22))} == {"#4"}


def test_advice_rules_escalate_without_management() -> None:
    # dte_reception_check (advice) is due Tuesday 23 Feb, after the expected reception (issue
    # 11; was 15 Feb): alerts on 24 and 26 Feb, then on 2 March, 7 days late: escalated
    notes = due(at(date(2027, 3, 2)))
    recipients = {
        n.recipient.email
        for n in notes
        if n.kind == "overdue" and n.milestone and n.milestone.id == "dte_reception_check"
    }
    assert "direction@centre.example" not in recipients
    assert "jean@centre.example" in recipients


def test_done_stops_reminders_and_alerts() -> None:
    notes = due(at(date(2026, 12, 16)), done={"dte_order": date(2026, 12, 15)})
    assert keys(notes, "dte_order", "overdue") == set()
    assert keys(notes, "dte_order") == set()


def test_weekly_digest_on_monday_morning_overdue_first() -> None:
    sunday = [n for n in due(at(date(2026, 12, 13))) if n.kind == "digest"]
    # last Monday's, more than a day ago: only noted as skipped (if it did not go out)
    assert [(n.key, n.skipped) for n in sunday] == [
        ("digest:2026-W50:nathalie@centre.example", True)
    ]
    tuesday = [n for n in due(at(date(2026, 12, 8), 7, 59)) if n.kind == "digest"]
    assert [n.key for n in tuesday] == ["digest:2026-W50:nathalie@centre.example"]  # < 1 day
    monday_early = [n for n in due(at(date(2026, 12, 14), 7)) if n.kind == "digest"]
    assert monday_early == []  # this week's is not due yet, last week's is superseded
    monday = [n for n in due(at(date(2026, 12, 14))) if n.kind == "digest"]
    assert [n.key for n in monday] == ["digest:2026-W51:nathalie@centre.example"]
    digest = monday[0]
    # ceres_session_create counts as done: declared_on says when it was created in CERES.
    assert [e.milestone.id for e in digest.overdue] == ["dte_order", "ud_session_declaration"]
    assert all(e.milestone.due < date(2026, 12, 14) for e in digest.overdue)
    assert all(date(2026, 12, 14) <= e.milestone.due <= date(2027, 1, 4) for e in digest.upcoming)


def test_exam_session_reminders_go_to_the_jury_too() -> None:
    notes = due(at(date(2027, 3, 8)))
    exam = {n.recipient.email for n in notes if n.milestone and n.milestone.id == "exam_session"}
    assert {"c@jury.example", "p@jury.example", "nathalie@centre.example"} <= exam


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
    assert [n for n in due(day, listed, c) if n.kind == "candidate_info"] == []
    enabled = c.model_copy(update={"candidate_info_mail": True})
    notes = [n for n in due(day, listed, enabled) if n.kind == "candidate_info"]
    assert [n.recipient.email for n in notes] == ["karim@mail.example"]
