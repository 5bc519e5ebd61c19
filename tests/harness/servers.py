"""Real CalDAV servers (Radicale, Xandikos) for integration tests, behind a counting proxy.

Each server runs as a subprocess bound to ``127.0.0.1`` on a free port, with its storage in a
caller-given temporary directory. Clients never talk to the server directly: they talk to a
:class:`CountingProxy` that forwards every request unchanged, counts requests by method, and can
inject faults (an HTTP error status, or a dead endpoint that refuses connections).

Usage::

    with radicale_server(tmp_path) as server:
        client = caldav.DAVClient(url=server.url, username=server.username,
                                  password=server.password)
        client.mkcalendar(server.home_url + "centre-a/")
        ...
        assert server.proxy.writes == 0

One running server can serve many tests: ``server.fresh()`` gives each its own empty calendar
home (a new user, or the single user's home emptied) behind the restored proxy::

    with radicale_server(tmp_path) as shared:      # once per session
        with shared.fresh() as server:             # once per test
            ...

No pytest fixtures live here on purpose: ``conftest.py`` builds them from these context managers.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import gzip
import http.client
import imaplib
import itertools
import os
import pwd
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, cast
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

from tests.harness.exclusive import one_at_a_time

__all__ = [
    "CYRUS_PACKAGES",
    "CYRUS_PASSWORD",
    "CYRUS_USER",
    "HOP_BY_HOP_HEADERS",
    "RADICALE_PASSWORD",
    "RADICALE_USER",
    "WRITE_METHODS",
    "CalDAVServer",
    "CountingProxy",
    "ServerStartError",
    "cyrus_available",
    "cyrus_server",
    "ensure_cyrus",
    "free_port",
    "radicale_server",
    "xandikos_server",
]

LOCALHOST: Final = "127.0.0.1"
RADICALE_USER: Final = "coordination"
RADICALE_PASSWORD: Final = "secret"

#: Methods that ``CountingProxy.writes`` adds up.
WRITE_METHODS: Final = frozenset({"PUT", "DELETE", "MKCALENDAR", "MKCOL", "PROPPATCH"})

#: Headers that concern one connection only (RFC 9110 §7.6.1) and are never forwarded.
HOP_BY_HOP_HEADERS: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

_START_TIMEOUT: Final = 15.0
_STOP_TIMEOUT: Final = 10.0
_POLL_INTERVAL: Final = 0.05
_MAX_LINE: Final = 65536


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# Counting reverse proxy
# --------------------------------------------------------------------------------------------


@dataclass
class _Fault:
    remaining: int
    status: int
    retry_after: int | None
    method: str | None


@dataclass(frozen=True)
class _Upstream:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class _ProxyHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # so that up() can rebind the port at once
    request_queue_size = 128

    def __init__(self, port: int, proxy: CountingProxy) -> None:
        self.proxy = proxy
        super().__init__((LOCALHOST, port), _ProxyHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (socket.getfqdn): skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # Connections cut by down()/close() or by the client are expected: stay quiet.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # StreamRequestHandler.setup() sets TCP_NODELAY
    _upstream_conn: http.client.HTTPConnection | None = None

    @property
    def _proxy(self) -> CountingProxy:
        return cast(_ProxyHTTPServer, self.server).proxy

    def setup(self) -> None:
        super().setup()
        self._proxy._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            if self._upstream_conn is not None:
                self._upstream_conn.close()
            self._proxy._unregister(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the proxy keeps its own log

    def handle_one_request(self) -> None:
        # Same as the stdlib version, but every method (PROPFIND, REPORT, MKCALENDAR, ...) goes
        # to _forward() instead of a do_<METHOD> lookup, and socket errors end the connection.
        try:
            self.raw_requestline = self.rfile.readline(_MAX_LINE + 1)
            if len(self.raw_requestline) > _MAX_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._forward()
            self.wfile.flush()
        except (OSError, ValueError):
            self.close_connection = True

    # -- request -----------------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(_MAX_LINE + 1)
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                        pass  # trailers: dropped
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(_MAX_LINE + 1)
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        return self.rfile.read(int(length))

    def _forward(self) -> None:
        proxy = self._proxy
        method = self.command
        path = self.path
        body = self._read_body()

        fault = proxy._take_fault(method)
        if fault is not None:
            status, retry_after = fault
            proxy._record(method, path, status, forwarded=False)
            extra = [] if retry_after is None else [("Retry-After", str(retry_after))]
            self._reply_plain(status, b"fault injected by CountingProxy\n", extra)
            return

        connection_tokens = {
            token.strip().lower() for token in self.headers.get("Connection", "").split(",")
        }
        headers: list[tuple[str, str]] = [("Host", proxy.upstream_netloc)]
        for name, value in self.headers.items():
            lname = name.lower()
            if (
                lname in HOP_BY_HOP_HEADERS
                or lname in connection_tokens
                or lname in ("host", "content-length", "expect")
            ):
                continue
            if lname == "destination":  # MOVE/COPY: absolute URL that names the proxy
                value = proxy._to_upstream(value)
            headers.append((name, value))
        if body is not None:
            if not self.headers.get("Content-Encoding"):
                body = proxy._to_upstream_bytes(body)
            headers.append(("Content-Length", str(len(body))))

        try:
            upstream = self._send_upstream(method, path, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            proxy._record(method, path, 502, forwarded=False)
            self._reply_plain(502, f"upstream unreachable: {exc!r}\n".encode(), [])
            return
        proxy._record(method, path, upstream.status, forwarded=True)
        self._reply_upstream(method, upstream)

    def _send_upstream(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> _Upstream:
        proxy = self._proxy
        for attempt in range(2):
            if self._upstream_conn is None:
                self._upstream_conn = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout
                )
            conn = self._upstream_conn
            reused = conn.sock is not None
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                conn.endheaders(body)
                response = conn.getresponse()
                data = response.read()
                return _Upstream(response.status, response.reason, response.getheaders(), data)
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
                conn.close()
                # A kept-alive upstream connection may have been closed by the server while
                # idle: retry once on a fresh one. A fresh connection that fails is an error.
                if not reused or attempt == 1:
                    raise
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    # -- response ----------------------------------------------------------------------------

    def _reply_plain(self, status: int, body: bytes, extra: list[tuple[str, str]]) -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reply_upstream(self, method: str, upstream: _Upstream) -> None:
        proxy = self._proxy
        status = upstream.status
        connection_tokens: set[str] = set()
        content_length: str | None = None
        content_encoding = ""
        for name, value in upstream.headers:
            lname = name.lower()
            if lname == "connection":
                connection_tokens |= {token.strip().lower() for token in value.split(",")}
            elif lname == "content-length":
                content_length = value
            elif lname == "content-encoding":
                content_encoding = value.strip().lower()
        body = proxy._to_proxy_body(upstream.body, content_encoding)

        self.send_response_only(status, upstream.reason)
        for name, value in upstream.headers:
            lname = name.lower()
            if lname in HOP_BY_HOP_HEADERS or lname in connection_tokens:
                continue
            if lname == "content-length":
                continue
            self.send_header(name, proxy._to_proxy(value))
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        if method == "HEAD" or status == 304:
            if content_length is not None:  # describes the body a GET would have had
                self.send_header("Content-Length", content_length)
        elif not no_body:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not no_body:
            self.wfile.write(body)


class CountingProxy:
    """A threaded HTTP/1.1 reverse proxy on 127.0.0.1 that counts and can break requests.

    * Every request (method, path, headers, body) is forwarded to the upstream and the answer
      (status, headers, body) comes back unchanged, except that hop-by-hop headers are dropped,
      bodies are re-framed with ``Content-Length`` (chunked requests and responses included),
      ``Host`` names the upstream, and the upstream's ``127.0.0.1:PORT`` is swapped for the
      proxy's in response headers and bodies (the reverse for a request's ``Destination`` header
      and body). gzip response bodies are decompressed for that swap and recompressed.
    * Keep-alive with the client is independent from the upstream: the proxy keeps client
      connections open (``TCP_NODELAY`` set) even though Radicale closes its own after every
      request; each client connection has its own kept-alive upstream connection when the
      upstream allows it.
    * ``counts`` (by method), ``writes``, ``forwarded`` and ``log`` record every request the proxy
      answered, injected faults included; they are updated *before* the response is sent, so a
      client that got its answer can assert on them at once.
    * ``fail_next(n, status, retry_after)`` answers the next ``n`` requests itself.
    * ``down()`` closes the listening socket and cuts every open client connection, so new
      requests fail with "connection refused" (``httpx.ConnectError``, ``requests``/``niquests``
      ``ConnectionError``); a request already in flight on a kept-alive connection at that very
      moment can instead see a ``RemoteProtocolError``-style disconnect (still an
      ``httpx.TransportError``). ``up()`` rebinds the same port.
    * ``restore()`` undoes all of that for the next test: up, no pending fault, counts at zero.
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        port: int = 0,
        upstream_timeout: float = 300.0,
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.upstream_timeout = upstream_timeout
        self.counts: collections.Counter[str] = collections.Counter()
        self.forwarded: collections.Counter[str] = collections.Counter()
        self.log: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._connections: set[socket.socket] = set()
        self._server: _ProxyHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self.port = port
        self._start()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def upstream_netloc(self) -> str:
        return f"{self.upstream_host}:{self.upstream_port}"

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def _start(self) -> None:
        try:
            server = _ProxyHTTPServer(self.port, self)
        except OSError as exc:
            raise RuntimeError(f"CountingProxy cannot bind {LOCALHOST}:{self.port}: {exc}") from exc
        self.port = server.server_port
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"CountingProxy:{self.port}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread

    def _stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()  # returns within one poll interval
            server.server_close()  # the port now refuses connections
        if thread is not None:
            thread.join()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes the handler thread, which closes it

    def down(self) -> None:
        """Refuse connections until ``up()``: close the port and cut open client connections."""
        if self._closed:
            raise RuntimeError("CountingProxy is closed")
        self._stop()

    def up(self) -> None:
        """Listen again on the same port (no-op when already up)."""
        if self._closed:
            raise RuntimeError("CountingProxy is closed")
        if self._server is None:
            self._start()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._stop()

    def __enter__(self) -> CountingProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- counting ----------------------------------------------------------------------------

    @property
    def writes(self) -> int:
        """PUT + DELETE + MKCALENDAR + MKCOL + PROPPATCH requests answered (faults included)."""
        with self._lock:
            return sum(self.counts[method] for method in WRITE_METHODS)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def reset(self) -> None:
        """Forget counts, forwarded counts and the log (pending faults stay)."""
        with self._lock:
            self.counts.clear()
            self.forwarded.clear()
            self.log.clear()

    def restore(self) -> None:
        """As new for the next test: up, no pending fault, counts and log at zero."""
        self.up()
        self.clear_faults()
        self.reset()

    def _record(self, method: str, path: str, status: int, *, forwarded: bool) -> None:
        with self._lock:
            self.counts[method] += 1
            if forwarded:
                self.forwarded[method] += 1
            self.log.append((method, path, status))

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int = 503,
        retry_after: int | None = None,
        *,
        method: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests (only those with ``method`` if given) with ``status``.

        The proxy answers them itself, with a ``Retry-After`` header when ``retry_after`` is
        given, and does not forward them. Calls queue up: earlier rules are consumed first.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        if n:
            with self._lock:
                self._faults.append(_Fault(n, status, retry_after, method and method.upper()))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str) -> tuple[int, int | None] | None:
        with self._lock:
            for fault in self._faults:
                if fault.method is None or fault.method == method:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.status, fault.retry_after
        return None

    # -- connections and rewriting -----------------------------------------------------------

    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _to_proxy(self, text: str) -> str:
        return text.replace(self.upstream_netloc, f"{LOCALHOST}:{self.port}")

    def _to_upstream(self, text: str) -> str:
        return text.replace(f"{LOCALHOST}:{self.port}", self.upstream_netloc)

    def _to_upstream_bytes(self, data: bytes) -> bytes:
        return data.replace(f"{LOCALHOST}:{self.port}".encode(), self.upstream_netloc.encode())

    def _to_proxy_body(self, data: bytes, content_encoding: str) -> bytes:
        old = self.upstream_netloc.encode()
        new = f"{LOCALHOST}:{self.port}".encode()
        if content_encoding in ("", "identity"):
            return data.replace(old, new)
        if content_encoding in ("gzip", "x-gzip"):
            try:
                plain = gzip.decompress(data)
            except (OSError, EOFError):
                return data
            return gzip.compress(plain.replace(old, new)) if old in plain else data
        return data  # other encodings pass through untouched


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------


