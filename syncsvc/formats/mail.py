"""Notifications -> e-mail messages (pure: templates are package data, nothing is sent here).

Messages are in French, with dates written out (« lundi 15 mars 2027 »), a text and an HTML
part. The Message-ID derives from the idempotency key, so a message re-rendered for the same
key is recognisably the same message. Jury invitations follow iMIP (RFC 6047): the calendar
part ``text/calendar; method=REQUEST`` (or CANCEL) equals the METHOD inside, in the layout
``multipart/mixed { multipart/alternative { text, html, calendar }, invite.ics }``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache

from icalendar import Alarm, Calendar, Component, Event, vCalAddress
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from syncsvc.core.clock import Now, instant, local_today
from syncsvc.core.entries import uid_for
from syncsvc.core.invitations import InvitationChange
from syncsvc.core.labels import KIND_LABELS, french_date, french_time
from syncsvc.core.reminders import Notification
from syncsvc.formats.ical import PRODID, vtimezone

DoneLink = Callable[[str, str], str | None]


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


def days_left(n: Notification, now: Now) -> int:
    """Days from ``now`` (the centre's local day) to the due date of a reminder."""
    assert n.milestone is not None
    assert n.centre is not None
    return (n.milestone.due - local_today(now, n.centre.tz)).days


def subject_for(n: Notification, now: Now) -> str:
    if n.kind == "digest":
        assert n.centre is not None
        day = n.send_at.astimezone(n.centre.tz).date()
        late = f" — {len(n.overdue)} en retard" if n.overdue else ""
        return f"Examens TP : point de la semaine du {french_date(day)}{late}"
    if n.session is None:  # a centre's yearly milestone, tied to no session (issue 11)
        assert n.centre is not None
        label = f"[{n.centre.name}]"
    else:
        label = f"[{n.session.short_label}]"
    if n.kind == "candidate_info":
        assert n.session is not None
        return f"Votre examen {n.session.title.label} du {french_date(n.session.start)}"
    assert n.milestone is not None
    if n.kind == "overdue":
        return f"{label} EN RETARD : {n.milestone.title} (échéance du {n.milestone.due:%d/%m})"
    left = days_left(n, now)
    when = "aujourd'hui" if left <= 0 else f"J-{left}, le {n.milestone.due:%d/%m}"
    return f"{label} Rappel : {n.milestone.title} ({when})"


def compose(
    n: Notification,
    sender: str,
    now: Now,
    done_link: DoneLink | None = None,
    escalate_after: int = 5,
    horizon: int = 21,
) -> EmailMessage:
    """A reminder, an overdue alert, a weekly digest or a candidate notice."""
    subject = subject_for(n, now)
    message = _envelope(subject, sender, n.recipient.name, n.recipient.email, n.key, instant(now))
    link = None
    if (
        done_link is not None
        and n.session is not None
        and n.milestone is not None
        and n.milestone.rule.tracked
    ):
        link = done_link(n.session.id, n.milestone.id)
    context: dict[str, object] = {
        "subject": subject,
        "recipient": n.recipient,
        "session": n.session,
        "centre": n.centre,
        "milestone": n.milestone,
        "days": days_left(n, now) if n.kind == "reminder" else n.days,
        "escalated": n.escalated,
        "escalate_after": escalate_after,
        "done_link": link,
        "horizon": horizon,
        "overdue": n.overdue,
        "upcoming": n.upcoming,
        "kind": KIND_LABELS[n.milestone.kind] if n.milestone else "",
        "day": n.send_at.astimezone(n.centre.tz).date() if n.centre else n.send_at.date(),
    }
    text, html = _render(n.kind, **context)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


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
        session, centre, exam = change.session, change.centre, change.exam
        event = Event()
        event.add("uid", uid_for(session.id, "exam_session"))
        event.add("summary", f"Jury — {session.title.label} ({session.title.code})")
        if exam.starts_at is not None and exam.ends_at is not None:
            event.add("dtstart", exam.starts_at)
            event.add("dtend", exam.ends_at)
        else:
            event.add("dtstart", exam.due)
            event.add("dtend", (exam.ends_on or exam.due) + timedelta(days=1))
        event.add("location", session.location or centre.name)
        event.add("description", _invitation_context(change)["text"])
        organizer = vCalAddress(f"mailto:{session.session_manager.email}")
        organizer.params["CN"] = session.session_manager.name
        event.add("organizer", organizer)
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
        alarm.add("description", f"Jury — {session.title.label}")
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
    event.add("sequence", change.sequence)
    event.add("dtstamp", now)
    event.add("status", "CANCELLED" if change.method == "CANCEL" else "CONFIRMED")
    return event


def _invitation_context(change: InvitationChange) -> dict[str, str]:
    if change.session is None or change.exam is None:
        return {
            "title": "Session d'examen",
            "when": "",
            "location": "",
            "organizer": "",
            "text": "",
        }
    session, exam = change.session, change.exam
    if exam.starts_at is not None and exam.ends_at is not None:
        when = (
            f"Du {french_date(exam.starts_at)} à {french_time(exam.starts_at)} "
            f"au {french_date(exam.ends_at)} à {french_time(exam.ends_at)}"
        )
    else:
        when = f"Du {french_date(session.start)} au {french_date(session.end)}"
    location = session.location or (change.centre.name if change.centre else "")
    title = (
        f"Session d'examen {session.title.code} {session.title.label} ({session.nature.upper()})"
    )
    organizer = f"{session.session_manager.name} <{session.session_manager.email}>"
    return {
        "title": title,
        "when": when,
        "location": location,
        "organizer": organizer,
        "text": f"{title}\n{when}\nLieu : {location}\nResponsable de session : {organizer}",
    }


def compose_invitation(
    change: InvitationChange, sender: str, now: datetime
) -> tuple[EmailMessage, str]:
    """The iMIP message, and the VEVENT text to remember for a later CANCEL."""
    event = invitation_event(change, now)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", change.method)
    calendar.add_component(event)
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
    verb = {
        "REQUEST": "Invitation" if change.sequence == 0 else "Modification",
        "CANCEL": "Annulation",
    }[change.method]
    subject = f"{verb} : {context['title']}"
    if context["when"]:
        subject += f" — {context['when'].removeprefix('Du ').split(' à ')[0]}"
    message = _envelope(subject, sender, change.name, change.email, change.key, now)
    text, html = _render(
        "invitation",
        subject=subject,
        name=change.name,
        method=change.method,
        sequence=change.sequence,
        **{k: v for k, v in context.items() if k != "text"},
    )
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.add_alternative(ics, subtype="calendar", params={"method": change.method})
    message.make_mixed()
    message.add_attachment(body, maintype="application", subtype="ics", filename="invite.ics")
    return message, event.to_ical().decode("utf-8")
