"""Mail transports: SMTP through aiosmtplib (one connection per batch), or a Maildir.

A transport takes *envelopes* (sender, recipients, the message's bytes) and reports what each
came to: :class:`Sent` with the server's answer, or an error of :mod:`syncsvc.errors` sorted
once, here: a connection that fails, a timeout or a 4xx answer is a
:class:`~syncsvc.errors.TemporaryError` (the outbox retries later); a 5xx answer is a
:class:`~syncsvc.errors.PermanentError` (dead letter). Each error carries the SMTP code.
"""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib

from syncsvc.errors import PermanentError, RemoteError, TemporaryError, Unreachable


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message to send: ``ref`` is the caller's reference (the outbox row id)."""

    ref: int
    recipients: tuple[str, ...]
    message: bytes


@dataclass(frozen=True, slots=True)
class Sent:
    reply: str


Outcome = Sent | RemoteError
OnResult = Callable[[Envelope, Outcome], None]
Claim = Callable[[Envelope], bool]
"""Called right before an envelope is sent: False skips it; an exception stops the batch."""
Sleep = Callable[[float], None]


def _always(_: Envelope) -> bool:
    return True


class Transport(Protocol):
    def send(
        self, envelopes: Sequence[Envelope], on_result: OnResult, claim: Claim = _always
    ) -> None:
        """Send ``envelopes`` in order: ``claim`` right before each, ``on_result`` right
        after."""


@dataclass
class RateLimit:
    per_minute: int
    sleep: Sleep = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last: float | None = None

    def wait(self) -> None:
        interval = 60.0 / self.per_minute
        now = self.clock()
        if self._last is not None and now - self._last < interval:
            self.sleep(interval - (now - self._last))
            now = self.clock()
        self._last = now


def _by_code(text: str, code: int) -> RemoteError:
    """An SMTP answer: 5xx is permanent (every refused address, when several), else temporary."""
    return PermanentError(text, code) if code >= 500 else TemporaryError(text, status=code)


class SmtpTransport:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        security: Literal["none", "starttls", "tls"] = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        rate: RateLimit | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.envelope_from = parseaddr(sender)[1]
        self.security = security
        self.username, self.password = username, password
        self.timeout = timeout
        self.rate = rate
        self.tls_context = tls_context
        self.connections = 0

    def send(
        self, envelopes: Sequence[Envelope], on_result: OnResult, claim: Claim = _always
    ) -> None:
        if envelopes:
            asyncio.run(self._send(list(envelopes), on_result, claim))

    async def _send(self, rows: list[Envelope], on_result: OnResult, claim: Claim) -> None:
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            tls_context=self.tls_context,
        )
        try:
            await client.connect()
            self.connections += 1
            if self.username and self.password:
                await client.login(self.username, self.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            refused = PermanentError(f"authentification SMTP refusée ({exc.code})", exc.code)
            for row in rows:
                on_result(row, refused)
            return
        except (aiosmtplib.SMTPException, OSError) as exc:
            down = Unreachable(f"relais SMTP injoignable ({type(exc).__name__})")
            for row in rows:
                on_result(row, down)
            return
        try:
            for index, row in enumerate(rows):
                if self.rate is not None:
                    self.rate.wait()
                if not claim(row):
                    continue
                try:
                    _refused, reply = await client.sendmail(
                        self.envelope_from, list(row.recipients), row.message
                    )
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    codes = [r.code for r in exc.recipients]
                    text = f"destinataire refusé ({', '.join(map(str, codes))})"
                    on_result(row, _by_code(text, min(codes)) if codes else TemporaryError(text))
                except aiosmtplib.SMTPResponseException as exc:
                    text = f"refus du relais SMTP : {exc.code} {exc.message}"
                    on_result(row, _by_code(text, exc.code))
                except (UnicodeError, ValueError) as exc:
                    on_result(row, PermanentError(f"message impossible à transmettre ({exc})"))
                    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                        await client.rset()  # close the half-open transaction
                except (aiosmtplib.SMTPException, OSError) as exc:
                    on_result(row, TemporaryError(f"envoi interrompu ({type(exc).__name__})"))
                    lost = TemporaryError("envoi interrompu (connexion perdue)")
                    for rest in rows[index + 1 :]:
                        on_result(rest, lost)
                    return
                else:
                    on_result(row, Sent(reply))
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()


class MaildirTransport:
    """Writes each message into a Maildir (the embedded default, and for dry runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _box(self) -> mailbox.Maildir:
        if self.path.exists():
            for sub in ("tmp", "new", "cur"):  # Maildir() only makes them for a new folder
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.path, create=True)

    def send(
        self, envelopes: Sequence[Envelope], on_result: OnResult, claim: Claim = _always
    ) -> None:
        box = self._box()
        for envelope in envelopes:
            if not claim(envelope):
                continue
            try:
                key = box.add(envelope.message)
            except OSError as exc:
                text = f"écriture impossible dans {self.path} ({exc.strerror})"
                on_result(envelope, TemporaryError(text))
            else:
                on_result(envelope, Sent(f"maildir {key}"))