class ServerStartError(RuntimeError):
    """A CalDAV server subprocess did not answer HTTP in time (its output is in the message)."""


@dataclass(frozen=True)
class CalDAVServer:
    """A running CalDAV server reached through its :class:`CountingProxy`.

    ``url`` is the proxy's base URL with a trailing slash (give it to clients); ``home_url`` is
    the principal's calendar home (create calendars under it) on the proxy;
    ``upstream_url`` reaches the server directly, bypassing counting and faults.

    ``add_user`` (servers with several users) makes a user with ``password`` and returns the
    path of its calendar home; ``keep`` (single-user servers) names the home's collections that
    were there at start. :meth:`fresh` uses one or the other.
    """

    name: str
    url: str
    username: str
    password: str
    home_url: str
    proxy: CountingProxy
    upstream_url: str
    storage: Path
    add_user: Callable[[str], str] | None = field(default=None, repr=False, compare=False)
    keep: frozenset[str] = frozenset()
    _serial: Iterator[int] = field(default_factory=itertools.count, repr=False, compare=False)

    @property
    def auth(self) -> tuple[str, str] | None:
        """``(username, password)`` for httpx/requests, or ``None`` when there is no auth."""
        return (self.username, self.password) if self.username else None

    def calendar_url(self, name: str) -> str:
        """URL (on the proxy) of the calendar collection ``name`` under the home."""
        return f"{self.home_url}{name.strip('/')}/"

    @contextmanager
    def fresh(self) -> Iterator[CalDAVServer]:
        """This running server as one test should find it: clean, as if just started.

        The proxy is restored (up, no pending fault, counts at zero) on entry and on exit. A
        server with several users (Radicale, Cyrus) yields a view of itself as a new user
        (``USERNAME-N``, same password) whose calendar home is empty, and whose UIDs therefore
        clash with no other test's, even on Cyrus, where a UID is unique per user. A single-user
        server (Xandikos) has every collection of its home but those in ``keep`` deleted on
        entry (checked) and on exit, so a calendar name can be reused by the next test.
        """
        self.proxy.restore()
        try:
            if self.add_user is not None:
                user = f"{self.username}-{next(self._serial) + 1}"
                home = self.add_user(user)
                yield dataclasses.replace(self, username=user, home_url=f"{self.proxy.url}{home}")
            else:
                self._empty_home()
                yield self
                self._empty_home()
        finally:
            self.proxy.restore()

    # -- the home, read and emptied directly on the server (not counted) ----------------------

    @property
    def home_path(self) -> str:
        return urlsplit(self.home_url).path

    def home_members(self) -> set[str]:
        """Names of what the calendar home holds (its calendars), straight from the server."""
        status, body = self._direct("PROPFIND", self.home_path, depth="1")
        if status != 207:
            raise RuntimeError(f"{self.name}: PROPFIND {self.home_path} answered {status}")
        home = self.home_path.rstrip("/")
        names = set()
        for href in ElementTree.fromstring(body).iter("{DAV:}href"):
            path = unquote(urlsplit(href.text or "").path).rstrip("/")
            if path != home and path.startswith(f"{home}/"):
                names.add(path[len(home) + 1 :])
        return names

    def _empty_home(self) -> None:
        for name in sorted(self.home_members() - self.keep):
            status, _ = self._direct("DELETE", f"{self.home_path}{name}/")
            if status not in (200, 204, 404):
                raise RuntimeError(f"{self.name}: DELETE {self.home_path}{name}/ -> {status}")
        if left := self.home_members() - self.keep:
            raise RuntimeError(f"{self.name}: {self.home_path} still holds {sorted(left)}")

    def _direct(self, method: str, path: str, *, depth: str | None = None) -> tuple[int, bytes]:
        upstream = urlsplit(self.upstream_url)
        conn = http.client.HTTPConnection(
            upstream.hostname or LOCALHOST, upstream.port, timeout=30.0
        )
        headers = {} if depth is None else {"Depth": depth, "Content-Type": "application/xml"}
        if self.auth is not None:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        body = _PROPFIND_RESOURCETYPE if method == "PROPFIND" else None
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


