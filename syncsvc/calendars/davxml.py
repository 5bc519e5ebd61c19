"""The XML of WebDAV answers that both CalDAV clients read: the keep-alive adapter
(:mod:`syncsvc.calendars.caldav`) and the one-request check of a sync with nothing to do
(:mod:`syncsvc.calendars.bare`). No HTTP library here: a process that only asks « anything
new? » does not import one.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from syncsvc.calendars.base import Changes

NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def canonical(href: str) -> str:
    """One spelling per path: servers answer ``@`` or ``%40`` for the same item."""
    return quote(unquote(urlsplit(href).path), safe="/")


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
