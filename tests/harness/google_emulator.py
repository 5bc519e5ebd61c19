"""A Google Calendar API v3 emulator for tests: a real HTTP server on 127.0.0.1.

It serves what :mod:`syncsvc.calendars.google` uses, driven by the discovery document that
google-api-python-client bundles (``discovery_cache/documents/calendar.v3.json``): the paths,
HTTP methods, query parameters and request schemas all come from that document.

- ``events.insert/get/update/patch/delete/list`` under ``/calendar/v3/`` and the batch endpoint
  ``/batch/calendar/v3`` (``multipart/mixed`` in and out, ``Content-ID: <response-…>`` echoed);
  other methods of the document answer 501.
- Query parameters are checked against the method's parameters (unknown, mistyped or
  out-of-enum → 400); request bodies against the ``Event`` schema (unknown or mistyped fields →
  400 with a Google-style error body); read-only fields (described "Read-only.") are ignored.
- Google's rules: event ids are base32hex (``[a-v0-9]{5,1024}``) and unique per calendar even
  after deletion; a deleted event stays as a ``cancelled`` tombstone, which ``get`` still returns
  and only ``update`` brings back; inserting an existing id (or the iCalUID of a live event) is
  409; deleting a tombstone is 410; ``If-Match`` mismatches are 412; a ``sequence`` lower than
  the stored one is 400; reminders are at most 5 overrides of 0–40,320 minutes; the etag
  changes on every write.
- ``events.list``: ``pageToken``/``maxResults`` (≤ 2,500), ``showDeleted``,
  ``privateExtendedProperty``, ``iCalUID``, ``fields`` (partial responses); ``nextSyncToken`` on
  the last page; ``syncToken`` returns every event of the calendar changed since (user events
  included), and is refused (400) together with the filters Google forbids with it, and
  answered 410 when stale or unknown (:meth:`CalendarEmulator.expire_sync_tokens`).
- Fault injection (:meth:`CalendarEmulator.fail_next`): the next N calls (or HTTP requests),
  optionally of one method only, answer 429, 403 ``rateLimitExceeded``, 5xx (with
  ``Retry-After`` if asked), or time out; :meth:`CalendarEmulator.down` refuses connections
  until :meth:`CalendarEmulator.up`.
- Counting: HTTP requests, calls by method name, calls inside batches; :attr:`log` keeps every
  call with its parameters, headers and status.
- Credentials: with ``token`` set, every request must carry ``Bearer <token>`` (401 otherwise);
  ``/token`` stands in for Google's OAuth token endpoint (a service account file whose
  ``token_uri`` points there gets that token, with domain-wide delegation's ``sub`` recorded);
  with ``fresh_tokens``, each grant is a new token (:attr:`CalendarEmulator.issued`: its
  subject, scope and expiry; :meth:`CalendarEmulator.expire_tokens`), as Gmail's IMAP needs.
- ``latency`` (seconds, 0 by default) delays every HTTP answer: for benchmarks only.

Simplifications: no recurrence, no attendees' own copies, no automatic ``sequence`` increments,
timestamps from the wall clock. Helpers prefixed ``user_`` change the state as a person using
Google Calendar would, without going through HTTP (and without being counted).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import select
import socket
import threading
import time
import uuid
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import googleapiclient
from google.auth.credentials import Credentials
from google.oauth2.credentials import Credentials as UserCredentials

DISCOVERY_PATH = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"
)
ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
MAX_BATCH_CALLS = 50
MAX_PAGE = 2500
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 40320
COLOR_IDS = frozenset(str(n) for n in range(1, 12))
SYNC_FORBIDDEN = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
UNSUPPORTED_LIST_PARAMS = ("q", "timeMin", "timeMax", "updatedMin", "orderBy", "singleEvents")
REASONS = {
    400: ("global", "badRequest", "Bad Request"),
    401: ("global", "authError", "Invalid Credentials"),
    403: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    404: ("global", "notFound", "Not Found"),
    409: ("global", "duplicate", "The requested identifier already exists."),
    410: ("global", "deleted", "Resource has been deleted"),
    412: ("global", "conditionNotMet", "Precondition Failed"),
    429: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("global", "backendError", "Backend Error"),
    501: ("global", "notImplemented", "Not implemented by the emulator"),
    503: ("global", "backendError", "Service unavailable"),
}
STATUS_TEXT = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
WRITE_CALLS = frozenset({"events.insert", "events.update", "events.patch", "events.delete"})
TOKEN_PATH = "/token"
_TIMEOUT_HOLD = 10.0  # seconds a "timed out" request holds its connection at most


class ApiError(Exception):
    """An error answer, rendered like Google's JSON error body."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        reason: str | None = None,
        *,
        domain: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        default_domain, default_reason, default_message = REASONS.get(
            status, ("global", "backendError", "Error")
        )
        self.status = status
        self.message = message or default_message
        self.reason = reason or default_reason
        self.domain = domain or default_domain
        self.retry_after = retry_after
        super().__init__(f"{status} {self.reason}: {self.message}")

    def response(self) -> Response:
        body = {
            "error": {
                "errors": [{"domain": self.domain, "reason": self.reason, "message": self.message}],
                "code": self.status,
                "message": self.message,
            }
        }
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        if self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        return Response(self.status, json.dumps(body).encode(), headers)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    status: int | Literal["timeout"]
    reason: str | None = None
    retry_after: float | None = None
    scope: Literal["call", "http"] = "call"
    only: str | None = None


