"""Fixtures of the mailer tests: real aiosmtpd servers on 127.0.0.1, a store, a config copy.

Every server records each accepted envelope (:class:`Received`: envelope sender, recipients,
the raw bytes as they came over the wire, the connection they came through, TLS and login),
and can be told to refuse an address with any reply (``handler.refuse[address] = "550 …"`` or
``"451 …"``). Variants: AUTH PLAIN/LOGIN allowed over plain TCP (``auth_require_tls=False``, tests
only), STARTTLS required, and implicit TLS, all with a self-signed certificate made here (the
``cryptography`` package when installed, otherwise the ``openssl`` command).

The ical.js validator fixture is the one of ``tests/interop/test_icalendar_clients.py``
(installed with ``npm ci`` when its ``node_modules`` is missing).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from syncsvc.formats.mail import message_id
from syncsvc.inputs.settings import Settings
from syncsvc.mailer.smtp import SmtpTransport
from syncsvc.state.store import OutboxRow, Store
from tests.interop.test_icalendar_clients import icaljs as icaljs  # the ical.js validator

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "config"
SENDER = "Service examens <examens@example.fr>"
SMTP_USER = "relais-examens"
SMTP_PASSWORD = "mot-de-passe-de-test"
# A Monday of the campaign of the example sessions: every session is still to come.
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r")


def wire(message: bytes) -> bytes:
    """``message`` as SMTP carries it (RFC 5321 §2.3.8: CRLF line endings, a final CRLF)."""
    out = _LINE_ENDINGS.sub(b"\r\n", message)
    return out if out.endswith(b"\r\n") else out + b"\r\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the recording SMTP server ----------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    connection: int
    """Index (from 1) of the TCP connection it came through, counted by the handler."""
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps every accepted envelope.

    ``refuse`` maps a (lower-case) recipient address to the whole reply to its RCPT TO, e.g.
    ``"550 5.1.1 Boîte inconnue"`` (permanent) or ``"451 4.3.0 Réessayez plus tard"``.
    """

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)
    _peers: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def connections(self) -> int:
        """TCP connections that said EHLO (a STARTTLS upgrade stays the same connection)."""
        with self._lock:
            return len(self._peers)

    def _connection(self, session: Any) -> int:
        with self._lock:
            if session.peer not in self._peers:
                self._peers.append(session.peer)
            return self._peers.index(session.peer) + 1

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self._connection(session)
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.refuse.get(address.lower())
        if reply is not None:
            with self._lock:
                self.refused.append((address, reply))
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if session.authenticated else None
        with self._lock:
            number = len(self.received) + 1
            self.received.append(
                Received(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=bytes(envelope.original_content),
                    connection=self._peers.index(session.peer) + 1,
                    tls=_over_tls(server, session),
                    login=login,
                )
            )
        return f"250 2.0.0 Ok: queued as {number}"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def _over_tls(server: Any, session: Any) -> bool:
    """STARTTLS fills ``session.ssl``; implicit TLS only shows on the transport."""
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    if not ok:  # handled=False: aiosmtpd answers 535 itself
        return AuthResult(success=False, handled=False)
    return AuthResult(success=True, auth_data=auth_data)


@dataclass
class SmtpServer:
    """An aiosmtpd server in a thread; ``stop()`` then ``start()`` restarts it on its port."""

    handler: RecordingHandler
    port: int
    options: dict[str, Any] = field(default_factory=dict)
    controller: Any = None

    def start(self) -> None:
        assert self.controller is None, "already running"
        controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        controller.start()
        self.controller = controller
        with self.handler._lock:  # Controller.start() opens one connection to check it is up
            self.handler._peers.clear()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def transport(self, **options: Any) -> SmtpTransport:
        return SmtpTransport("127.0.0.1", self.port, SENDER, timeout=5.0, **options)