_PROPFIND_RESOURCETYPE: Final = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'
)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return text[-limit:] if text else "(no output)"


def _answers_http(port: int) -> bool:
    conn = http.client.HTTPConnection(LOCALHOST, port, timeout=1.0)
    try:
        conn.request("OPTIONS", "/")
        conn.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return True


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def _running(name: str, workdir: Path, argv_for_port: Callable[[int], list[str]]) -> Iterator[int]:
    """Start ``argv_for_port(port)`` on a free port, wait until it answers HTTP, yield the port.

    Retries on a new port (3 attempts) if the chosen one was taken in the meantime.
    """
    log_path = workdir / f"{name}.log"
    for attempt in range(3):
        port = free_port()
        log: IO[bytes] = log_path.open("wb")
        proc = subprocess.Popen(
            argv_for_port(port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + _START_TIMEOUT
            while not _answers_http(port):
                if proc.poll() is not None:
                    output = _tail(log_path)
                    if "already in use" in output.lower() and attempt < 2:
                        break  # port stolen between free_port() and bind: try another
                    raise ServerStartError(
                        f"{name} exited with code {proc.returncode} before answering on port "
                        f"{port}; output:\n{output}"
                    )
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"{name} did not answer HTTP on {LOCALHOST}:{port} within "
                        f"{_START_TIMEOUT:.0f} s; output:\n{_tail(log_path)}"
                    )
                time.sleep(_POLL_INTERVAL)
            else:
                yield port
                return
        finally:
            _stop_process(proc)
            log.close()
    raise AssertionError("unreachable")


@contextmanager
def _proxied(
    name: str,
    upstream_port: int,
    username: str,
    password: str,
    home_path: str,
    storage: Path,
    add_user: Callable[[str], str] | None = None,
) -> Iterator[CalDAVServer]:
    with CountingProxy(LOCALHOST, upstream_port) as proxy:
        server = CalDAVServer(
            name=name,
            url=f"{proxy.url}/",
            username=username,
            password=password,
            home_url=f"{proxy.url}{home_path}",
            proxy=proxy,
            upstream_url=f"http://{LOCALHOST}:{upstream_port}/",
            storage=storage,
            add_user=add_user,
        )
        if add_user is None:  # single user: what its home holds now is kept by fresh()
            server = dataclasses.replace(server, keep=frozenset(server.home_members()))
        yield server


@contextmanager
def radicale_server(tmp: Path) -> Iterator[CalDAVServer]:
    """Radicale (``python -m radicale``) with htpasswd auth: user ``coordination``/``secret``.

    Storage is ``tmp/radicale/collections``; calendars live at ``/coordination/NAME/``.
    ``add_user`` appends a user to the htpasswd file (Radicale reads it again when it changes);
    its calendars live at ``/USER/NAME/``.
    """
    workdir = tmp / "radicale"
    storage = workdir / "collections"
    storage.mkdir(parents=True, exist_ok=True)
    users = workdir / "users"
    users.write_text(f"{RADICALE_USER}:{RADICALE_PASSWORD}\n")
    config = workdir / "config"

    def add_user(username: str) -> str:
        with users.open("a") as file:
            file.write(f"{username}:{RADICALE_PASSWORD}\n")
        return f"/{username}/"

    def argv(port: int) -> list[str]:
        config.write_text(
            "[server]\n"
            f"hosts = {LOCALHOST}:{port}\n"
            "delay_on_error = 0\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {users}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {storage}\n"
            "[web]\n"
            "type = none\n"
            "[logging]\n"
            "level = warning\n"
        )
        return [sys.executable, "-m", "radicale", "--config", str(config)]

    with (
        _running("radicale", workdir, argv) as port,
        _proxied(
            "radicale",
            port,
            RADICALE_USER,
            RADICALE_PASSWORD,
            f"/{RADICALE_USER}/",
            storage,
            add_user,
        ) as server,
    ):
        yield server


@contextmanager
def xandikos_server(tmp: Path) -> Iterator[CalDAVServer]:
    """Xandikos (``python -m xandikos serve --defaults``), no auth, single user at ``/user/``.

    Storage is ``tmp/xandikos/data`` (state in ``tmp/xandikos/state``); calendars live at
    ``/user/calendars/NAME/`` (``--defaults`` also creates ``/user/calendars/calendar/``, which
    :meth:`CalDAVServer.fresh` keeps while it deletes every other calendar of the home).
    """
    workdir = tmp / "xandikos"
    storage = workdir / "data"
    state = workdir / "state"
    storage.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True, exist_ok=True)

    def argv(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "xandikos",
            "serve",
            "-d",
            str(storage),
            "--state-dir",
            str(state),
            "--defaults",
            "--no-detect-systemd",
            "-l",
            LOCALHOST,
            "-p",
            str(port),
        ]

    with (
        _running("xandikos", workdir, argv) as port,
        _proxied("xandikos", port, "", "", "/user/calendars/", storage) as server,
    ):
        yield server


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn in a thread on a free port of 127.0.0.1; yields its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host=LOCALHOST, port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise ServerStartError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://{LOCALHOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --------------------------------------------------------------------------------------------
# Cyrus IMAP CalDAV (Debian packages, started as root)
# --------------------------------------------------------------------------------------------

