"""Mail arriving in the organiser's inbox -> what it says about an invitation (pure).

Jurors answer an iMIP invitation (RFC 6047) from whatever client they have, and each builds the
message its own way; all of these are read here:

- Outlook / Exchange: ``multipart/alternative { text/plain, text/html, text/calendar;
  charset="utf-8"; method=REPLY }``, every part base64; the VEVENT often has no ORGANIZER, the
  note is a ``COMMENT;LANGUAGE=…`` property, times use Windows zone names (with a VTIMEZONE);
- Gmail / Google Calendar: ``multipart/mixed { multipart/alternative { text/plain, text/html,
  text/calendar; method=REPLY }, application/ics; name="invite.ics" }`` (the attachment has no
  ``method=``); the note is the ATTENDEE's ``X-RESPONSE-COMMENT`` parameter;
- Thunderbird: the same layout, 8-bit parts, lower-case ``Content-type`` headers, a COMMENT;
- Apple Mail: ``multipart/mixed { text/plain, text/calendar; x-unix-mode=0644;
  name="iCal-….ics" }`` as an attachment, quoted-printable, no ``method=`` on the part, an
  ``EMAIL=`` parameter on the ATTENDEE.

Whatever the layout, the first calendar part (``text/calendar``, ``application/ics`` or a file
ending in ``.ics``) whose ``METHOD`` is REPLY or COUNTER is read; folded lines, RFC 5545
escapes and quoted parameters are the iCalendar library's business. A message without any
calendar part is a *text* reply (« oui je serai là »), for a person to read; a calendar part
that cannot be read, or an Outlook TNEF body (``winmail.dat``), makes the message *unreadable*:
it goes to the folder for humans, with the reason.

A reply to one occurrence of the recurring invitation (« refuser cette occurrence » in Outlook or
Thunderbird) carries a RECURRENCE-ID (``;TZID=…``, UTC or ``VALUE=DATE``): it is kept as
:attr:`CalendarReply.occurrence`, the day it answers; one whose RECURRENCE-ID cannot be read
makes the message unreadable rather than answer the whole series.

Nothing here decides what a reply is worth (current or outdated invitation, known juror): see
:mod:`syncsvc.core.jury`.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Literal

from icalendar import Calendar, Component

Method = Literal["REPLY", "COUNTER"]
MailKind = Literal["calendar", "text", "unreadable"]
ANSWERS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE"})
"""The PARTSTATs a REPLY can carry that say something (NEEDS-ACTION or DELEGATED do not)."""
MAX_TEXT = 2000
"""Characters of a text reply kept for the person who will read it."""
MAX_COMMENT = 1000
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_ADDRESS = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,253}$")


@dataclass(frozen=True, slots=True)
class CalendarReply:
    """One attendee's answer read from a REPLY or a COUNTER."""

    method: Method
    uid: str
    attendee: str
    """The attendee's address, lower case (``mailto:`` removed, or the ``EMAIL=`` parameter)."""
    name: str
    partstat: str
    sequence: int
    """The SEQUENCE of the invitation answered (0 when absent, as RFC 5545 says)."""
    comment: str | None
    stamp: datetime | None
    """DTSTAMP: when the attendee's client wrote the reply."""
    proposed_start: datetime | date | None = None
    """COUNTER only: the time the attendee proposes instead."""
    proposed_end: datetime | date | None = None
    occurrence: datetime | date | None = None
    """RECURRENCE-ID: the one occurrence (exam day) answered; None answers the whole series."""


@dataclass(frozen=True, slots=True)
class ReadMail:
    """What one message says, as far as the jury loop is concerned."""

    kind: MailKind
    message_id: str
    """The Message-ID header, or ``<sha256:…>`` of the bytes when the message has none."""
    sender: str
    """The From address, lower case ('' when unreadable)."""
    sender_name: str
    subject: str
    date: datetime | None
    references: tuple[str, ...]
    """In-Reply-To and References, the Message-IDs this message answers."""
    replies: tuple[CalendarReply, ...] = ()
    text: str = ""
    """A text reply's words (the quoted invitation left out), at most :data:`MAX_TEXT`."""
    problem: str | None = None
    """Why an unreadable message could not be read (French)."""
    automatic: bool = False
    """An automatic answer (Auto-Submitted, an absence notice): not a juror's decision."""