@dataclass(frozen=True)
class Issued:
    """A token the token endpoint gave: whom it impersonates, its scope, until when."""

    subject: str | None
    scope: str
    expires: float
    """On the monotonic clock."""

    def valid_for(self, scope: str) -> bool:
        return self.expires >= time.monotonic() and scope in self.scope.split()


@dataclass(frozen=True)
class Call:
    """One API call as the emulator saw it (directly or inside a batch)."""

    name: str
    http_method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    in_batch: bool
    status: int


@dataclass
class _Calendar:
    id: str
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    revs: dict[str, int] = field(default_factory=dict)
    generation: int = 0


# --- the discovery document ---------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    name: str
    http_method: str
    pattern: re.Pattern[str]
    description: dict[str, Any]


class Discovery:
    """Paths, parameters and schemas of one discovery document."""

    def __init__(self, path: Path = DISCOVERY_PATH) -> None:
        self.doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.service_path: str = "/" + self.doc["servicePath"]
        self.batch_path: str = "/" + self.doc["batchPath"]
        self.global_params: dict[str, Any] = self.doc.get("parameters", {})
        self.schemas: dict[str, Any] = self.doc["schemas"]
        self.routes: list[_Route] = []
        for resource, content in self.doc["resources"].items():
            for method, description in content.get("methods", {}).items():
                regex = re.sub(r"\{\+?(\w+)\}", r"(?P<\1>[^/]+)", description["path"])
                self.routes.append(
                    _Route(
                        f"{resource}.{method}",
                        description["httpMethod"],
                        re.compile(f"^{regex}$"),
                        description,
                    )
                )
        # Longer literal paths first: "events/import" must not be read as event "import".
        self.routes.sort(key=lambda r: -len(r.description["path"].split("{")[0]))

    def route(self, http_method: str, path: str) -> tuple[_Route, dict[str, str]]:
        relative = path[len(self.service_path) :]
        allowed = False
        for route in self.routes:
            match = route.pattern.match(relative)
            if match is None:
                continue
            allowed = True
            if route.http_method == http_method:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        if allowed:
            raise ApiError(405, f"Method {http_method} not allowed here", "methodNotAllowed")
        raise ApiError(404, f"No API method at {path}")

    def params(self, route: _Route, query: dict[str, list[str]]) -> dict[str, list[str]]:
        """Checks the query against the method's parameters and the API's global ones."""
        known = {**self.global_params, **route.description.get("parameters", {})}
        for name, values in query.items():
            spec = known.get(name)
            if spec is None or spec.get("location") == "path":
                raise ApiError(400, f"Unknown parameter: {name!r}", "invalidParameter")
            if len(values) > 1 and not spec.get("repeated"):
                raise ApiError(400, f"Parameter {name!r} given more than once", "invalidParameter")
            for value in values:
                self._check_param(name, value, spec)
        return query

    @staticmethod
    def _check_param(name: str, value: str, spec: dict[str, Any]) -> None:
        kind = spec.get("type")
        bad = ApiError(400, f"Invalid value for parameter {name!r}: {value!r}", "invalidParameter")
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", value):
                raise bad
            if "minimum" in spec and int(value) < int(spec["minimum"]):
                raise bad
        elif kind == "boolean" and value not in ("true", "false"):
            raise bad
        if "enum" in spec and value not in spec["enum"]:
            raise bad

    def check_body(self, value: Any, schema: dict[str, Any], where: str = "resource") -> None:
        """400 on unknown fields and mistyped values, as Google's JSON parser answers."""
        if value is None:
            return  # null: "absent" in a full resource, "clear it" in a patch
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if not isinstance(value, dict):
                raise _mistyped(where, "TYPE_MESSAGE", value)
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in properties:
                    self.check_body(item, properties[key], f"{where}.{key}")
                elif extra is not None:
                    self.check_body(item, extra, f"{where}[{key!r}]")
                else:
                    raise ApiError(
                        400,
                        f'Invalid JSON payload received. Unknown name "{key}" at '
                        f"'{where}': Cannot find field.",
                        "invalid",
                    )
        elif kind == "array":
            if not isinstance(value, list):
                raise _mistyped(where, "TYPE_LIST", value)
            for index, item in enumerate(value):
                self.check_body(item, schema.get("items", {}), f"{where}[{index}]")
        elif kind == "string":
            if not isinstance(value, str):
                raise _mistyped(where, "TYPE_STRING", value)
            _check_format(where, value, schema.get("format"))
        elif kind == "integer":
            ok = (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None
            )
            if not ok or (schema.get("format") == "int32" and abs(int(value)) >= 2**31):
                raise _mistyped(where, "TYPE_INT32", value)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise _mistyped(where, "TYPE_BOOL", value)
        elif kind == "number" and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise _mistyped(where, "TYPE_DOUBLE", value)

    def read_only(self, schema_name: str) -> frozenset[str]:
        properties = self.schemas[schema_name]["properties"]
        return frozenset(
            k for k, v in properties.items() if "Read-only." in v.get("description", "")
        )

    def required(self, schema_name: str, method: str) -> list[str]:
        properties = self.schemas[schema_name]["properties"]
        return [
            k
            for k, v in properties.items()
            if method in v.get("annotations", {}).get("required", [])
        ]