CYRUS_USER: Final = "coordination"
CYRUS_PASSWORD: Final = "secret"
#: Debian packages that provide ``master``, ``httpd`` (CalDAV) and ``saslpasswd2``.
CYRUS_PACKAGES: Final = ("cyrus-caldav", "cyrus-admin", "sasl2-bin")
CYRUS_BIN: Final = Path("/usr/lib/cyrus/bin")
#: ``imapd`` comes from ``cyrus-imapd``, which Debian declares in conflict with every other
#: ``imap-server`` (Dovecot, used by the jury-reply tests). When it is not installed, the
#: package is downloaded and unpacked here instead (same version as ``cyrus-common``): its
#: ``imapd`` uses the libraries ``cyrus-common`` installed, and nothing conflicts.
CYRUS_IMAPD_UNPACKED: Final = Path("/var/cache/syncsvc-tests/cyrus-imapd")
SASLPASSWD2: Final = Path("/usr/sbin/saslpasswd2")
#: The system account Cyrus's ``master`` switches to (its services refuse to run as root).
_CYRUS_RUN_AS: Final = "cyrus"
_CYRUS_REALM: Final = "localhost"


def cyrus_imapd() -> Path:
    """The ``imapd`` to run: the installed package's, else the unpacked one."""
    installed = CYRUS_BIN / "imapd"
    if os.access(installed, os.X_OK):
        return installed
    return CYRUS_IMAPD_UNPACKED / "usr/lib/cyrus/bin/imapd"


