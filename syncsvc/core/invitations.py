"""Jury invitations as state: who must get a REQUEST or a CANCEL now (pure).

An invitation is one jury member's copy of one exam session. Its *meaning* is a hash of what
the member must know (dates, times, place, title); the store keeps, per (session, member), the
SEQUENCE and meaning last sent. A new member or a changed meaning gets a REQUEST with SEQUENCE
+ 1; a member removed from the jury, a cancelled session or a deleted session file gets a CANCEL.
A session whose file fails to load changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from syncsvc.core.model import Centre, Milestone, Session

Method = Literal["REQUEST", "CANCEL"]


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

    def state(self, event: str) -> InvitationState:
        status = "invited" if self.method == "REQUEST" else "cancelled"
        return InvitationState(
            self.session_id, self.email, self.name, self.sequence, self.meaning, status, event
        )


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
) -> list[InvitationChange]:
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
        for member in session.jury:
            live.add((session.id, member.email))
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
                )
            )
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
