"""Mail transports: SMTP through aiosmtplib (one connection per batch), or a Maildir.

Errors are sorted once, here: a connection that fails, a timeout or a 4xx answer is
*temporary* (the outbox retries later); a 5xx answer is *permanent* (dead letter).
"""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib

from syncsvc.state.store import OutboxRow

Outcome = Literal["sent", "temporary", "permanent"]
OnResult = Callable[[OutboxRow, Outcome, str], None]
Sleep = Callable[[float], None]


class Transport(Protocol):
    def send(self, rows: Sequence[OutboxRow], on_result: OnResult) -> None:
        """Send ``rows`` in order, calling ``on_result`` right after each one."""


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


def _recipients(row: OutboxRow) -> list[str]:
    return [addr for _, addr in getaddresses([row.recipient]) if addr]


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

    def send(self, rows: Sequence[OutboxRow], on_result: OnResult) -> None:
        if rows:
            asyncio.run(self._send(list(rows), on_result))

    async def _send(self, rows: list[OutboxRow], on_result: OnResult) -> None:
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
            for row in rows:
                on_result(row, "permanent", f"authentification SMTP refusée ({exc.code})")
            return
        except (aiosmtplib.SMTPException, OSError) as exc:
            for row in rows:
                on_result(row, "temporary", f"relais SMTP injoignable ({type(exc).__name__})")
            return
        try:
            for index, row in enumerate(rows):
                if self.rate is not None:
                    self.rate.wait()
                try:
                    _refused, reply = await client.sendmail(
                        self.envelope_from, _recipients(row), row.message
                    )
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    codes = [r.code for r in exc.recipients]
                    kind: Outcome = "permanent" if all(c >= 500 for c in codes) else "temporary"
                    on_result(row, kind, f"destinataire refusé ({', '.join(map(str, codes))})")
                except aiosmtplib.SMTPResponseException as exc:
                    kind = "permanent" if exc.code >= 500 else "temporary"
                    on_result(row, kind, f"refus du relais SMTP : {exc.code} {exc.message}")
                except (UnicodeError, ValueError) as exc:
                    on_result(row, "permanent", f"message impossible à transmettre ({exc})")
                    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                        await client.rset()  # close the half-open transaction
                except (aiosmtplib.SMTPException, OSError) as exc:
                    on_result(row, "temporary", f"envoi interrompu ({type(exc).__name__})")
                    for rest in rows[index + 1 :]:
                        on_result(rest, "temporary", "envoi interrompu (connexion perdue)")
                    return
                else:
                    on_result(row, "sent", reply)
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

    def send(self, rows: Sequence[OutboxRow], on_result: OnResult) -> None:
        box = self._box()
        for row in rows:
            try:
                key = box.add(row.message)
            except OSError as exc:
                on_result(row, "temporary", f"écriture impossible dans {self.path} ({exc})")
            else:
                on_result(row, "sent", f"maildir {key}")