def cyrus_available() -> str | None:
    """``None`` when a private Cyrus CalDAV server can be started here, else the reason."""
    needed = [CYRUS_BIN / name for name in ("master", "httpd", "ctl_cyrusdb")] + [cyrus_imapd()]
    missing = [str(path) for path in [*needed, SASLPASSWD2] if not os.access(path, os.X_OK)]
    if missing:
        return (
            f"Cyrus CalDAV is not installed (missing {', '.join(missing)}); install the Debian "
            f"packages {' '.join(CYRUS_PACKAGES)} (or set SYNCSVC_INSTALL_SYSTEM_DEPS=1 as root)"
        )
    try:
        pwd.getpwnam(_CYRUS_RUN_AS)
    except KeyError:
        return f"Cyrus is installed but the system user {_CYRUS_RUN_AS!r} does not exist"
    if os.geteuid() != 0:
        return (
            "Cyrus's master must be started as root (it switches to the 'cyrus' user, and "
            "its services refuse to run as root or as another user)"
        )
    return None


def ensure_cyrus() -> str | None:
    """Like :func:`cyrus_available`, but first apt-installs Cyrus when allowed and missing.

    Installs only when ``SYNCSVC_INSTALL_SYSTEM_DEPS=1`` and running as root with ``apt-get``
    (``apt-get update`` and a second try when the first install fails). The packages' own
    service is not started here: their postinst obeys ``policy-rc.d``; on a host with a running
    init system it may start the system-wide Cyrus, which the tests do not use. One test
    process at a time.
    """
    with one_at_a_time("apt"):
        return _ensure_cyrus()


