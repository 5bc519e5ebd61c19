"""The jury's news in the mail of the day: answer reminders, a juror declining (with who else
could sit), fewer than two accepted at J-31 and J-10, a COUNTER — no mail of their own (pure)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from syncsvc.core.config import Config
from syncsvc.core.jury import DayAnswer, JurorRow, JuryReply
from syncsvc.core.jury_notices import jury_notices
from syncsvc.core.model import Centre, DirectoryJuror, Milestone, Session
from syncsvc.core.planner import plan_sessions
from syncsvc.core.reminder_model import JuryNotice, Policy, Recipient
from syncsvc.core.reminders import due_notifications
from syncsvc.formats.mail import compose, subject_for
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

PARIS = ZoneInfo("Europe/Paris")
POLICY = Policy()
CENTRE = centre()
SA = session(
    jury=[
        {"name": "Corinne Maillot", "email": "c@jury.example", "habilitation_until": "2030-01-01"},
        {"name": "Patrick Fontaine", "email": "p@jury.example", "habilitation_until": "2030-01-01"},
        {"name": "Aline Hoarau", "email": "a@jury.example", "habilitation_until": "2030-01-01"},
    ]
)
INVITED_AT = datetime(2027, 1, 4, 9, 0, tzinfo=PARIS)
NATHALIE = "nathalie@centre.example"


def at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=PARIS)


def row(email: str, partstat: str = "NEEDS-ACTION", *, s: Session = SA, **changes: Any) -> JurorRow:
    name = next(m.name for m in s.jury if m.email == email)
    base: dict[str, Any] = {
        "session_id": s.id,
        "email": email,
        "name": name,
        "habilitation_until": date(2030, 1, 1),
        "sequence": 0,
        "invitation": "invited",
        "invited_at": INVITED_AT,
        "sent_at": INVITED_AT,
        "partstat": partstat,
        "replied_at": None,
        "source": None,
        "comment": None,
        **changes,
    }
    return JurorRow(**base)


def reply(email: str, partstat: str, kind: str = "reply", **changes: Any) -> JuryReply:
    base: dict[str, Any] = {
        "key": f"k-{email}-{kind}",
        "source": "imip",
        "kind": kind,
        "status": "applied",
        "session_id": SA.id,
        "email": email,
        "name": "Patrick Fontaine",
        "partstat": partstat,
        "sequence": 0,
        "comment": "Déplacement à Paris cette semaine-là",
        "replied_at": at(date(2027, 1, 20), 10),
        "recorded_at": at(date(2027, 1, 20), 10),
        **changes,
    }
    return JuryReply(**base)


def planned(*sessions: Session) -> list[tuple[Session, Centre, list[Milestone]]]:
    return [(s, CENTRE, []) for s in sessions]


def notices(
    rows: list[JurorRow],
    now: datetime,
    answered: dict[tuple[str, str], JuryReply] | None = None,
    counters: list[JuryReply] | None = None,
    sessions: tuple[Session, ...] = (SA,),
    more_rows: dict[str, list[JurorRow]] | None = None,
) -> list[tuple[Recipient, JuryNotice]]:
    by_session = {SA.id: rows, **(more_rows or {})}
    return jury_notices(planned(*sessions), by_session, answered or {}, counters or [], POLICY, now)


def kinds(found: list[tuple[Recipient, JuryNotice]]) -> list[tuple[str, str]]:
    return [(p.email, n.kind) for p, n in found]


# --- fewer than two accepted at J-31 and J-10 -------------------------------------------------


def test_fewer_than_two_accepted_at_j31_then_j10() -> None:
    rows = [row("c@jury.example", "ACCEPTED"), row("p@jury.example"), row("a@jury.example")]
    j31 = date(2027, 2, 12)  # 15/03 - 31 days, a Friday
    assert ("nathalie@centre.example", "too_few") not in kinds(
        notices(rows, at(j31 - timedelta(days=1)))
    )
    found = [n for p, n in notices(rows, at(j31)) if n.kind == "too_few"]
    (alert,) = found
    assert (alert.days_before, alert.accepted, alert.invited) == (31, 1, 3)
    assert alert.since == at(j31)
    j10 = date(2027, 3, 5)  # a Friday
    (later,) = [n for p, n in notices(rows, at(j10)) if n.kind == "too_few"]
    assert later.days_before == 10
    enough = [row("c@jury.example", "ACCEPTED"), row("p@jury.example", "ACCEPTED")]
    assert not [n for _, n in notices(enough, at(j31)) if n.kind == "too_few"]


def test_the_j31_alert_falls_on_the_working_day_before() -> None:
    tuesday = session(start=date(2027, 3, 16), end=date(2027, 3, 19))  # J-31: Saturday 13/02
    rows = [row("c@jury.example", s=tuesday)]

    def alerts(day: date) -> list[int]:
        found = jury_notices(planned(tuesday), {tuesday.id: rows}, {}, [], POLICY, at(day))
        return [n.days_before for _, n in found if n.kind == "too_few"]

    assert alerts(date(2027, 2, 11)) == []
    assert alerts(date(2027, 2, 12)) == [31]  # the Friday before


# --- reminders to jurors who have not answered ------------------------------------------------


def test_answer_reminders_7_and_14_days_after_the_invitation_never_after_answering() -> None:
    rows = [row("c@jury.example"), row("p@jury.example", "ACCEPTED")]
    assert notices(rows, at(date(2027, 1, 11), 7)) == []  # J+7 before the sending hour
    first = notices(rows, at(date(2027, 1, 11)))
    assert kinds(first) == [("c@jury.example", "answer_reminder")]
    assert first[0][1].since == at(date(2027, 1, 11))
    second = notices(rows, at(date(2027, 1, 18)))
    assert [n.since for _, n in second] == [at(date(2027, 1, 18))]  # J+14 supersedes J+7
    answered = [row("c@jury.example", "DECLINED"), row("p@jury.example", "ACCEPTED")]
    assert not [
        n for _, n in notices(answered, at(date(2027, 1, 18))) if n.kind == "answer_reminder"
    ]


def test_nothing_once_the_session_started_nor_for_a_cancelled_one() -> None:
    rows = [row("c@jury.example")]
    assert notices(rows, at(date(2027, 3, 15))) == []
    cancelled = session(cancelled=True)
    assert (
        jury_notices(planned(cancelled), {SA.id: rows}, {}, [], POLICY, at(date(2027, 2, 12))) == []
    )


def test_a_notice_older_than_a_week_is_not_sent_late() -> None:
    rows = [row("c@jury.example")]
    assert notices(rows, at(date(2027, 1, 18) + timedelta(days=7))) != []
    assert notices(rows, at(date(2027, 1, 18) + timedelta(days=8))) == []


# --- a juror declines: who else could sit -----------------------------------------------------


def test_a_decline_tells_the_coordinators_who_else_is_habilitated_and_free() -> None:
    overlapping = session(
        id="sa-autre",
        jury=[
            {"name": "Bruno Busy", "email": "busy@jury.example", "habilitation_until": "2030-01-01"}
        ],
    )
    later = session(
        id="sa-juin",
        start=date(2027, 6, 7),
        end=date(2027, 6, 11),
        jury=[
            {
                "name": "Fanny Libre",
                "email": "free@jury.example",
                "habilitation_until": "2030-01-01",
            },
            {
                "name": "Eric Expiré",
                "email": "old@jury.example",
                "habilitation_until": "2027-03-16",
            },
            {
                "name": "Omar Autre",
                "email": "other@jury.example",
                "habilitation_until": "2030-01-01",
                "title_code": "TP-01280",
            },
        ],
    )
    rows = [row("c@jury.example"), row("p@jury.example", "DECLINED"), row("a@jury.example")]
    answered = {(SA.id, "p@jury.example"): reply("p@jury.example", "DECLINED")}
    found = notices(
        rows,
        at(date(2027, 1, 21)),
        answered,
        sessions=(SA, overlapping, later),
        more_rows={"sa-autre": [], "sa-juin": []},
    )
    (declined,) = [n for p, n in found if n.kind == "declined" and p.email == NATHALIE]
    assert declined.juror == "Patrick Fontaine"
    assert declined.comment == "Déplacement à Paris cette semaine-là"
    assert declined.alternatives == ("Fanny Libre (free@jury.example)",)


def test_a_juror_who_declined_the_overlapping_session_is_free_again() -> None:
    overlapping = session(
        id="sa-autre",
        jury=[
            {"name": "Bruno Busy", "email": "busy@jury.example", "habilitation_until": "2030-01-01"}
        ],
    )
    rows = [row("c@jury.example"), row("p@jury.example", "DECLINED")]
    answered = {(SA.id, "p@jury.example"): reply("p@jury.example", "DECLINED")}
    busy_declined = [row("busy@jury.example", "DECLINED", s=overlapping)]
    found = notices(
        rows,
        at(date(2027, 1, 21)),
        answered,
        sessions=(SA, overlapping),
        more_rows={"sa-autre": busy_declined},
    )
    (declined,) = [n for p, n in found if n.kind == "declined" and p.email == NATHALIE]
    assert declined.alternatives == ("Bruno Busy (busy@jury.example)",)


def test_a_decline_also_proposes_the_jury_directorys_habilitated_jurors() -> None:
    """Jurors of config/jury.yaml who sit on no session are proposed too, when habilitated for
    the title (and its CCPs) until the session's end; not those of other titles."""
    listed = {
        "dir@jury.example": DirectoryJuror(
            name="Denise Annuaire",
            email="dir@jury.example",
            titles=("TP-00374",),
            habilitation_until=date(2029, 1, 31),
        ),
        "web@jury.example": DirectoryJuror(
            name="Wassim Web",
            email="web@jury.example",
            titles=("TP-01280",),
            habilitation_until=date(2029, 1, 31),
        ),
        "gone@jury.example": DirectoryJuror(
            name="Gilles Échu",
            email="gone@jury.example",
            titles=("TP-00374",),
            habilitation_until=date(2027, 3, 1),
        ),
    }
    rows = [row("c@jury.example"), row("p@jury.example", "DECLINED")]
    answered = {(SA.id, "p@jury.example"): reply("p@jury.example", "DECLINED")}
    found = jury_notices(
        planned(SA), {SA.id: rows}, answered, [], POLICY, at(date(2027, 1, 21)), listed
    )
    (declined,) = [n for p, n in found if n.kind == "declined" and p.email == NATHALIE]
    assert declined.alternatives == ("Denise Annuaire (dir@jury.example)",)


