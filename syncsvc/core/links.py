"""Signed, expiring, single-purpose links ("Marquer comme fait" in reminder mails) (pure).

A token is ``<expiry>.<signature>`` where the signature is HMAC-SHA256 of
``done|<session>|<milestone>|<expiry>`` under the service's secret key: it can mark that one
milestone done, until that moment, and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote

PURPOSE = "done"


def _signature(key: bytes, session_id: str, milestone_id: str, expires: int) -> str:
    message = f"{PURPOSE}|{session_id}|{milestone_id}|{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, session_id: str, milestone_id: str, expires: datetime) -> str:
    stamp = int(expires.timestamp())
    return f"{stamp}.{_signature(key, session_id, milestone_id, stamp)}"


def verify(key: bytes, session_id: str, milestone_id: str, token: str, now: datetime) -> bool:
    stamp_text, _, signature = token.partition(".")
    if not stamp_text.isdigit() or not signature:
        return False
    stamp = int(stamp_text)
    expected = _signature(key, session_id, milestone_id, stamp)
    return hmac.compare_digest(expected, signature) and now < datetime.fromtimestamp(stamp, UTC)


def done_url(
    base_url: str, key: bytes, session_id: str, milestone_id: str, expires: datetime
) -> str:
    token = sign(key, session_id, milestone_id, expires)
    return f"{base_url.rstrip('/')}/done/{quote(session_id)}/{quote(milestone_id)}?t={quote(token)}"
