"""The organiser's inbox on a real Dovecot: replies appended with IMAP APPEND, then read.

The jury's invitations are sent first through the in-test SMTP server (``notify`` on a copy of
the example configuration); the replies are the client fixtures of
``tests/formats/data/replies/`` (Outlook, Gmail, Thunderbird, Apple Mail, a COUNTER, a plain
answer, an Outlook TNEF), appended to the mailbox as a client's server would deliver them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.inbox import read_inbox
from syncsvc.app.notify import notify
from syncsvc.core.config import Config
from syncsvc.core.jury import answers
from syncsvc.errors import PermanentError, Unreachable
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
