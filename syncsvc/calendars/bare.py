"""CalDAV through the standard library's HTTP client, for a sync that has little or nothing
to do: « anything new in this calendar since this token? » in one request
(:func:`changes_since`, see :mod:`syncsvc.app.unchanged`), and :class:`BareCalDAV`, the
target a sync that renders only the changed sessions writes through (see
:mod:`syncsvc.app.changed`) — without importing the keep-alive adapter's HTTP library.

:func:`changes_since` only ever answers the question or declines (None): any answer but a
well-formed 207 — a redirect, an error, a timeout, a stale token — is the full pass's
business, which meets it again through :mod:`syncsvc.calendars.caldav` and reports it.

:class:`BareCalDAV` writes what :class:`~syncsvc.calendars.caldav.CalDAVTarget` writes to a
calendar whose location is known — the same bytes, the same conditions (``If-None-Match: *``
on create, ``If-Match`` on update and delete), its answers read as the same errors
(:func:`~syncsvc.calendars.davxml.status_error`) — one request after another on one
keep-alive connection. It neither discovers nor creates a calendar: that is the full pass's.
"""

from __future__ import annotations

import base64
import http.client
import ssl
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from urllib.parse import urljoin, urlsplit

from syncsvc.calendars.base import Changes, Item, Result, Write, Written
from syncsvc.calendars.davxml import (
    item_href,
    status_error,
    sync_collection_body,
    sync_collection_changes,
)
from syncsvc.errors import (
    PermanentError,
    PreconditionFailed,
    RemoteError,
    TemporaryError,
    Unreachable,
)

ICS = "text/calendar; charset=utf-8"
REDIRECTS = 20
"""Redirects followed before giving up (as the keep-alive adapter's HTTP library does)."""
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
"""What a kept-alive connection the server closed meanwhile answers: sent again once."""