BUSY = {"name": "Bruno Busy", "email": "busy@jury.example", "habilitation_until": "2030-01-01"}


def _declined_day(day: date) -> JurorRow:
    """Patrick accepted the session, then declined ``day`` alone."""
    when = at(date(2027, 1, 20), 10)
    answer = DayAnswer(day, "DECLINED", when, when, "link", None)
    return row("p@jury.example", "ACCEPTED", days=(answer,), recorded_at=when)


def _proposed(
    rows: list[JurorRow], *others: Session, more: dict[str, list[JurorRow]] | None = None
) -> list[tuple[date | None, tuple[str, ...]]]:
    found = notices(
        rows,
        at(date(2027, 1, 21)),
        {},
        sessions=(SA, *others),
        more_rows=more or {o.id: [] for o in others},
    )
    return [
        (n.day, n.alternatives)
        for p, n in found
        if n.kind == "declined" and p.email == NATHALIE and n.session.id == SA.id
    ]


def test_a_juror_declining_one_day_is_replaced_by_jurors_free_that_day() -> None:
    """Bruno sits on another session of the same week whose only exam day is Thursday: he is
    free on Tuesday (proposed for Tuesday), not on Thursday, nor for the whole week."""
    thursday_only = session(
        id="sa-jeudi",
        days=[{"date": date(2027, 3, 18), "start": "08:30", "end": "17:00"}],
        jury=[BUSY],
    )
    bruno = ("Bruno Busy (busy@jury.example)",)
    tuesday, thursday = date(2027, 3, 16), date(2027, 3, 18)
    assert _proposed([row("c@jury.example"), _declined_day(tuesday)], thursday_only) == [
        (tuesday, bruno)
    ]
    assert _proposed([row("c@jury.example"), _declined_day(thursday)], thursday_only) == [
        (thursday, ())
    ]
    whole = row("p@jury.example", "DECLINED", recorded_at=at(date(2027, 1, 20), 10))
    assert _proposed([row("c@jury.example"), whole], thursday_only) == [(None, ())]


