"""The organiser's inbox on a real Dovecot: replies appended with IMAP APPEND, then read.

The jury's invitations are sent first through the in-test SMTP server (``notify`` on a copy of
the example configuration); the replies are the client fixtures of
``tests/formats/data/replies/`` (Outlook, Gmail, Thunderbird, Apple Mail, a COUNTER, a plain
answer, an Outlook TNEF), appended to the mailbox as a client's server would deliver them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.inbox import read_inbox
from syncsvc.app.jury import jury_board
from syncsvc.app.notify import notify
from syncsvc.core.config import Config
from syncsvc.core.jury import answers, day_answers
from syncsvc.core.jury_notices import jury_notices
from syncsvc.core.planner import plan_sessions
from syncsvc.core.reminder_model import Policy
from syncsvc.errors import PermanentError, Unreachable
from syncsvc.formats.mail_views import notice_subject, notice_texts
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.inputs.settings import Settings
from syncsvc.mailer.imap import Account, Mailbox
from syncsvc.state.store import Store
from tests.adapters.mail.conftest import NOW, Certificate, SmtpServer, mail_settings
from tests.harness.dovecot import PASSWORD, ImapServer, dovecot_server, ensure_dovecot

REPLIES = Path(__file__).resolve().parents[2] / "formats" / "data" / "replies"
SESSION = "dwwm-2027-06-venissieux"
GIRARD, LEFEVRE, HADDAD = "t.girard@jury.example", "e.lefevre@jury.example", "y.haddad@jury.example"
PROCESSED, HUMANS = "Réponses jury traitées", "Réponses jury à lire"
PASSWORD_ENV = "SYNCSVC_TEST_IMAP_PASSWORD"
UNRELATED = (
    b"From: Fournisseur <ventes@fournitures.example>\r\nTo: examens@greta-lyon.example\r\n"
    b"Subject: Votre commande de papier\r\nMessage-ID: <cmd-1@fournitures.example>\r\n"
    b"Date: Tue, 1 Dec 2026 10:00:00 +0100\r\n\r\nVotre commande est partie.\r\n"
)


def reply(name: str) -> bytes:
    return (REPLIES / name).read_bytes()


@dataclass
class Loop:
    """Invitations sent, a mailbox to read, the store the answers land in."""

    settings: Settings
    config: Config
    store: Store
    imap: ImapServer
    user: str

    def read(self, **options: Any) -> Any:
        return read_inbox(self.settings, self.config, self.store, NOW, **options)

    def folder(self, name: str) -> list[bytes]:
        return self.imap.messages(self.user, name)


def inbox_settings(imap: ImapServer, user: str, **more: Any) -> dict[str, Any]:
    return {
        "host": imap.host,
        "port": imap.port,
        "security": "none",
        "username": user,
        "password_env": PASSWORD_ENV,
        **more,
    }


@pytest.fixture
def loop(
    smtp_server: SmtpServer,
    store: Store,
    config_dir: Path,
    dovecot: ImapServer,
    imap_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Loop:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    inbox = inbox_settings(dovecot, imap_user)
    settings = mail_settings(smtp_server.port, rate_per_minute=100_000, inbox=inbox)
    config = load_config(config_dir, load_ruleset(settings.ruleset))
    notify(settings, config, store, NOW)
    invited = {email for (sid, email), s in store.invitation_states().items() if sid == SESSION}
    assert invited == {GIRARD, LEFEVRE, HADDAD}
    assert smtp_server.handler.received  # the invitations went through the relay
    return Loop(settings, config, store, dovecot, imap_user)


def test_each_client_s_reply_is_recorded_and_filed(loop: Loop) -> None:
    for name in (
        "outlook-accepted.eml",
        "gmail-accepted.eml",
        "thunderbird-declined.eml",
        "outlook-counter.eml",
        "outlook-text-reply.eml",
        "outlook-tnef-unreadable.eml",
    ):
        loop.imap.append(loop.user, reply(name))
    loop.imap.append(loop.user, UNRELATED)

    report = loop.read()

    assert (report.looked, report.recorded, report.already) == (7, 6, 0)
    assert (report.processed, report.for_humans, report.left) == (4, 2, 1)
    ledger = {(r.email, r.kind): r for r in loop.store.jury_replies()}
    assert ledger[(GIRARD, "reply")].partstat == "ACCEPTED"
    assert ledger[(GIRARD, "reply")].status == "applied"
    assert ledger[(LEFEVRE, "reply")].comment == "J'arriverai vers 8 h 45 le premier jour"
    assert ledger[(HADDAD, "reply")].partstat == "DECLINED"
    counter = ledger[(HADDAD, "counter")]
    assert counter.proposed == "du mardi 8 juin 2027 à 9 h au vendredi 11 juin 2027 à 18 h"
    text = ledger[(HADDAD, "text")]
    assert (text.status, text.session_id) == ("pending", SESSION)
    assert text.excerpt is not None
    assert "Oui je serai là" in text.excerpt
    unreadable = ledger[(LEFEVRE, "unreadable")]
    assert unreadable.excerpt == "pièce jointe Outlook TNEF (winmail.dat) : à lire dans Outlook"
    # the answers as they stand: the counter proposes, it does not answer
    found = answers(loop.store.jury_replies(), loop.store.invitation_states())
    assert {email: r.partstat for (_, email), r in found.items()} == {
        GIRARD: "ACCEPTED",
        LEFEVRE: "ACCEPTED",
        HADDAD: "DECLINED",
    }
    # filed, never deleted; the supplier's mail left where it was, untouched (not even \Seen)
    assert len(loop.folder(PROCESSED)) == 4
    assert len(loop.folder(HUMANS)) == 2
    assert loop.folder("INBOX") == [UNRELATED]
    assert "\\Seen" not in loop.imap.flags(loop.user)[0]


def test_a_second_pass_downloads_nothing(loop: Loop) -> None:
    loop.imap.append(loop.user, UNRELATED)
    loop.imap.append(loop.user, reply("outlook-accepted.eml"))
    assert loop.read().looked == 2
    again = loop.read()
    assert (again.looked, again.recorded, again.left) == (0, 0, 0)
    loop.imap.append(loop.user, reply("apple-mail-tentative.eml"))
    third = loop.read()
    assert (third.looked, third.recorded) == (1, 1)


def test_the_same_message_twice_is_recorded_once(loop: Loop) -> None:
    loop.imap.append(loop.user, reply("gmail-accepted.eml"))
    loop.imap.append(loop.user, reply("gmail-accepted.eml"))
    report = loop.read()
    assert (report.looked, report.recorded, report.already) == (2, 1, 1)
    assert [r.email for r in loop.store.jury_replies()] == [LEFEVRE]
    assert len(loop.folder(PROCESSED)) == 2


def test_a_reply_to_an_outdated_invitation_is_recorded_as_such(
    loop: Loop, config_dir: Path
) -> None:
    session_file = config_dir / "sessions" / f"{SESSION}.yaml"
    text = session_file.read_text(encoding="utf-8")
    session_file.write_text(text.replace('"09:00"', '"08:30"'), encoding="utf-8")
    loop.config = load_config(config_dir, load_ruleset(loop.settings.ruleset))
    notify(loop.settings, loop.config, loop.store, NOW)  # SEQUENCE 1 to every juror
    assert loop.store.invitation_states()[(SESSION, GIRARD)].sequence == 1

    loop.imap.append(loop.user, reply("outlook-accepted.eml"))  # answers SEQUENCE 0
    report = loop.read()

    (kept,) = loop.store.jury_replies()
    assert (kept.status, kept.sequence, kept.partstat) == ("outdated", 0, "ACCEPTED")
    assert answers(loop.store.jury_replies(), loop.store.invitation_states()) == {}
    assert report.processed == 1  # recorded, filed with the others: nothing for a person


def test_a_reply_to_no_invitation_goes_to_a_person(loop: Loop) -> None:
    stranger = reply("thunderbird-declined.eml").replace(
        b"y.haddad@jury.example", b"inconnu@jury.example"
    )
    loop.imap.append(loop.user, stranger)
    report = loop.read()
    assert report.for_humans == 1
    (kept,) = loop.store.jury_replies()
    assert (kept.status, kept.email) == ("unmatched", "inconnu@jury.example")


@pytest.fixture(scope="module")
def plain_dovecot() -> Iterator[ImapServer]:
    """A Dovecot that announces neither IDLE nor MOVE (as some hosted servers)."""
    reason = ensure_dovecot()
    if reason is not None:
        pytest.skip(reason)
    with dovecot_server(capabilities="IMAP4rev1 LITERAL+ SASL-IR UIDPLUS") as server:
        yield server


def test_without_move_the_messages_are_copied_then_expunged(
    loop: Loop, plain_dovecot: ImapServer
) -> None:
    user = plain_dovecot.add_user()
    loop.imap, loop.user = plain_dovecot, user
    loop.settings = loop.settings.model_copy(
        update={
            "mail": loop.settings.mail.model_copy(
                update={
                    "inbox": loop.settings.mail.inbox.model_copy(  # type: ignore[union-attr]
                        update={"port": plain_dovecot.port, "username": user}
                    )
                }
            )
        }
    )
    plain_dovecot.append(user, reply("outlook-accepted.eml"))
    plain_dovecot.append(user, reply("outlook-tnef-unreadable.eml"))
    account = Account(plain_dovecot.host, plain_dovecot.port, "none", user, PASSWORD)
    with Mailbox(account) as box:
        assert not box.can_idle
    report = loop.read()
    assert (report.processed, report.for_humans) == (1, 1)
    assert loop.folder("INBOX") == []
    assert len(loop.folder(PROCESSED)) == 1
    assert len(loop.folder(HUMANS)) == 1


def test_idle_wakes_up_when_a_reply_arrives(dovecot: ImapServer, imap_user: str) -> None:
    account = Account(dovecot.host, dovecot.port, "none", imap_user, PASSWORD)
    with Mailbox(account) as box:
        assert box.can_idle
        box.select("INBOX")
        assert not box.wait(0.3, stop=lambda: False, step=0.1)  # nothing arrives
        import threading

        later = threading.Timer(0.2, dovecot.append, (imap_user, reply("outlook-accepted.eml")))
        later.start()
        try:
            assert box.wait(10, stop=lambda: False, step=0.1)
        finally:
            later.join()


def test_tls_and_a_refused_password(certificate: Certificate) -> None:
    reason = ensure_dovecot()
    if reason is not None:
        pytest.skip(reason)
    with dovecot_server(certificate=(certificate.cert, certificate.key)) as server:
        user = server.add_user()
        server.append(user, UNRELATED)
        good = Account(server.host, server.port, "tls", user, PASSWORD, ca_file=certificate.cert)
        with Mailbox(good) as box:
            box.select("INBOX")
            assert box.uids_after(0) == [1]
        wrong = Account(
            server.host, server.port, "tls", user, "pas le bon", ca_file=certificate.cert
        )
        with pytest.raises(PermanentError, match="identifiant ou mot de passe refusé"):
            Mailbox(wrong).open()
        untrusted = Account(server.host, server.port, "tls", user, PASSWORD)
        with pytest.raises(Unreachable, match="certificat"):
            Mailbox(untrusted).open()


# --- replies to one exam day (one occurrence of the recurring invitation) -------------------

ROMANCE = (
    "BEGIN:VTIMEZONE\r\nTZID:Romance Standard Time\r\nBEGIN:STANDARD\r\n"
    "DTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)
PARIS = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def outlook_reply(
    email: str, name: str, partstat: str, stamp: str, occurrence: str | None, n: int
) -> bytes:
    """An Outlook / Exchange REPLY (« Refuser cette occurrence » when ``occurrence``): base64
    parts in multipart/alternative, a Windows zone name, no ORGANIZER."""
    recurrence = f"RECURRENCE-ID;TZID=Romance Standard Time:{occurrence}\r\n" if occurrence else ""
    start = occurrence or "20270607T090000"
    calendar = (
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nPRODID:Microsoft Exchange Server 2010\r\n"
        f"VERSION:2.0\r\n{ROMANCE}BEGIN:VEVENT\r\n"
        f"ATTENDEE;PARTSTAT={partstat};CN={name}:mailto:{email}\r\n"
        "COMMENT;LANGUAGE=fr-FR:Je suis en formation ce jour-là.\r\n"
        f"UID:{SESSION}.exam_session@syncsvc\r\n{recurrence}"
        "SUMMARY;LANGUAGE=fr-FR:Refusé: Jury — Développeur web et web mobile\r\n"
        f"DTSTART;TZID=Romance Standard Time:{start}\r\n"
        f"DTEND;TZID=Romance Standard Time:{start[:9]}180000\r\n"
        f"DTSTAMP:{stamp}\r\nSEQUENCE:0\r\nX-MICROSOFT-CDO-INSTTYPE:3\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    message = EmailMessage()
    message["From"] = f"{name} <{email}>"
    message["To"] = "examens.venissieux@greta-lyon.example"
    message["Subject"] = "Refusé: Jury — Développeur web et web mobile (TP-01280)"
    message["Message-ID"] = f"<outlook-{n}@jury.example>"
    message["Date"] = "Sat, 21 Nov 2026 09:15:12 +0000"
    message.set_content("Je suis en formation ce jour-là.", cte="base64")
    message.add_alternative(
        calendar.encode(), "text", "calendar", params={"method": "REPLY"}, cte="base64"
    )
    return bytes(message)


def thunderbird_reply(
    email: str, name: str, partstat: str, stamp: str, recurrence: str | None, n: int
) -> bytes:
    """A Thunderbird REPLY: 8-bit parts, lower-case headers, the calendar also attached;
    ``recurrence`` is the RECURRENCE-ID line's tail (``;TZID=…:…`` or ``;VALUE=DATE:…``)."""
    line = f"RECURRENCE-ID{recurrence}\r\n" if recurrence else ""
    calendar = (
        "BEGIN:VCALENDAR\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n"
        f"VERSION:2.0\r\nMETHOD:REPLY\r\n{PARIS}BEGIN:VEVENT\r\n"
        f"DTSTAMP:{stamp}\r\nUID:{SESSION}.exam_session@syncsvc\r\n{line}"
        "SUMMARY:Jury — Développeur web et web mobile (TP-01280)\r\n"
        f"ATTENDEE;RSVP=TRUE;CN={name};PARTSTAT={partstat};ROLE=REQ-PARTICIPANT:\r\n"
        f" mailto:{email}\r\nDTSTART;TZID=Europe/Paris:20270607T090000\r\n"
        "DTEND;TZID=Europe/Paris:20270607T180000\r\nSEQUENCE:0\r\n"
        "X-MOZ-RECEIVED-SEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return (
        f"MIME-version: 1.0\r\nFrom: {name} <{email}>\r\n"
        "To: examens.venissieux@greta-lyon.example\r\n"
        f"Subject: Jury\r\nMessage-ID: <thunderbird-{n}@jury.example>\r\n"
        "Date: Sat, 21 Nov 2026 11:15:30 +0100\r\nUser-Agent: Mozilla Thunderbird\r\n"
        'Content-type: multipart/mixed; boundary="B1"\r\n\r\n'
        '--B1\r\nContent-type: multipart/alternative; boundary="B2"\r\n\r\n'
        "--B2\r\nContent-type: text/plain; charset=UTF-8\r\nContent-transfer-encoding: 8BIT\r\n"
        f"\r\n{name} a répondu à votre invitation.\r\n\r\n"
        "--B2\r\nContent-type: text/calendar; method=REPLY; charset=UTF-8\r\n"
        f"Content-transfer-encoding: 8BIT\r\n\r\n{calendar}\r\n--B2--\r\n\r\n"
        "--B1\r\nContent-type: application/ics; name=invite.ics\r\n"
        "Content-disposition: attachment; filename=invite.ics\r\n"
        f"Content-transfer-encoding: 8BIT\r\n\r\n{calendar}\r\n--B1--\r\n"
    ).encode()


