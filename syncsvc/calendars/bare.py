"""« Anything new in this calendar since this token? » in one request, through the standard
library's HTTP client: what a sync with nothing to do asks (see :mod:`syncsvc.app.unchanged`),
without importing the keep-alive adapter's HTTP library.

It only ever answers the question or declines (None): any answer but a well-formed 207 — a
redirect, an error, a timeout, a stale token — is the full pass's business, which meets it
again through :mod:`syncsvc.calendars.caldav` and reports it.
"""

from __future__ import annotations

import base64
import http.client
import ssl
from urllib.parse import urlsplit

from syncsvc.calendars.base import Changes
from syncsvc.calendars.davxml import sync_collection_body, sync_collection_changes


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
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {"Content-Type": "application/xml"}
    if username:
        pair = f"{username}:{password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("REPORT", path, sync_collection_body(token).encode(), headers)
        response = connection.getresponse()
        content = response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    if response.status != 207:
        return None
    try:
        return sync_collection_changes(content, calendar_url, token)
    except Exception:  # not the XML expected: the full pass will say what it is
        return None
