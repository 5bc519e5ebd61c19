"""What both CalDAV clients share: the XML of WebDAV answers, where an item lives and what
an answer's status means. The clients are the keep-alive adapter
(:mod:`syncsvc.calendars.caldav`) and the standard library's one of a sync that has little
or nothing to do (:mod:`syncsvc.calendars.bare`). No HTTP library here: a process that only
asks « anything new? » does not import one.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urljoin, urlsplit

from lxml import etree

from syncsvc.calendars.base import Changes
from syncsvc.errors import (
    NotFound,
    PermanentError,
    PreconditionFailed,
    RemoteError,
    TemporaryError,
)

NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML character data needs them (what ``xml.sax.saxutils.escape``
    does, without importing ``urllib.request`` with it: some 5 ms of every command's start)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def canonical(href: str) -> str:
    """One spelling per path: servers answer ``@`` or ``%40`` for the same item."""
    return quote(unquote(urlsplit(href).path), safe="/")


def item_href(calendar_url: str, uid: str) -> str:
    """Where the item with ``uid`` lives in the calendar at ``calendar_url``."""
    return canonical(urljoin(calendar_url, quote(uid, safe="") + ".ics"))


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: let the caller's backoff decide


def status_error(
    method: str, url: str, status: int, retry_after: str | None = None
) -> RemoteError | None:
    """What an answer's ``status`` means for a request (None: a success), with the
    ``Retry-After`` header's value when the server gave one."""
    if status < 300 or status == 207:
        return None
    what = f"{method} {urlsplit(url).path}: HTTP {status}"
    if status in (404, 410):
        return NotFound(what, status)
    if status == 412:
        return PreconditionFailed(what, status)
    if status in (423, 429) or (status >= 500 and status != 501):  # 423: resource locked
        return TemporaryError(what, _retry_after(retry_after), status)
    if status in (401, 403):
        return PermanentError(f"{what} (identifiants ou droits refusés)", status)
    if status == 409:
        return PermanentError(f"{what} (conflit : un autre élément porte cet UID ?)", status)
    return PermanentError(what, status)


def sync_collection_body(token: str | None) -> str:
    """An RFC 6578 sync-collection REPORT since ``token`` (None: everything), ETags only."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:">'
        f"<d:sync-token>{escape(token or '')}</d:sync-token><d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/></d:prop></d:sync-collection>"
    )


def sync_collection_changes(content: bytes, calendar_url: str, token: str | None) -> Changes:
    """The changes a sync-collection answer (``content``) reports for the calendar at
    ``calendar_url`` since ``token``."""
    tree = etree.fromstring(content, PARSER)
    present: dict[str, str | None] = {}
    deleted: set[str] = set()
    calendar_path = canonical(calendar_url)
    for item in tree.findall("d:response", NS):
        href = canonical(item.findtext("d:href", default="", namespaces=NS))
        if href == calendar_path or not href.endswith(".ics"):
            continue
        status = item.findtext("d:status", default="", namespaces=NS)
        if " 404 " in status or " 410 " in status:
            deleted.add(href)
            continue
        etag = None
        for propstat in item.findall("d:propstat", NS):
            if " 200 " in propstat.findtext("d:status", default="", namespaces=NS):
                etag = propstat.findtext("d:prop/d:getetag", namespaces=NS)
        if (
            etag is None
            and any(
                " 404 " in p.findtext("d:status", default="", namespaces=NS)
                for p in item.findall("d:propstat", NS)
            )
            and not item.findall("d:propstat/d:prop/d:getetag", NS)
        ):
            deleted.add(href)  # a ghost some servers keep listing after a delete
            continue
        present[href] = etag
    new_token = tree.findtext("d:sync-token", namespaces=NS)
    return Changes(new_token, present, frozenset(deleted - present.keys()), full=not token)
