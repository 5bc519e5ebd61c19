"""Taking back an answer recorded by mistake (« Sans réponse » in the manual entry): the day,
or the whole session, is unanswered again, for the panel, the reminders and the replacements."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from syncsvc.core.invitations import InvitationState
from syncsvc.core.jury import (
    CLEARED,
    JurorRow,
    JuryReply,
    answers,
    day_answers,
    juror_rows,
    manual_entries,
)
from syncsvc.core.jury_notices import jury_notices
from syncsvc.core.reminder_model import Policy
from tests.core.test_jury_notices import CENTRE, INVITED_AT, NATHALIE, SA, at

WEEK = [date(2027, 3, 15) + timedelta(days=n) for n in range(5)]
THU = WEEK[3]
PATRICK = "p@jury.example"
STATES = {
    (SA.id, m.email): InvitationState(SA.id, m.email, m.name, 0, "m", "invited") for m in SA.jury
}
SENT = {(SA.id, m.email, 0): (INVITED_AT, INVITED_AT) for m in SA.jury}


def manual(partstat: str, day: date | None, minutes: int, **changes: Any) -> JuryReply:
    when = at(date(2027, 1, 20), 10) + timedelta(minutes=minutes)
    base: dict[str, Any] = {
        "key": f"manual:{minutes}",
        "source": "manual",
        "kind": "reply",
        "status": "applied",
        "session_id": SA.id,
        "email": PATRICK,
        "name": "Patrick Fontaine",
        "partstat": partstat,
        "sequence": 0,
        "comment": None,
        "replied_at": when,
        "recorded_at": when,
        "by": "Nathalie Técher",
        "id": minutes,
        "day": day,
        **changes,
    }
    return JuryReply(**base)


def patrick(replies: list[JuryReply]) -> JurorRow:
    rows = juror_rows(
        SA, [], STATES, answers(replies, STATES), SENT, day_answers(replies, STATES), WEEK
    )
    return next(r for r in rows if r.email == PATRICK)


# --- what one entry records ------------------------------------------------------------------


def test_a_day_set_back_to_no_answer_is_cleared() -> None:
    shown: dict[date, str | None] = dict.fromkeys(WEEK, "ACCEPTED")
    wanted = {**shown, THU: None}
    assert manual_entries(None, wanted, shown, WEEK) == [(THU, CLEARED)]
    assert manual_entries("ACCEPTED", wanted, shown, WEEK) == [(None, "ACCEPTED"), (THU, CLEARED)]


def test_every_day_set_back_is_the_session_cleared() -> None:
    shown = {**dict.fromkeys(WEEK, "ACCEPTED"), THU: "DECLINED"}
    cleared: dict[date, str | None] = dict.fromkeys(WEEK)
    assert manual_entries(None, cleared, shown, WEEK) == [(None, CLEARED)]
    assert manual_entries(CLEARED, shown, shown, WEEK) == [(None, CLEARED)]
    # the session cleared, and one day answered again in the same entry
    assert manual_entries(CLEARED, {**shown, THU: "ACCEPTED"}, shown, WEEK) == [
        (None, CLEARED),
        (THU, "ACCEPTED"),
    ]


def test_nothing_to_clear_records_nothing() -> None:
    nothing: dict[date, str | None] = dict.fromkeys(WEEK)
    assert manual_entries(CLEARED, nothing, nothing, WEEK) == []


# --- what the answers are worth afterwards ---------------------------------------------------


def test_a_cleared_day_is_awaited_again_and_no_longer_confirmed() -> None:
    row = patrick([manual("ACCEPTED", None, 0), manual(CLEARED, THU, 1)])
    assert row.partstat == "ACCEPTED"
    assert row.answer_on(THU) is None
    assert row.answer_on(WEEK[0]) == "ACCEPTED"
    assert row.open_days == (THU,)
    assert row.awaited
    assert not row.confirmed
    assert row.declined_days == ()


def test_a_cleared_session_is_unanswered_with_its_days() -> None:
    replies = [manual("ACCEPTED", None, 0), manual("DECLINED", THU, 1), manual(CLEARED, None, 2)]
    row = patrick(replies)
    assert (row.partstat, row.days, row.open_days, row.awaited) == ("NEEDS-ACTION", (), (), True)
    assert row.replied_at is None
    assert [(d, patrick(replies).answer_on(d)) for d in WEEK] == [(d, None) for d in WEEK]


def test_a_day_answered_alone_then_cleared_leaves_it_open() -> None:
    row = patrick(
        [manual("ACCEPTED", WEEK[0], 0), manual("DECLINED", THU, 1), manual(CLEARED, THU, 2)]
    )
    assert row.partstat == "NEEDS-ACTION"
    assert row.open_days == tuple(d for d in WEEK if d != WEEK[0])
    assert row.declined_days == ()


def test_every_day_cleared_one_by_one_is_the_session_unanswered() -> None:
    replies = [manual("ACCEPTED", None, 0)] + [
        manual(CLEARED, d, n + 1) for n, d in enumerate(WEEK)
    ]
    row = patrick(replies)
    assert (row.partstat, row.days, row.awaited) == ("NEEDS-ACTION", (), True)


def test_an_answer_after_the_clearing_stands() -> None:
    row = patrick(
        [manual("DECLINED", None, 0), manual(CLEARED, None, 1), manual("ACCEPTED", None, 2)]
    )
    assert (row.partstat, row.awaited) == ("ACCEPTED", False)


# --- what people are told ----------------------------------------------------------------------


def notices_for(replies: list[JuryReply], now: datetime) -> list[tuple[str, str, tuple[date, ...]]]:
    answered = answers(replies, STATES)
    rows = {SA.id: juror_rows(SA, [], STATES, answered, SENT, day_answers(replies, STATES), WEEK)}
    found = jury_notices([(SA, CENTRE, [])], rows, answered, [], Policy(), now)
    return [(p.email, n.kind, n.days) for p, n in found if PATRICK in (p.email, n.email)]


def test_a_decline_cleared_before_the_mail_of_the_day_is_never_told() -> None:
    """Recorded on the wrong juror, then cleared: the coordination is not told of a decline
    nobody gave (the notice is withdrawn before the mail of the day), and the clearing itself
    is no news (whoever cleared it knows; the ledger keeps who and when)."""
    declined = [manual("DECLINED", None, 0)]
    assert (NATHALIE, "declined", ()) in notices_for(declined, at(date(2027, 1, 21)))
    cleared = [*declined, manual(CLEARED, None, 5)]
    assert notices_for(cleared, at(date(2027, 1, 21))) == [
        (PATRICK, "answer_reminder", ())  # asked again (the reminder of the 18th, a week old)
    ]


def test_the_reminder_asks_again_for_the_cleared_day_only() -> None:
    """Patrick accepted every day on the 10th; Thursday was cleared: the reminder 14 days after
    the invitation (18 January) asks for Thursday only."""
    replies = [
        manual(
            "ACCEPTED", None, 0, replied_at=at(date(2027, 1, 10)), recorded_at=at(date(2027, 1, 10))
        ),
        manual(
            CLEARED, THU, 1, replied_at=at(date(2027, 1, 10)), recorded_at=at(date(2027, 1, 10))
        ),
    ]
    assert notices_for(replies, at(date(2027, 1, 18), 12)) == [(PATRICK, "answer_reminder", (THU,))]
    assert notices_for(replies[:1], at(date(2027, 1, 18), 12)) == []


def test_a_single_day_session_is_cleared_by_its_one_list() -> None:
    one = [THU]
    assert manual_entries(CLEARED, {}, {THU: "DECLINED"}, one) == [(None, CLEARED)]
    assert manual_entries(CLEARED, {}, {THU: None}, one) == []
