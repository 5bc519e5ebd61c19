"""Google's answers -> the errors of :mod:`syncsvc.errors`, in one place.

403 ``rateLimitExceeded``/``userRateLimitExceeded``/``quotaExceeded`` or domain ``usageLimits``,
429 and 5xx are temporary (with ``Retry-After`` when given); 404/410 are gone; 409/412 are
preconditions; 400 "Invalid sequence value" is :class:`SequenceTooLow`; other 4xx are permanent.
Errors below HTTP (timeouts, refused connections, authentication) are sorted too.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import google.auth.exceptions
import httplib2
from googleapiclient.errors import HttpError

from syncsvc.errors import (
    NotFound,
    PermanentError,
    PreconditionFailed,
    RemoteError,
    TemporaryError,
    Unreachable,
)

RATE_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
)


class SequenceTooLow(PermanentError):
    """400: the event's ``sequence`` on Google is above ours (Google or a person raised it)."""


class TokenExpired(Exception):
    """410 on a sync token: list everything again."""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _google_error(content: bytes | str | None) -> tuple[str, str, str]:
    """(domain, reason, message) of a Google JSON error body ("" when absent)."""
    try:
        data = json.loads(content or b"{}")
        error = data.get("error", {}) if isinstance(data, dict) else {}
        first = (error.get("errors") or [{}])[0] if isinstance(error, dict) else {}
        return (
            str(first.get("domain", "")),
            str(first.get("reason", "")),
            str(error.get("message", "") if isinstance(error, dict) else error)[:300],
        )
    except (ValueError, AttributeError, TypeError):
        return "", "", ""


def error_for(
    status: int, content: bytes | str | None, headers: Mapping[str, str], what: str
) -> RemoteError:
    """The domain error of one Google answer (a plain call or one call of a batch)."""
    domain, reason, message = _google_error(content)
    text = f"{what}: HTTP {status}" + (f" {reason}" if reason else "")
    if message:
        text += f" ({message})"
    retry = _retry_after(headers.get("retry-after"))
    if status in (404, 410):
        return NotFound(text, status)
    if status in (409, 412):
        return PreconditionFailed(text, status)
    if status == 429 or (status >= 500 and status != 501):
        return TemporaryError(text, retry, status)
    if status == 403 and (reason in RATE_REASONS or domain == "usageLimits"):
        return TemporaryError(f"{text} (quota Google)", retry, status)
    if status == 400 and "sequence" in message.lower():
        return SequenceTooLow(text, status)
    if status in (401, 403):
        return PermanentError(f"{text} (identifiants ou droits refusés)", status)
    return PermanentError(text, status)


def http_error(exc: HttpError, what: str) -> RemoteError:
    headers = {str(k).lower(): str(v) for k, v in dict(exc.resp).items()}
    return error_for(int(exc.resp.status), exc.content, headers, what)


def transport_error(exc: BaseException, what: str) -> RemoteError | None:
    """Errors below HTTP; None for anything else (a bug: let it rise)."""
    if isinstance(exc, TimeoutError):
        return TemporaryError(f"{what}: délai dépassé")
    if isinstance(exc, google.auth.exceptions.TransportError):
        return Unreachable(f"{what}: service d'authentification Google injoignable")
    if isinstance(exc, google.auth.exceptions.GoogleAuthError):
        return PermanentError(f"{what}: identifiants Google refusés ({type(exc).__name__})")
    if isinstance(exc, ConnectionRefusedError | httplib2.ServerNotFoundError | socket.gaierror):
        return Unreachable(f"{what}: serveur Google injoignable ({type(exc).__name__})")
    if isinstance(exc, ConnectionError | http.client.HTTPException | httplib2.HttpLib2Error):
        return TemporaryError(f"{what}: connexion interrompue ({type(exc).__name__})")
    if isinstance(exc, OSError):
        return Unreachable(f"{what}: serveur Google injoignable ({type(exc).__name__})")
    return None
