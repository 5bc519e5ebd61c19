"""The outbox and the SMTP transport against a real aiosmtpd relay on 127.0.0.1.

Every ``now`` is fixed and nothing sleeps for real: the rate limit gets a fake clock and sleep.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from syncsvc import cli
from syncsvc.app import notify as notify_module
from syncsvc.app.notify import notify
from syncsvc.app.outbox import DrainReport, drain
from syncsvc.core.config import Config
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.inputs.settings import Settings
from syncsvc.mailer.smtp import RateLimit
from syncsvc.state.store import Store
from tests.adapters.mail.conftest import (
    NOW,
    SENDER,
    SMTP_PASSWORD,
    SMTP_USER,
    Certificate,
    RecordingHandler,
    SmtpServer,
    enqueue,
    free_port,
    mail_settings,
    row_by_key,
    rows_by_id,
    set_toml_table,
    wire,
)

# The AUTH fixture allows login over plain TCP on purpose (tests only): aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

RETRY = timedelta(minutes=5)  # first backoff step of syncsvc.app.outbox


def _config(config_dir: Path, settings: Settings) -> Config:
    config = load_config(config_dir, load_ruleset(settings.ruleset))
    assert not config.problems, config.problems
    return config


def _address(recipient: str) -> str:
    found = re.search(r"<([^>]+)>", recipient)
    return found.group(1) if found else recipient


class FakeClock:
    """A monotonic clock that only moves when someone sleeps (or the test moves it)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _no_real_sleep(seconds: float) -> None:
    raise AssertionError(f"time.sleep({seconds}) called for real")


# --- one connection per batch, the stored bytes, the SMTP answer ------------------------------


def test_a_batch_goes_over_one_connection_with_the_stored_bytes(
    smtp_server: SmtpServer, store: Store
) -> None:
    for n in range(5):
        enqueue(store, f"reminder:s1:m{n}", f"Personne {n} <p{n}@centre.example>")
    transport = smtp_server.transport()

    report = drain(store, transport, NOW)

    assert report == DrainReport(sent=5)
    assert transport.connections == 1
    assert smtp_server.handler.connections == 1
    rows = rows_by_id(store)
    received = smtp_server.handler.received
    assert [r.message_id for r in received] == [row.message_id for row in rows]
    for number, (got, row) in enumerate(zip(received, rows, strict=True), start=1):
        assert got.connection == 1
        assert got.mail_from == "examens@example.fr"
        assert got.rcpt_tos == (_address(row.recipient),)
        assert got.data == wire(row.message)  # the very bytes rendered at enqueue
        assert row.status == "sent"
        assert row.attempts == 1
        assert row.sent_at == NOW
        assert row.last_error is None
        assert row.smtp_reply == f"2.0.0 Ok: queued as {number}"
    assert store.outbox_counts() == {"sent": 5}

    # Nothing left: the next drain opens no connection at all.
    assert drain(store, transport, NOW + timedelta(hours=1)) == DrainReport()
    assert transport.connections == 1
    assert smtp_server.handler.connections == 1


def test_each_drain_is_one_connection(smtp_server: SmtpServer, store: Store) -> None:
    transport = smtp_server.transport()
    for batch in range(3):
        for n in range(2):
            enqueue(store, f"reminder:b{batch}:{n}", f"p{n}@centre.example")
        assert drain(store, transport, NOW) == DrainReport(sent=2)
    assert transport.connections == 3
    assert [r.connection for r in smtp_server.handler.received] == [1, 1, 2, 2, 3, 3]


# --- notify: twice for the same now ----------------------------------------------------------


def test_notify_twice_for_the_same_now_sends_nothing_the_second_time(
    smtp_server: SmtpServer, store: Store, config_dir: Path
) -> None:
    settings = mail_settings(smtp_server.port)
    config = _config(config_dir, settings)

    first = notify(settings, config, store, NOW, transport=smtp_server.transport())

    assert first.queued, "the example sessions have mail due on 2026-11-23"
    assert first.drained == DrainReport(sent=len(first.queued))
    received = list(smtp_server.handler.received)
    assert len(received) == len(first.queued)
    assert len({r.message_id for r in received}) == len(received)
    assert [r.rcpt_tos for r in received] == [(p.recipient,) for p in first.queued]

    again = smtp_server.transport()
    second = notify(settings, config, store, NOW, transport=again)

    assert second.queued == []
    assert second.drained == DrainReport()
    assert again.connections == 0
    assert smtp_server.handler.received == received
    assert store.outbox_counts() == {"sent": len(received)}