def test_a_juror_who_declined_that_day_elsewhere_is_free_that_day() -> None:
    """Bruno sits on another session of the whole week but declined its Tuesday: free on
    Tuesday only."""
    same_week = session(id="sa-autre", jury=[BUSY])
    when = at(date(2027, 1, 19), 10)
    declined = DayAnswer(date(2027, 3, 16), "DECLINED", when, when, "imip", None)
    elsewhere = {"sa-autre": [row("busy@jury.example", "ACCEPTED", s=same_week, days=(declined,))]}
    tuesday, wednesday = date(2027, 3, 16), date(2027, 3, 17)
    rows = [row("c@jury.example"), _declined_day(tuesday)]
    assert _proposed(rows, same_week, more=elsewhere) == [
        (tuesday, ("Bruno Busy (busy@jury.example)",))
    ]
    rows = [row("c@jury.example"), _declined_day(wednesday)]
    assert _proposed(rows, same_week, more=elsewhere) == [(wednesday, ())]


def test_the_notice_of_one_day_says_who_is_free_that_day() -> None:
    from syncsvc.formats.mail_views import notice_texts

    tuesday = date(2027, 3, 16)
    found = notices([row("c@jury.example"), _declined_day(tuesday)], at(date(2027, 1, 21)), {})
    (notice,) = [n for p, n in found if n.kind == "declined" and p.email == NATHALIE]
    (text,) = notice_texts([notice], None)
    assert text.heading.endswith("un membre du jury ne pourra pas venir le mardi 16 mars 2027")
    assert text.lines[-1].startswith(
        "Aucun autre membre des fichiers de session n'est habilité sur ce titre et libre le "
        "mardi 16 mars 2027"
    )
    with_one = dataclasses.replace(notice, alternatives=("Bruno Busy (busy@jury.example)",))
    (text,) = notice_texts([with_one], None)
    assert text.lines[-1] == (
        "Membres habilités sur ce titre et libres le mardi 16 mars 2027 : "
        "Bruno Busy (busy@jury.example)"
    )


