"""CalDAV target: any standards-compliant server (Radicale, Xandikos, Nextcloud, Cyrus…).

When only a calendar name is given, the calendar home is discovered (current-user-principal,
then calendar-home-set: two PROPFIND, RFC 5397 and RFC 4791); every request goes through one
keep-alive ``httpx`` client and is sent by this module so that every write is
conditional: ``If-None-Match: *`` on create, ``If-Match`` on update and delete. Statuses become
the errors of :mod:`syncsvc.calendars.base` here and nowhere else. HTTPS is checked against the
system's certificate store (where administrators install their own CA).

Change detection uses sync-collection (RFC 6578): a no-op sync costs one REPORT per calendar.
A stale token is answered 403/412 with ``DAV:valid-sync-token``: the target then lists the whole
calendar once. Servers without sync-collection get an ETag listing (PROPFIND Depth 1).

Writes go one after another, or over ``concurrency`` connections at once for servers that
write in parallel (Nextcloud, Cyrus); Radicale serialises its writes, so 1 is right there.
"""

from __future__ import annotations

import queue
import ssl
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urljoin, urlsplit
from xml.sax.saxutils import escape

import httpx
from lxml import etree

from syncsvc.calendars.base import (
    Changes,
    Item,
    Result,
    SequentialWrites,
    Write,
    Written,
    write_one,
)
from syncsvc.calendars.davxml import (
    NS,
    canonical,
    item_href,
    status_error,
    sync_collection_body,
    sync_collection_changes,
)
from syncsvc.calendars.davxml import PARSER as _PARSER
from syncsvc.errors import (
    NotFound,
    PermanentError,
    PreconditionFailed,
    RemoteError,
    TemporaryError,
    Unreachable,
)

ICS = "text/calendar; charset=utf-8"


