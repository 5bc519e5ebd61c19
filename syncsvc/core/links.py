"""Signed, expiring, single-purpose links ("Marquer comme fait" in reminder mails) (pure).

A token is ``<expiry>.<signature>`` where the signature is HMAC-SHA256 of
``done|<session>|<milestone>|<expiry>`` under the service's secret key: it can mark that one
milestone done, until that moment, and nothing else. Anything else (Unicode digits, a
non-ASCII or oddly shaped signature, an expiry beyond any date) is simply not valid:
:func:`verify` never raises on what a visitor can type.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from typing import Final
from urllib.parse import quote

PURPOSE: Final = "done"
_TOKEN_RE: Final = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{43})", re.ASCII)
"""An expiry of at most 12 ASCII digits (year 33658) and an unpadded base64url SHA-256."""


def _signature(key: bytes, session_id: str, milestone_id: str, expires: int) -> str:
    message = f"{PURPOSE}|{session_id}|{milestone_id}|{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, session_id: str, milestone_id: str, expires: datetime) -> str:
    stamp = int(expires.timestamp())
    return f"{stamp}.{_signature(key, session_id, milestone_id, stamp)}"


def verify(key: bytes, session_id: str, milestone_id: str, token: str, now: datetime) -> bool:
    """True when ``token`` was signed for this milestone and has not expired; False for any
    other text, however malformed (never an exception)."""
    found = _TOKEN_RE.fullmatch(token)
    if found is None:
        return False
    stamp = int(found.group(1))
    expected = _signature(key, session_id, milestone_id, stamp)
    if not hmac.compare_digest(expected.encode("ascii"), found.group(2).encode("ascii")):
        return False
    return now.timestamp() < stamp


def done_url(
    base_url: str, key: bytes, session_id: str, milestone_id: str, expires: datetime
) -> str:
    token = sign(key, session_id, milestone_id, expires)
    return f"{base_url.rstrip('/')}/done/{quote(session_id)}/{quote(milestone_id)}?t={quote(token)}"
