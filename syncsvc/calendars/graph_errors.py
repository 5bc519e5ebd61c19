"""Microsoft Graph's answers -> the errors of :mod:`syncsvc.errors`, in one place.

Graph error bodies are ``{"error": {"code", "message"}}``. 429 (``ApplicationThrottled``,
``MailboxConcurrency``), 503, 504 and other 5xx are temporary, with ``Retry-After`` when given;
424 (a failed dependency inside a batch) is temporary with no wait; 404 is gone; 409/412 are
preconditions; 410 on a delta link is :class:`DeltaExpired` (list everything again); 401/403 are
permanent, with a French hint (secret, consent, application access policy). Errors below HTTP
(timeouts, refused connections, TLS) are sorted too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from syncsvc.errors import (
    NotFound,
    PermanentError,
    PreconditionFailed,
    RemoteError,
    TemporaryError,
    Unreachable,
)


class DeltaExpired(Exception):
    """410 (or ``SyncStateNotFound``) on a delta link: list everything again."""


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
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


def graph_error(body: Any) -> tuple[str, str]:
    """(code, message) of a Graph error body, raw bytes or parsed ("" when absent)."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body or b"{}")
        except ValueError:
            return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")[:300]


def error_for(status: int, body: Any, headers: Mapping[str, str], what: str) -> RemoteError:
    """The domain error of one Graph answer (a plain request or one request of a batch)."""
    code, message = graph_error(body)
    text = f"{what} : HTTP {status}" + (f" {code}" if code else "")
    if message:
        text += f" ({message})"
    lowered = {k.lower(): v for k, v in headers.items()}
    wait = retry_after(lowered.get("retry-after"))
    if status == 404:
        return NotFound(text, status)
    if status in (409, 412):
        return PreconditionFailed(text, status)
    if status == 424:
        return TemporaryError(f"{text} (dépendance échouée dans le lot)", 0.0, status)
    if status == 429 or (status >= 500 and status != 501):
        return TemporaryError(text, wait, status)
    if status == 401:
        return PermanentError(
            f"{text} : jeton refusé par Microsoft Graph (vérifier le secret ou le certificat de "
            "l'application et le consentement administrateur)",
            status,
        )
    if status == 403:
        return PermanentError(
            f"{text} : accès refusé (attendu : la permission d'application Calendars.ReadWrite "
            "avec consentement administrateur, et la boîte aux lettres incluse dans la stratégie "
            "d'accès de l'application, New-ApplicationAccessPolicy)",
            status,
        )
    return PermanentError(text, status)


def response_error(response: httpx.Response, what: str) -> RemoteError:
    return error_for(response.status_code, response.content, response.headers, what)


def is_expired_delta(status: int, body: Any) -> bool:
    code, _ = graph_error(body)
    return status == 410 or code.lower() in ("syncstatenotfound", "syncstateinvalid")


def transport_error(exc: BaseException, what: str) -> RemoteError | None:
    """Errors below HTTP; None for anything else (a bug: let it rise)."""
    if isinstance(exc, httpx.TimeoutException):
        return TemporaryError(f"{what} : délai dépassé")
    if isinstance(exc, httpx.ConnectError):
        return Unreachable(f"{what} : Microsoft Graph injoignable ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        return TemporaryError(f"{what} : connexion interrompue ({type(exc).__name__})")
    if isinstance(exc, OSError):
        return Unreachable(f"{what} : Microsoft Graph injoignable ({type(exc).__name__})")
    return None