def standing(loop: Loop) -> tuple[dict[str, str], dict[str, dict[date, str]]]:
    replies, states = loop.store.jury_replies(), loop.store.invitation_states()
    whole = {email: r.partstat or "" for (_, email), r in answers(replies, states).items()}
    days = {
        email: {day: r.partstat or "" for day, r in found.items()}
        for (_, email), found in day_answers(replies, states).items()
    }
    return whole, days


TUESDAY, WEDNESDAY = date(2027, 6, 8), date(2027, 6, 9)


def test_a_reply_to_one_occurrence_answers_that_day_only(loop: Loop) -> None:
    stamp_0, stamp_1 = "20261120T080000Z", "20261121T080000Z"
    loop.imap.append(
        loop.user, outlook_reply(GIRARD, "Thomas Girard", "ACCEPTED", stamp_0, None, 1)
    )
    # « Refuser cette occurrence » in Outlook: the Tuesday only, in the Windows zone name
    declined = outlook_reply(GIRARD, "Thomas Girard", "DECLINED", stamp_1, "20270608T090000", 2)
    loop.imap.append(loop.user, declined)
    # Thunderbird, the Wednesday only, with its Olson zone; then Gmail-style VALUE=DATE
    loop.imap.append(
        loop.user,
        thunderbird_reply(
            HADDAD, "Yasmina Haddad", "DECLINED", stamp_1, ";TZID=Europe/Paris:20270609T090000", 3
        ),
    )
    loop.imap.append(
        loop.user,
        thunderbird_reply(LEFEVRE, "Élise Lefèvre", "DECLINED", stamp_1, ";VALUE=DATE:20270608", 4),
    )

    report = loop.read()

    assert (report.recorded, report.processed, report.for_humans) == (4, 4, 0)
    ledger = {(r.email, r.day): r for r in loop.store.jury_replies()}
    assert ledger[(GIRARD, TUESDAY)].status == "applied"
    assert ledger[(HADDAD, WEDNESDAY)].partstat == "DECLINED"
    assert "DECLINED le mardi 8 juin 2027" in " ".join(report.lines)
    whole, days = standing(loop)
    assert whole == {GIRARD: "ACCEPTED"}  # no one declined the whole session
    assert days == {
        GIRARD: {TUESDAY: "DECLINED"},
        HADDAD: {WEDNESDAY: "DECLINED"},
        LEFEVRE: {TUESDAY: "DECLINED"},
    }
    planned = [p for p in plan_sessions(loop.config, {}, NOW).planned if p.session.id == SESSION]
    board = jury_board(planned, loop.store, NOW)
    rows = {r.email: r for r in board.of(SESSION)}
    assert (rows[GIRARD].partstat, rows[GIRARD].declined_days) == ("ACCEPTED", (TUESDAY,))
    assert not rows[GIRARD].confirmed
    assert (rows[HADDAD].partstat, rows[HADDAD].declined_days) == ("NEEDS-ACTION", (WEDNESDAY,))
    # the coordinators are told of the one day, not of the whole session
    notices = jury_notices(planned, board.rows, board.answers, [], Policy(), NOW)
    refusals = [n for _, n in notices if n.kind == "declined" and n.email == GIRARD]
    assert refusals
    assert {n.day for n in refusals} == {TUESDAY}
    text = notice_texts(refusals[:1], None)[0]
    assert text.heading.endswith("un membre du jury ne pourra pas venir le mardi 8 juin 2027")
    assert text.lines[0].startswith(
        "Thomas Girard (t.girard@jury.example) a décliné le mardi 8 juin 2027"
    )
    assert notice_subject(refusals[:1]) == (
        f"[{refusals[0].session.short_label}] Jury : Thomas Girard ne pourra pas venir "
        "le mardi 8 juin 2027"
    )


