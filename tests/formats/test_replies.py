"""Replies to jury invitations as real clients send them, read back (pure).

One fixture per client in ``data/replies/``, built on what each client is known to send (read
from the iMIP handling of Nextcloud, Roundcube/Kolab, Thunderbird's calItipEmailTransport,
tmail and captures published in their trackers and tests):

- ``outlook-accepted.eml``: Microsoft 365, ``multipart/alternative`` of text, HTML and
  ``text/calendar; charset="utf-8"; method=REPLY``, every part base64; the VEVENT has no
  ORGANIZER, a Windows zone (``Romance Standard Time``) with its VTIMEZONE, the note as
  ``COMMENT;LANGUAGE=fr-FR`` with RFC 5545 escapes, X-MICROSOFT-CDO properties; subject
  « Accepté: … » in RFC 2047 base64;
- ``outlook-counter.eml``: the same client's « Proposer un nouvel horaire » (METHOD:COUNTER);
- ``gmail-accepted.eml``: Google Calendar, ``multipart/mixed { multipart/alternative { text
  (base64, format=flowed), HTML (quoted-printable), text/calendar; method=REPLY (7bit) },
  application/ics; name="invite.ics" (base64, no method=) }``; the note in the ATTENDEE's
  ``X-RESPONSE-COMMENT`` parameter, HTML-escaped (``&#39\\;``); times in UTC;
- ``thunderbird-declined.eml``: lower-case ``Content-type``, 8-bit parts, the same layout as
  Gmail's, a COMMENT, Europe/Paris with its VTIMEZONE, folded lines;
- ``apple-mail-tentative.eml``: ``multipart/mixed { text/plain, text/calendar; x-unix-mode=0644;
  name="iCal-….ics" }`` as an attachment, quoted-printable (soft breaks inside folded lines),
  no ``method=`` on the MIME part, ``EMAIL=`` on the ATTENDEE;
- ``outlook-text-reply.eml``: « Oui je serai là », a plain answer quoting the invitation;
- ``outlook-tnef-unreadable.eml``: Outlook's TNEF ``winmail.dat`` instead of a calendar part.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syncsvc.formats.replies import MAX_TEXT, read_mail

DATA = Path(__file__).parent / "data" / "replies"
UID = "dwwm-2027-06-venissieux.exam_session@syncsvc"
PARIS = ZoneInfo("Europe/Paris")


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "attendee", "partstat", "comment"),
    [
        (
            "outlook-accepted.eml",
            "t.girard@jury.example",
            "ACCEPTED",
            "Je serai présent les quatre jours. Merci de m'envoyer le référentiel d'évaluation, "
            "je ne l'ai pas reçu la dernière fois.",
        ),
        (
            "gmail-accepted.eml",
            "e.lefevre@jury.example",
            "ACCEPTED",
            "J'arriverai vers 8 h 45 le premier jour",
        ),
        (
            "thunderbird-declined.eml",
            "y.haddad@jury.example",
            "DECLINED",
            "Désolée, je serai en déplacement toute la semaine du 7 juin. Je reste disponible "
            "pour la session de septembre.",
        ),
        ("apple-mail-tentative.eml", "t.girard@jury.example", "TENTATIVE", None),
    ],
)
def test_each_client_s_reply_is_read(
    name: str, attendee: str, partstat: str, comment: str | None
) -> None:
    read = read_mail(fixture(name))
    assert read.kind == "calendar", read.problem
    assert read.sender == attendee
    (reply,) = read.replies
    assert (reply.method, reply.uid, reply.attendee) == ("REPLY", UID, attendee)
    assert (reply.partstat, reply.sequence, reply.comment) == (partstat, 0, comment)
    assert reply.stamp is not None
    assert reply.stamp.tzinfo is not None


def test_outlook_s_reply_headers_and_names() -> None:
    read = read_mail(fixture("outlook-accepted.eml"))
    assert read.message_id == (
        "<PR3P192MB0735D1E5A2C94F1B8E0C4A17B2E19@PR3P192MB0735.EURP192.PROD.OUTLOOK.COM>"
    )
    assert read.subject == "Accepté: Jury — Développeur web et web mobile (TP-01280)"
    assert read.sender_name == "Thomas Girard"
    assert read.date == datetime(2026, 12, 2, 9, 15, 12, tzinfo=UTC)
    assert read.replies[0].stamp == datetime(2026, 12, 2, 9, 15, 12, tzinfo=UTC)


def test_gmail_s_name_in_rfc_2047_and_its_attachment_without_method() -> None:
    read = read_mail(fixture("gmail-accepted.eml"))
    assert read.sender_name == "Émilie Lefèvre"
    assert read.replies[0].name == "Émilie Lefèvre"
    # the inline part is the one read; without it, the invite.ics attachment alone does
    raw = fixture("gmail-accepted.eml").decode()
    inline = raw.index('Content-Type: text/calendar; charset="UTF-8"; method=REPLY')
    alone = raw[:inline] + "Content-Type: text/plain\r\n" + raw[inline + 60 :]
    assert read_mail(alone.encode()).replies[0].partstat == "ACCEPTED"


def test_outlook_s_counter_proposes_another_time() -> None:
    read = read_mail(fixture("outlook-counter.eml"))
    (reply,) = read.replies
    assert (reply.method, reply.attendee, reply.partstat) == (
        "COUNTER",
        "y.haddad@jury.example",
        "TENTATIVE",
    )
    assert isinstance(reply.proposed_start, datetime)
    assert isinstance(reply.proposed_end, datetime)
    # Windows' « Romance Standard Time », read through its VTIMEZONE: Paris summer time
    assert reply.proposed_start.astimezone(PARIS) == datetime(2027, 6, 8, 9, 0, tzinfo=PARIS)
    assert reply.proposed_end.astimezone(PARIS) == datetime(2027, 6, 11, 18, 0, tzinfo=PARIS)
    assert reply.comment is not None
    assert reply.comment.startswith("Je ne suis pas disponible")


def test_a_text_reply_is_kept_for_a_person_without_the_quoted_invitation() -> None:
    read = read_mail(fixture("outlook-text-reply.eml"))
    assert read.kind == "text"
    assert read.replies == ()
    assert read.text == (
        "Bonjour,\n\nOui je serai là pour la session de juin, sauf le jeudi après-midi.\n\n"
        "Cordialement,\nYasmina Haddad"
    )
    assert read.references == ("<3f1c0a0b4e2d9c8b7a6f5e4d3c2b1a0f9e8d7c6b@greta-lyon.example>",)
    assert not read.automatic


def test_outlook_s_tnef_is_unreadable_with_the_reason() -> None:
    read = read_mail(fixture("outlook-tnef-unreadable.eml"))
    assert read.kind == "unreadable"
    assert read.problem == "pièce jointe Outlook TNEF (winmail.dat) : à lire dans Outlook"
    assert read.sender == "e.lefevre@jury.example"


# --- shapes built here --------------------------------------------------------------------


def message(calendar: str, *, part_type: str = "text/calendar", encoding: str = "7bit") -> bytes:
    body = calendar
    if encoding == "base64":
        body = base64.encodebytes(calendar.encode()).decode()
    return (
        "From: Juror <juror@jury.example>\r\n"
        "To: examens@centre.example\r\n"
        "Subject: reply\r\n"
        "Date: Tue, 1 Dec 2026 10:00:00 +0100\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: {part_type}\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n{body}"
    ).encode()


def reply_ics(*lines: str, method: str = "REPLY") -> str:
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//test//EN",
            f"METHOD:{method}",
            "BEGIN:VEVENT",
            *lines,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def test_a_bare_calendar_message_folded_in_the_middle_of_the_address() -> None:
    ics = reply_ics(
        f"UID:{UID}",
        "ATTENDEE;PARTSTAT=DECLINED;CN=Juror:mai",
        " lto:JUROR@Jury.Example",
        "SEQUENCE:3",
    )
    read = read_mail(message(ics, encoding="base64"))
    assert read.kind == "calendar"
    (reply,) = read.replies
    assert (reply.attendee, reply.partstat, reply.sequence) == ("juror@jury.example", "DECLINED", 3)
    assert read.message_id.startswith("<sha256:")  # no Message-ID: the bytes name it


def test_a_calendar_that_is_not_an_answer_is_for_a_person() -> None:
    forwarded = reply_ics(f"UID:{UID}", "ATTENDEE:mailto:juror@jury.example", method="REQUEST")
    read = read_mail(message(forwarded))
    assert read.kind == "unreadable"
    assert read.problem == "partie calendrier sans réponse (ni REPLY ni COUNTER)"


@pytest.mark.parametrize(
    ("ics", "problem"),
    [
        ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\n", "illisible"),
        ("pas du tout un calendrier", "sans VCALENDAR"),
        (reply_ics("ATTENDEE;PARTSTAT=ACCEPTED:mailto:juror@jury.example"), "sans participant"),
        (reply_ics(f"UID:{UID}", "ATTENDEE;PARTSTAT=ACCEPTED:urn:uuid:1234"), "sans participant"),
    ],
)
def test_broken_calendars_are_unreadable_with_a_reason(ics: str, problem: str) -> None:
    read = read_mail(message(ics))
    assert read.kind == "unreadable"
    assert read.problem is not None
    assert problem in read.problem


def test_a_missing_sequence_is_zero_and_a_silly_one_is_bounded() -> None:
    read = read_mail(message(reply_ics(f"UID:{UID}", "ATTENDEE:mailto:a@b.example")))
    assert read.replies[0].sequence == 0
    assert read.replies[0].partstat == "NEEDS-ACTION"
    silly = reply_ics(f"UID:{UID}", "ATTENDEE:mailto:a@b.example", "SEQUENCE:99999999999")
    assert read_mail(message(silly)).replies[0].sequence == 1_000_000


def test_hostile_bytes_never_raise() -> None:
    hostile = [b"", b"\x00\xff" * 100, b"From: <<<\r\n\r\n", b"Content-Type: multipart/mixed\r\n"]
    for data in hostile:
        read = read_mail(data)
        assert read.kind in ("text", "unreadable")
    huge = message("x" * 100_000, part_type="text/plain")
    assert len(read_mail(huge).text) == MAX_TEXT


def test_an_absence_notice_is_automatic() -> None:
    data = message("Je suis absente jusqu'au 4 janvier.", part_type="text/plain; charset=utf-8")
    data = b"Auto-Submitted: auto-replied\r\n" + data
    read = read_mail(data)
    assert (read.kind, read.automatic) == ("text", True)
