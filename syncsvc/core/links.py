"""Signed, expiring, single-purpose links (pure): « Marquer comme fait » in reminder mails, and
a juror's « Je serai présent(e) » / « Je ne pourrai pas venir » in an invitation.

A token is ``<expiry>.<signature>`` where the signature is HMAC-SHA256 of
``done|<session>|<milestone>|<expiry>`` (or ``jury|<session>|<e-mail>|<sequence>|<answer>|
<expiry>``, with ``|<day>`` before the expiry for an answer to one exam day) under the service's
secret key: it can mark that one milestone done, or record that one answer of that juror to that
invitation (for that day), until that moment, and nothing else. A link without a day answers
for the whole session, as the links sent before the exam days did. Anything
else (Unicode digits, a non-ASCII or oddly shaped signature, an expiry beyond any date) is
simply not valid: :func:`verify` never raises on what a visitor can type.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date, datetime
from typing import Final
from urllib.parse import quote

PURPOSE: Final = "done"
_TOKEN_RE: Final = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{43})", re.ASCII)
"""An expiry of at most 12 ASCII digits (year 33658) and an unpadded base64url SHA-256."""


JURY_PURPOSE: Final = "jury"
JURY_ANSWERS: Final = {"accept": "ACCEPTED", "decline": "DECLINED"}
"""The answers a juror's link can give (in the URL) and the PARTSTAT each records."""
_DAY_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _signed(key: bytes, fields: tuple[str, ...], expires: int) -> str:
    message = "|".join((*fields, str(expires))).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _signature(key: bytes, session_id: str, milestone_id: str, expires: int) -> str:
    """The signature of a done link (kept under this name for its tests)."""
    return _signed(key, (PURPOSE, session_id, milestone_id), expires)


def _token(key: bytes, fields: tuple[str, ...], expires: datetime) -> str:
    stamp = int(expires.timestamp())
    return f"{stamp}.{_signed(key, fields, stamp)}"


def _valid(key: bytes, fields: tuple[str, ...], token: str, now: datetime) -> bool:
    found = _TOKEN_RE.fullmatch(token)
    if found is None:
        return False
    stamp = int(found.group(1))
    expected = _signed(key, fields, stamp)
    if not hmac.compare_digest(expected.encode("ascii"), found.group(2).encode("ascii")):
        return False
    return now.timestamp() < stamp


def sign(key: bytes, session_id: str, milestone_id: str, expires: datetime) -> str:
    return _token(key, (PURPOSE, session_id, milestone_id), expires)


def verify(key: bytes, session_id: str, milestone_id: str, token: str, now: datetime) -> bool:
    """True when ``token`` was signed for this milestone and has not expired; False for any
    other text, however malformed (never an exception)."""
    return _valid(key, (PURPOSE, session_id, milestone_id), token, now)


def _jury_fields(
    session_id: str, email: str, sequence: int, answer: str, day: date | None
) -> tuple[str, ...]:
    fields = (JURY_PURPOSE, session_id, email.lower(), str(sequence), answer)
    return fields if day is None else (*fields, day.isoformat())


def sign_answer(
    key: bytes,
    session_id: str,
    email: str,
    sequence: int,
    answer: str,
    expires: datetime,
    day: date | None = None,
) -> str:
    return _token(key, _jury_fields(session_id, email, sequence, answer, day), expires)


def verify_answer(
    key: bytes,
    session_id: str,
    email: str,
    sequence: int,
    answer: str,
    token: str,
    now: datetime,
    day: date | None = None,
) -> bool:
    """True when ``token`` records this answer of this juror to this invitation (SEQUENCE), for
    ``day`` (None: the whole session), and has not expired; False for anything else (never an
    exception)."""
    if answer not in JURY_ANSWERS:
        return False
    return _valid(key, _jury_fields(session_id, email, sequence, answer, day), token, now)


def parse_day(text: str) -> date | None:
    """The day of a link's ``d=`` (``2027-03-16``); None for any other text."""
    if _DAY_RE.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def answer_url(
    base_url: str,
    key: bytes,
    session_id: str,
    email: str,
    sequence: int,
    answer: str,
    expires: datetime,
    day: date | None = None,
) -> str:
    """``/jury/<session>/<sequence>/<answer>?a=<e-mail>[&d=<day>]&t=<token>``."""
    token = sign_answer(key, session_id, email, sequence, answer, expires, day)
    on_day = f"&d={day.isoformat()}" if day is not None else ""
    return (
        f"{base_url.rstrip('/')}/jury/{quote(session_id)}/{sequence}/{answer}"
        f"?a={quote(email.lower(), safe='@')}{on_day}&t={quote(token)}"
    )


def done_url(
    base_url: str, key: bytes, session_id: str, milestone_id: str, expires: datetime
) -> str:
    token = sign(key, session_id, milestone_id, expires)
    return f"{base_url.rstrip('/')}/done/{quote(session_id)}/{quote(milestone_id)}?t={quote(token)}"


def session_url(base_url: str, session_id: str) -> str:
    """``/sessions/<session>``: a session's dashboard page (behind the login, no token)."""
    return f"{base_url.rstrip('/')}/sessions/{quote(session_id)}"