def test_a_session_whose_span_overlaps_but_no_exam_day_does_not_keep_a_juror_busy() -> None:
    """Exam days, not the start–end span: a session from Monday to the next Monday that sits on
    the two Mondays only leaves its jurors free from Tuesday to Friday."""
    mondays = session(
        id="sa-lundis",
        start=date(2027, 3, 15),
        end=date(2027, 3, 22),
        days=[
            {"date": date(2027, 3, 15), "start": "08:30", "end": "17:00"},
            {"date": date(2027, 3, 22), "start": "08:30", "end": "17:00"},
        ],
        jury=[BUSY],
    )
    friday = date(2027, 3, 19)
    assert _proposed([row("c@jury.example"), _declined_day(friday)], mondays) == [
        (friday, ("Bruno Busy (busy@jury.example)",))
    ]


def test_a_counter_is_news_for_the_coordinators() -> None:
    counter = reply(
        "p@jury.example",
        "TENTATIVE",
        kind="counter",
        proposed="du mardi 16 mars 2027 à 8 h 30 au vendredi 19 mars 2027 à 18 h",
    )
    outdated = reply("c@jury.example", "TENTATIVE", kind="counter", key="old", sequence=3)
    found = notices(
        [row("p@jury.example", "ACCEPTED"), row("c@jury.example", "ACCEPTED")],
        at(date(2027, 1, 21)),
        counters=[counter, outdated],
    )
    assert kinds(found) == [(NATHALIE, "counter")]
    assert found[0][1].detail.startswith("du mardi 16 mars 2027")


