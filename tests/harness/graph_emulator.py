"""A Microsoft Graph v1.0 (calendars) and Microsoft Entra token emulator: HTTPS on 127.0.0.1.

Built from Microsoft's public documentation, and checked against MSAL and plain httpx in
``tests/harness/test_graph_emulator.py`` (so it cannot drift into agreeing with the adapter).
Data and calendar rules: :mod:`tests.harness.graph_mailbox`. Here:

- ``/{tenant}/v2.0/.well-known/openid-configuration`` and ``/{tenant}/oauth2/v2.0/token``
  (client credentials with a secret or a certificate assertion; AADSTS errors for a wrong,
  expired or revoked secret, an unknown client or tenant); tokens expire (``token_lifetime``);
- ``/v1.0/users/{mailbox}/calendars`` (list, create), ``…/calendars/{id}/events`` (list with
  ``$filter`` on a single-value extended property, ``$expand``, ``$select``, ``$top`` and
  ``@odata.nextLink``; create), ``…/events/{id}`` (get, PATCH with If-Match, DELETE),
  ``…/calendars/{id}/calendarView/delta`` and ``/v1.0/$batch`` (at most 20 requests, ``dependsOn``
  with 424 on a failed dependency, answers by id); ``/v1.0/users/{m}/events/delta`` is beta-only
  (400 here, as on v1.0);
- throttling: at most 4 requests of the application in flight per mailbox (a batch without
  ``dependsOn`` runs up to 4 of its requests at once and takes that many), 429
  ``ApplicationThrottled`` (MailboxConcurrency) with ``Retry-After`` beyond; injected faults
  (:meth:`GraphEmulator.fail_next`: HTTP requests, single calls inside batches, or the token
  endpoint; a 429 from the token endpoint carries ``Retry-After``);
- a mailbox outside the application access policy answers 403 ``ErrorAccessDenied``;
- ``latency`` (seconds) delays every HTTP answer while its mailbox slots are held: benchmarks.

Helpers prefixed ``user_`` act as a person in Outlook would (not over HTTP, not counted).
"""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from tests.harness.graph_entra import Entra
from tests.harness.graph_mailbox import ApiError, Calendar, Mailbox
from tests.harness.graph_routes import Routes
from tests.harness.graph_tls import TestCA, make_ca

MAX_BATCH = 20
CONCURRENCY = 4


Scope = Literal["http", "call", "batched", "token"]