class CalDAVTarget(SequentialWrites):
    """One calendar on one CalDAV server."""

    def __init__(
        self,
        name: str,
        url: str,
        calendar: str,
        *,
        username: str | None = None,
        password: str | None = None,
        display_name: str | None = None,
        color: str = "#1F6FB2",
        timeout: float = 30.0,
        concurrency: int = 1,
    ) -> None:
        self.name = name
        self.concurrency = concurrency
        self.url = url if url.endswith("/") else url + "/"
        self.calendar = calendar
        self.display_name = display_name or calendar
        self.color = color
        self.timeout = timeout
        self._credentials = (username, password)
        auth = (username, password or "") if username else None
        self.client = httpx.Client(
            auth=auth,
            timeout=timeout,
            follow_redirects=True,
            verify=ssl.create_default_context() if self.url.startswith("https:") else True,
        )
        self.calendar_url: str | None = None
        self.supports_sync = True

    def clone(self) -> CalDAVTarget:
        """The same calendar over another connection (for concurrent writes)."""
        username, password = self._credentials
        other = CalDAVTarget(
            self.name,
            self.url,
            self.calendar,
            username=username,
            password=password,
            display_name=self.display_name,
            color=self.color,
            timeout=self.timeout,
        )
        other.calendar_url = self.calendar_url
        other.supports_sync = self.supports_sync
        return other

    # --- HTTP, translated once ---------------------------------------------------------------

    def _http(
        self, method: str, url: str, body: bytes | str = b"", headers: dict[str, str] | None = None
    ) -> Any:
        try:
            response = self.client.request(
                method,
                url,
                content=body.encode() if isinstance(body, str) else body,
                headers=headers or {},
            )
        except httpx.TimeoutException:
            raise TemporaryError(f"{method} {urlsplit(url).path}: délai dépassé") from None
        except httpx.TransportError as exc:
            raise Unreachable(
                f"{method} {url}: serveur injoignable ({type(exc).__name__})"
            ) from None
        error = status_error(
            method, url, response.status_code or 0, response.headers.get("Retry-After")
        )
        if error is not None:
            raise error
        return response

    # --- calendar -----------------------------------------------------------------------------

    def prepare(self, hint: str | None = None) -> str:
        """The calendar's URL, created with MKCALENDAR when missing."""
        if hint:
            self.calendar_url = hint
            return hint
        url = self._resolve()
        if not self._is_calendar(url):
            self._http(
                "MKCALENDAR", url, self._mkcalendar_body(), {"Content-Type": "application/xml"}
            )
        self.calendar_url = url
        return url

    def _is_calendar(self, url: str) -> bool:
        """True when ``url`` is a calendar; False when nothing is there (some servers answer
        404, others a 207 whose only status is 404); PermanentError for another resource."""
        try:
            response = self._http(
                "PROPFIND", url, _PROPFIND_TYPE, {"Depth": "0", "Content-Type": "application/xml"}
            )
        except NotFound:
            return False
        tree = etree.fromstring(response.content, _PARSER)
        if tree.find("d:response/d:propstat/d:prop/d:resourcetype/c:calendar", NS) is not None:
            return True
        statuses = [e.text or "" for e in tree.iter("{DAV:}status")]
        if statuses and all(" 404 " in s for s in statuses):
            return False
        raise PermanentError(f"{urlsplit(url).path} existe mais n'est pas un calendrier")

    def _resolve(self) -> str:
        if "://" in self.calendar or self.calendar.startswith("/"):
            return urljoin(self.url, self.calendar.rstrip("/") + "/")
        home = self._discover_home()
        return urljoin(home if home.endswith("/") else home + "/", quote(self.calendar) + "/")

    def _discover_home(self) -> str:
        """The user's calendar home (RFC 4791 § 6.2.1): the principal named by
        ``current-user-principal`` (RFC 5397; the URL itself when the server names none), then
        its ``calendar-home-set``."""
        principal = self._href_property(self.url, "d:current-user-principal") or self.url
        home = self._href_property(principal, "c:calendar-home-set")
        if home is None:
            raise PermanentError(
                f"découverte CalDAV impossible sur {self.url} (pas de calendar-home-set) : "
                "donner l'URL complète du calendrier dans calendar"
            )
        return home

    def _href_property(self, url: str, prop: str) -> str | None:
        """The absolute URL in the ``<d:href>`` of property ``prop`` of ``url`` (Depth 0)."""
        try:
            response = self._http(
                "PROPFIND",
                url,
                _PROPFIND_HREF.format(prop=prop),
                {"Depth": "0", "Content-Type": "application/xml"},
            )
        except PermanentError as exc:
            if exc.status in (401, 403):
                raise PermanentError(f"découverte CalDAV refusée : {exc}", exc.status) from None
            raise
        except NotFound:
            return None
        try:
            tree = etree.fromstring(response.content, _PARSER)
        except etree.XMLSyntaxError:
            raise PermanentError(
                f"découverte CalDAV impossible sur {self.url} (réponse illisible) : donner "
                "l'URL complète du calendrier dans calendar"
            ) from None
        found = tree.find(f"d:response/d:propstat/d:prop/{prop}/d:href", NS)
        href = str(found.text or "").strip() if found is not None else ""
        return urljoin(url, href) if href else None

    def _mkcalendar_body(self) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
            'xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop>'
            f"<d:displayname>{escape(self.display_name)}</d:displayname>"
            f"<a:calendar-color>{escape(self.color)}</a:calendar-color>"
            '<c:supported-calendar-component-set><c:comp name="VEVENT"/><c:comp name="VTODO"/>'
            "</c:supported-calendar-component-set>"
            "</d:prop></d:set></c:mkcalendar>"
        )

    def _calendar(self) -> str:
        if self.calendar_url is None:
            return self.prepare()
        return self.calendar_url

    def href_for(self, uid: str) -> str:
        return item_href(self._calendar(), uid)

    def _url(self, href: str) -> str:
        return urljoin(self._calendar(), href)

    # --- change detection -------------------------------------------------------------------

    def changes(self, since: str | None) -> Changes:
        if self.supports_sync:
            try:
                return self._sync_collection(since)
            except PreconditionFailed:
                if since:  # stale token (Xandikos answers 412)
                    return self._sync_collection(None)
                raise
            except PermanentError as exc:
                if since and exc.status == 403:  # stale token (Radicale, Cyrus answer 403)
                    try:
                        return self._sync_collection(None)
                    except PermanentError:
                        pass
                self.supports_sync = False
        return self._etag_listing()

    def _sync_collection(self, token: str | None) -> Changes:
        body = sync_collection_body(token)
        response = self._http("REPORT", self._calendar(), body, {"Content-Type": "application/xml"})
        return sync_collection_changes(response.content, self._calendar(), token)

    def _etag_listing(self) -> Changes:
        response = self._http(
            "PROPFIND",
            self._calendar(),
            _PROPFIND_ETAG,
            {"Depth": "1", "Content-Type": "application/xml"},
        )
        tree = etree.fromstring(response.content, _PARSER)
        calendar_path = canonical(self._calendar())
        present: dict[str, str | None] = {}
        for item in tree.findall("d:response", NS):
            href = canonical(item.findtext("d:href", default="", namespaces=NS))
            if href != calendar_path and href.endswith(".ics"):
                present[href] = item.findtext("d:propstat/d:prop/d:getetag", namespaces=NS)
        return Changes(None, present, frozenset(), full=True)

    # --- items ------------------------------------------------------------------------------

    def etag_if_ours(self, href: str, uid: str) -> str | None:
        from syncsvc.formats.ical import MARKER

        response = self._http("GET", self._url(href))
        text = (response.content or b"").decode("utf-8", "replace").replace("\r\n ", "")
        if f"UID:{uid}" not in text or MARKER not in text:
            raise PermanentError(
                f"{href} : un élément qui n'a pas été créé par syncsvc occupe cette adresse ; "
                "il n'est pas modifié"
            )
        etag: str | None = response.headers.get("ETag")
        return etag

    def create(self, href: str, item: Item) -> Written:
        from syncsvc.formats.ical import resource_bytes  # rendering: only when writing

        data = resource_bytes(item.entry, item.stamp, item.sequence)
        response = self._http(
            "PUT", self._url(href), data, {"Content-Type": ICS, "If-None-Match": "*"}
        )
        return Written(href, response.headers.get("ETag"))

    def update(self, href: str, item: Item, etag: str | None) -> Written:
        from syncsvc.formats.ical import resource_bytes

        data = resource_bytes(item.entry, item.stamp, item.sequence)
        headers = {"Content-Type": ICS}
        if etag:
            headers["If-Match"] = etag
        response = self._http("PUT", self._url(href), data, headers)
        return Written(href, response.headers.get("ETag"))

    def delete(self, href: str, etag: str | None) -> None:
        self._http("DELETE", self._url(href), b"", {"If-Match": etag} if etag else {})

    def write_many(self, writes: Sequence[Write]) -> Iterator[tuple[int, Result]]:
        """One after another, or over ``concurrency`` connections; the first unreachable
        answer stops every worker (the next run resumes)."""
        if self.concurrency <= 1 or len(writes) <= 1:
            yield from super().write_many(writes)
            return
        self._calendar()  # discover once, before the clones copy the location
        pending: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(writes)):
            pending.put(index)
        results: queue.SimpleQueue[tuple[int, Result] | None] = queue.SimpleQueue()
        stop = threading.Event()
        workers = min(self.concurrency, len(writes))
        connections = [self] + [self.clone() for _ in range(workers - 1)]

        def work(own: CalDAVTarget) -> None:
            try:
                while not stop.is_set():
                    try:
                        index = pending.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        results.put((index, write_one(own, writes[index])))
                    except Unreachable as exc:
                        stop.set()
                        results.put((index, exc))
                    except RemoteError as exc:
                        results.put((index, exc))
            finally:
                results.put(None)

        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for own in connections:
                    pool.submit(work, own)
                finished = 0
                try:
                    while finished < workers:
                        found = results.get()
                        if found is None:
                            finished += 1
                            continue
                        yield found
                        if isinstance(found[1], Unreachable):
                            stop.set()
                finally:
                    stop.set()
        finally:
            for extra in connections[1:]:
                extra.close()

    def close(self) -> None:
        self.client.close()


_PROPFIND_TYPE = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>'
    "<d:resourcetype/></d:prop></d:propfind>"
)
_PROPFIND_HREF = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" '
    'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><{prop}/></d:prop></d:propfind>'
)
_PROPFIND_ETAG = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>'
    "<d:getetag/></d:prop></d:propfind>"
)
