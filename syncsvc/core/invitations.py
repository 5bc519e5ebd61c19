"""Jury invitations as state: who must get a REQUEST or a CANCEL now (pure).

An invitation is one jury member's copy of one exam session. Its *meaning* is a hash of what
the member must know (dates, times, place, title); the store keeps, per (session, member), the
SEQUENCE and meaning last sent. A new member or a changed meaning gets a REQUEST with SEQUENCE
+ 1; a member removed from the jury, a cancelled session or a deleted session file gets a CANCEL.
A session whose file fails to load changes nothing. The surveillant and the comédien named in
a session file are invited the same way (same UID, their own SEQUENCE and answers).

What a juror was told is kept too, as a :class:`Briefing` (the title, the days and hours, the
place, the session manager: nothing about candidates), so that an update says what changed
(old → new) and a CANCEL says what happened: the session is cancelled, the juror is no longer on
its jury, or the session left the centre's planning (its file was removed).

An invitation goes only to a juror who can sit: :func:`holds` reads the session's findings
(:mod:`syncsvc.core.checks`) and holds the invitation of a juror whose habilitation is not for
this title, CCP or dates, who has a conflict of interest or runs the session, and of every juror
of a session without an agrément (or title) that covers it. A held juror gets no REQUEST; one
already invited keeps that invitation and gets no CANCEL from syncsvc either — the coordinators,
told once per juror and reason, decide (removing the juror from the jury sends the CANCEL).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Literal

from syncsvc.core.checks import check_session
from syncsvc.core.clock import Now, local_today
from syncsvc.core.exam_days import exam_days, exam_place
from syncsvc.core.model import Centre, ConvenedRole, Finding, Milestone, Person, Session

Method = Literal["REQUEST", "CANCEL"]
Happened = Literal["cancelled", "removed", "withdrawn"]
"""Why a CANCEL: the session is cancelled; the juror is no longer on its jury; the session's
file left the configuration (the session is no longer planned)."""
BRIEFING_VERSION = 1


@dataclass(frozen=True, slots=True)
class Briefing:
    """What one invitation told a juror, to say later what changed: the minimum (no
    candidate, no other juror). Times are ISO texts: a date for a session without its first
    day's start time, an aware date-time otherwise."""

    title: str
    """``TP-00374 Secrétaire assistant (TITRE)``."""
    start: str
    end: str
    """The first moment and the last (the last day, for dates: inclusive)."""
    place: str
    manager: str
    manager_email: str
    welcome: str = ""
    """``HH:MM``, when the jury is welcomed on the first day (``jury_welcome``); empty when
    the session does not say."""
    days: str = ""
    """The exam days (:func:`syncsvc.core.exam_days.exam_days`), separated by spaces: ``start/end``
    (aware date-times) per day, a date alone for a whole day; empty in a briefing kept before
    the days were."""

    @classmethod
    def of(cls, session: Session, centre: Centre, exam: Milestone) -> Briefing:
        nature = session.nature.upper() + (f" {session.ccp_code}" if session.ccp_code else "")
        if exam.starts_at is not None and exam.ends_at is not None:
            start, end = exam.starts_at.isoformat(), exam.ends_at.isoformat()
        else:
            start, end = session.start.isoformat(), session.end.isoformat()
        manager: Person = session.session_manager
        return cls(
            title=f"{session.title.code} {session.title.label} ({nature})",
            start=start,
            end=end,
            place=exam_place(session, centre),
            manager=manager.name,
            manager_email=manager.email,
            days=days_of(session, centre),
            welcome=f"{session.jury_welcome:%H:%M}" if session.jury_welcome else "",
        )

    def dumps(self) -> str:
        return json.dumps(
            {"v": BRIEFING_VERSION, **asdict(self)}, ensure_ascii=False, sort_keys=True
        )

    @classmethod
    def loads(cls, text: str | None) -> Briefing | None:
        """The briefing kept by the store; None when there is none (an invitation sent before
        briefings were kept) or it cannot be read."""
        if not text:
            return None
        try:
            data = json.loads(text)
            if data.pop("v", None) != BRIEFING_VERSION:
                return None
            return cls(**{k: str(v) for k, v in data.items()})
        except (ValueError, TypeError):
            return None

    @property
    def timed(self) -> bool:
        return "T" in self.start

    def moments(self) -> tuple[date | datetime, date | datetime]:
        parse = datetime.fromisoformat if self.timed else date.fromisoformat
        return parse(self.start), parse(self.end)

    def day_moments(self) -> list[tuple[date | datetime, date | datetime]]:
        """Each exam day's first and last moments (the date twice for a whole day); empty when
        the briefing does not say (kept before the days were)."""
        out: list[tuple[date | datetime, date | datetime]] = []
        for part in self.days.split():
            start, _, end = part.partition("/")
            if end:
                out.append((datetime.fromisoformat(start), datetime.fromisoformat(end)))
            else:
                out.append((date.fromisoformat(start), date.fromisoformat(start)))
        return out


