"""The jury loop's decisions: what a reply is worth, who stands where (pure).

Every reply lands in the store's ledger once (:class:`JuryReply`), whatever its source: an iMIP
REPLY or COUNTER read in the organiser's inbox, a click on a signed link of the invitation, or
a coordinator recording by hand what a juror said in plain words. What counts is decided here,
at read time, against the invitations as they stand:

- a calendar reply is matched by UID (the exam session's, ``<session>.exam_session@syncsvc``)
  and attendee address to an invitation sent; it *applies* when its SEQUENCE is the current one,
  is *outdated* when older (recorded, shown, never counted) and *unmatched* otherwise (unknown
  UID or address, a SEQUENCE never sent): a person looks at it;
- a juror's answer is their latest applied reply **for the current SEQUENCE**: an invitation
  re-sent because the session changed asks again (RFC 5546), so an earlier « accepté » no
  longer counts and the juror is back to NEEDS-ACTION;
- a reply to one occurrence of the recurring invitation (RECURRENCE-ID: « refuser cette
  occurrence ») answers that exam day only (:attr:`JuryReply.day`); a reply without one answers
  every day, and overrides the per-day answers older than it (same order: reply time, then
  recording order);
- a manual entry of « sans réponse » (:data:`CLEARED`) takes an answer back (one recorded on the
  wrong juror): for the whole session, every answer before it; for one day, that day's, which
  is then unanswered again even while the session's answer stands for the other days;
- a COUNTER (« proposer un nouvel horaire ») is shown to the coordinators, never applied;
- a text reply waits for a person (*pending*) until one records the answer it gives
  (*handled*); mail that could not be read is kept as *unreadable*.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal

from syncsvc.core.entries import UID_SUFFIX
from syncsvc.core.invitations import InvitationState, Role, holds, invited_people
from syncsvc.core.model import Finding, Session

Source = Literal["imip", "link", "manual"]
ReplyKind = Literal["reply", "counter", "text", "unreadable"]
ReplyStatus = Literal["applied", "outdated", "unmatched", "pending", "handled", "unreadable"]
Answer = Literal["ACCEPTED", "DECLINED", "TENTATIVE"]
PARTSTATS: Final = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE")
ANSWERS: Final[tuple[Answer, ...]] = ("ACCEPTED", "DECLINED", "TENTATIVE")
CLEARED: Final = "NEEDS-ACTION"
"""The partstat of a manual entry that takes an answer back (« sans réponse »)."""
EXAM_UID_TAIL: Final = f".exam_session{UID_SUFFIX}"


@dataclass(frozen=True, slots=True)
class JuryReply:
    """One row of the ledger: what arrived (or was recorded), about whom, and what it is worth."""

    key: str
    """What makes it once: ``imip:<message>:<n>``, ``link:…``, ``manual:…``."""
    source: Source
    kind: ReplyKind
    status: ReplyStatus
    session_id: str | None
    email: str | None
    name: str
    partstat: str | None
    sequence: int | None
    comment: str | None
    replied_at: datetime
    recorded_at: datetime
    message_id: str | None = None
    subject: str | None = None
    excerpt: str | None = None
    """A text reply's words, or why a message could not be read."""
    proposed: str | None = None
    """A COUNTER's proposed time, in words (« du … au … »)."""
    by: str | None = None
    """Who recorded it by hand (manual), or handled a text reply."""
    id: int | None = None
    day: date | None = None
    """The one exam day a reply answers (its RECURRENCE-ID, in the centre's zone); None: the
    whole session."""


def session_of_uid(uid: str) -> str | None:
    """The session whose exam an invitation UID names; None for any other UID."""
    if not uid.endswith(EXAM_UID_TAIL):
        return None
    session_id = uid[: -len(EXAM_UID_TAIL)]
    return session_id or None


def judge(
    uid: str,
    attendee: str,
    sequence: int,
    states: Mapping[tuple[str, str], InvitationState],
) -> tuple[str | None, ReplyStatus]:
    """(session, status) of a calendar reply, against the invitations sent."""
    session_id = session_of_uid(uid)
    if session_id is None:
        return None, "unmatched"
    state = states.get((session_id, attendee.lower()))
    if state is None or state.status != "invited":
        return session_id, "unmatched"
    if sequence < state.sequence:
        return session_id, "outdated"
    if sequence > state.sequence:
        return session_id, "unmatched"
    return session_id, "applied"


def _counted(
    replies: Iterable[JuryReply], states: Mapping[tuple[str, str], InvitationState]
) -> list[JuryReply]:
    """The applied answers (and clearings) to the current SEQUENCE, by reply time, then
    recording order."""
    out = []
    for reply in sorted(replies, key=lambda r: (r.replied_at, r.id or 0)):
        if reply.kind != "reply" or reply.status != "applied":
            continue
        if reply.partstat not in ANSWERS and not _clears(reply):
            continue
        if reply.session_id is None or reply.email is None:
            continue
        state = states.get((reply.session_id, reply.email))
        if state is None or state.status != "invited" or reply.sequence != state.sequence:
            continue
        out.append(reply)
    return out


