"""Benchmark: drain queued messages to a local aiosmtpd, one connection per batch vs per message.

A fresh SQLite store (WAL, ``synchronous=FULL``) gets N rendered messages (default 2,000); the
outbox is then drained to an aiosmtpd relay on 127.0.0.1 twice, from two identical stores:

- connection reuse: one ``SmtpTransport.send`` for the whole batch (what ``drain`` does);
- one connection per message: ``send`` called once per row (connect, EHLO, MAIL, RCPT, DATA,
  QUIT every time).

The rate limit is disabled. Both runs go through ``drain``, so both include the per-row commit
that marks each row sent; the "SMTP only" lines time the transport alone (no store update) to
show what the connection costs by itself. Prints messages/s for each and the ratio.

    .venv/bin/python benchmarks/outbox.py [--messages 2000]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from syncsvc.app.outbox import drain, envelope_of  # noqa: E402
from syncsvc.formats.mail import message_id  # noqa: E402
from syncsvc.mailer.smtp import Claim, Envelope, OnResult, Outcome, SmtpTransport  # noqa: E402
from syncsvc.state.store import Store  # noqa: E402

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
SENDER = "Service examens <examens@example.fr>"
BODY = (
    "Bonjour,\n\n"
    "L'échéance « Commander les DTE » de la session SA du lundi 15 mars 2027 arrive : "
    "elle est due le lundi 7 décembre 2026.\n\n"
    "Source : arrêté du 22 décembre 2015, article 4.\n"
) * 4


class CountingHandler:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 2.0.0 Ok: queued"


class OnePerMessage:
    """A transport that opens a connection for every single row."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner

    def send(
        self, envelopes: Sequence[Envelope], on_result: OnResult, claim: Claim = lambda _: True
    ) -> None:
        for envelope in envelopes:
            self.inner.send([envelope], on_result, claim)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fill(store: Store, count: int) -> float:
    """Queue ``count`` messages; returns the seconds it took."""
    started = time.perf_counter()
    for n in range(count):
        key = f"reminder:bench-{n // 20:04d}:dte_order:2026-12-07:J-{n % 20}:p{n}@centre.example"
        message = EmailMessage()
        message["Subject"] = f"[SA 15/03] Rappel : Commander les DTE (J-{n % 20})"
        message["From"] = SENDER
        message["To"] = f"Personne {n} <p{n}@centre.example>"
        message["Date"] = format_datetime(NOW)
        message["Message-ID"] = message_id(key, SENDER)
        message.set_content(BODY)
        message.add_alternative(f"<p>{BODY}</p>", subtype="html")
        store.enqueue(
            key=key,
            kind="reminder",
            recipient=str(message["To"]),
            subject=str(message["Subject"]),
            message_id=str(message["Message-ID"]),
            message=message.as_bytes(),
            now=NOW,
        )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=2000, help="messages to drain (2000)")
    args = parser.parse_args()
    count: int = args.messages

    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    folder = Path(tempfile.mkdtemp(prefix="syncsvc-outbox-bench-"))
    try:
        stores = {}
        for mode in ("reuse", "per-message"):
            store = Store(f"sqlite:///{folder / mode}.db")
            store.migrate()
            seconds = fill(store, count)
            stores[mode] = store
            print(f"enqueue ({mode} store): {count} messages in {seconds:.2f} s")

        results: dict[str, float] = {}
        for mode, store in stores.items():
            transport = SmtpTransport("127.0.0.1", port, SENDER, rate=None)
            chosen = transport if mode == "reuse" else OnePerMessage(transport)
            before = handler.messages
            started = time.perf_counter()
            report = drain(store, chosen, NOW, limit=count)
            seconds = time.perf_counter() - started
            assert report.sent == count, report
            received = handler.messages - before
            assert received == count, f"{mode}: the relay got {received} of {count}"
            assert store.outbox_counts() == {"sent": count}, store.outbox_counts()
            results[mode] = count / seconds
            print(
                f"drain, {mode:<11}: {seconds:6.2f} s, {results[mode]:7.0f} messages/s, "
                f"{transport.connections} connection(s)"
            )
        ratio = results["reuse"] / results["per-message"]
        print(f"ratio reuse / per-message (drain): {ratio:.1f}x")

        # The transport alone: same rows, no store update.
        rows = [envelope_of(row) for row in stores["reuse"].messages(limit=count)]

        def ignore(_envelope: Envelope, _outcome: Outcome) -> None:
            return None

        smtp: dict[str, float] = {}
        for mode in ("reuse", "per-message"):
            transport = SmtpTransport("127.0.0.1", port, SENDER, rate=None)
            chosen = transport if mode == "reuse" else OnePerMessage(transport)
            started = time.perf_counter()
            chosen.send(rows, ignore)
            seconds = time.perf_counter() - started
            smtp[mode] = count / seconds
            print(f"SMTP only, {mode:<11}: {seconds:6.2f} s, {smtp[mode]:7.0f} messages/s")
        ratio = smtp["reuse"] / smtp["per-message"]
        print(f"ratio reuse / per-message (SMTP only): {ratio:.1f}x")
        for store in stores.values():
            store.close()
    finally:
        controller.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