def _mistyped(where: str, kind: str, value: Any) -> ApiError:
    return ApiError(400, f"Invalid value at '{where}' ({kind}), {json.dumps(value)}", "invalid")


def _check_format(where: str, value: str, fmt: str | None) -> None:
    try:
        if fmt == "date":
            date.fromisoformat(value)
        elif fmt == "date-time":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif fmt in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
            raise ValueError(value)
    except ValueError:
        raise _mistyped(where, f"TYPE_STRING, format {fmt}", value) from None


# --- partial responses (fields=) --------------------------------------------------------------

FieldTree = dict[str, Any]  # name -> subtree, or None for "the whole value"


def parse_fields(text: str) -> FieldTree:
    """``items(id,etag),nextPageToken,a/b`` → a selection tree (400 when malformed)."""
    tree, rest = _parse_field_list(text.replace(" ", ""))
    if rest:
        raise ApiError(400, f"Invalid field selection {text}", "invalidParameter")
    return tree


def _parse_field_list(text: str) -> tuple[FieldTree, str]:
    tree: FieldTree = {}
    while True:
        match = re.match(r"[A-Za-z_$][\w$]*(?:/[A-Za-z_$][\w$]*)*", text)
        if match is None:
            raise ApiError(400, "Invalid field selection", "invalidParameter")
        path, text = match.group().split("/"), text[match.end() :]
        sub: FieldTree | None = None
        if text.startswith("("):
            sub, text = _parse_field_list(text[1:])
            if not text.startswith(")"):
                raise ApiError(400, "Invalid field selection", "invalidParameter")
            text = text[1:]
        node = tree
        for name in path[:-1]:
            child = node.setdefault(name, {})
            if child is None:  # the whole value is already selected
                break
            node = child
        else:
            node[path[-1]] = sub
        if not text.startswith(","):
            return tree, text
        text = text[1:]