def answers(
    replies: Iterable[JuryReply], states: Mapping[tuple[str, str], InvitationState]
) -> dict[tuple[str, str], JuryReply]:
    """Each invited person's answer for the whole session: their latest applied reply without
    a day to the current SEQUENCE (by reply time, then recording order), unless it was cleared
    since."""
    out: dict[tuple[str, str], JuryReply] = {}
    for reply in _counted(replies, states):
        key = (reply.session_id or "", reply.email or "")
        if reply.day is None and _clears(reply):
            out.pop(key, None)
        elif reply.day is None:
            out[key] = reply
    return out


def _clears(reply: JuryReply) -> bool:
    """A manual entry taking an answer back (only a person can say « sans réponse »)."""
    return reply.source == "manual" and reply.partstat == CLEARED


def day_answers(
    replies: Iterable[JuryReply], states: Mapping[tuple[str, str], InvitationState]
) -> dict[tuple[str, str], dict[date, JuryReply]]:
    """Each invited person's answers to single exam days that still stand: the latest per day,
    unless a whole-session answer (or clearing) came after it. A day cleared is kept, as its
    clearing: it overrides the session's answer for that day."""
    out: dict[tuple[str, str], dict[date, JuryReply]] = {}
    for reply in _counted(replies, states):
        key = (reply.session_id or "", reply.email or "")
        if reply.day is None:
            out.pop(key, None)  # the whole session answered (or cleared) again: every day too
        else:
            out.setdefault(key, {})[reply.day] = reply
    return out


@dataclass(frozen=True, slots=True)
class DayAnswer:
    """A juror's answer to one exam day, apart from their answer to the session."""

    day: date
    partstat: str
    replied_at: datetime
    recorded_at: datetime
    source: Source
    comment: str | None


@dataclass(frozen=True, slots=True)
class JurorRow:
    """Where one juror of one session stands: invitation, answer, hold."""

    session_id: str
    email: str
    name: str
    habilitation_until: date | None
    sequence: int | None
    """The SEQUENCE of the invitation in force (None: never invited)."""
    invitation: Literal["invited", "cancelled", "not_sent", "held"]
    invited_at: datetime | None
    """When the invitation in force was queued (the service sends it within the minute)."""
    sent_at: datetime | None
    partstat: str
    """NEEDS-ACTION until an answer to the invitation in force arrives."""
    replied_at: datetime | None
    source: Source | None
    comment: str | None
    held: tuple[str, ...] = ()
    """Why the invitation is held (the findings' messages), when it is."""
    role: Role = "jury"
    """A juror, the surveillant or the comédien (invited and followed the same way)."""
    days: tuple[DayAnswer, ...] = ()
    """Answers to single exam days that differ from :attr:`partstat`, by day."""
    recorded_at: datetime | None = None
    """When the answer in force was recorded."""
    open_days: tuple[date, ...] = ()
    """The exam days still without any answer, while the session as a whole is unanswered
    (known when the rows are built with the session's exam days); the days whose answer was
    cleared, while the session's answer stands for the others."""

    def answer_on(self, day: date) -> str | None:
        """The answer in force for one exam day: the day's own, else the session's (None: no
        answer)."""
        own = next((d.partstat for d in self.days if d.day == day), None)
        if own is not None:
            return own if own != CLEARED else None
        return self.partstat if self.partstat != "NEEDS-ACTION" else None

    @property
    def declined_days(self) -> tuple[date, ...]:
        return tuple(d.day for d in self.days if d.partstat == "DECLINED")

    @property
    def answered(self) -> bool:
        """Said something: for the session, or for one of its days."""
        return self.partstat != "NEEDS-ACTION" or bool(self.days)

    @property
    def awaited(self) -> bool:
        """Still to answer: for the session (nothing said), or for some of its exam days."""
        return bool(self.open_days) or (self.partstat == "NEEDS-ACTION" and not self.days)

    @property
    def confirmed(self) -> bool:
        """Accepted, and declined (or doubted) none of the days."""
        return self.partstat == "ACCEPTED" and all(d.partstat == "ACCEPTED" for d in self.days)