def test_a_later_answer_to_the_whole_session_overrides_the_days(loop: Loop) -> None:
    day = ";TZID=Europe/Paris:20270609T090000"
    # delivered in this order, written in another: the DTSTAMPs decide
    loop.imap.append(
        loop.user,
        thunderbird_reply(HADDAD, "Yasmina Haddad", "ACCEPTED", "20261121T080000Z", None, 1),
    )
    loop.imap.append(
        loop.user,
        thunderbird_reply(HADDAD, "Yasmina Haddad", "DECLINED", "20261120T080000Z", day, 2),
    )
    loop.read()
    assert standing(loop) == ({HADDAD: "ACCEPTED"}, {})

    loop.imap.append(
        loop.user,
        thunderbird_reply(HADDAD, "Yasmina Haddad", "DECLINED", "20261122T080000Z", day, 3),
    )
    loop.read()
    assert standing(loop) == ({HADDAD: "ACCEPTED"}, {HADDAD: {WEDNESDAY: "DECLINED"}})


def test_an_unreadable_recurrence_id_counts_for_nothing(loop: Loop) -> None:
    broken = thunderbird_reply(HADDAD, "Yasmina Haddad", "DECLINED", "20261121T080000Z", ":ZZZ", 1)
    loop.imap.append(loop.user, broken)
    report = loop.read()
    assert report.for_humans == 1
    assert standing(loop) == ({}, {})


def test_the_same_answer_to_every_day_one_by_one_answers_the_session(loop: Loop) -> None:
    for n, day in enumerate(("20270607", "20270608", "20270609", "20270610", "20270612")):
        occurrence = f";TZID=Europe/Paris:{day}T090000"  # the 12th (a Saturday): no exam day
        loop.imap.append(
            loop.user,
            thunderbird_reply(
                LEFEVRE, "Élise Lefèvre", "ACCEPTED", f"2026112{n}T080000Z", occurrence, n
            ),
        )
    loop.read()
    planned = [p for p in plan_sessions(loop.config, {}, NOW).planned if p.session.id == SESSION]
    row = next(r for r in jury_board(planned, loop.store, NOW).of(SESSION) if r.email == LEFEVRE)
    assert (row.partstat, row.days, row.confirmed) == ("ACCEPTED", (), True)