def select_fields(value: Any, tree: FieldTree | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [select_fields(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: select_fields(value[k], sub) for k, sub in tree.items() if k in value}
    return value


# --- the emulator -----------------------------------------------------------------------------


class CalendarEmulator:
    """Calendar v3 on ``http://127.0.0.1:<port>``; use as a context manager.

    ``token``: when set, every request must carry ``Authorization: Bearer <token>`` (401
    otherwise). ``sync_token_with_filters``: whether a filtered full listing (with
    ``privateExtendedProperty``) ends with a ``nextSyncToken``, which Google's documentation
    implies but does not promise.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        sync_token_with_filters: bool = True,
        discovery: Discovery | None = None,
        fresh_tokens: bool = False,
    ) -> None:
        self.discovery = discovery or Discovery()
        self.token = token
        self.sync_token_with_filters = sync_token_with_filters
        self.calendars: dict[str, _Calendar] = {}
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.rev = 0
        self.http_requests = 0
        self.http_by_kind: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.batches = 0
        self.batch_calls = 0
        self.log: list[Call] = []
        self.grants: list[tuple[str, str | None]] = []
        self.fresh_tokens = fresh_tokens
        self.refresh_tokens: dict[str, tuple[str, str]] = {}
        """Refresh tokens a person consented to: token → (their address, the scopes granted).
        Empty: any refresh token is taken, with the scope the request names (none)."""
        self.issued: dict[str, Issued] = {}
        self.latency = 0.0
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._event_columns = self.discovery.read_only("Event")
        self._event_schema = {"$ref": "Event"}

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> CalendarEmulator:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_endpoint(self) -> str:
        return f"{self.url}{self.discovery.service_path}"

    @property
    def batch_uri(self) -> str:
        return f"{self.url}{self.discovery.batch_path}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}{TOKEN_PATH}"

    def credentials(self) -> Credentials:
        """google-auth credentials holding the access token this emulator accepts: valid,
        never refreshed, so nothing ever calls Google's token endpoint."""
        credentials: Credentials = UserCredentials(token=self.token)  # type: ignore[no-untyped-call]
        return credentials

    def up(self) -> None:
        """Listen (again, on the same port after :meth:`down`)."""
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", self.port), _Handler)
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

    def add_calendar(self, calendar_id: str) -> None:
        with self.lock:
            self.calendars.setdefault(calendar_id, _Calendar(calendar_id))

    def fail_next(
        self,
        n: int,
        status: int | Literal["timeout"],
        reason: str | None = None,
        retry_after: float | None = None,
        *,
        scope: Literal["call", "http"] = "call",
        only: str | None = None,
    ) -> None:
        """The next ``n`` calls (``scope="call"``: each call of a batch counts) or HTTP requests
        (``scope="http"``: a whole batch fails) answer ``status`` (with Google's ``reason``
        and ``Retry-After`` when given). ``"timeout"`` holds the request without answering
        until the client gives up (always HTTP scope). ``only`` restricts the fault to one
        method (``"events.insert"``), or to batch requests (``"batch"``)."""
        if status == "timeout":
            scope = "http"
        with self.lock:
            self.faults.extend([Fault(status, reason, retry_after, scope, only)] * n)

    def expire_tokens(self) -> None:
        """Every access token issued so far has expired (for :attr:`issued`'s readers)."""
        with self.lock:
            self.issued = {
                token: Issued(i.subject, i.scope, 0.0) for token, i in self.issued.items()
            }

    def expire_sync_tokens(self, calendar_id: str) -> None:
        """Every sync token issued so far for the calendar now answers 410."""
        with self.lock:
            self.calendars[calendar_id].generation += 1

    def reset_counts(self) -> None:
        with self.lock:
            self.http_requests = 0
            self.http_by_kind.clear()
            self.calls.clear()
            self.batches = 0
            self.batch_calls = 0
            self.log.clear()

    @property
    def writes(self) -> int:
        return sum(n for name, n in self.calls.items() if name in WRITE_CALLS)

    # --- direct access, as a person using Google Calendar (not counted) ------------------

    def events(self, calendar_id: str, *, deleted: bool = False) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {
                k: _copy(v)
                for k, v in self.calendars[calendar_id].events.items()
                if deleted or v["status"] != "cancelled"
            }

    def user_insert(self, calendar_id: str, resource: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self._insert(self.calendars[calendar_id], dict(resource))

    def user_patch(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> None:
        with self.lock:
            self._patch(self.calendars[calendar_id], event_id, changes, None)

    def user_delete(self, calendar_id: str, event_id: str) -> None:
        with self.lock:
            self._delete(self.calendars[calendar_id], event_id, None)

    # --- HTTP ---------------------------------------------------------------------------------

    def serve_http(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Response | Literal["timeout"]:
        path = urlsplit(target).path
        batch = path == self.discovery.batch_path
        with self.lock:
            self.http_requests += 1
            self.http_by_kind["batch" if batch else "single"] += 1
            fault = self._take_fault("http", "batch" if batch else self._name(method, path))
        if fault is not None:
            if fault.status == "timeout":
                return "timeout"
            return self._fault_error(fault).response()
        try:
            if path == TOKEN_PATH:
                return self._grant(method, body)
            self._authorize(headers)
            if batch:
                if method != "POST":
                    raise ApiError(405, "Batch requests are POSTed", "methodNotAllowed")
                return self._batch(headers, body)
            if not path.startswith(self.discovery.service_path):
                raise ApiError(404, f"Nothing at {path}")
        except ApiError as exc:
            return exc.response()
        return self.call(method, target, headers, body, in_batch=False)

    def _grant(self, method: str, body: bytes) -> Response:
        """A stand-in for Google's OAuth token endpoint (``token_uri`` in credential files):
        a service account's signed JWT (its ``sub`` claim is the impersonated user) or an
        authorized user's refresh token buys :attr:`token`. Signatures are not checked."""
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        subject: str | None = None
        if method != "POST" or self.token is None:
            raise ApiError(400, "invalid_request", "invalid_request")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                claims = form["assertion"].split(".")[1]
                payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
            except (KeyError, IndexError, ValueError, binascii.Error):
                raise ApiError(400, "invalid_grant", "invalid_grant") from None
            subject = payload.get("sub")
            scope = str(payload.get("scope", ""))
        elif grant != "refresh_token" or not form.get("refresh_token"):
            raise ApiError(400, "unsupported_grant_type", "unsupported_grant_type")
        elif self.refresh_tokens:
            # Google ties a refresh token to the person and the scopes they consented to
            consented = self.refresh_tokens.get(form["refresh_token"])
            if consented is None:
                raise ApiError(400, "invalid_grant", "invalid_grant")
            subject, scope = consented
        else:
            scope = form.get("scope", "")
        with self.lock:
            self.grants.append((grant, subject))
            token = f"{self.token}-{len(self.grants)}" if self.fresh_tokens else self.token
            self.issued[token] = Issued(subject, scope, time.monotonic() + 3600)
        answer = {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        return Response(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})

    def _authorize(self, headers: dict[str, str]) -> None:
        if self.token is None:
            return
        given = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if given != f"Bearer {self.token}":
            raise ApiError(
                401,
                "Request had invalid authentication credentials.",
                "authError",
                domain="global",
            )

    def _name(self, method: str, path: str) -> str:
        try:
            return self.discovery.route(method, path)[0].name
        except ApiError:
            return "?"

    def _take_fault(self, scope: str, name: str) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.scope == scope and fault.only in (None, name):
                return self.faults.pop(index)
        return None

    @staticmethod
    def _fault_error(fault: Fault) -> ApiError:
        assert fault.status != "timeout"
        status = fault.status
        if fault.reason is not None:
            domain = (
                "usageLimits"
                if fault.reason in ("rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded")
                else "global"
            )
            return ApiError(
                status, fault.reason, fault.reason, domain=domain, retry_after=fault.retry_after
            )
        return ApiError(status, retry_after=fault.retry_after)

    def call(
        self, method: str, target: str, headers: dict[str, str], body: bytes, *, in_batch: bool
    ) -> Response:
        """One API call: route, check, fault injection, perform, log."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        name = "?"
        try:
            route, path_params = self.discovery.route(method, parts.path)
            name = route.name
            with self.lock:
                self.calls[name] += 1
                if in_batch:
                    self.batch_calls += 1
                fault = self._take_fault("call", name)
            if fault is not None:
                raise self._fault_error(fault)
            self.discovery.params(route, query)
            payload = self._json(body) if route.description.get("request") else None
            response = self._perform(route, path_params, query, headers, payload)
        except ApiError as exc:
            response = exc.response()
        with self.lock:
            self.log.append(
                Call(name, method, parts.path, query, dict(headers), in_batch, response.status)
            )
        return response

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Invalid JSON payload received.", "parseError") from None

    def _perform(
        self,
        route: _Route,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        payload: Any,
    ) -> Response:
        lower = {k.lower(): v for k, v in headers.items()}
        if_match = lower.get("if-match")
        one = {k: v[-1] for k, v in query.items()}
        fields = parse_fields(one["fields"]) if one.get("fields") else None
        with self.lock:
            calendar = self.calendars.get(path_params.get("calendarId", ""))
            if calendar is None:
                raise ApiError(404, "Not Found")
            event_id = path_params.get("eventId", "")
            if route.name == "events.list":
                return _ok(select_fields(self._list(calendar, query), fields))
            if route.name == "events.get":
                return _ok(select_fields(self._get(calendar, event_id), fields))
            if route.name == "events.delete":
                self._delete(calendar, event_id, if_match)
                return Response(204)
            if route.name in ("events.insert", "events.update", "events.patch"):
                self.discovery.check_body(payload, self._event_schema)
                if route.name == "events.insert":
                    event = self._insert(calendar, payload)
                elif route.name == "events.update":
                    event = self._update(calendar, event_id, payload, if_match)
                else:
                    event = self._patch(calendar, event_id, payload, if_match)
                return _ok(select_fields(event, fields))
        raise ApiError(501, f"{route.name} is not implemented by the emulator")

    # --- events -------------------------------------------------------------------------------

    def _stamp(self, calendar: _Calendar, event: dict[str, Any]) -> dict[str, Any]:
        self.rev += 1
        event["etag"] = f'"{3181161784712000 + self.rev}"'
        event["updated"] = _now()
        calendar.revs[event["id"]] = self.rev
        calendar.events[event["id"]] = event
        return _copy(event)

    def _writable(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in payload.items()
            if k not in self._event_columns and k not in ("kind", "etag") and v is not None
        }

    def _validate(
        self, calendar: _Calendar, event: dict[str, Any], method: str, old: dict[str, Any] | None
    ) -> None:
        for name in self.discovery.required("Event", method):
            if name not in event:
                raise ApiError(400, f"Missing {name} time.", "required")
        _check_times(event)
        reminders = event.get("reminders") or {}
        overrides = reminders.get("overrides") or []
        if reminders.get("useDefault") and overrides:
            raise ApiError(
                400,
                "Cannot specify both default reminders and overrides at the same time.",
                "cannotUseDefaultRemindersAndSpecifyOverride",
            )
        if len(overrides) > MAX_REMINDERS:
            raise ApiError(400, "Too many reminders: at most 5 overrides.", "invalid")
        for reminder in overrides:
            if reminder.get("method") not in ("email", "popup"):
                raise ApiError(400, "Invalid reminder method.", "invalid")
            minutes = int(reminder.get("minutes", -1))
            if not 0 <= minutes <= MAX_REMINDER_MINUTES:
                raise ApiError(400, "Invalid reminder minutes: 0 to 40320.", "invalid")
        if "colorId" in event and event["colorId"] not in COLOR_IDS:
            raise ApiError(400, "Invalid color id.", "invalid")
        if event.get("status", "confirmed") not in ("confirmed", "tentative", "cancelled"):
            raise ApiError(400, "Invalid status value.", "invalid")
        private = (event.get("extendedProperties") or {}).get("private") or {}
        for key, value in private.items():
            if len(key) > 44 or len(value) > 1024:
                raise ApiError(400, "Extended property too long.", "invalid")
        if old is not None and int(event.get("sequence", 0)) < int(old.get("sequence", 0)):
            raise ApiError(
                400,
                "Invalid sequence value. The specified sequence number is below the current "
                "sequence number of the resource.",
                "invalid",
            )
        uid = event.get("iCalUID")
        if uid is not None:
            for other in calendar.events.values():
                if (
                    other["id"] != event["id"]
                    and other.get("iCalUID") == uid
                    and other["status"] != "cancelled"
                ):
                    raise ApiError(409, "The requested identifier already exists.", "duplicate")

    def _insert(self, calendar: _Calendar, payload: dict[str, Any]) -> dict[str, Any]:
        event = self._writable(payload)
        if "id" in event:
            if not isinstance(event["id"], str) or not ID_RE.match(event["id"]):
                raise ApiError(400, "Invalid resource id value.", "invalid")
            if event["id"] in calendar.events:
                raise ApiError(409, "The requested identifier already exists.", "duplicate")
        else:
            event["id"] = uuid.uuid4().hex
        event.setdefault("iCalUID", f"{event['id']}@google.com")
        self._validate(calendar, event, "calendar.events.insert", None)
        now = _now()
        event = {
            "kind": "calendar#event",
            "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event['id']}",
            "created": now,
            "creator": {"email": calendar.id, "self": True},
            "organizer": {"email": calendar.id, "self": True},
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": "default",
            **event,
        }
        return self._stamp(calendar, event)

    def _existing(self, calendar: _Calendar, event_id: str, if_match: str | None) -> dict[str, Any]:
        old = calendar.events.get(event_id)
        if old is None:
            raise ApiError(404, "Not Found")
        if if_match is not None and if_match != "*" and if_match != old["etag"]:
            raise ApiError(412, "Precondition Failed", "conditionNotMet")
        return old

    def _update(
        self, calendar: _Calendar, event_id: str, payload: dict[str, Any], if_match: str | None
    ) -> dict[str, Any]:
        old = self._existing(calendar, event_id, if_match)
        event = self._writable(payload)
        event["id"] = event_id
        event.setdefault("iCalUID", old["iCalUID"])
        event.setdefault("status", "confirmed")
        self._validate(calendar, event, "calendar.events.update", old)
        kept = {k: old[k] for k in (*self._event_columns, "kind") if k in old}
        return self._stamp(calendar, {**kept, "sequence": 0, "reminders": {}, **event})

    def _patch(
        self, calendar: _Calendar, event_id: str, payload: dict[str, Any], if_match: str | None
    ) -> dict[str, Any]:
        old = self._existing(calendar, event_id, if_match)
        changes = {k: v for k, v in payload.items() if k not in self._event_columns and k != "kind"}
        changes.pop("etag", None)
        event = _merge(_copy(old), changes)
        event["id"] = event_id
        self._validate(calendar, event, "calendar.events.patch", old)
        return self._stamp(calendar, event)

    def _delete(self, calendar: _Calendar, event_id: str, if_match: str | None) -> None:
        old = self._existing(calendar, event_id, if_match)
        if old["status"] == "cancelled":
            raise ApiError(410, "Resource has been deleted", "deleted")
        self._stamp(calendar, {**old, "status": "cancelled"})

    def _get(self, calendar: _Calendar, event_id: str) -> dict[str, Any]:
        event = calendar.events.get(event_id)
        if event is None:
            raise ApiError(404, "Not Found")
        return _copy(event)  # tombstones included: "get always returns them"

    # --- listing --------------------------------------------------------------------------

    def _list(self, calendar: _Calendar, query: dict[str, list[str]]) -> dict[str, Any]:
        one = {k: v[-1] for k, v in query.items()}
        unsupported = [p for p in UNSUPPORTED_LIST_PARAMS if p in one]
        sync = one.get("syncToken")
        if sync is not None:
            forbidden = [p for p in SYNC_FORBIDDEN if p in query]
            if forbidden:
                raise ApiError(
                    400,
                    f"Sync token cannot be used with {', '.join(forbidden)}.",
                    "invalid",
                )
        if unsupported:
            raise ApiError(501, f"events.list with {', '.join(unsupported)} is not emulated")
        show_deleted = one.get("showDeleted") == "true"
        size = min(int(one.get("maxResults", "250")), MAX_PAGE)
        fingerprint = _fingerprint(calendar.id, query)
        since = self._sync_rev(calendar, sync) if sync is not None else None
        if "pageToken" in one:
            offset, snapshot = _decode_page(one["pageToken"], fingerprint)
        else:
            offset, snapshot = 0, self.rev
        filters = [tuple(p.split("=", 1)) for p in query.get("privateExtendedProperty", [])]
        if any(len(f) != 2 for f in filters):
            raise ApiError(400, "Invalid privateExtendedProperty: name=value", "invalid")
        items: list[dict[str, Any]] = []
        for event_id, event in calendar.events.items():
            cancelled = event["status"] == "cancelled"
            if since is not None:
                if calendar.revs[event_id] <= since:
                    continue
                if cancelled and not show_deleted:
                    items.append(_minimal(event))
                    continue
            elif cancelled and not show_deleted:
                continue
            private = (event.get("extendedProperties") or {}).get("private") or {}
            if any(private.get(k) != v for k, v in filters):
                continue
            if "iCalUID" in one and event.get("iCalUID") != one["iCalUID"]:
                continue
            items.append(_copy(event))
        page = items[offset : offset + size]
        result: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p{self.rev}"',
            "summary": calendar.id,
            "updated": _now(),
            "timeZone": "UTC",
            "accessRole": "owner",
            "defaultReminders": [],
            "items": page,
        }
        if offset + size < len(items):
            result["nextPageToken"] = _encode_page(offset + size, snapshot, fingerprint)
        elif self.sync_token_with_filters or not (filters or "iCalUID" in one):
            token = f"{calendar.id}|{calendar.generation}|{snapshot}".encode()
            result["nextSyncToken"] = base64.urlsafe_b64encode(token).decode()
        return result

    def _sync_rev(self, calendar: _Calendar, token: str) -> int:
        gone = ApiError(
            410, "Sync token is no longer valid, a full sync is required.", "fullSyncRequired"
        )
        try:
            owner, generation, rev = base64.urlsafe_b64decode(token).decode().split("|")
            valid = owner == calendar.id and int(generation) == calendar.generation
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise gone from None
        if not valid or int(rev) > self.rev:
            raise gone
        return int(rev)

    # --- batch --------------------------------------------------------------------------------

    def _batch(self, headers: dict[str, str], body: bytes) -> Response:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if not content_type.startswith("multipart/mixed"):
            raise ApiError(400, "A batch request is multipart/mixed", "badContent")
        parts = split_multipart(content_type, body)
        if not parts:
            raise ApiError(400, "Empty or malformed batch request", "badContent")
        if len(parts) > MAX_BATCH_CALLS:
            raise ApiError(
                400, f"A batch holds at most {MAX_BATCH_CALLS} calls", "batchSizeTooLarge"
            )
        with self.lock:
            self.batches += 1
        boundary = f"batch_{uuid.uuid4().hex}"
        chunks: list[bytes] = []
        for part_headers, payload in parts:
            content_id = part_headers.get("content-id", "")
            response = self._batch_part(payload, headers)
            answer_id = f"<response-{content_id[1:]}" if content_id.startswith("<") else ""
            lines = [
                f"--{boundary}",
                "Content-Type: application/http",
                *([f"Content-ID: {answer_id}"] if answer_id else []),
                "",
                f"HTTP/1.1 {response.status} {STATUS_TEXT.get(response.status, 'Error')}",
                *(f"{k}: {v}" for k, v in response.headers.items()),
                f"Content-Length: {len(response.body)}",
                "",
                "",
            ]
            chunks.append("\r\n".join(lines).encode() + response.body + b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        return Response(
            200, b"".join(chunks), {"Content-Type": f"multipart/mixed; boundary={boundary}"}
        )

    def _batch_part(self, raw: str, outer: dict[str, str]) -> Response:
        """One ``application/http`` part: request line, headers, blank line, body."""
        head, _, rest = raw.replace("\r\n", "\n").partition("\n")
        match = re.match(r"^(\w+) (\S+)(?: HTTP/1\.[01])?$", head.strip())
        if match is None:
            return ApiError(400, f"Malformed batch part: {head[:80]!r}", "badContent").response()
        header_text, _, body = rest.partition("\n\n")
        headers = parse_headers(header_text)
        lower = {k.lower() for k in headers}
        if "authorization" not in lower:
            headers.update({k: v for k, v in outer.items() if k.lower() == "authorization"})
        try:
            self._authorize(headers)
        except ApiError as exc:
            return exc.response()
        method, target = match.groups()
        path = urlsplit(target).path
        if not path.startswith(self.discovery.service_path):
            return ApiError(404, f"Nothing at {path}").response()
        return self.call(method, target, headers, body.encode(), in_batch=True)


# --- helpers ------------------------------------------------------------------------------


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value`` lines (folded lines joined); names as sent."""
    headers: dict[str, str] = {}
    last: str | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t") and last is not None:
            headers[last] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            last = name.strip()
            headers[last] = value.strip()
    return headers


def split_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], str]]:
    """The parts of a ``multipart/mixed`` body: (headers with lowercase names, payload)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ApiError(400, "multipart/mixed without a boundary", "badContent")
    delimiter = b"--" + match.group(1).encode()
    parts: list[tuple[dict[str, str], str]] = []
    for chunk in body.replace(b"\r\n", b"\n").split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, _, payload = chunk.removeprefix(b"\n").partition(b"\n\n")
        headers = {k.lower(): v for k, v in parse_headers(head.decode("utf-8", "replace")).items()}
        parts.append((headers, payload.removesuffix(b"\n").decode("utf-8", "replace")))
    return parts


def _copy(event: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(event))
    return copied


def _ok(payload: Any) -> Response:
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    if isinstance(payload, dict) and isinstance(payload.get("etag"), str):
        headers["ETag"] = payload["etag"]
    return Response(200, json.dumps(payload).encode(), headers)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _minimal(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event[k] for k in ("kind", "etag", "id", "status") if k in event}


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge key by key, an explicit null removes, the rest replaces."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = _merge(target[key], value)
        else:
            target[key] = value
    return target


def _check_times(event: dict[str, Any]) -> None:
    start, end = event.get("start") or {}, event.get("end") or {}
    for label, moment in (("start", start), ("end", end)):
        if ("date" in moment) == ("dateTime" in moment):
            raise ApiError(400, f"Invalid {label} time: one of date or dateTime.", "invalid")
        if "timeZone" in moment:
            try:
                zoneinfo.ZoneInfo(moment["timeZone"])
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ApiError(
                    400, f"Invalid time zone definition for {label} time.", "invalid"
                ) from None
    if ("date" in start) != ("date" in end):
        raise ApiError(400, "Start and end times must either both be date or both be dateTime.")
    if "date" in start:
        if date.fromisoformat(end["date"]) <= date.fromisoformat(start["date"]):
            raise ApiError(400, "The specified time range is empty.", "timeRangeEmpty")
        return
    moments = []
    for label, moment in (("start", start), ("end", end)):
        value = datetime.fromisoformat(moment["dateTime"].replace("Z", "+00:00"))
        if value.tzinfo is None:
            if "timeZone" not in moment:
                raise ApiError(400, f"Missing time zone definition for {label} time.", "required")
            value = value.replace(tzinfo=zoneinfo.ZoneInfo(moment["timeZone"]))
        moments.append(value)
    if moments[1] < moments[0]:
        raise ApiError(400, "The specified time range is empty.", "timeRangeEmpty")


def _fingerprint(calendar_id: str, query: dict[str, list[str]]) -> str:
    keep = {k: sorted(v) for k, v in query.items() if k not in ("pageToken", "maxResults")}
    text = json.dumps([calendar_id, sorted(keep.items())])
    return format(binascii.crc32(text.encode()), "08x")


def _encode_page(offset: int, snapshot: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}|{snapshot}|{fingerprint}".encode()).decode()


def _decode_page(token: str, fingerprint: str) -> tuple[int, int]:
    try:
        offset, snapshot, owner = base64.urlsafe_b64decode(token).decode().split("|")
        if owner != fingerprint:
            raise ValueError(owner)
        return int(offset), int(snapshot)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "Invalid page token value.", "invalid") from None


# --- the HTTP server ----------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: CalendarEmulator


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive and TCP_NODELAY (Nagle + delayed ACK cost ~45 ms a request)."""

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
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: str(v) for k, v in self.headers.items()}
        emulator = self.server.emulator
        if emulator.latency:
            time.sleep(emulator.latency)  # benchmarks only: a stand-in for the network's RTT
        answer = emulator.serve_http(self.command, self.path, headers, body)
        if answer == "timeout":
            # Answer nothing: wait until the client gives up and closes (or a long while).
            with suppress(OSError):
                select.select([self.connection], [], [], _TIMEOUT_HOLD)
            self.close_connection = True
            return
        assert isinstance(answer, Response)
        self.send_response(answer.status, STATUS_TEXT.get(answer.status))
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)


def write_service_account(path: Path, token_uri: str) -> None:
    """A service account's JSON key file (a fresh RSA key) whose tokens come from
    ``token_uri`` (the emulator's token endpoint)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "syncsvc-test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "syncsvc@syncsvc-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