@dataclass
class Fault:
    status: int
    retry_after: float | None
    scope: Scope
    after: bool = False
    """Carry the call out, then answer the fault (an answer lost on the way back)."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class GraphEmulator:
    """The emulator; use as a context manager (it listens on a free port)."""

    def __init__(
        self,
        *,
        tenant: str = "contoso-tenant",
        client_id: str = "syncsvc-app",
        secret: str = "s3cret-value",
        folder: Path | None = None,
        latency: float = 0.0,
        token_lifetime: int = 3599,
        throttle_retry_after: float = 1.0,
    ) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="graph-emulator-"))
        self.tls: TestCA = make_ca(self.folder / "tls")
        self.lock = threading.RLock()
        self.port = 0
        self.latency = latency
        self.hold: threading.Event | None = None
        """When set to an event, a request that got its mailbox slot keeps it until the event
        is set (deterministic concurrency tests)."""
        self.throttle_retry_after = throttle_retry_after
        self.entra = Entra(tenant, client_id, secret, token_lifetime)
        self.mailboxes: dict[str, Mailbox] = {}
        self.denied: set[str] = set()
        self.faults: list[Fault] = []
        self.in_flight: Counter[str] = Counter()
        self.peak_in_flight = 0
        self.throttled = 0
        self.routes = Routes(self)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.reset_counts()

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> GraphEmulator:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        return self.url + "/"

    @property
    def graph_url(self) -> str:
        return self.url + "/v1.0/"

    def up(self) -> None:
        """Listen (again, on the same port after :meth:`down`)."""
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", self.port), _Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.tls.cert_file, self.tls.key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.emulator = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def down(self) -> None:
        """Stop listening and drop every open connection: clients get "connection refused"."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self.lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                connection.close()
        if self._thread is not None:
            self._thread.join(5)

    @contextmanager
    def stopped(self) -> Iterator[None]:
        self.down()
        try:
            yield
        finally:
            self.up()

    # --- test controls ------------------------------------------------------------------------

    def mailbox(self, address: str) -> Mailbox:
        with self.lock:
            return self.mailboxes.setdefault(address.lower(), Mailbox(address))

    def add_calendar(self, address: str, name: str) -> Calendar:
        with self.lock:
            return self.mailbox(address).add_calendar(name)

    def calendar_named(self, address: str, name: str) -> Calendar:
        found = [c for c in self.mailbox(address).calendars.values() if c.name == name]
        assert len(found) == 1, f"{len(found)} calendars named {name}"
        return found[0]

    def events(self, address: str, name: str) -> dict[str, dict[str, Any]]:
        """Every event of the calendar (with its extended properties), read directly."""
        with self.lock:
            return {k: dict(v) for k, v in self.calendar_named(address, name).events.items()}

    def fail_next(
        self,
        n: int,
        status: int,
        retry_after: float | None = None,
        *,
        scope: Scope = "call",
        after: bool = False,
    ) -> None:
        """The next ``n`` HTTP requests to Graph (``http``: a batch fails whole), calls
        (``call``: plain ones and each request of a batch; ``batched``: inside batches only) or
        token requests answer ``status``; with ``after``, the call is carried out first."""
        with self.lock:
            self.faults.extend([Fault(status, retry_after, scope, after)] * n)

    def take_fault(self, scope: str) -> Fault | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.scope == scope:
                    return self.faults.pop(index)
        return None

    def expire_delta_links(self) -> None:
        """Every delta link issued so far now answers 410 ``SyncStateNotFound``."""
        with self.lock:
            self.routes.rounds.clear()

    def reset_counts(self) -> None:
        with self.lock:
            self.requests = 0
            self.token_requests = 0
            self.discovery_requests = 0
            self.writes = 0
            self.calls: Counter[str] = Counter()
            self.batch_sizes: list[int] = []
            self.log: list[tuple[str, str, int]] = []

    # --- what a person does in Outlook -----------------------------------------------------

    def user_create(self, address: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            mailbox = self.mailbox(address)
            event, _ = mailbox.create(self.calendar_named(address, name), body)
            return dict(event)

    def user_patch(self, address: str, event_id: str, body: dict[str, Any]) -> None:
        with self.lock:
            mailbox = self.mailbox(address)
            calendar, _ = mailbox.find(None, event_id)
            mailbox.update(calendar, event_id, body, None)

    def user_delete(self, address: str, event_id: str) -> None:
        with self.lock:
            mailbox = self.mailbox(address)
            calendar, _ = mailbox.find(None, event_id)
            mailbox.delete(calendar, event_id, None)

    # --- concurrency ----------------------------------------------------------------------

    @contextmanager
    def slots(self, address: str | None, count: int) -> Iterator[bool]:
        """Take ``count`` of the mailbox's slots for the duration; yields False (nothing
        taken) when that would exceed the limit."""
        if address is None:
            yield True
            return
        key = address.lower()
        with self.lock:
            granted = self.in_flight[key] + count <= CONCURRENCY
            if granted:
                self.in_flight[key] += count
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight[key])
            else:
                self.throttled += 1
        try:
            yield granted
        finally:
            if granted:
                with self.lock:
                    self.in_flight[key] -= count

    def throttle_answer(self) -> Answer:
        error = ApiError(
            429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit."
        )
        return Answer(429, {"Retry-After": f"{self.throttle_retry_after:g}"}, error.body())

    # --- HTTP ---------------------------------------------------------------------------------

    def serve_http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        lowered = {k.lower(): v for k, v in headers.items()}
        if not path.startswith("/v1.0/") and not path.startswith("/beta/"):
            return self.entra.serve(self, method, path, body)
        with self.lock:
            self.requests += 1
        fault = self.take_fault("http")
        if fault is not None:
            return self.fault_answer(fault)
        token_error = self.entra.check_bearer(lowered.get("authorization", ""))
        if token_error is not None:
            return Answer(401, {}, token_error.body())
        if path.startswith("/beta/"):
            return Answer(400, {}, ApiError(400, "BadRequest", "beta is not emulated").body())
        route = path[len("/v1.0") :]
        if route == "/$batch" and method == "POST":
            return self.routes.batch(body)
        mailbox = self.routes.mailbox_of(route)
        with self.slots(mailbox, 1) as granted:
            if not granted:
                return self.throttle_answer()
            if self.hold is not None:
                self.hold.wait(30)
            if self.latency:
                time.sleep(self.latency)
            return self.routes.call(method, route, query, lowered, body)

    def fault_answer(self, fault: Fault) -> Answer:
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
        code = {429: "TooManyRequests", 503: "ServiceNotAvailable"}.get(fault.status, "Error")
        return Answer(fault.status, headers, ApiError(fault.status, code, "Injected fault.").body())

    def new_token(self) -> str:
        return secrets.token_urlsafe(24)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: GraphEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.emulator.lock:
            self.server.emulator._connections.add(self.connection)

    def finish(self) -> None:
        with suppress(OSError):
            super().finish()
        with self.server.emulator.lock:
            self.server.emulator._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: str(v) for k, v in self.headers.items()}
        answer = self.server.emulator.serve_http(self.command, self.path, headers, body)
        payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        if payload:
            self.send_header("Content-Type", "application/json; odata.metadata=minimal")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET
