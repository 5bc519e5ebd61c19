"""`syncsvc run` reads the organiser's inbox continuously: a reply appended to a real Dovecot
while the service runs is recorded within seconds (IMAP IDLE wakes the inbox job)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from syncsvc.state.store import Store
from tests.harness.dovecot import PASSWORD, ImapServer
from tests.harness.servers import CalDAVServer
from tests.system.service import Inbox, Service, wait_for, write_config

REPLIES = Path(__file__).resolve().parents[1] / "formats" / "data" / "replies"
PASSWORD_ENV = "SYNCSVC_TEST_IMAP_PASSWORD"


def test_the_service_records_a_reply_as_it_arrives(
    tmp_path: Path,
    radicale: CalDAVServer,
    inbox: tuple[Inbox, int],
    dovecot: ImapServer,
    imap_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    box, smtp_port = inbox
    config = write_config(tmp_path, radicale, smtp_port, f"sqlite:///{tmp_path / 'state.db'}")
    with (config / "syncsvc.toml").open("a", encoding="utf-8") as toml:
        toml.write(
            f"""
[mail.inbox]
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{imap_user}"
password_env = "{PASSWORD_ENV}"
poll_seconds = 3600
"""
        )
    service = Service(config, tmp_path / "run.log").start()
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        wait_for(
            "the jury invitations",
            lambda: any(str(m["Subject"]).startswith("Invitation") for m in box.messages),
        )
        wait_for(
            "the first look at the inbox",
            lambda: store.inbox_position("INBOX") is not None,
            service=service,
        )
        dovecot.append(imap_user, (REPLIES / "gmail-accepted.eml").read_bytes())
        # poll_seconds is an hour: only IDLE can bring the reply in within the wait
        wait_for("the reply recorded", lambda: len(store.jury_replies()) == 1, 30, service=service)
        (reply,) = store.jury_replies()
        assert (reply.email, reply.partstat) == ("e.lefevre@jury.example", "ACCEPTED")
        # logged once the read is over, just after the store has the reply (seen in CI)
        wait_for("the log line", lambda: "réponse du jury" in service.text(), service=service)
    finally:
        code = service.stop(signal.SIGTERM)
        store.close()
    assert code == 0, service.text()[-3000:]


def test_the_service_reads_each_centre_s_mailbox(
    tmp_path: Path,
    radicale: CalDAVServer,
    inbox: tuple[Inbox, int],
    dovecot: ImapServer,
    imap_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """[mail.inbox] and [mail.inboxes.st-andre]: one reader (and one IDLE) per mailbox; one
    that refuses the login at start-up does not hold the other, and is read within seconds
    once it accepts it (the IDLE reconnection or the reader's backoff: not at its periodic
    read an hour later; test_daemon_loop checks the reader's backoff alone)."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    other = dovecot.add_user()
    secret = tmp_path / "st-andre.secret"
    secret.write_text("pas-le-bon\n", encoding="utf-8")
    box, smtp_port = inbox
    config = write_config(tmp_path, radicale, smtp_port, f"sqlite:///{tmp_path / 'state.db'}")
    with (config / "syncsvc.toml").open("a", encoding="utf-8") as toml:
        for table, user, password in (
            ("mail.inbox", imap_user, f'password_env = "{PASSWORD_ENV}"'),
            ("mail.inboxes.st-andre", other, f'password_file = "{secret}"'),
        ):
            toml.write(
                f"""
[{table}]
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
{password}
poll_seconds = 3600
"""
            )
    service = Service(config, tmp_path / "run.log").start()
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        wait_for(
            "the jury invitations",
            lambda: any(str(m["Subject"]).startswith("Invitation") for m in box.messages),
        )
        wait_for(
            "the st-andre mailbox refused",
            lambda: "lecture des réponses du jury « st-andre » impossible" in service.text(),
            service=service,
        )
        wait_for(
            "the first look at the other mailbox",
            lambda: store.inbox_position("INBOX") is not None,
            service=service,
        )
        assert store.inbox_position("inboxes.st-andre:INBOX") is None
        secret.write_text(f"{PASSWORD}\n", encoding="utf-8")
        wait_for(
            "the st-andre mailbox read after its backoff delay",
            lambda: store.inbox_position("inboxes.st-andre:INBOX") is not None,
            service=service,
        )
        dovecot.append(imap_user, (REPLIES / "gmail-accepted.eml").read_bytes())
        dovecot.append(other, (REPLIES / "thunderbird-declined.eml").read_bytes())
        # poll_seconds is an hour: only each mailbox's IDLE can bring its reply in
        wait_for(
            "both replies recorded", lambda: len(store.jury_replies()) == 2, 30, service=service
        )
        assert {(r.email, r.partstat) for r in store.jury_replies()} == {
            ("e.lefevre@jury.example", "ACCEPTED"),
            ("y.haddad@jury.example", "DECLINED"),
        }
        assert len(dovecot.messages(other, "Réponses jury traitées")) == 1
    finally:
        code = service.stop(signal.SIGTERM)
        store.close()
    assert code == 0, service.text()[-3000:]
