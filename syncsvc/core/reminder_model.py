"""What the mailer decides about, and for whom (pure): the policy, the people, the mails.

Three kinds of mail leave here (see :mod:`syncsvc.core.reminders`):

- ``reminder``: one person's mail of the day — every milestone that comes up for them that
  day, across their sessions (due soon, due today, overdue), at most one a day; for the
  centre's management, its centre's yearly milestones too (the annual programming, one per
  centre and year, tied to no session), each centre year as its own group;
- ``digest``: one person's weekly point — for coordinators the overdue and coming milestones of
  their sessions, for session managers, deputies and the centre's management the milestones
  overdue for ``escalate_after_days`` or more (regulatory ones only for the management, the
  centre's yearly ones included);
- ``candidate_info``: the notice to one candidate, a few days before the exams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from syncsvc.core.dates import WorkingDays
from syncsvc.core.model import Centre, Milestone, Person, Session

Kind = Literal["reminder", "digest", "candidate_info"]
ItemState = Literal["overdue", "today", "soon"]
Queued = Callable[[str], bool]
"""Whether a message with this key is already in the outbox (the store's ``has_key``)."""

STATE_RANK: dict[ItemState, int] = {"overdue": 0, "today": 1, "soon": 2}


@dataclass(frozen=True, slots=True)
class Policy:
    send_hour: time = time(8, 0)
    overdue_days: tuple[int, ...] = (1, 2, 4, 8, 16)
    """Working days overdue on which an overdue milestone comes back in the mail of the day…"""
    overdue_every_days: int = 5
    """… and then every so many working days (5: once a week)."""
    escalate_after_days: int = 5
    digest_weekday: int = 0
    digest_hour: time = time(8, 0)
    digest_horizon_days: int = 21
    candidate_info_days: int = 3
    jury_answer_days: tuple[int, ...] = (7, 14)
    """Days after an invitation on which a juror who has not answered is reminded."""
    jury_check_days: tuple[int, ...] = (31, 10)
    """Days before a session on which fewer than two accepted jurors is an alert (J-31: the
    jury's convocation deadline; J-10)."""


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str
    role: str


@dataclass(frozen=True, slots=True)
class Item:
    """One milestone in one person's mail of the day."""

    session: Session | None
    """None for a centre's yearly milestone (see :attr:`year`)."""
    centre: Centre
    milestone: Milestone
    state: ItemState
    days: int
    """Days left before the due date (``soon``), 0 (``today``), days since it (``overdue``)."""
    since: datetime
    """When this occurrence came up (its sending time in its centre): a mail of the person
    sent at or after it carries it, and it is not repeated before its next occurrence."""
    repeat: bool = False
    """An overdue milestone's weekly return, after the ``overdue_days`` steps."""
    year: int | None = None
    """The year of a centre's yearly milestone (None for a session's)."""

    @property
    def owner(self) -> str:
        """Whose milestone this is: the session id, or the centre year's owner key
        (``centre:<centre>:<year>``, the milestone's ``session_id``)."""
        return self.session.id if self.session is not None else self.milestone.session_id

    @property
    def urgency(self) -> tuple[int, int, date, str]:
        late_first = -self.days if self.state == "overdue" else self.days
        return (STATE_RANK[self.state], late_first, self.milestone.due, self.milestone.id)


NoticeKind = Literal["too_few", "declined", "counter", "answer_reminder"]
NOTICE_RANK: dict[NoticeKind, int] = {
    "too_few": 0,
    "declined": 1,
    "counter": 2,
    "answer_reminder": 3,
}


@dataclass(frozen=True, slots=True)
class JuryNotice:
    """One piece of news about a session's jury in a person's mail of the day: to the
    coordinators, a juror declined (with other jurors who could sit), fewer than two accepted
    at J-31 or J-10, a juror proposes another time; to a juror, their answer is awaited."""

    kind: NoticeKind
    session: Session
    centre: Centre
    since: datetime
    """When it came up: carried by the person's next mail of the day, once."""
    juror: str = ""
    """The juror's name (declined, counter, answer_reminder)."""
    email: str = ""
    detail: str = ""
    """The juror's comment, or the proposed time of a COUNTER."""
    comment: str = ""
    alternatives: tuple[str, ...] = ()
    """Declined: other jurors of the directory habilitated for the title and free then."""
    accepted: int = 0
    invited: int = 0
    days_before: int = 0
    """too_few: J-31 or J-10."""
    sequence: int = 0
    """answer_reminder: the invitation the juror's links answer."""
    role: str = "jury"
    """Who the juror is: ``jury``, ``surveillant`` or ``comedien``."""
    day: date | None = None
    """declined: the one exam day declined (None: the whole session)."""
    days: tuple[date, ...] = ()
    """answer_reminder: the exam days still unanswered when others are answered (empty: the
    juror answered nothing yet)."""

    @property
    def urgency(self) -> tuple[int, date, str]:
        return (NOTICE_RANK[self.kind], self.session.start, self.email)


@dataclass(frozen=True, slots=True)
class DigestEntry:
    session: Session | None
    """None for a centre's yearly milestone (see :attr:`centre` and :attr:`year`)."""
    milestone: Milestone
    escalated: bool = False
    """Listed because the person manages the session (or the centre) and the milestone is
    overdue for ``escalate_after_days`` or more."""
    centre: Centre | None = None
    """The centre of a centre's yearly milestone."""
    year: int | None = None

    @property
    def owner(self) -> str:
        """The session id, or the centre year's owner key (see :attr:`Item.owner`)."""
        return self.session.id if self.session is not None else self.milestone.session_id


@dataclass(frozen=True, slots=True)
class Notification:
    kind: Kind
    key: str
    recipient: Recipient
    send_at: datetime
    session: Session | None = None
    """The session of a candidate notice."""
    centre: Centre | None = None
    """The centre whose time zone and working days set the person's mail days."""
    items: tuple[Item, ...] = ()
    """A mail of the day: grouped by session, the most urgent session and item first."""
    overdue: tuple[DigestEntry, ...] = field(default=())
    upcoming: tuple[DigestEntry, ...] = field(default=())
    skipped: bool = False
    """A weekly point whose time passed more than a day ago: not to be sent late, only noted."""
    notices: tuple[JuryNotice, ...] = ()
    """A mail of the day: news about the jury of the person's sessions, most urgent first."""

    @property
    def session_ids(self) -> tuple[str, ...]:
        """The sessions this mail speaks of, in order, each once; a centre's yearly milestone
        counts by its owner key (``centre:<centre>:<year>``)."""
        ids = [n.session.id for n in self.notices] + [i.owner for i in self.items]
        ids += [e.owner for e in (*self.overdue, *self.upcoming)]
        if self.session is not None:
            ids.insert(0, self.session.id)
        return tuple(dict.fromkeys(ids))

    def without(self, session_ids: Iterable[str]) -> Notification | None:
        """This mail without what it says of ``session_ids``; None when nothing is left."""
        drop = frozenset(session_ids)
        if self.session is not None and self.session.id in drop:
            return None
        kept = replace(
            self,
            items=tuple(i for i in self.items if i.owner not in drop),
            overdue=tuple(e for e in self.overdue if e.owner not in drop),
            upcoming=tuple(e for e in self.upcoming if e.owner not in drop),
            notices=tuple(n for n in self.notices if n.session.id not in drop),
        )
        empty = not (kept.items or kept.overdue or kept.upcoming or kept.session or kept.notices)
        return None if empty else kept


Planned = Iterable[tuple[Session, Centre, list[Milestone]]]


def moment(day: date, hour: time, centre: Centre) -> datetime:
    return datetime.combine(day, hour, centre.tz)


def add_working_days(day: date, count: int, calendar: WorkingDays) -> date:
    """The ``count``-th working day after ``day`` (count >= 1)."""
    while count > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def recipients(session: Session | None, centre: Centre, roles: Iterable[str]) -> list[Recipient]:
    """The people behind the roles of a rule's audience, each address once. Without a session
    (a centre's yearly milestone), only the centre's own people: its management."""
    people: list[tuple[Person, str]] = []
    for role in roles:
        if session is None:
            if role == "centre_management":
                people += [(p, role) for p in centre.management]
            continue
        if role == "coordinators":
            people += [(p, role) for p in session.coordinators]
        elif role == "session_manager":
            people.append((session.session_manager, role))
        elif role == "deputy_manager" and session.deputy_manager is not None:
            people.append((session.deputy_manager, role))
        elif role == "centre_management":
            people += [(p, role) for p in centre.management]
        elif role == "jury":
            people += [(p, role) for p in session.jury]
    seen: set[str] = set()
    out = []
    for person, role in people:
        if person.email not in seen:
            seen.add(person.email)
            out.append(Recipient(person.name, person.email, role))
    return out


ALL_ROLES = ("coordinators", "session_manager", "deputy_manager", "centre_management", "jury")


def homes(
    planned: Iterable[tuple[Session, Centre, list[Milestone]]],
    centres: Iterable[Centre] = (),
) -> dict[str, Centre]:
    """Each person's home centre: the one (of smallest key) among the sessions they take part
    in (and the ``centres`` whose management they are: those with yearly milestones). Its
    time zone and working days set the person's mail days, whatever the session."""
    out: dict[str, Centre] = {}
    people = [(recipients(s, c, ALL_ROLES), c) for s, c, _ in planned]
    people += [(recipients(None, c, ALL_ROLES), c) for c in centres]
    for found, centre in people:
        for person in found:
            known = out.get(person.email)
            if known is None or centre.id < known.id:
                out[person.email] = centre
    return out