class Answer:
    """An HTTP answer: status, headers, body."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, content: bytes) -> None:
        self.status, self.headers, self.content = status, headers, content


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    if parts.scheme != "http" or not parts.hostname:
        raise PermanentError(f"{url} : adresse non prise en charge (attendu : http ou https)")
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Client:
    """One keep-alive HTTP/1.1 connection to one server, Basic credentials sent with every
    request (as the keep-alive adapter does), redirects followed; reopened when the server
    closed it between two requests."""

    def __init__(
        self, base_url: str, *, username: str | None, password: str | None, timeout: float
    ) -> None:
        self.origin = _origin(base_url)
        self.timeout = timeout
        self.authorization: str | None = None
        if username:
            pair = f"{username}:{password or ''}".encode()
            self.authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        self._open: http.client.HTTPConnection | None = None
        self._base = base_url

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        follow: bool = True,
        meanwhile: Callable[[], None] | None = None,
    ) -> Answer:
        """The answer to ``method url`` (a redirect's target's, unless not ``follow``);
        OSError or HTTPException when there is none. ``meanwhile`` is called once, while the
        server works on the request (after sending it, before reading the answer)."""
        for _ in range(REDIRECTS + 1):
            answer = self._once(method, url, body, dict(headers or {}), meanwhile)
            meanwhile = None
            location = answer.headers.get("Location")
            if not follow or answer.status not in (301, 302, 303, 307, 308) or not location:
                return answer
            url = urljoin(url, location)
            if answer.status == 303 and method != "HEAD":
                method, body = "GET", b""
        raise PermanentError(f"{method} {urlsplit(url).path} : trop de redirections")

    def _once(
        self,
        method: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        meanwhile: Callable[[], None] | None = None,
    ) -> Answer:
        same = _origin(url) == self.origin
        if same and self.authorization:
            headers["Authorization"] = self.authorization
        if not same:  # another server: its own connection, no credentials
            other = _connection(url, self.timeout)
            try:
                return _exchange(other, method, url, body, headers, meanwhile)
            finally:
                other.close()
        reused = self._open is not None
        if self._open is None:
            self._open = _connection(self._base, self.timeout)
        called = [meanwhile]

        def once() -> None:  # never twice, even when the request is sent again
            found, called[0] = called[0], None
            if found is not None:
                found()

        try:
            return _exchange(self._open, method, url, body, headers, once)
        except _STALE:
            self.close()
            if not reused:
                raise
        self._open = _connection(self._base, self.timeout)
        try:
            return _exchange(self._open, method, url, body, headers, once)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None


def _exchange(
    connection: http.client.HTTPConnection,
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    meanwhile: Callable[[], None] | None = None,
) -> Answer:
    try:
        connection.request(method, _target(url), body, headers)
        if meanwhile is not None:
            meanwhile()
        response = connection.getresponse()
        content = response.read()
    except BaseException:
        connection.close()
        raise
    if response.will_close:
        connection.close()
    return Answer(response.status, response.headers, content)


def changes_since(
    calendar_url: str,
    token: str,
    *,
    username: str | None,
    password: str | None,
    timeout: float,
) -> Changes | None:
    """The changes since ``token`` (one sync-collection REPORT), or None when the server did
    not answer plainly."""
    parts = urlsplit(calendar_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    client = Client(calendar_url, username=username, password=password, timeout=timeout)
    headers = {"Content-Type": "application/xml"}
    try:
        body = sync_collection_body(token).encode()
        answer = client.request("REPORT", calendar_url, body, headers, follow=False)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        client.close()
    if answer.status != 207:
        return None
    try:
        return sync_collection_changes(answer.content, calendar_url, token)
    except Exception:  # not the XML expected: the full pass will say what it is
        return None


class BareCalDAV:
    """One CalDAV calendar at a known location (see the module)."""

    def __init__(
        self,
        name: str,
        calendar_url: str,
        *,
        username: str | None,
        password: str | None,
        timeout: float,
    ) -> None:
        self.name = name
        self.calendar_url = calendar_url
        self.client = Client(calendar_url, username=username, password=password, timeout=timeout)

    def _http(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> Answer:
        try:
            answer = self.client.request(method, url, body, headers, meanwhile=meanwhile)
        except TimeoutError:
            raise TemporaryError(f"{method} {urlsplit(url).path}: délai dépassé") from None
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(
                f"{method} {url}: serveur injoignable ({type(exc).__name__})"
            ) from None
        error = status_error(method, url, answer.status, answer.headers.get("Retry-After"))
        if error is not None:
            raise error
        return answer

    def prepare(self, hint: str | None = None) -> str:
        if hint != self.calendar_url:
            raise PermanentError(
                f"{self.calendar_url} : calendrier à trouver par une passe complète"
            )
        return self.calendar_url

    def href_for(self, uid: str) -> str:
        return item_href(self.calendar_url, uid)

    def _url(self, href: str) -> str:
        return urljoin(self.calendar_url, href)

    def changes(self, since: str | None) -> Changes:
        """As the keep-alive adapter asks (a stale token: everything); a server without
        sync-collection is the full pass's business."""
        try:
            return self._sync_collection(since)
        except PreconditionFailed:
            if since:  # stale token (Xandikos answers 412)
                return self._sync_collection(None)
            raise
        except PermanentError as exc:
            if since and exc.status == 403:  # stale token (Radicale, Cyrus answer 403)
                return self._sync_collection(None)
            raise

    def _sync_collection(self, token: str | None) -> Changes:
        body = sync_collection_body(token).encode()
        answer = self._http("REPORT", self.calendar_url, body, {"Content-Type": "application/xml"})
        try:
            return sync_collection_changes(answer.content, self.calendar_url, token)
        except Exception:
            raise PermanentError(
                f"REPORT {urlsplit(self.calendar_url).path} : réponse illisible"
            ) from None

    def etag_if_ours(self, href: str, uid: str) -> str | None:
        from syncsvc.formats.ical import MARKER

        answer = self._http("GET", self._url(href))
        text = (answer.content or b"").decode("utf-8", "replace").replace("\r\n ", "")
        if f"UID:{uid}" not in text or MARKER not in text:
            raise PermanentError(
                f"{href} : un élément qui n'a pas été créé par syncsvc occupe cette adresse ; "
                "il n'est pas modifié"
            )
        return answer.headers.get("ETag")

    def create(self, href: str, item: Item) -> Written:
        return self._put(href, _resource(item), None)

    def update(self, href: str, item: Item, etag: str | None) -> Written:
        return self._put(href, _resource(item), etag, create=False)

    def _put(
        self,
        href: str,
        data: bytes,
        etag: str | None,
        *,
        create: bool = True,
        meanwhile: Callable[[], None] | None = None,
    ) -> Written:
        headers = {"Content-Type": ICS}
        if create:
            headers["If-None-Match"] = "*"
        elif etag:
            headers["If-Match"] = etag
        answer = self._http("PUT", self._url(href), data, headers, meanwhile)
        return Written(href, answer.headers.get("ETag"))

    def delete(self, href: str, etag: str | None) -> None:
        self._delete(href, etag)

    def _delete(
        self, href: str, etag: str | None, meanwhile: Callable[[], None] | None = None
    ) -> None:
        headers = {"If-Match": etag} if etag else {}
        self._http("DELETE", self._url(href), b"", headers, meanwhile)

    def write_many(self, writes: Sequence[Write]) -> Iterator[tuple[int, Result]]:
        """One after another, as :class:`~syncsvc.calendars.base.SequentialWrites` does; the
        next item is rendered while the server works on the one before."""
        bodies: dict[int, bytes] = {}

        def render(index: int) -> None:
            if index < len(writes):
                item = writes[index].item
                if item is not None and index not in bodies:
                    bodies[index] = _resource(item)

        render(0)
        for index, write in enumerate(writes):
            following = partial(render, index + 1)
            try:
                if write.action == "delete":
                    self._delete(write.href, write.etag, following)
                    result: Result = Written(write.href, None)
                else:
                    render(index)  # when the request before did not get to it
                    body = bodies.pop(index)
                    create = write.action == "create"
                    result = self._put(
                        write.href, body, write.etag, create=create, meanwhile=following
                    )
            except Unreachable as exc:
                yield index, exc
                return
            except RemoteError as exc:
                result = exc
            yield index, result

    def close(self) -> None:
        self.client.close()


def _resource(item: Item) -> bytes:
    """What the keep-alive adapter writes for ``item``."""
    from syncsvc.formats.ical import resource_bytes  # rendering: only when writing

    return resource_bytes(item.entry, item.stamp, item.sequence)