def _ensure_cyrus() -> str | None:
    reason = cyrus_available()
    if reason is None or os.environ.get("SYNCSVC_INSTALL_SYSTEM_DEPS") != "1":
        return reason
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        return f"{reason} (cannot apt-install: not root or no apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", *CYRUS_PACKAGES]

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )

    done = run(install)
    if done.returncode != 0:
        run([apt, "update"])
        done = run(install)
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-2000:]
        return f"{reason}; apt-get install failed with code {done.returncode}:\n{output}"
    if not os.access(cyrus_imapd(), os.X_OK):
        failure = _unpack_cyrus_imapd(run)
        if failure is not None:
            return f"{reason}; {failure}"
    return cyrus_available()


def _unpack_cyrus_imapd(
    run: Callable[[list[str]], subprocess.CompletedProcess[str]],
) -> str | None:
    """Download ``cyrus-imapd`` (the version of the installed ``cyrus-common``) and unpack it
    into :data:`CYRUS_IMAPD_UNPACKED` without installing it; the reason on failure."""
    version = run(["dpkg-query", "-W", "-f", "${Version}", "cyrus-common"]).stdout.strip()
    if not version:
        return "cyrus-common is not installed"
    work = CYRUS_IMAPD_UNPACKED.parent / "download"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    download = subprocess.run(
        ["apt-get", "download", f"cyrus-imapd={version}"],
        cwd=work,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    debs = sorted(work.glob("cyrus-imapd_*.deb"))
    if download.returncode != 0 or not debs:
        return f"apt-get download cyrus-imapd failed: {(download.stdout + download.stderr)[-500:]}"
    shutil.rmtree(CYRUS_IMAPD_UNPACKED, ignore_errors=True)
    unpacked = run(["dpkg-deb", "-x", str(debs[0]), str(CYRUS_IMAPD_UNPACKED)])
    shutil.rmtree(work, ignore_errors=True)
    if unpacked.returncode != 0:
        return f"dpkg-deb -x cyrus-imapd failed: {unpacked.stderr[-500:]}"
    return None


def _cyrus_conf(root: Path, http_port: int, imap_port: int) -> tuple[str, str]:
    """``(imapd.conf, cyrus.conf)`` for a private instance whose every path is under ``root``."""
    conf = root / "imapd.conf"
    imapd = (
        f"configdirectory: {root / 'config'}\n"
        "defaultpartition: default\n"
        f"partition-default: {root / 'spool'}\n"
        f"sievedir: {root / 'sieve'}\n"
        f"proc_path: {root / 'run' / 'proc'}\n"
        f"mboxname_lockpath: {root / 'run' / 'lock'}\n"
        f"lmtpsocket: {root / 'run' / 'socket' / 'lmtp'}\n"
        f"idlesocket: {root / 'run' / 'socket' / 'idle'}\n"
        f"notifysocket: {root / 'run' / 'socket' / 'notify'}\n"
        f"temp_path: {root / 'tmp'}\n"
        f"servername: {_CYRUS_REALM}\n"
        "unixhierarchysep: yes\n"
        "allowplaintext: yes\n"
        "sasl_pwcheck_method: auxprop\n"
        "sasl_auxprop_plugin: sasldb\n"
        f"sasl_sasldb_path: {root / 'sasldb2'}\n"
        "sasl_mech_list: PLAIN LOGIN\n"
        "autocreate_quota: 0\n"
        "httpmodules: caldav\n"
        "httpallowcompress: no\n"
        "caldav_allowscheduling: no\n"
    )
    # master does not pass -C on to what it starts: every command names the config itself.
    cyrus = (
        "START {\n"
        f'  recover cmd="ctl_cyrusdb -C {conf} -r"\n'
        "}\n"
        "SERVICES {\n"
        f'  imap cmd="{cyrus_imapd()} -C {conf}" listen="{LOCALHOST}:{imap_port}" prefork=0\n'
        f'  http cmd="httpd -C {conf}" listen="{LOCALHOST}:{http_port}" prefork=0\n'
        "}\n"
        "EVENTS {\n"
        "}\n"
    )
    return imapd, cyrus


def _imap_login(port: int, username: str, password: str, deadline: float) -> None:
    """One IMAP LOGIN: Cyrus autocreates the user's mailbox, which its CalDAV home needs."""
    while True:
        try:
            with imaplib.IMAP4(LOCALHOST, port, timeout=2.0) as imap:
                imap.login(username, password)
                imap.logout()
            return
        except (OSError, imaplib.IMAP4.error) as exc:
            if time.monotonic() > deadline:
                raise ServerStartError(f"cyrus: IMAP login failed: {exc!r}") from exc
            time.sleep(_POLL_INTERVAL)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``master`` (it stops its services), then kill whatever is left of its group."""
    _stop_process(proc)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _sasl_user(root: Path, username: str, password: str) -> None:
    """Add a user to the instance's sasldb (read again at every login), owned by ``cyrus``."""
    sasldb = root / "sasldb2"
    subprocess.run(
        [str(SASLPASSWD2), "-c", "-p", "-f", str(sasldb), "-u", _CYRUS_REALM, username],
        input=password.encode(),
        capture_output=True,
        check=True,
    )
    account = pwd.getpwnam(_CYRUS_RUN_AS)
    os.chown(sasldb, account.pw_uid, account.pw_gid)


@contextmanager
def _cyrus_running(root: Path) -> Iterator[tuple[int, int]]:
    """Start ``master`` on free ports, wait for HTTP and one IMAP login, yield both ports."""
    account = pwd.getpwnam(_CYRUS_RUN_AS)
    for name in ("config", "spool", "sieve", "tmp", "run/proc", "run/lock", "run/socket"):
        (root / name).mkdir(parents=True, exist_ok=True)
    _sasl_user(root, CYRUS_USER, CYRUS_PASSWORD)
    log_path = root / "master.log"
    for attempt in range(3):
        http_port, imap_port = free_port(), free_port()
        imapd, cyrus = _cyrus_conf(root, http_port, imap_port)
        (root / "imapd.conf").write_text(imapd)
        (root / "cyrus.conf").write_text(cyrus)
        _chown_tree(root, account.pw_uid, account.pw_gid)
        log: IO[bytes] = log_path.open("wb")
        proc = subprocess.Popen(
            [
                str(CYRUS_BIN / "master"),
                "-C",
                str(root / "imapd.conf"),
                "-M",
                str(root / "cyrus.conf"),
                "-p",
                str(root / "master.pid"),
                "-D",  # keep stderr: the services themselves only log to syslog
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,  # its own process group, killed as a whole on exit
        )
        try:
            deadline = time.monotonic() + _START_TIMEOUT
            while not _answers_http(http_port):
                if proc.poll() is not None:
                    output = _tail(log_path)
                    if "in use" in output.lower() and attempt < 2:
                        break  # a port was taken between free_port() and bind: try others
                    raise ServerStartError(
                        f"cyrus master exited with code {proc.returncode} before answering on "
                        f"port {http_port}; output (services log to syslog):\n{output}"
                    )
                if time.monotonic() > deadline:
                    if attempt < 2:
                        break  # e.g. the HTTP port was stolen and master skipped the service
                    raise ServerStartError(
                        f"cyrus did not answer HTTP on {LOCALHOST}:{http_port} within "
                        f"{_START_TIMEOUT:.0f} s; output (services log to syslog):\n"
                        f"{_tail(log_path)}"
                    )
                time.sleep(_POLL_INTERVAL)
            else:
                _imap_login(imap_port, CYRUS_USER, CYRUS_PASSWORD, deadline)
                yield http_port, imap_port
                return
        finally:
            _stop_group(proc)
            log.close()
    raise AssertionError("unreachable")


@contextmanager
def cyrus_server(tmp: Path) -> Iterator[CalDAVServer]:
    """Cyrus IMAP 3.x CalDAV (``master`` + ``httpd`` + ``imapd``): user ``coordination``/``secret``.

    Needs root and the Debian packages (see :func:`ensure_cyrus`); raises
    :class:`ServerStartError` with the reason otherwise. ``master`` switches to the ``cyrus``
    system user, which cannot enter pytest's private ``tmp`` folders, so the whole instance
    (config, sasldb, spool, locks, sockets) lives in a fresh ``/tmp/syncsvc-cyrus-*`` folder,
    linked from ``tmp/cyrus`` and deleted on exit. Auth is HTTP Basic checked against a private
    sasldb; scheduling (iTIP/iMIP) and compression are off. The mailbox is created by one IMAP
    LOGIN at start. Clients go to ``/dav/calendars/``; calendars live at
    ``/dav/calendars/user/coordination/NAME/`` (Cyrus also creates a ``Default/`` calendar).
    Cyrus is strict: a UID must be unique across all the user's calendars, and a timed DTSTART
    needs a DTEND or DURATION. ``add_user`` adds a user to the sasldb and logs it in once over
    IMAP (which creates its mailbox); its calendars live at ``/dav/calendars/user/USER/NAME/``.
    """
    reason = cyrus_available()
    if reason is not None:
        raise ServerStartError(f"cyrus cannot start: {reason}")
    tmp.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="syncsvc-cyrus-"))
    link = tmp / "cyrus"
    try:
        with suppress(OSError):
            link.symlink_to(root, target_is_directory=True)
        with (
            _cyrus_running(root) as (port, imap_port),
            CountingProxy(LOCALHOST, port) as proxy,
        ):

            def add_user(username: str) -> str:
                _sasl_user(root, username, CYRUS_PASSWORD)
                deadline = time.monotonic() + _START_TIMEOUT
                _imap_login(imap_port, username, CYRUS_PASSWORD, deadline)
                return f"/dav/calendars/user/{username}/"

            yield CalDAVServer(
                name="cyrus",
                url=f"{proxy.url}/dav/calendars/",
                username=CYRUS_USER,
                password=CYRUS_PASSWORD,
                home_url=f"{proxy.url}/dav/calendars/user/{CYRUS_USER}/",
                proxy=proxy,
                upstream_url=f"http://{LOCALHOST}:{port}/",
                storage=root,
                add_user=add_user,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