def read_mail(data: bytes) -> ReadMail:
    """Read one raw message; never raises for what a sender can put in a message."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
    except Exception:  # a parser defect on hostile input: the message is for a person
        return _unreadable(data, "message illisible (structure MIME invalide)")
    assert isinstance(message, EmailMessage)
    head = _head(message, data)
    if head is None:
        return _unreadable(data, "en-têtes illisibles")
    try:
        parts = list(message.walk())
    except Exception:
        return replace(head, kind="unreadable", problem="structure MIME illisible")
    calendars = [p for p in parts if _is_calendar(p)]
    if any(_content_type(p) in TNEF_TYPES for p in parts) and not calendars:
        reason = "pièce jointe Outlook TNEF (winmail.dat) : à lire dans Outlook"
        return replace(head, kind="unreadable", problem=reason)
    if not calendars:
        return replace(head, kind="text", text=_text_of(parts))
    problems = []
    for part in calendars:
        found = _calendar_replies(part)
        if isinstance(found, str):
            problems.append(found)
            continue
        if found:
            return replace(head, kind="calendar", replies=tuple(found))
    reason = problems[0] if problems else "partie calendrier sans réponse (ni REPLY ni COUNTER)"
    return replace(head, kind="unreadable", problem=reason)


# --- headers ---------------------------------------------------------------------------------


def _digest_id(data: bytes) -> str:
    return f"<sha256:{hashlib.sha256(data).hexdigest()}>"


def _unreadable(data: bytes, problem: str) -> ReadMail:
    return ReadMail("unreadable", _digest_id(data), "", "", "", None, (), problem=problem)


_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


def _head(message: EmailMessage, data: bytes) -> ReadMail | None:
    """The headers that matter, as a text reply (the caller says what it really is)."""
    try:
        raw_id = str(message.get("Message-ID", "") or "")
        found = _MESSAGE_ID.search(raw_id)
        message_id = found.group(0) if found else _digest_id(data)
        senders = getaddresses([str(message.get("From", "") or "")])
        name, sender = senders[0] if senders else ("", "")
        subject = " ".join(str(message.get("Subject", "") or "").split())[:300]
        when = None
        if message.get("Date"):
            try:
                when = parsedate_to_datetime(str(message["Date"]))
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is None:
                when = None
        linked = " ".join(str(message.get(h, "") or "") for h in ("In-Reply-To", "References"))
        references = tuple(dict.fromkeys(_MESSAGE_ID.findall(linked)))[:50]
        auto = str(message.get("Auto-Submitted", "no") or "no").strip().lower()
        automatic = auto not in ("", "no") or bool(message.get("X-Autoreply"))
    except Exception:  # a header no parser can read: the message is for a person
        return None
    sender = sender.strip().lower()
    if not _ADDRESS.match(sender):
        sender = ""
    name = " ".join(name.split())[:200]
    return ReadMail(
        "text", message_id, sender, name, subject, when, references, automatic=automatic
    )


# --- parts -----------------------------------------------------------------------------------


def _content_type(part: Message) -> str:
    return str(part.get_content_type()).lower()


def _is_calendar(part: Message) -> bool:
    if part.is_multipart():
        return False
    if _content_type(part) in CALENDAR_TYPES:
        return True
    filename = (part.get_filename() or "").lower()
    return filename.endswith((".ics", ".ical", ".ifb"))


def _payload_text(part: Message) -> str | None:
    """The decoded text of a leaf part (base64, quoted-printable, 7/8-bit), or None."""
    try:
        raw = part.get_payload(decode=True)
    except Exception:
        return None
    if not isinstance(raw, bytes):
        return None
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return raw.decode("utf-8", errors="replace")


_QUOTE_STARTS = (
    re.compile(r"^>"),
    re.compile(r"^-{2,}\s*(Message d'origine|Original Message|Message transféré)", re.I),
    re.compile(r"^_{10,}$"),
    re.compile(r"^(De|From)\s*:\s", re.I),
    re.compile(r"^(Le|On)\s.{5,200}(a écrit|wrote)\s*:?\s*$", re.I),
)


def _text_of(parts: Sequence[Message]) -> str:
    """The words of a text reply: its first text/plain part (else its HTML without tags), the
    quoted invitation cut off."""
    plain = next((p for p in parts if _content_type(p) == "text/plain"), None)
    text = _payload_text(plain) if plain is not None else None
    if text is None:
        rich = next((p for p in parts if _content_type(p) == "text/html"), None)
        markup = _payload_text(rich) if rich is not None else None
        if markup is not None:
            markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", markup)
            markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", markup)
            text = html.unescape(re.sub(r"<[^>]{0,2000}>", "", markup))
    if not text:
        return ""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if any(p.search(line.strip()) for p in _QUOTE_STARTS):
            break
        kept.append(line.rstrip())
    cleaned = "\n".join(kept).strip()
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    cleaned = "".join(c for c in cleaned if c in "\n\t" or c.isprintable())
    return cleaned[:MAX_TEXT]


# --- the calendar part -----------------------------------------------------------------------


def _calendar_replies(part: Message) -> list[CalendarReply] | str:
    """The replies of one calendar part; [] when it is not a REPLY or COUNTER; a French reason
    when it cannot be read."""
    text = _payload_text(part)
    if text is None:
        return "partie calendrier impossible à décoder"
    if "BEGIN:VCALENDAR" not in text.upper():
        return "partie calendrier sans VCALENDAR"
    try:
        calendar = Calendar.from_ical(text)
    except Exception:  # the library's errors on hostile input are of many kinds
        return "partie calendrier illisible (iCalendar invalide)"
    method = str(calendar.get("METHOD", "") or "").strip().upper()
    if method not in ("REPLY", "COUNTER"):
        return []
    out: list[CalendarReply] = []
    try:
        for event in calendar.walk("VEVENT"):
            reply = _reply_of(method, event)  # type: ignore[arg-type]
            if reply is not None:
                out.append(reply)
    except Exception:
        return "réponse de calendrier illisible (propriété invalide)"
    if not out:
        return f"{method} sans participant ni UID lisibles"
    return out


def _address_of(attendee: object) -> str:
    params = getattr(attendee, "params", {}) or {}
    value = str(attendee).strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    email = str(params.get("EMAIL", "") or "").strip().strip('"')
    candidate = value if _ADDRESS.match(value) else email
    return candidate.lower() if _ADDRESS.match(candidate) else ""


def _clean(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    words = html.unescape(text.replace("\\;", ";")).strip()
    words = "".join(c for c in words if c in "\n" or c.isprintable()).strip()
    return words[:limit] or None


def _reply_of(method: Method, event: Component) -> CalendarReply | None:
    uid = str(event.get("UID", "") or "").strip()
    attendees = event.get("ATTENDEE")
    if attendees is None or not uid:
        return None
    first = attendees[0] if isinstance(attendees, list) else attendees
    attendee = _address_of(first)
    if not attendee:
        return None
    params = first.params
    partstat = str(params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    name = " ".join(str(params.get("CN", "") or "").strip('"').split())[:200]
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        sequence = 0
    comment = event.get("COMMENT")
    if isinstance(comment, list):
        comment = comment[0] if comment else None
    said = str(comment) if comment is not None else params.get("X-RESPONSE-COMMENT")
    stamp = _moment(event, "DTSTAMP")
    start = end = None
    if method == "COUNTER":
        start, end = _moment(event, "DTSTART"), _moment(event, "DTEND")
    occurrence = _moment(event, "RECURRENCE-ID")
    if occurrence is None and "RECURRENCE-ID" in event:
        raise ValueError("RECURRENCE-ID")  # never counted for the whole series by mistake
    return CalendarReply(
        method,
        uid[:255],
        attendee,
        name,
        partstat,
        max(0, min(sequence, 1_000_000)),
        _clean(str(said) if said is not None else None, MAX_COMMENT),
        stamp if isinstance(stamp, datetime) else None,
        start,
        end,
        occurrence,
    )


def _moment(event: Component, name: str) -> datetime | date | None:
    if name not in event:
        return None
    try:
        value = event.decoded(name)
    except Exception:  # an unknown zone, a bad value: not worth refusing the reply
        return None
    return value if isinstance(value, date | datetime) else None