def juror_rows(
    session: Session,
    findings: Iterable[Finding],
    states: Mapping[tuple[str, str], InvitationState],
    answered: Mapping[tuple[str, str], JuryReply],
    sent: Mapping[tuple[str, str, int], tuple[datetime, datetime | None]],
    day_answered: Mapping[tuple[str, str], Mapping[date, JuryReply]] | None = None,
    exam_dates: Collection[date] = (),
) -> list[JurorRow]:
    """One row per person invited to ``session``'s exam (each address once): the jurors in the
    file's order, then the surveillant and the comédien. With ``exam_dates`` (the session's
    exam days), answers to other days are left out, and the same answer given to every exam
    day one by one is the answer to the session."""
    reasons: dict[str, list[str]] = {}
    for hold in holds(session, findings):
        reasons.setdefault(hold.email, []).append(hold.reason)
    rows: list[JurorRow] = []
    for member, role in invited_people(session):
        state = states.get((session.id, member.email))
        held = tuple(reasons.get(member.email, ()))
        invitation: Literal["invited", "cancelled", "not_sent", "held"]
        if state is not None and state.status in ("invited", "cancelled"):
            invitation = "invited" if state.status == "invited" else "cancelled"
        else:
            invitation = "held" if held else "not_sent"
        moments = sent.get((session.id, member.email, state.sequence)) if state else None
        answer = answered.get((session.id, member.email))
        per_day = dict((day_answered or {}).get((session.id, member.email), {}))
        if answer is None:  # nothing to take back on those days: they are simply unanswered
            per_day = {d: r for d, r in per_day.items() if r.partstat != CLEARED}
        if exam_dates:
            per_day = {d: r for d, r in per_day.items() if d in exam_dates}
            if answer is not None and all(
                per_day.get(d) is not None and per_day[d].partstat == CLEARED for d in exam_dates
            ):  # every day cleared one by one: the session is unanswered
                answer, per_day = None, {}
            same = len({r.partstat for r in per_day.values()}) == 1
            if answer is None and same and set(per_day) == set(exam_dates):  # each day, alike
                answer = max(per_day.values(), key=lambda r: (r.replied_at, r.id or 0))
        partstat = answer.partstat if answer is not None and answer.partstat else "NEEDS-ACTION"
        days = tuple(
            DayAnswer(day, r.partstat or "", r.replied_at, r.recorded_at, r.source, r.comment)
            for day, r in sorted(per_day.items())
            if r.partstat != partstat
        )
        unanswered = tuple(sorted(d for d in exam_dates if d not in per_day))
        cleared = tuple(sorted(d for d, r in per_day.items() if r.partstat == CLEARED))
        open_days = unanswered if partstat == "NEEDS-ACTION" and per_day else cleared
        rows.append(
            JurorRow(
                session.id,
                member.email,
                member.name,
                getattr(member, "habilitation_until", None),
                state.sequence if state is not None else None,
                invitation,
                moments[0] if moments else None,
                moments[1] if moments else None,
                partstat,
                answer.replied_at if answer is not None else None,
                answer.source if answer is not None else None,
                answer.comment if answer is not None else None,
                held,
                role,
                days,
                answer.recorded_at if answer is not None else None,
                open_days,
            )
        )
    return rows


def manual_entries(
    every_day: str | None,
    wanted: Mapping[date, str | None],
    shown: Mapping[date, str | None],
    exam_dates: Collection[date],
) -> list[tuple[date | None, str]]:
    """The replies (day, answer) that one manual entry records, in this order; a day None
    answers the whole session, an answer :data:`CLEARED` takes one back (« sans réponse »).

    ``wanted`` is what the entry says of each exam day (None: « sans réponse »), ``shown`` what
    the panel showed of it when the entry was filled in: only the days changed there count (a
    day left as shown is not written again, so an answer that arrived meanwhile stands).
    ``every_day`` (« pour tous les jours ») is written first, as the answer to the session (or
    its clearing), then the days changed to another answer (« oui sauf jeudi »: ACCEPTED, then
    Thursday DECLINED). Without it, changes that leave every exam day with the same answer are
    that one answer to the session (the coordination is told once, not once a day), and
    changes that leave every day « sans réponse » clear the session. A day set back to « sans
    réponse » from an answer is cleared; clearing what has no answer records nothing."""
    changed = {
        d: a if a is not None else CLEARED for d, a in sorted(wanted.items()) if a != shown.get(d)
    }
    if every_day == CLEARED and not any(shown.get(d) for d in exam_dates):
        every_day = None  # nothing answered: nothing to take back
        changed = {d: a for d, a in changed.items() if a != CLEARED}
    if every_day is not None:
        return [(None, every_day)] + [(d, a) for d, a in changed.items() if a != every_day]
    if not changed:
        return []
    after = {changed.get(d, shown.get(d) or CLEARED) for d in exam_dates}
    if len(exam_dates) > 1 and len(after) == 1:
        return [(None, after.pop())]
    return list(changed.items())


def summary(rows: Iterable[JurorRow]) -> tuple[int, int]:
    """(accepted, invited) of one session's jury: « jury : 2 confirmés / 3 invités » (a juror
    who declined one of the days is not confirmed)."""
    found = [r for r in rows if r.invitation == "invited" and r.role == "jury"]
    return sum(r.confirmed for r in found), len(found)