def _server(options: dict[str, Any] | None = None) -> Iterator[SmtpServer]:
    server = SmtpServer(RecordingHandler(), free_port(), options or {})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Plain SMTP, no authentication."""
    yield from _server()


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpServer]:
    """AUTH required, PLAIN and LOGIN offered over plain TCP (``auth_require_tls=False``)."""
    yield from _server(
        {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
    )


# --- TLS --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only, with the usual host name (here IP) check."""
        return ssl.create_default_context(cafile=str(self.cert))


def _make_with_cryptography(cert: Path, key: Path) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.now(UTC) - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _make_with_openssl(openssl: str, cert: Path, key: Path) -> None:
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "7",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for IP 127.0.0.1 (subjectAltName), made for this run."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    if find_spec("cryptography") is not None:
        _make_with_cryptography(cert, key)
    elif (openssl := shutil.which("openssl")) is not None:
        _make_with_openssl(openssl, cert, key)
    else:
        pytest.skip("neither the cryptography package nor openssl: no certificate for TLS tests")
    return Certificate(cert, key)


@pytest.fixture
def smtp_starttls_server(certificate: Certificate) -> Iterator[SmtpServer]:
    """STARTTLS offered and required before MAIL."""
    yield from _server({"tls_context": certificate.server_context(), "require_starttls": True})


@pytest.fixture
def smtp_tls_server(certificate: Certificate) -> Iterator[SmtpServer]:
    """Implicit TLS (SMTPS) from the first byte."""
    yield from _server({"ssl_context": certificate.server_context()})


# --- store, settings, config ------------------------------------------------------------------


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "syncsvc.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{store_path}")
    store.migrate()
    try:
        yield store
    finally:
        store.close()


def set_toml_table(path: Path, table: str, values: dict[str, str | int]) -> None:
    """Replace the body of ``[table]`` in a TOML file (or add the table at the end)."""
    body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^\[{re.escape(table)}\]\n.*?(?=^\[|\Z)", re.MULTILINE | re.DOTALL)
    replaced, count = pattern.subn(lambda _: f"[{table}]\n{body}\n", text, count=1)
    if count == 0:  # a table after [[targets]] is still a top-level table in TOML
        replaced = f"{text.rstrip()}\n\n[{table}]\n{body}"
    path.write_text(replaced, encoding="utf-8")
    assert tomllib.loads(replaced)[table] == values


@pytest.fixture
def config_dir(tmp_path: Path, store_path: Path) -> Path:
    """A copy of the example ``config/`` whose ``syncsvc.toml`` uses the test's store."""
    directory = tmp_path / "config"
    shutil.copytree(CONFIG, directory)
    set_toml_table(directory / "syncsvc.toml", "store", {"url": f"sqlite:///{store_path}"})
    return directory


def mail_settings(port: int, **mail: Any) -> Settings:
    return Settings.model_validate(
        {
            "mail": {
                "transport": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "from": SENDER,
                **mail,
            }
        }
    )


# --- messages queued by hand ------------------------------------------------------------------


def enqueue(store: Store, key: str, to: str, now: datetime = NOW, kind: str = "reminder") -> int:
    """Queue a small French message for ``to``; returns its outbox id."""
    message = EmailMessage()
    message["Subject"] = f"Rappel : {key}"
    message["From"] = SENDER
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(key, SENDER)
    # The lone "." line checks SMTP dot-stuffing both ways.
    message.set_content(f"Bonjour,\n\nÉchéance à venir : {key}.\n.\n.point en début de ligne\n")
    assert store.enqueue(
        key=key,
        kind=kind,
        recipient=str(message["To"]),
        subject=str(message["Subject"]),
        message_id=str(message["Message-ID"]),
        message=message.as_bytes(),
        now=now,
    )
    return row_by_key(store, key).id


def row_by_key(store: Store, key: str) -> OutboxRow:
    rows = [r for r in store.messages(limit=100_000) if r.key == key]
    assert len(rows) == 1, key
    return rows[0]


def rows_by_id(store: Store) -> list[OutboxRow]:
    return sorted(store.messages(limit=100_000), key=lambda r: r.id)
