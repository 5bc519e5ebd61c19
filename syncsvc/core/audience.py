"""Who sees what: the milestones each audience's calendar carries (pure).

An *audience* is written ``coordinators:<centre>``, ``session_manager:<email>``,
``jury:<email>`` or ``all``:

- a centre's coordinators see every milestone of the sessions held at their centre;
- a session manager (or deputy) sees, for the sessions they manage, the milestones that name
  them and the exam session itself;
- ``jury:<email>`` is a person convened to exams — a jury member, the surveillant or the
  comédien of the role plays (:meth:`~syncsvc.core.model.Session.convened`): they see only the
  exam sessions they are convened to, whatever as (a juror of one session who is the
  surveillant of another sees both) — never other sessions, never the organisers' checklists
  of deadlines;
- a centre's yearly milestones (the annual programming), tied to no session, are seen by that
  centre's coordinators only (and ``all``): no session manager, no juror;
- ``all`` is for the service's administrators.

Candidates' personal data is never in any calendar, whatever the audience: rendering uses counts
only (see :mod:`syncsvc.formats.ical`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from syncsvc.core.model import ConvenedRole, Milestone, Session

MANAGER_ROLES = frozenset({"session_manager", "deputy_manager"})


def parse(audience: str) -> tuple[str, str]:
    kind, _, who = audience.partition(":")
    return kind, who.lower()


def sees(audience: str, session: Session, milestone: Milestone) -> bool:
    kind, who = parse(audience)
    if kind == "all":
        return True
    if kind == "coordinators":
        return session.centre == who
    if kind == "session_manager":
        managers = {session.session_manager.email}
        if session.deputy_manager is not None:
            managers.add(session.deputy_manager.email)
        return who in managers and (
            milestone.id == "exam_session" or bool(MANAGER_ROLES & set(milestone.audience))
        )
    if kind == "jury":
        return milestone.id == "exam_session" and session.convened_as(who) is not None
    raise ValueError(f"unknown audience {audience!r}")


def sees_centre(audience: str, centre_id: str) -> bool:
    """Whether ``audience`` sees the yearly milestones of ``centre_id``."""
    kind, who = parse(audience)
    if kind == "all":
        return True
    if kind in ("coordinators", "session_manager", "jury"):
        return kind == "coordinators" and who == centre_id
    raise ValueError(f"unknown audience {audience!r}")


def calendar_name(audience: str, centre_names: dict[str, str]) -> str:
    """A French display name for the calendar or feed of ``audience``."""
    kind, who = parse(audience)
    if kind == "coordinators":
        return f"Examens TP — {centre_names.get(who, who)}"
    if kind == "session_manager":
        return f"Examens TP — responsable de session {who}"
    if kind == "jury":
        return f"Examens TP — convocations de {who}"
    return "Examens TP — toutes les sessions"


@dataclass(frozen=True, slots=True)
class Convened:
    """A person convened to exams, with every session they are convened to and as what: the
    public ``jury:<email>`` has items for exactly these sessions."""

    email: str
    name: str
    sittings: tuple[tuple[Session, ConvenedRole], ...]

    @property
    def centres(self) -> frozenset[str]:
        return frozenset(session.centre for session, _ in self.sittings)


def convened_people(sessions: Iterable[Session]) -> dict[str, Convened]:
    """Everyone convened to the exam of one of ``sessions`` (juror, surveillant, comédien), by
    address, sorted by name; each person's sessions earliest first, their name as the earliest
    session spells it."""
    found: dict[str, list[tuple[Session, str, ConvenedRole]]] = {}
    for session in sorted(sessions, key=lambda s: (s.start, s.id)):
        for person, role in session.convened():
            found.setdefault(person.email, []).append((session, person.name, role))
    people = [
        Convened(email, sits[0][1], tuple((s, role) for s, _, role in sits))
        for email, sits in found.items()
    ]
    return {p.email: p for p in sorted(people, key=lambda p: (p.name.casefold(), p.email))}
