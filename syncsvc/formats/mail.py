"""Notifications -> e-mail messages (pure: templates are package data, nothing is sent here).

Messages are in French, with dates written out (« lundi 15 mars 2027 »), a text and an HTML
part; the words of the reminder mails are in :mod:`syncsvc.formats.mail_views`. The
Message-ID derives from the idempotency key, so a message re-rendered for the same
key is recognisably the same message. Jury invitations follow iMIP (RFC 6047): the calendar
part ``text/calendar; method=REQUEST`` (or CANCEL) equals the METHOD inside, in the layout
``multipart/mixed { multipart/alternative { text, html, calendar }, invite.ics }``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from itertools import pairwise

from icalendar import Alarm, Calendar, Component, Event, vCalAddress
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from syncsvc.core.clock import Now, instant
from syncsvc.core.entries import uid_for
from syncsvc.core.exam_days import ExamDay, exam_days, exam_place
from syncsvc.core.invitations import Briefing, Hold, InvitationChange
from syncsvc.core.labels import (
    ANSWER_LINK_LABELS,
    INVITATION_SUMMARIES,
    INVITED_AS,
    JUROR_DAY_NOTE,
    JURY_WELCOME_LABEL,
    PERSON_FEED_LINE,
    french_date,
    french_time,
)
from syncsvc.core.model import Centre, Person, Session
from syncsvc.core.reminders import Notification, Policy
from syncsvc.core.words import cancellation_text, citations, sources_text
from syncsvc.formats.ical import PRODID, vtimezone
from syncsvc.formats.mail_views import (
    AnswerLinksOf as AnswerLinksOf,
)
from syncsvc.formats.mail_views import (
    DoneLink as DoneLink,
)
from syncsvc.formats.mail_views import (
    PageLink as PageLink,
)
from syncsvc.formats.mail_views import (
    daily_groups,
    daily_intro,
    daily_subject,
    digest_groups,
    digest_intro,
    link_pairs,
    notice_intro,
    notice_subject,
    notice_texts,
    page_for,
    schedule_note,
)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("syncsvc.formats", "mail_templates"),
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["frdate"] = french_date
    env.filters["sources_text"] = sources_text
    env.filters["citations"] = citations
    env.globals["ANSWER_LINK_LABELS"] = ANSWER_LINK_LABELS
    return env


def message_id(key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "syncsvc.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def _envelope(
    subject: str, sender: str, name: str, email: str, key: str, now: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    local, _, domain = email.rpartition("@")
    message["To"] = Address(display_name=name, username=local, domain=domain)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(key, sender)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["Content-Language"] = "fr"
    return message


def _render(template: str, **context: object) -> tuple[str, str]:
    env = _templates()
    text = env.get_template(f"{template}.txt.j2").render(**context)
    html = env.get_template(f"{template}.html.j2").render(**context)
    return text, html


DEFAULT_POLICY = Policy()


def subject_for(n: Notification, now: Now) -> str:
    """Short and French: the milestone when there is one, else how many and how late."""
    if n.kind == "digest":
        assert n.centre is not None
        day = n.send_at.astimezone(n.centre.tz).date()
        late = f" — {len(n.overdue)} en retard" if n.overdue else ""
        return f"Examens TP : point de la semaine du {french_date(day)}{late}"
    if n.kind == "candidate_info":
        assert n.session is not None
        return f"Votre examen {n.session.title.label} du {french_date(n.session.start)}"
    if not n.items and n.notices:
        return notice_subject(n.notices)
    return daily_subject(n.items)


def compose(
    n: Notification,
    sender: str,
    now: Now,
    done_link: DoneLink | None = None,
    policy: Policy = DEFAULT_POLICY,
    answer_links: AnswerLinksOf | None = None,
    page_link: PageLink | None = None,
    feed_link: str | None = None,
) -> EmailMessage:
    """A mail of the day, a weekly point or a candidate notice; ``page_link`` adds each
    session's dashboard page for the people who have access to it (never a juror or a
    candidate). ``feed_link``: the recipient's own agenda feed (``[feeds] per_person``),
    named once under the reminders to answer an invitation, in a mail that has one for
    them."""
    subject = subject_for(n, now)
    message = _envelope(subject, sender, n.recipient.name, n.recipient.email, n.key, instant(now))
    context: dict[str, object] = {"subject": subject, "recipient": n.recipient}
    if n.kind == "reminder":
        context |= _daily_context(n, done_link, policy, page_link)
        page = page_for(n.recipient.email, page_link)
        context["notices"] = notice_texts(n.notices, answer_links, page)
        theirs = any(
            x.kind == "answer_reminder" and x.email.lower() == n.recipient.email.lower()
            for x in n.notices
        )
        context["feed_link"] = feed_link if theirs else None
        context["feed_line"] = PERSON_FEED_LINE
        if not n.items:
            context["intro"] = notice_intro(n)
    elif n.kind == "digest":
        context |= _digest_context(n, policy, page_link)
    else:
        context |= {"session": n.session, "centre": n.centre}
    text, html = _render(n.kind, **context)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


SEPARATOR = "-" * 72


def _daily_context(
    n: Notification, done_link: DoneLink | None, policy: Policy, page_link: PageLink | None
) -> dict[str, object]:
    return {
        "intro": daily_intro(n),
        "groups": daily_groups(n, done_link, page_link),
        "several": len(n.items) > 1,
        "separator": SEPARATOR,
        "footer": _footer(n),
        "note": schedule_note(policy) if any(i.state == "overdue" for i in n.items) else "",
    }


def _footer(n: Notification) -> str:
    """How a milestone leaves the next mails; a centre's yearly one (no link, no page of its
    own: its line says how) does not promise the link or the dashboard."""
    tracked = [i for i in n.items if i.milestone.rule.tracked]
    if any(i.session is not None for i in tracked):
        return (
            "Une échéance marquée faite (lien « Marquer comme fait », tableau de bord ou "
            "« syncsvc done ») disparaît des messages suivants."
        )
    return "Une échéance marquée faite disparaît des messages suivants." if tracked else ""


def _digest_context(
    n: Notification, policy: Policy, page_link: PageLink | None
) -> dict[str, object]:
    assert n.centre is not None
    day = n.send_at.astimezone(n.centre.tz).date()
    page = page_for(n.recipient.email, page_link)
    return {
        "intro": digest_intro(n, day, policy),
        "overdue": digest_groups(n.overdue, day, True, page, n.centre),
        "upcoming": digest_groups(n.upcoming, day, False, page, n.centre),
        "horizon": policy.digest_horizon_days,
    }


def compose_deletion_hold(
    target: str,
    reason: str,
    sender: str,
    email: str,
    key: str,
    now: datetime,
    dashboard_url: str | None,
) -> EmailMessage:
    """To an administrator: deletions wait for a confirmation on ``target``."""
    subject = f"Examens TP : suppressions en attente de confirmation sur « {target} »"
    message = _envelope(subject, sender, email, email, key, now)
    where = (
        f"{dashboard_url.rstrip('/')}/targets#held-{target}"
        if dashboard_url
        else "la page « Calendriers » du tableau de bord"
    )
    message.set_content(
        f"Bonjour,\n\nsyncsvc n'a pas supprimé des éléments de l'agenda « {target} » : "
        f"{reason}.\n\nVérifiez le dossier des sessions (un fichier déplacé ou renommé par "
        "erreur ne doit pas vider un agenda). Si ces sessions ont bien été retirées, confirmez "
        f"les suppressions sur {where}, ou lancez « syncsvc sync --once --force ».\n\n"
        "Tant qu'elles ne sont pas confirmées, ces éléments restent dans l'agenda et le reste "
        "de la synchronisation continue.\n"
    )
    return message


# --- jury invitations (iMIP) -------------------------------------------------------------------


def invitation_event(change: InvitationChange, now: datetime) -> Component:
    """The VEVENT sent to one jury member: same UID as the calendar item, SEQUENCE from the
    invitation state, only this member as ATTENDEE (jurors' addresses are not shared)."""
    if change.session is None or change.centre is None or change.exam is None:
        event: Component = Event()
        if change.previous_event:
            parsed = Event.from_ical(change.previous_event)
            event = parsed if isinstance(parsed, Event) else event
        for name in ("SEQUENCE", "DTSTAMP", "STATUS"):
            event.pop(name, None)
        if "UID" not in event:
            event.add("uid", uid_for(change.session_id, "exam_session"))
    else:
        session, centre = change.session, change.centre
        event = Event()
        event.add("uid", uid_for(session.id, "exam_session"))
        word = INVITATION_SUMMARIES[change.role]
        event.add("summary", f"{word} — {session.title.label} ({session.title.code})")
        _add_days(event, exam_days(session, centre))
        event.add("location", exam_place(session, centre))
        event.add("description", _invitation_context(change)["text"])
        # The ORGANIZER is the centre's mailbox that syncsvc reads (the jurors' clients send
        # their REPLY there); the session manager is the contact.
        organizer = vCalAddress(f"mailto:{centre.organizer_email}")
        organizer.params["CN"] = f"Examens — {centre.name}"
        event.add("organizer", organizer)
        manager = session.session_manager
        phone = f", tél. {manager.phone}" if manager.phone else ""
        event.add("contact", f"{manager.name} <{manager.email}>{phone}")
        attendee = vCalAddress(f"mailto:{change.email}")
        attendee.params.update(
            {
                "CN": change.name,
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "NEEDS-ACTION",
                "RSVP": "TRUE",
            }
        )
        event.add("attendee", attendee, encode=False)
        event.add("transp", "OPAQUE")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{word} — {session.title.label}")
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
    event.add("sequence", change.sequence)
    event.add("dtstamp", now)
    event.add("status", "CANCELLED" if change.method == "CANCEL" else "CONFIRMED")
    return event


ONE_DAY = timedelta(days=1)


def _add_days(event: Component, days: tuple[ExamDay, ...]) -> None:
    """The exam days as one recurring event (RFC 5545; one UID, as iTIP wants): the first day,
    repeated daily over the session's span (``RRULE:FREQ=DAILY;COUNT=``), the days without exam
    excluded (``EXDATE``); a day whose hours differ from the first's is an instance of its own
    (:func:`day_overrides`)."""
    first, last = days[0], days[-1]
    start: date | datetime = first.starts_at if first.starts_at is not None else first.day
    end: date | datetime = first.ends_at if first.ends_at is not None else first.day + ONE_DAY
    event.add("dtstart", start)
    event.add("dtend", end)
    if len(days) == 1:
        return
    span = (last.day - first.day).days + 1
    event.add("rrule", {"FREQ": "DAILY", "COUNT": span})
    held = {d.day for d in days}
    skipped = [first.day + timedelta(days=n) for n in range(span)]
    skipped = [d for d in skipped if d not in held]
    if skipped:
        event.add("exdate", [_occurrence(start, d) for d in skipped])


def _occurrence(start: date | datetime, day: date) -> date | datetime:
    """The occurrence of the recurring exam on ``day`` (its RECURRENCE-ID, or EXDATE)."""
    if isinstance(start, datetime):
        return datetime.combine(day, start.timetz().replace(tzinfo=None), start.tzinfo)
    return day


def day_overrides(event: Component, days: tuple[ExamDay, ...]) -> list[Component]:
    """The instances of the recurring exam whose hours differ from the first day's: the same
    event (organiser, attendee, sequence…) on that day, at its own hours."""
    first = days[0]
    if first.starts_at is None or first.ends_at is None:
        return []
    out: list[Component] = []
    for day in days[1:]:
        if day.starts_at is None or day.ends_at is None:
            continue
        if (day.starts_at.timetz(), day.ends_at.timetz()) == (
            first.starts_at.timetz(),
            first.ends_at.timetz(),
        ):
            continue
        instance = Event()
        for name, value in event.property_items(recursive=False):
            if name not in ("BEGIN", "END", "RRULE", "EXDATE", "DTSTART", "DTEND"):
                instance.add(name, value, encode=False)
        instance.add("recurrence-id", _occurrence(first.starts_at, day.day))
        instance.add("dtstart", day.starts_at)
        instance.add("dtend", day.ends_at)
        out.append(instance)
    return out


HAPPENED = {
    "cancelled": "La session d'examen ci-dessous est annulée.",
    "removed": (
        "Vous ne faites plus partie du jury de la session d'examen ci-dessous : votre "
        "participation est annulée."
    ),
    "withdrawn": (
        "La session d'examen ci-dessous n'est plus au planning du centre : votre participation "
        "est annulée."
    ),
}
"""What a CANCEL says happened (:data:`syncsvc.core.invitations.Happened`)."""
SUBJECT_VERBS = {"cancelled": "Annulation", "removed": "Retrait du jury", "withdrawn": "Annulation"}


def _when(briefing: Briefing) -> str:
    days = briefing.day_moments()
    if days:  # the span; the days and their hours follow (:func:`_day_lines`)
        first, last = _day(days[0][0]), _day(days[-1][0])
        if first == last:
            return f"Le {french_date(first)}"
        return f"Du {french_date(first)} au {french_date(last)}"
    start, end = briefing.moments()
    if isinstance(start, datetime) and isinstance(end, datetime):
        return (
            f"Du {french_date(start)} à {french_time(start)} "
            f"au {french_date(end)} à {french_time(end)}"
        )
    return f"Du {french_date(start)} au {french_date(end)}"


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _clock_span(start: date | datetime, end: date | datetime) -> str:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return f"de {french_time(start)} à {french_time(end)}"
    return ""


def _day_lines(briefing: Briefing) -> list[str]:
    """``- lundi 15 mars 2027, de 8 h 30 à 18 h``: one line per exam day."""
    lines = []
    for start, end in briefing.day_moments():
        hours = _clock_span(start, end)
        lines.append(f"- {french_date(_day(start))}" + (f", {hours}" if hours else ""))
    return lines


def _only_weekends_between(days: list[date]) -> bool:
    return all(
        (later - earlier).days == 1
        or all(
            (earlier + timedelta(days=n)).weekday() >= 5 for n in range(1, (later - earlier).days)
        )
        for earlier, later in pairwise(days)
    )


def _dates(briefing: Briefing) -> str:
    days = [_day(s) for s, _ in briefing.day_moments()]
    if len(days) > 1 and not _only_weekends_between(days):
        return ", ".join(french_date(d) for d in days)
    start, end = (_day(m) for m in briefing.moments())
    if days:
        start, end = days[0], days[-1]
    if start == end:
        return f"le {french_date(start)}"
    return f"du {french_date(start)} au {french_date(end)}"


def _hours(briefing: Briefing) -> str:
    days = briefing.day_moments()
    if days:
        spans = [_clock_span(s, e) for s, e in days]
        if not any(spans):
            return "non précisés"
        if len(set(spans)) == 1:
            return f"{spans[0]} chaque jour" if len(spans) > 1 else spans[0]
        return " ; ".join(
            f"{french_date(_day(s))} {span}" if span else french_date(_day(s))
            for (s, _), span in zip(days, spans, strict=True)
        )
    start, end = briefing.moments()
    if isinstance(start, datetime) and isinstance(end, datetime):
        return f"début {french_time(start)}, fin {french_time(end)}"
    return "non précisés"


def _title(briefing: Briefing) -> str:
    return briefing.title


def _place(briefing: Briefing) -> str:
    return briefing.place


def _welcome(briefing: Briefing) -> str:
    return briefing.welcome or "non précisé"


def _manager(briefing: Briefing) -> str:
    return f"{briefing.manager} <{briefing.manager_email}>"


CHANGED: dict[str, tuple[str, Callable[[Briefing], str]]] = {
    "title": ("Session", _title),
    "dates": ("Dates", _dates),
    "hours": ("Horaires", _hours),
    "welcome": (JURY_WELCOME_LABEL, _welcome),
    "place": ("Lieu", _place),
    "manager": ("Responsable de session", _manager),
}
"""How each change of an update is worded: its label, and how a briefing shows it."""


POSTPONED_LABEL = "Session reportée"
"""The label of the dates of an update when the session was postponed (not just edited)."""


def change_lines(change: InvitationChange) -> list[str]:
    """``Dates : du … au … → du … au …``: what an update changes, old → new; « Session
    reportée : du … au … → du … au … (motif : …) » when the session file records this change
    of dates as its latest postponement (from the dates the juror was told)."""
    lines = []
    for difference in change.differences():
        label, shown = CHANGED[difference.field]
        line = f"{label} : {shown(difference.before)} → {shown(difference.after)}"
        postponement = change.session.last_postponement if change.session else None
        told = tuple(_day(m) for m in difference.before.moments())
        if (
            difference.field == "dates"
            and postponement is not None
            and told == (postponement.from_start, postponement.from_end)
        ):
            line = (
                f"{POSTPONED_LABEL} : {shown(difference.before)} → {shown(difference.after)} "
                f"(motif : {postponement.reason})"
            )
        lines.append(line)
    return lines


def happened_text(change: InvitationChange) -> str:
    """What a CANCEL says happened; for a cancelled session whose file gives the day or the
    reason of the cancellation: « … est annulée (session annulée le 11/01/2027 : <raison>). »"""
    if not change.happened:
        return ""
    text = HAPPENED[change.happened]
    session = change.session
    if change.happened != "cancelled" or session is None or session.cancelled is None:
        return text
    if session.cancelled.on is None and session.cancelled.reason is None:
        return text
    said = cancellation_text(session) or ""
    return f"{text.removesuffix('.')} ({said[:1].lower()}{said[1:]})."


def _invitation_context(change: InvitationChange) -> dict[str, str]:
    """The words of an invitation, an update or a cancellation: the session as the message
    tells it, what happened (a CANCEL), what changed (an update)."""
    briefing = change.briefing
    happened = happened_text(change)
    changes = change_lines(change)
    changed = "Ce qui change :\n" + "\n".join(f"- {line}" for line in changes) if changes else ""
    if briefing is None:
        return {
            "title": "Session d'examen",
            "when": "",
            "days": "",
            "welcome": "",
            "first_day": "",
            "location": "",
            "organizer": "",
            "happened": happened,
            "changed": "",
            "text": happened,
        }
    title = f"Session d'examen {briefing.title}"
    when = _when(briefing)
    days = _day_lines(briefing)
    listed = "\n".join(["Jours et horaires :", *days]) if days else ""
    organizer = f"{briefing.manager} <{briefing.manager_email}>"
    manager = change.session.session_manager if change.session is not None else None
    if manager is not None and manager.email == briefing.manager_email and manager.phone:
        organizer += f", tél. {manager.phone}"
    lines = [line for line in (happened, changed) if line]
    welcome = (
        f"{JURY_WELCOME_LABEL} : {briefing.welcome}, le premier jour, avant les épreuves"
        if briefing.welcome
        else ""
    )
    place = f"Lieu : {briefing.place}\nResponsable de session : {organizer}"
    text = "\n\n".join([*lines, "\n".join(x for x in (title, when, listed, welcome, place) if x)])
    return {
        "title": title,
        "when": when,
        "days": listed,
        "welcome": welcome,
        "first_day": french_date(_day(briefing.moments()[0])),
        "location": briefing.place,
        "organizer": organizer,
        "happened": happened,
        "changed": changed,
        "text": text,
    }


def compose_invitation(
    change: InvitationChange,
    sender: str,
    now: datetime,
    links: AnswerLinksOf | None = None,
    feed_link: str | None = None,
) -> tuple[EmailMessage, str]:
    """The iMIP message, and the VEVENT text to remember for a later CANCEL. A plain reply goes
    to the centre's organiser mailbox too (Reply-To), where syncsvc reads it. ``links`` signs
    the juror's answer links: one pair for a one-day session; for several exam days, one for
    every day and one per day. ``feed_link``: the recipient's own agenda feed (``[feeds]
    per_person``), named in an invitation or an update, never in a cancellation."""
    event = invitation_event(change, now)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", change.method)
    calendar.add_component(event)
    if change.method == "REQUEST" and change.session is not None and change.centre is not None:
        for instance in day_overrides(event, exam_days(change.session, change.centre)):
            calendar.add_component(instance)
    body = calendar.to_ical()
    zones = sorted(
        {
            p.params["TZID"]
            for name in ("DTSTART", "DTEND")
            if (p := event.get(name)) is not None and "TZID" in p.params
        }
    )
    if zones:
        head, _, rest = body.partition(b"BEGIN:VEVENT")
        body = head + b"".join(vtimezone(z) for z in zones) + b"BEGIN:VEVENT" + rest
    ics = body.decode("utf-8")

    context = _invitation_context(change)
    if change.method == "CANCEL":
        verb = SUBJECT_VERBS[change.happened or "cancelled"]
    else:
        verb = "Modification" if change.update else "Invitation"
    subject = f"{verb} : {context['title']}"
    if context["first_day"]:
        subject += f" — {context['first_day']}"
    message = _envelope(subject, sender, change.name, change.email, change.key, now)
    organizer = str(event.get("ORGANIZER", "")).removeprefix("mailto:").removeprefix("MAILTO:")
    if organizer:
        message["Reply-To"] = organizer
    text, html = _render(
        "invitation",
        subject=subject,
        name=change.name,
        method=change.method,
        update=change.update,
        sequence=change.sequence,
        links=_invitation_links(change, links) if change.method == "REQUEST" else (),
        role=change.role,
        invited_as=INVITED_AS[change.role],
        juror_note=JUROR_DAY_NOTE,
        feed_link=feed_link if change.method == "REQUEST" else None,
        feed_line=PERSON_FEED_LINE,
        **{k: v for k, v in context.items() if k != "text"},
    )
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.add_alternative(ics, subtype="calendar", params={"method": change.method})
    message.make_mixed()
    message.add_attachment(body, maintype="application", subtype="ics", filename="invite.ics")
    return message, event.to_ical().decode("utf-8")


def _invitation_links(change: InvitationChange, links: AnswerLinksOf | None) -> tuple[object, ...]:
    if links is None:
        return ()
    dates = (
        [d.day for d in exam_days(change.session, change.centre)]
        if change.session is not None and change.centre is not None
        else []
    )
    return link_pairs(links, change.session_id, change.email, change.sequence, dates)


# --- held jury invitations ---------------------------------------------------------------------


def compose_invitation_hold(
    hold: Hold,
    session: Session,
    centre: Centre,
    to: Person,
    invited: bool,
    sender: str,
    now: datetime,
    page_link: PageLink | None = None,
) -> EmailMessage:
    """To a coordinator: the invitation of ``hold``'s juror was not sent, and why.
    ``invited``: an earlier invitation stands in the juror's calendar; ``page_link``: the
    session's dashboard page."""
    subject = f"[{session.short_label}] Invitation du jury retenue : {hold.name}"
    message = _envelope(subject, sender, to.name, to.email, hold.key(to.email), now)
    earlier = (
        "Une invitation envoyée plus tôt figure toujours dans son agenda : syncsvc ne l'annule "
        "pas de lui-même. Si ce membre ne peut pas siéger, retirez-le du jury dans le fichier "
        "de la session : il recevra une annulation.\n\n"
        if invited
        else ""
    )
    message.set_content(
        f"Bonjour {to.name},\n\nsyncsvc n'a pas envoyé à {hold.name} ({hold.email}) "
        "l'invitation « Vous êtes convoqué(e) comme membre du jury » pour la session "
        f"{session.title.code} {session.title.label} ({session.nature.upper()}) du "
        f"{french_date(session.start)} au {french_date(session.end)}, {centre.name} "
        f"(session {session.id}) :\n\n{hold.reason} [{hold.code}]\n\n{earlier}"
        "Dès que le fichier de la session ou celui des centres est corrigé, l'invitation part "
        "d'elle-même. Ce message n'est envoyé qu'une fois pour ce membre et cette raison.\n"
        + (f"\nPage de la session : {page_link(session.id)}\n" if page_link else "")
    )
    return message