def days_of(session: Session, centre: Centre) -> str:
    """The exam days as a :class:`Briefing` keeps them."""
    return " ".join(
        f"{d.starts_at.isoformat()}/{d.ends_at.isoformat()}"
        if d.starts_at is not None and d.ends_at is not None
        else d.day.isoformat()
        for d in exam_days(session, centre)
    )


Field = Literal["title", "dates", "hours", "welcome", "place", "manager"]


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing that changed between two briefings."""

    field: Field
    before: Briefing
    after: Briefing


def differences(before: Briefing, after: Briefing) -> list[Difference]:
    """What changed, in the order a juror reads it: title, dates, hours, place, manager. The
    dates change when a day changes; the hours when only the times do."""
    found: list[Field] = []
    if before.title != after.title:
        found.append("title")
    old_days, new_days = before.day_moments(), after.day_moments()
    if old_days and new_days:  # day by day
        if [_day(s) for s, _ in old_days] != [_day(s) for s, _ in new_days]:
            found.append("dates")
        old_hours = [(_clock(s), _clock(e)) for s, e in old_days]
        new_hours = [(_clock(s), _clock(e)) for s, e in new_days]
        if len(old_hours) != len(new_hours):  # a day more or less: do the hours differ?
            old_hours, new_hours = sorted(set(old_hours), key=str), sorted(set(new_hours), key=str)
        if old_hours != new_hours:
            found.append("hours")
    else:
        old, new = before.moments(), after.moments()
        if [_day(m) for m in old] != [_day(m) for m in new]:
            found.append("dates")
        if [_clock(m) for m in old] != [_clock(m) for m in new]:
            found.append("hours")
    if before.welcome != after.welcome:
        found.append("welcome")
    if before.place != after.place:
        found.append("place")
    if (before.manager, before.manager_email) != (after.manager, after.manager_email):
        found.append("manager")
    return [Difference(f, before, after) for f in found]


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _clock(moment: date | datetime) -> tuple[int, int] | None:
    return (moment.hour, moment.minute) if isinstance(moment, datetime) else None


Role = ConvenedRole
"""Who an invitation is for: a juror, the surveillant, the comédien of the role plays."""

HOLDING_JUROR_CODES = frozenset(
    {
        "jury_other_title",
        "jury_habilitation_expired",
        "jury_ccp_limited",
        "jury_ccp_not_covered",
        "jury_conflict",
        "session_manager_in_jury",
    }
)
"""Findings about one juror (``Finding.juror``) that hold that juror's invitation."""
HOLDING_SESSION_CODES = frozenset(
    {
        "agrement_missing",
        "agrement_expired",
        "agrement_ends_during_session",
        "agrement_wrong_version",
        "title_expired",
    }
)
"""Findings about the session that hold every juror's invitation."""


@dataclass(frozen=True, slots=True)
class InvitationState:
    """What the store remembers of the last invitation sent to one member."""

    session_id: str
    email: str
    name: str
    sequence: int
    meaning: str
    status: str  # invited | cancelled
    event: str = ""
    """The VEVENT last sent, so a CANCEL can be built even when the session file is gone."""
    briefing: str = ""
    """What the last message told the juror (:meth:`Briefing.dumps`); empty before it was
    kept."""


@dataclass(frozen=True, slots=True)
class InvitationChange:
    method: Method
    session_id: str
    email: str
    name: str
    sequence: int
    meaning: str
    session: Session | None
    centre: Centre | None
    exam: Milestone | None

    @property
    def key(self) -> str:
        return f"invitation:{self.session_id}:{self.email}:{self.method}:{self.sequence}"

    previous_event: str = ""
    previous: Briefing | None = None
    """What the juror was last told, when it is known (an update then says what changed)."""
    previous_status: str | None = None
    """``invited`` or ``cancelled`` before this change; None for a first invitation."""
    happened: Happened | None = None
    """Why a CANCEL."""
    role: Role = "jury"

    @property
    def briefing(self) -> Briefing | None:
        """What this message tells: the session as it is now, else (a CANCEL of a session
        whose file is gone) what the juror was last told."""
        if self.session is not None and self.centre is not None and self.exam is not None:
            return Briefing.of(self.session, self.centre, self.exam)
        return self.previous

    @property
    def update(self) -> bool:
        """A REQUEST to a juror already invited (not a first invitation, nor a new one after a
        CANCEL)."""
        return self.method == "REQUEST" and self.previous_status == "invited"

    def differences(self) -> list[Difference]:
        """What changed since the last message, for an update whose previous briefing is
        known (empty otherwise)."""
        now = self.briefing
        if not self.update or self.previous is None or now is None:
            return []
        return differences(self.previous, now)

    def state(self, event: str) -> InvitationState:
        status = "invited" if self.method == "REQUEST" else "cancelled"
        briefing = self.briefing
        return InvitationState(
            self.session_id,
            self.email,
            self.name,
            self.sequence,
            self.meaning,
            status,
            event,
            briefing.dumps() if briefing is not None else "",
        )