# --- in the one mail of the day ---------------------------------------------------------------


def test_the_news_joins_the_mail_of_the_day_once() -> None:
    plan = plan_sessions_for(SA, at(date(2027, 2, 12)))
    rows = [row("c@jury.example", "ACCEPTED"), row("p@jury.example"), row("a@jury.example")]
    news = notices(rows, at(date(2027, 2, 12)))
    sent: set[str] = set()
    mails = due_notifications(
        plan, POLICY, at(date(2027, 2, 12)), queued=sent.__contains__, jury=news
    )
    to_nathalie = [m for m in mails if m.kind == "reminder" and m.recipient.email == NATHALIE]
    assert len(to_nathalie) == 1  # one mail of the day: milestones and the jury's news together
    (mail,) = to_nathalie
    assert [n.kind for n in mail.notices] == ["too_few"]
    sent.add(mail.key)
    next_day = at(date(2027, 2, 15))
    news = notices(rows, next_day)
    again = due_notifications(plan, POLICY, next_day, queued=sent.__contains__, jury=news)
    assert all(not m.notices for m in again)  # told once


def test_a_juror_s_reminder_reads_well_with_its_two_links() -> None:
    ((person, notice),) = notices([row("c@jury.example")], at(date(2027, 1, 11)))
    mails = due_notifications(planned(SA), POLICY, at(date(2027, 1, 11)), jury=[(person, notice)])
    (mail,) = [m for m in mails if m.recipient.email == "c@jury.example"]
    assert subject_for(mail, at(date(2027, 1, 11))) == (
        "Jury du 15/03/2027 : merci de confirmer votre présence"
    )

    def answer_links(
        session_id: str, email: str, sequence: int, day: date | None
    ) -> tuple[str, str]:
        base = f"https://examens.example.org/jury/{session_id}/{sequence}"
        on = f"&d={day.isoformat()}" if day else ""
        return f"{base}/accept?a={email}{on}&t=x", f"{base}/decline?a={email}{on}&t=x"

    message = compose(
        mail, "Examens <examens@centre.example>", at(date(2027, 1, 11)), answer_links=answer_links
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Nous n'avons pas encore votre réponse à l'invitation ci-dessous." in text
    assert (
        "Vous êtes invité(e) comme membre du jury de la session TP-00374 Secrétaire assistant"
        in text
    )
    assert (
        "Je serai présent(e) :\nhttps://examens.example.org/jury/sa-test/0/accept?a=c@jury.example&t=x\n"
        in text
    )
    assert "Je ne pourrai pas venir :\nhttps://examens.example.org/jury/sa-test/0/decline" in text


def plan_sessions_for(s: Session, now: datetime) -> list[tuple[Session, Centre, list[Milestone]]]:
    ruleset = load_ruleset("tp-2025")
    config = Config(directory=Path("."), ruleset=ruleset)
    config.centres = {CENTRE.id: CENTRE}
    config.rulesets = {CENTRE.id: ruleset}
    config.sessions = {s.id: s}
    return [(p.session, p.centre, p.milestones) for p in plan_sessions(config, {}, now).planned]
