"""What the jury loop tells people in their mail of the day (pure).

No mail of its own: each notice joins the person's one mail of the day
(:mod:`syncsvc.core.daily_mail`), once, the day after it came up at the latest:

- *answer_reminder*, to a juror invited and still NEEDS-ACTION, on each of ``jury_answer_days``
  (7 and 14) after the invitation; never once they answered, nor after the session started; a
  juror who answered some exam days only is reminded of the others (:attr:`JuryNotice.days`);
- *declined*, to the session's coordinators, when a juror's answer is DECLINED, with the other
  jurors of the directory (every juror of every session file) habilitated for the session and
  free on its exam days (on the jury of no other session that sits one of those days, unless
  they declined that session or that day there); a juror who declined one exam day only (a
  reply to one occurrence, a link, a manual entry) is named for that day, and the jurors
  proposed are those free on that day;
- *too_few*, to the coordinators, on the working day before J-31 (the jury's convocation
  deadline) and J-10 when fewer than two jurors accepted;
- *counter*, to the coordinators, when a juror proposes another time (never applied).

A notice is carried for :data:`WINDOW` at most: one that came up while the service was down
for longer is not sent late. Only the latest reminder or deadline counts (the J+14 reminder
supersedes the J+7 one, J-10 supersedes J-31).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Final

from syncsvc.core.checks.common import MIN_JURY
from syncsvc.core.checks.jury import can_sit
from syncsvc.core.clock import Now, instant, local_moment
from syncsvc.core.dates import working_days
from syncsvc.core.exam_days import exam_days
from syncsvc.core.jury import JurorRow, JuryReply
from syncsvc.core.model import Centre, DirectoryJuror, JuryMember, Milestone, Session
from syncsvc.core.reminder_model import JuryNotice, Policy, Recipient, moment, recipients

WINDOW: Final = timedelta(days=7)

Planned = Iterable[tuple[Session, Centre, list[Milestone]]]


def jury_notices(
    planned: Planned,
    rows: Mapping[str, list[JurorRow]],
    answered: Mapping[tuple[str, str], JuryReply],
    counters: Iterable[JuryReply],
    policy: Policy,
    now: Now,
    listed: Mapping[str, DirectoryJuror] | None = None,
) -> list[tuple[Recipient, JuryNotice]]:
    """Every notice that has come up by ``now`` and is still worth telling; ``listed`` is
    the jury directory (``config/jury.yaml``), whose jurors are proposed too when one
    declines."""
    planned = [(s, c, m) for s, c, m in planned if not s.cancelled]
    directory = _directory(s for s, _, _ in planned)
    out: list[tuple[Recipient, JuryNotice]] = []
    proposals: dict[str, list[JuryReply]] = {}
    for reply in counters:
        if reply.session_id is not None:
            proposals.setdefault(reply.session_id, []).append(reply)
    for session, centre, _ in planned:
        at = local_moment(now, centre.tz)
        if at >= moment(session.start, time(0), centre):
            continue  # the session has started: too late for any of this
        theirs = rows.get(session.id, [])
        coordinators = recipients(session, centre, ("coordinators",))
        out += _reminders_to_jurors(session, centre, theirs, policy, at)
        found: list[JuryNotice] = []
        found += _declined(
            session, centre, theirs, answered, planned, directory, rows, listed or {}
        )
        found += _too_few(session, centre, theirs, policy, at)
        found += _counters(session, centre, theirs, proposals.get(session.id, []))
        out += [(person, n) for n in found for person in coordinators]
    return [
        (p, n) for p, n in out if n.since <= at_instant(now) and at_instant(now) - n.since <= WINDOW
    ]


def at_instant(now: Now) -> datetime:

    return instant(now)


def _reminders_to_jurors(
    session: Session,
    centre: Centre,
    rows: list[JurorRow],
    policy: Policy,
    at: datetime,
) -> list[tuple[Recipient, JuryNotice]]:
    """To each juror still NEEDS-ACTION: the latest reminder day whose time has come."""
    out: list[tuple[Recipient, JuryNotice]] = []
    for row in rows:
        if row.invitation != "invited" or not row.awaited or row.invited_at is None:
            continue
        invited_on = row.invited_at.astimezone(centre.tz).date()
        latest = None
        for days in policy.jury_answer_days:
            when = moment(invited_on + timedelta(days=days), policy.send_hour, centre)
            if when <= at:
                latest = when
        if latest is None or row.sequence is None:
            continue
        notice = JuryNotice(
            "answer_reminder",
            session,
            centre,
            latest,
            juror=row.name,
            email=row.email,
            sequence=row.sequence,
            role=row.role,
            days=row.open_days,
        )
        out.append((Recipient(row.name, row.email, row.role), notice))
    return out


def _declined(
    session: Session,
    centre: Centre,
    rows: list[JurorRow],
    answered: Mapping[tuple[str, str], JuryReply],
    planned: list[tuple[Session, Centre, list[Milestone]]],
    directory: dict[str, JuryMember],
    all_rows: Mapping[str, list[JurorRow]],
    listed: Mapping[str, DirectoryJuror],
) -> list[JuryNotice]:
    out = []
    for row in rows:
        reply = answered.get((session.id, row.email))
        refusals: list[tuple[datetime, str | None, date | None]] = []
        since = reply.recorded_at if reply is not None else row.recorded_at
        if row.partstat == "DECLINED" and since is not None:  # every day declined, at once or not
            comment = reply.comment if reply is not None else row.comment
            refusals.append((since, comment, None))
        refusals += [
            (d.recorded_at, d.comment, d.day) for d in row.days if d.partstat == "DECLINED"
        ]
        for since, comment, day in refusals:
            out.append(
                JuryNotice(
                    "declined",
                    session,
                    centre,
                    since,
                    juror=row.name,
                    email=row.email,
                    comment=comment or "",
                    alternatives=(
                        _alternatives(session, centre, day, planned, directory, all_rows, listed)
                        if row.role == "jury"
                        else ()
                    ),
                    role=row.role,
                    day=day,
                )
            )
    return out


def _too_few(
    session: Session, centre: Centre, rows: list[JurorRow], policy: Policy, at: datetime
) -> list[JuryNotice]:
    jurors = [r for r in rows if r.role == "jury" and r.invitation == "invited"]
    accepted = sum(r.confirmed for r in jurors)
    invited = len(jurors)
    if accepted >= MIN_JURY:
        return []
    calendar = working_days(centre.holiday_zone)
    latest = None
    for days in sorted(policy.jury_check_days, reverse=True):  # J-31, then J-10
        day = calendar.shift(session.start - timedelta(days=days), "previous")
        when = moment(day, policy.send_hour, centre)
        if when <= at:
            latest = (when, days)
    if latest is None:
        return []
    return [
        JuryNotice(
            "too_few",
            session,
            centre,
            latest[0],
            accepted=accepted,
            invited=invited,
            days_before=latest[1],
        )
    ]


def _counters(
    session: Session, centre: Centre, rows: list[JurorRow], proposals: list[JuryReply]
) -> list[JuryNotice]:
    current = {r.email: r.sequence for r in rows if r.invitation == "invited"}
    out = []
    for reply in proposals:
        if reply.status != "applied" or reply.email is None:
            continue
        if current.get(reply.email) != reply.sequence:
            continue
        out.append(
            JuryNotice(
                "counter",
                session,
                centre,
                reply.recorded_at,
                juror=reply.name,
                email=reply.email,
                detail=reply.proposed or "",
                comment=reply.comment or "",
            )
        )
    return out


def _directory(sessions: Iterable[Session]) -> dict[str, JuryMember]:
    """Every juror of every session file, by address (the first entry seen)."""
    out: dict[str, JuryMember] = {}
    for session in sessions:
        for member in session.jury:
            out.setdefault(member.email, member)
    return out


def _alternatives(
    session: Session,
    centre: Centre,
    day: date | None,
    planned: list[tuple[Session, Centre, list[Milestone]]],
    directory: dict[str, JuryMember],
    rows: Mapping[str, list[JurorRow]],
    listed: Mapping[str, DirectoryJuror] | None = None,
) -> tuple[str, ...]:
    """« Nom (adresse) » of the jurors of the directory who could sit on ``session`` and are
    free on ``day`` (None: on every exam day of ``session``): habilitated (title, CCP, dates),
    no conflict, not already on its jury, on the jury of no other session sitting one of those
    days, unless they declined that session or that day there."""
    own = {m.email for m in session.jury}
    wanted = {day} if day is not None else {d.day for d in exam_days(session, centre)}
    busy = _busy(session, wanted, planned, rows)
    code = session.title.code
    members: dict[str, JuryMember] = {}
    for email, juror in (listed or {}).items():  # the jury directory's first: its own titles
        if code in juror.titles:
            members[email] = JuryMember.model_validate(juror.member_values(code))
    for email, member in directory.items():
        members.setdefault(email, member)
    out = []
    for email, member in sorted(members.items(), key=lambda kv: kv[1].name):
        if email in own or email in busy:
            continue
        candidate = member
        if member.title_code is None:  # habilitated for the title of the sessions they sit on
            candidate = member.model_copy(update={"title_code": _title_of(member, planned)})
        if candidate.title_code != session.title.code:
            continue
        if can_sit(session, candidate):
            out.append(f"{member.name} ({member.email})")
    return tuple(out)


def _busy(
    session: Session,
    wanted: set[date],
    planned: list[tuple[Session, Centre, list[Milestone]]],
    rows: Mapping[str, list[JurorRow]],
) -> set[str]:
    """The jurors of other sessions who sit on one of the ``wanted`` days: a session keeps its
    jurors busy on its exam days only (not from its start to its end), and not on the days they
    declined there (every day, when they declined the session)."""
    busy: set[str] = set()
    for other, other_centre, _ in planned:
        if other.id == session.id or other.end < min(wanted) or other.start > max(wanted):
            continue
        sitting = wanted & {d.day for d in exam_days(other, other_centre)}
        if not sitting:
            continue
        answers = {r.email: r for r in rows.get(other.id, [])}
        for member in other.jury:
            found = answers.get(member.email)
            if found is None:
                free: set[date] = set()
            elif found.partstat == "DECLINED":  # every day but those accepted apart
                free = sitting - {d.day for d in found.days if d.partstat != "DECLINED"}
            else:
                free = set(found.declined_days)
            if sitting - free:
                busy.add(member.email)
    return busy


def _title_of(
    member: JuryMember, planned: list[tuple[Session, Centre, list[Milestone]]]
) -> str | None:
    """The title a juror without ``title_code`` is habilitated for: the title of the sessions
    they sit on, when all are the same."""
    titles = {s.title.code for s, _, _ in planned if member.email in {m.email for m in s.jury}}
    return titles.pop() if len(titles) == 1 else None
