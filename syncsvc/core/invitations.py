"""Jury invitations as state: who must get a REQUEST or a CANCEL now (pure).

An invitation is one jury member's copy of one exam session. Its *meaning* is a hash of what
the member must know (dates, times, place, title); the store keeps, per (session, member), the
SEQUENCE and meaning last sent. A new member or a changed meaning gets a REQUEST with SEQUENCE
+ 1; a member removed from the jury, a cancelled session or a deleted session file gets a CANCEL.
A session whose file fails to load changes nothing. The surveillant and the comédien named in
a session file are invited the same way (same UID, their own SEQUENCE and answers).

An invitation goes only to a juror who can sit: :func:`holds` reads the session's findings
(:mod:`syncsvc.core.checks`) and holds the invitation of a juror whose habilitation is not for
this title, CCP or dates, who has a conflict of interest or runs the session, and of every juror
of a session without an agrément (or title) that covers it. A held juror gets no REQUEST; one
already invited keeps that invitation and gets no CANCEL from syncsvc either — the coordinators,
told once per juror and reason, decide (removing the juror from the jury sends the CANCEL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from syncsvc.core.model import Centre, Finding, Milestone, Person, Session

Method = Literal["REQUEST", "CANCEL"]
Role = Literal["jury", "surveillant", "comedien"]
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
    role: Role = "jury"

    def state(self, event: str) -> InvitationState:
        status = "invited" if self.method == "REQUEST" else "cancelled"
        return InvitationState(
            self.session_id, self.email, self.name, self.sequence, self.meaning, status, event
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


def invited_people(session: Session) -> list[tuple[Person, Role]]:
    """Everyone invited to ``session``'s exam, each address once: the jury, then the
    surveillant and the comédien when the session names them."""
    people: list[tuple[Person, Role]] = [(m, "jury") for m in session.jury]
    if session.surveillant is not None:
        people.append((session.surveillant, "surveillant"))
    if session.comedien is not None:
        people.append((session.comedien, "comedien"))
    seen: set[str] = set()
    out = []
    for person, role in people:
        if person.email not in seen:
            seen.add(person.email)
            out.append((person, role))
    return out


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
            )
        )
    return out