@dataclass(frozen=True, slots=True)
class Hold:
    """An invitation not sent: one juror of one session, and one reason (a finding)."""

    session_id: str
    email: str
    name: str
    code: str
    reason: str

    def key(self, coordinator: str) -> str:
        """Idempotency key of the mail telling ``coordinator``: once per session, juror,
        reason and coordinator (hashed: two addresses would not fit the store's key)."""
        digest = hashlib.sha256(f"{self.email}|{self.code}|{coordinator}".encode()).hexdigest()
        return f"invitation_hold:{self.session_id}:{digest[:40]}"


def holds(session: Session, findings: Iterable[Finding]) -> list[Hold]:
    """The invitations of ``session`` to hold, by juror and reason, given its findings."""
    found = list(findings)
    common = [f for f in found if f.code in HOLDING_SESSION_CODES]
    out: list[Hold] = []
    seen: set[str] = set()
    for member in session.jury:
        if member.email in seen:
            continue
        seen.add(member.email)
        own = [f for f in found if f.juror == member.email and f.code in HOLDING_JUROR_CODES]
        reasons = {f.code: f.message for f in [*own, *common]}
        out += [Hold(session.id, member.email, member.name, c, m) for c, m in reasons.items()]
    return out


def session_holds(
    session: Session, centre: Centre, milestones: Iterable[Milestone], now: Now
) -> list[Hold]:
    """The invitations of ``session`` held at ``now``, from its findings (none for a cancelled
    session): the sender's decision, which the dashboard's preview shows as it is."""
    if session.cancelled:
        return []
    return holds(session, check_session(session, centre, milestones, now))


def upcoming(session: Session, centre: Centre, now: Now) -> bool:
    """Whether ``session``'s jury may still get messages: it has not ended (the centre's day).
    A past session changes nothing (no invitation, update nor cancellation)."""
    return session.end >= local_today(now, centre.tz)


def invited_people(session: Session) -> list[tuple[Person, Role]]:
    """Everyone invited to ``session``'s exam, each address once: the jury, then the
    surveillant and the comédien when the session names them."""
    return session.convened()


def meaning(session: Session, centre: Centre, exam: Milestone) -> str:
    parts = [
        session.title.code,
        session.title.label,
        session.nature,
        session.ccp_code or "",
        str(exam.starts_at or exam.due),
        str(exam.ends_at or exam.ends_on),
        session.location or centre.name,
        session.session_manager.email,
    ]
    if session.jury_welcome is not None:  # only when set: older invitations keep their hash
        parts.append(f"welcome {session.jury_welcome:%H:%M}")
    if session.days:  # listed days: a day's hours changed is an update (the default days
        parts.append(days_of(session, centre))  # follow from the fields above)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def changes(
    planned: Iterable[tuple[Session, Centre, list[Milestone]]],
    states: Mapping[tuple[str, str], InvitationState],
    protected: frozenset[str] = frozenset(),
    held: frozenset[tuple[str, str]] = frozenset(),
) -> list[InvitationChange]:
    """REQUESTs and CANCELs due now; ``held`` (session id, juror e-mail) get neither."""
    out: list[InvitationChange] = []
    live: set[tuple[str, str]] = set()
    known: dict[str, tuple[Session, Centre, Milestone]] = {}
    for session, centre, milestones in planned:
        exam = next((m for m in milestones if m.id == "exam_session"), None)
        if exam is None:
            continue
        known[session.id] = (session, centre, exam)
        if session.cancelled:
            continue
        now_meaning = meaning(session, centre, exam)
        for member, role in invited_people(session):
            live.add((session.id, member.email))
            if (session.id, member.email) in held:
                continue
            state = states.get((session.id, member.email))
            if state is not None and state.status == "invited" and state.meaning == now_meaning:
                continue
            sequence = 0 if state is None else state.sequence + 1
            out.append(
                InvitationChange(
                    "REQUEST",
                    session.id,
                    member.email,
                    member.name,
                    sequence,
                    now_meaning,
                    session,
                    centre,
                    exam,
                    previous_event=state.event if state else "",
                    previous=Briefing.loads(state.briefing) if state else None,
                    previous_status=state.status if state else None,
                    role=role,
                )
            )
    return out + _cancels(states, live, protected, known)


def _cancels(
    states: Mapping[tuple[str, str], InvitationState],
    live: set[tuple[str, str]],
    protected: frozenset[str],
    known: Mapping[str, tuple[Session, Centre, Milestone]],
) -> list[InvitationChange]:
    """A CANCEL to every member invited and no longer on a (not protected) session's jury."""
    out = []
    for (session_id, email), state in sorted(states.items()):
        if state.status != "invited" or (session_id, email) in live:
            continue
        if session_id in protected:
            continue
        found = known.get(session_id)
        happened: Happened = "withdrawn"
        if found is not None:
            happened = "cancelled" if found[0].cancelled else "removed"
        out.append(
            InvitationChange(
                "CANCEL",
                session_id,
                email,
                state.name,
                state.sequence + 1,
                state.meaning,
                found[0] if found else None,
                found[1] if found else None,
                found[2] if found else None,
                previous_event=state.event,
                previous=Briefing.loads(state.briefing),
                previous_status=state.status,
                happened=happened,
            )
        )
    return out