def test_cli_notify_twice_uses_the_configured_relay_and_rate(
    smtp_server: SmtpServer,
    store: Store,
    config_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``syncsvc notify`` reads [mail] from syncsvc.toml; its rate limit (30/min) sleeps through
    the sleep given to ``transport_of``, replaced here by a recorder."""
    mail: dict[str, str | int] = {
        "transport": "smtp",
        "host": "127.0.0.1",
        "port": smtp_server.port,
        "from": SENDER,
        "rate_per_minute": 30,
    }
    set_toml_table(config_dir / "syncsvc.toml", "mail", mail)
    fake = FakeClock()  # the limiter's clock moves only by its pauses: no real time counted
    sleeps = fake.sleeps
    monkeypatch.setattr(notify_module, "RateLimit", functools.partial(RateLimit, clock=fake.clock))
    monkeypatch.setattr(
        notify_module,
        "transport_of",
        functools.partial(notify_module.transport_of, sleep=fake.sleep),
    )
    argv = ["notify", "--config", str(config_dir), "--now", NOW.isoformat()]

    assert cli.main(argv) == cli.EXIT_OK
    out = capsys.readouterr().out
    sent = len(smtp_server.handler.received)
    assert sent > 0
    assert f"{sent} message(s) mis en file ; envoyés : {sent}, à réessayer : 0" in out
    # 30 messages a minute: one pause of 2 s before every message but the first.
    assert len(sleeps) == sent - 1
    assert all(pause == pytest.approx(2.0) for pause in sleeps)

    assert cli.main(argv) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "0 message(s) mis en file ; envoyés : 0, à réessayer : 0" in out
    assert len(smtp_server.handler.received) == sent
    assert store.outbox_counts() == {"sent": sent}


# --- the relay down for a day ----------------------------------------------------------------


def test_smtp_down_for_a_day_then_everything_is_delivered_in_order_exactly_once(
    store: Store, config_dir: Path
) -> None:
    server = SmtpServer(RecordingHandler(), free_port())  # not started: connection refused
    settings = mail_settings(server.port)
    config = _config(config_dir, settings)
    transport = server.transport()

    first = notify(settings, config, store, NOW, transport=transport)

    queued = len(first.queued)
    assert queued > 0
    assert first.drained is not None
    assert (first.drained.sent, first.drained.retried, first.drained.dead) == (0, queued, 0)
    assert all("relais SMTP injoignable" in error for error in first.drained.errors)
    assert store.outbox_counts() == {"pending": queued}
    assert all(r.next_attempt_at == NOW + RETRY for r in rows_by_id(store))

    # The hourly job keeps running (and failing) during the day: backoff, no loss.
    for hours in (1, 3, 12):
        report = notify(settings, config, store, NOW + timedelta(hours=hours), transport=transport)
        assert report.drained is not None
        assert (report.drained.sent, report.drained.dead) == (0, 0)
    assert set(store.outbox_counts()) == {"pending"}
    for row in rows_by_id(store)[:queued]:
        assert row.attempts == 4
        assert row.next_attempt_at == NOW + timedelta(hours=12, minutes=40)  # 5, 10, 20, 40 min
        assert row.last_error is not None
        assert "injoignable" in row.last_error

    server.start()
    try:
        later = NOW + timedelta(days=1)
        recovery = notify(settings, config, store, later, transport=server.transport())
    finally:
        server.stop()

    rows = rows_by_id(store)
    assert recovery.drained == DrainReport(sent=len(rows))
    assert store.outbox_counts() == {"sent": len(rows)}
    received = server.handler.received
    assert [r.message_id for r in received] == [row.message_id for row in rows]  # id order
    assert len({r.message_id for r in received}) == len(rows)  # each once
    assert [r.data for r in received] == [wire(row.message) for row in rows]
    assert server.handler.connections == 1
    assert all(row.sent_at == later for row in rows)


# --- 550: dead letter, visible, resendable; 451: retried later -------------------------------


def test_550_is_a_dead_letter_listed_by_outbox_failed_and_451_is_retried(
    smtp_server: SmtpServer,
    store: Store,
    config_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = smtp_server.handler
    handler.refuse["inconnu@centre.example"] = "550 5.1.1 Mailbox unknown"
    handler.refuse["plein@centre.example"] = "451 4.2.2 Mailbox full, try again later"
    first = enqueue(store, "reminder:a", "Anne <a@centre.example>")
    bad = enqueue(store, "reminder:bad", "Inconnu <inconnu@centre.example>")
    third = enqueue(store, "reminder:c", "Claude <c@centre.example>")
    full = enqueue(store, "reminder:full", "Plein <plein@centre.example>")
    transport = smtp_server.transport()

    report = drain(store, transport, NOW)

    assert (report.sent, report.retried, report.dead) == (2, 1, 1)
    assert transport.connections == 1  # a refused recipient does not cost the connection
    rows = {r.id: r for r in store.messages()}
    assert rows[first].status == rows[third].status == "sent"
    assert rows[bad].status == "dead"
    assert rows[bad].attempts == 1
    assert rows[bad].last_error == "destinataire refusé (550)"
    assert rows[full].status == "pending"
    assert rows[full].attempts == 1
    assert rows[full].last_error == "destinataire refusé (451)"
    assert rows[full].next_attempt_at == NOW + RETRY
    assert rows[full].next_attempt_at > NOW
    assert [r.rcpt_tos for r in handler.received] == [("a@centre.example",), ("c@centre.example",)]
    assert store.due_messages(NOW + timedelta(minutes=1)) == []  # not before its time

    now = NOW.isoformat()
    base = ["outbox", "--config", str(config_dir), "--now", now]
    assert cli.main([*base, "--failed"]) == cli.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "en échec : 1"  # --failed counts the failed only (not « envoyé : 2 »)
    assert len(lines) == 2
    assert lines[1].startswith(f"{bad}\ten échec\t")
    assert "Inconnu <inconnu@centre.example>" in lines[1]
    assert lines[1].endswith("Rappel : reminder:bad — destinataire refusé (550)")

    assert cli.main([*base, "--resend", str(bad)]) == cli.EXIT_OK
    assert f"envoi {bad} remis en file" in capsys.readouterr().out
    resent = row_by_key(store, "reminder:bad")
    assert resent.status == "pending"
    assert resent.next_attempt_at == NOW
    assert cli.main([*base, "--failed"]) == cli.EXIT_OK
    assert capsys.readouterr().out.splitlines() == ["en échec : 0"]
    # Only a dead letter can be resent; a wrong number is one French line and exit code 2.
    assert cli.main([*base, "--resend", str(bad)]) == cli.EXIT_USAGE
    assert f"aucun envoi en échec numéro {bad}" in capsys.readouterr().err
    assert cli.main([*base, "--resend", "9999"]) == cli.EXIT_USAGE

    # The address is fixed and the mailbox emptied: the next drain after the backoff sends both.
    handler.refuse.clear()
    assert drain(store, transport, NOW + RETRY) == DrainReport(sent=2)
    assert store.outbox_counts() == {"sent": 4}
    assert [r.rcpt_tos[0] for r in handler.received] == [
        "a@centre.example",
        "c@centre.example",
        "inconnu@centre.example",
        "plein@centre.example",
    ]
    assert row_by_key(store, "reminder:full").attempts == 2


def test_a_5xx_for_every_row_makes_every_row_a_dead_letter(
    smtp_server: SmtpServer, store: Store
) -> None:
    smtp_server.handler.refuse["x@centre.example"] = "554 5.7.1 Rejected"
    for n in range(3):
        enqueue(store, f"reminder:x{n}", "x@centre.example")
    report = drain(store, smtp_server.transport(), NOW)
    assert (report.sent, report.dead) == (0, 3)
    assert store.outbox_counts() == {"dead": 3}
    assert len(report.errors) == 3


def test_a_relay_closing_mid_batch_leaves_the_rest_queued_in_order(
    smtp_server: SmtpServer, store: Store
) -> None:
    """421 closes the connection (RFC 5321 §3.8): that row and the rest are retried, none lost."""
    smtp_server.handler.refuse["b@centre.example"] = "421 4.3.2 Service shutting down"
    for name in "abcd":
        enqueue(store, f"reminder:{name}", f"{name}@centre.example")
    transport = smtp_server.transport()

    report = drain(store, transport, NOW)

    assert (report.sent, report.retried, report.dead) == (1, 3, 0)
    rows = rows_by_id(store)
    assert [r.status for r in rows] == ["sent", "pending", "pending", "pending"]
    assert [r.last_error for r in rows] == [
        None,
        "destinataire refusé (421)",
        "envoi interrompu (SMTPServerDisconnected)",
        "envoi interrompu (connexion perdue)",
    ]

    smtp_server.handler.refuse.clear()
    assert drain(store, transport, NOW + RETRY) == DrainReport(sent=3)
    assert [r.rcpt_tos[0][0] for r in smtp_server.handler.received] == list("abcd")
    assert transport.connections == 2


# --- the duplicate window ---------------------------------------------------------------------


class SimulatedCrash(Exception):
    """The process dies after the relay's 250 and before the commit that marks the row sent."""


class CrashBeforeMarkSent(Store):
    def __init__(self, url: str, crashes: int = 1) -> None:
        super().__init__(url)
        self.crashes = crashes

    def mark_sent(self, message: int, reply: str, at: datetime) -> None:
        if self.crashes:
            self.crashes -= 1
            raise SimulatedCrash(message)
        super().mark_sent(message, reply, at)


def test_a_crash_between_acceptance_and_commit_resends_the_same_bytes(
    smtp_server: SmtpServer, store: Store
) -> None:
    first = enqueue(store, "reminder:dup", "Anne <a@centre.example>")
    enqueue(store, "reminder:next", "Claude <c@centre.example>")
    crashing = CrashBeforeMarkSent(str(store.url))
    try:
        with pytest.raises(SimulatedCrash):
            drain(crashing, smtp_server.transport(), NOW)
    finally:
        crashing.close()
    assert len(smtp_server.handler.received) == 1  # accepted by the relay...
    row = row_by_key(store, "reminder:dup")
    assert (row.id, row.status, row.attempts) == (first, "pending", 0)  # ...but not recorded

    # The next run (a restarted process) sends the row again: the very same bytes.
    assert drain(store, smtp_server.transport(), NOW + timedelta(minutes=1)) == DrainReport(sent=2)

    received = smtp_server.handler.received
    assert [r.rcpt_tos[0] for r in received] == [
        "a@centre.example",
        "a@centre.example",
        "c@centre.example",
    ]
    duplicate, original = received[1], received[0]
    assert duplicate.data == original.data == wire(row.message)
    assert duplicate.message_id == original.message_id == row.message_id
    assert [r.connection for r in received] == [1, 2, 2]
    row = row_by_key(store, "reminder:dup")
    assert (row.status, row.attempts) == ("sent", 1)
    assert store.outbox_counts() == {"sent": 2}


# --- AUTH and TLS -----------------------------------------------------------------------------


def test_auth_login_then_delivery(smtp_auth_server: SmtpServer, store: Store) -> None:
    enqueue(store, "reminder:auth1", "a@centre.example")
    enqueue(store, "reminder:auth2", "b@centre.example")
    transport = smtp_auth_server.transport(username=SMTP_USER, password=SMTP_PASSWORD)

    assert drain(store, transport, NOW) == DrainReport(sent=2)

    assert [r.login for r in smtp_auth_server.handler.received] == [SMTP_USER, SMTP_USER]
    assert transport.connections == 1


def test_auth_with_a_wrong_password_is_a_permanent_failure(
    smtp_auth_server: SmtpServer, store: Store
) -> None:
    enqueue(store, "reminder:auth1", "a@centre.example")
    enqueue(store, "reminder:auth2", "b@centre.example")
    transport = smtp_auth_server.transport(username=SMTP_USER, password="pas le bon")

    report = drain(store, transport, NOW)

    assert (report.sent, report.retried, report.dead) == (0, 0, 2)
    assert smtp_auth_server.handler.received == []
    for row in rows_by_id(store):
        assert row.status == "dead"
        assert row.last_error is not None
        assert "authentification" in row.last_error
        assert "535" in row.last_error


def test_a_relay_that_requires_auth_refuses_an_anonymous_sender(
    smtp_auth_server: SmtpServer, store: Store
) -> None:
    enqueue(store, "reminder:anon", "a@centre.example")
    report = drain(store, smtp_auth_server.transport(), NOW)
    assert report.dead == 1
    row = rows_by_id(store)[0]
    assert row.status == "dead"
    assert row.last_error is not None
    assert row.last_error.startswith("refus du relais SMTP : 530")


def test_starttls_delivers_over_tls(
    smtp_starttls_server: SmtpServer, store: Store, certificate: Certificate
) -> None:
    enqueue(store, "reminder:tls", "a@centre.example")
    transport = smtp_starttls_server.transport(
        security="starttls", tls_context=certificate.client_context()
    )

    assert drain(store, transport, NOW) == DrainReport(sent=1)

    (received,) = smtp_starttls_server.handler.received
    assert received.tls
    assert received.data == wire(rows_by_id(store)[0].message)
    assert smtp_starttls_server.handler.connections == 1


def test_starttls_with_an_untrusted_certificate_is_retried_not_sent_in_clear(
    smtp_starttls_server: SmtpServer, store: Store
) -> None:
    enqueue(store, "reminder:tls", "a@centre.example")
    transport = smtp_starttls_server.transport(security="starttls")  # system CAs only

    report = drain(store, transport, NOW)

    assert (report.sent, report.retried) == (0, 1)
    assert smtp_starttls_server.handler.received == []
    row = rows_by_id(store)[0]
    assert (row.status, row.attempts) == ("pending", 1)


def test_implicit_tls_delivers(
    smtp_tls_server: SmtpServer, store: Store, certificate: Certificate
) -> None:
    enqueue(store, "reminder:smtps", "a@centre.example")
    transport = smtp_tls_server.transport(security="tls", tls_context=certificate.client_context())
    assert drain(store, transport, NOW) == DrainReport(sent=1)
    (received,) = smtp_tls_server.handler.received
    assert received.tls


# --- rate limit -------------------------------------------------------------------------------


def test_rate_limit_spaces_a_batch_with_the_injected_sleep(
    smtp_server: SmtpServer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        enqueue(store, f"reminder:rate{n}", f"p{n}@centre.example")
    fake = FakeClock()
    transport = smtp_server.transport(rate=RateLimit(30, sleep=fake.sleep, clock=fake.clock))

    with monkeypatch.context() as patch:
        patch.setattr(time, "sleep", _no_real_sleep)
        report = drain(store, transport, NOW)

    assert report == DrainReport(sent=3)
    assert fake.sleeps == pytest.approx([2.0, 2.0])  # 60 s / 30: two intervals for 3 messages
    assert sum(fake.sleeps) == pytest.approx(4.0)
    assert transport.connections == 1


def test_rate_limit_counts_the_time_already_spent() -> None:
    fake = FakeClock()
    limit = RateLimit(30, sleep=fake.sleep, clock=fake.clock)
    limit.wait()  # the first message never waits
    fake.now += 0.5  # sending took half a second
    limit.wait()
    fake.now += 3.0  # slower than the limit: no pause
    limit.wait()
    assert fake.sleeps == pytest.approx([1.5])


# --- an address the relay cannot be given -----------------------------------------------------


def test_a_non_ascii_address_is_refused_at_load_and_never_blocks_the_outbox(
    smtp_server: SmtpServer, store: Store, config_dir: Path
) -> None:
    session = config_dir / "sessions" / "sa-2027-03-st-andre.yaml"  # its jury written inline
    text = session.read_text(encoding="utf-8")
    session.write_text(
        text.replace("p.fontaine@jury.example", "émilie.lefèvre@jury.example"), encoding="utf-8"
    )
    config = load_config(config_dir)
    [problem] = [p for p in config.problems if p.file == str(session)]
    assert problem.field == "jury[2].email"  # counted from 1, as people count
    assert "accentués" in problem.message

    # Should such an address reach the queue anyway, it becomes a dead letter, not a crash.
    store.enqueue(
        key="k1",
        kind="reminder",
        recipient="Émilie <émilie.lefèvre@jury.example>",
        subject="s",
        message_id="<k1@x>",
        message=b"Subject: s\r\n\r\nx\r\n",
        now=NOW,
    )
    store.enqueue(
        key="k2",
        kind="reminder",
        recipient="Ok <ok@jury.example>",
        subject="s",
        message_id="<k2@x>",
        message=b"Subject: s\r\n\r\nx\r\n",
        now=NOW,
    )
    report = drain(store, smtp_server.transport(), NOW)
    assert (report.sent, report.dead) == (1, 1)
    assert store.outbox_counts() == {"sent": 1, "dead": 1}
