"""An OAuth2 token introspection endpoint (RFC 7662) for Dovecot's ``oauth2`` passdb in tests.

Dovecot (``introspection_mode = post``) POSTs ``token=…`` and expects a JSON object: here
``{"active": true, "username": …, "scope": …}`` for a token that one of the ``issuers`` knows,
``{"active": false}`` otherwise. An issuer is a function from a token to the user it may open
(or None), so the token endpoints stay those of the emulators:

- :func:`entra_issuer`: a token of the Graph emulator's Microsoft Entra (client credentials),
  issued for Exchange Online's IMAP scope and not expired, opens the mailboxes the application
  was given (``Add-MailboxPermission``: :attr:`EntraMailboxes.granted`). An app-only token
  names no user, and Dovecot compares one ``username``: the introspection answers the
  application's only granted mailbox (the tests give one);
- :func:`google_issuer`: a token of the Google emulator's token endpoint (``fresh_tokens``)
  for ``https://mail.google.com/``, not expired, opens the mailbox of the user a service account
  impersonated (domain-wide delegation's ``sub``).

Every request is counted (:attr:`Introspection.asked`), and ``refuse_all`` answers inactive to
everything (a permission removed on the server's side).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.harness.google_emulator import CalendarEmulator
from tests.harness.graph_entra import IMAP_SCOPE, Entra

Issuer = Callable[[str], str | None]
GMAIL_SCOPE = "https://mail.google.com/"


@dataclass
class EntraMailboxes:
    """The mailboxes an Entra application may open over IMAP."""

    entra: Entra
    granted: set[str] = field(default_factory=set)

    def __call__(self, token: str) -> str | None:
        if not self.entra.valid(token, IMAP_SCOPE) or len(self.granted) != 1:
            return None
        return next(iter(self.granted))


def entra_issuer(entra: Entra, mailbox: str) -> EntraMailboxes:
    return EntraMailboxes(entra, {mailbox})


def google_issuer(emulator: CalendarEmulator) -> Issuer:
    def user(token: str) -> str | None:
        issued = emulator.issued.get(token)
        if issued is None or not issued.valid_for(GMAIL_SCOPE):
            return None
        return issued.subject

    return user


@dataclass
class Introspection:
    issuers: list[Issuer] = field(default_factory=list)
    asked: int = 0
    refuse_all: bool = False
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def answer(self, token: str) -> dict[str, Any]:
        self.asked += 1
        if self.refuse_all:
            return {"active": False}
        for issuer in self.issuers:
            user = issuer(token)
            if user is not None:
                return {"active": True, "username": user}
        return {"active": False}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        token = form.get("token", [""])[-1]
        introspection = self.server.introspection
        if self.path.split("?")[0] != "/introspect":
            body, status = b'{"error": "not_found"}', 404
        else:
            body, status = json.dumps(introspection.answer(token)).encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    introspection: Introspection


@contextmanager
def introspection_server(*issuers: Issuer) -> Iterator[Introspection]:
    """An introspection endpoint on a free port of 127.0.0.1, for the ``with`` block."""
    introspection = Introspection(list(issuers))
    server = _Server(("127.0.0.1", 0), _Handler)
    server.introspection = introspection
    introspection.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield introspection
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
