"""The jury's standing, read from the store: invitations, answers, holds (for the CLI, the
dashboard and the mailer)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from syncsvc.core.checks import check_session
from syncsvc.core.clock import Now
from syncsvc.core.exam_days import exam_days
from syncsvc.core.invitations import InvitationState
from syncsvc.core.jury import JurorRow, JuryReply, answers, day_answers, juror_rows
from syncsvc.core.model import Finding
from syncsvc.core.planner import Planned
from syncsvc.state.store import Store


@dataclass
class JuryBoard:
    """Every session's jurors, with the store's replies (all of them, for the panel)."""

    rows: dict[str, list[JurorRow]] = field(default_factory=dict)
    replies: list[JuryReply] = field(default_factory=list)
    states: dict[tuple[str, str], InvitationState] = field(default_factory=dict)
    answers: dict[tuple[str, str], JuryReply] = field(default_factory=dict)
    """The answers to the whole session."""
    day_answers: dict[tuple[str, str], dict[date, JuryReply]] = field(default_factory=dict)
    """The answers to single exam days that still stand."""

    def of(self, session_id: str) -> list[JurorRow]:
        return self.rows.get(session_id, [])

    def replies_of(self, session_id: str, emails: Iterable[str]) -> list[JuryReply]:
        """The replies about ``session_id``, and those of its jurors no session was found for."""
        jurors = set(emails)
        return [
            r
            for r in self.replies
            if r.session_id == session_id or (r.session_id is None and r.email in jurors)
        ]


def jury_board(
    planned: Iterable[Planned],
    store: Store,
    now: Now,
    findings: dict[str, list[Finding]] | None = None,
) -> JuryBoard:
    """The board at ``now``; ``findings`` by session when the caller has them already."""
    states = store.invitation_states()
    replies = store.jury_replies()
    answered = answers(replies, states)
    by_day = day_answers(replies, states)
    sent = {
        key: (moment.queued_at, moment.sent_at) for key, moment in store.invitations_sent().items()
    }
    board = JuryBoard(replies=replies, states=states, answers=answered, day_answers=by_day)
    for session, centre, milestones in planned:
        found = (findings or {}).get(session.id)
        if found is None:
            found = check_session(session, centre, milestones, now)
        dates = {d.day for d in exam_days(session, centre)}
        board.rows[session.id] = juror_rows(session, found, states, answered, sent, by_day, dates)
    return board
