"""Google Calendar target: one calendar through the Calendar API v3.

The client is google-api-python-client built from its bundled discovery document
(``static_discovery``: no network at build time), over httplib2 with the google-auth
credentials of a service account (optionally impersonating ``subject`` by domain-wide
delegation) or of an authorized user token file. ``api_endpoint`` and ``batch_uri`` are
configurable, which is how the tests point the target at a local emulator; batch requests do
not follow ``api_endpoint``, hence the second setting.

Vocabulary and invariants:

- the *href* of an item is its Google event id, derived from the UID
  (:func:`~syncsvc.formats.google_event.event_id`). A create retried after a crash hits 409 on
  that id and is adopted, never duplicated; an id left as a ``cancelled`` tombstone (deleted
  earlier, by us or by a person; Google keeps ids unique even after deletion) is brought back
  with an update;
- the *etag* of an item is the event's ``etag``; updates and deletes send ``If-Match`` with it
  (412 when the event changed since), creates are inserts (409 when the id exists);
- ownership lives in ``extendedProperties.private``: ``syncsvc=1``, ``syncsvcSession`` and
  ``syncsvcHash`` (the content hash). The full listing asks only for events carrying
  ``syncsvc=1`` (``privateExtendedProperty``), so people's own events are never read;
  ``etag_if_ours`` refuses to touch an event without the marker or with another ``iCalUID``.

Rendering is :mod:`syncsvc.formats.google_event` (event ids, resources, colours).

Change detection: ``events.list`` with the ``syncToken`` of the previous listing (one request
when nothing changed); Google forbids ``privateExtendedProperty`` with a sync token, so an
incremental listing reports every changed event of the calendar, people's included, and the
service keeps only the ids it recorded. 410 on a stale token means a full listing. A full
listing that ends without ``nextSyncToken`` is still correct: the next run lists again.

Writes: :meth:`GoogleTarget.write_many` sends up to 50 calls per batch request and translates
each sub-response on its own (one failed call does not fail its siblings; a delete answered
404/410 counts as done). Google refuses a ``sequence`` below the event's (400, "Invalid sequence
value"; people's edits may raise it): the update is then sent again with Google's value.

Quotas: a per-calendar token bucket (:class:`RateLimiter`, 300 requests a minute by default,
shared by every target of the process writing to that calendar through :class:`RateLimiters`,
well under Google's 600 per user; a batch costs one token per call, as Google counts them).
403 ``rateLimitExceeded``/``userRateLimitExceeded``/``quotaExceeded`` or domain
``usageLimits``, 429 and 5xx become :class:`TemporaryError` carrying ``Retry-After``: the
service's retry policy waits (exponential backoff with jitter when the server gave no delay).
googleapiclient's own retries are off (``num_retries=0``). Calls of a batch that were
rate-limited also push the limiter back by their ``Retry-After`` (or a jittered backoff), so
the one-by-one retries that follow do not hit the quota again at once.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.auth.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest

from syncsvc.calendars.base import Changes, Item, Result, Write, Written
from syncsvc.errors import (
    NotFound,
    PermanentError,
    PreconditionFailed,
    RemoteError,
    TemporaryError,
    Unreachable,
)
from syncsvc.formats.google_event import OWNER_KEY, event_id, event_resource

DEFAULT_API_ENDPOINT = "https://www.googleapis.com/calendar/v3/"
DEFAULT_BATCH_URI = "https://www.googleapis.com/batch/calendar/v3"
SCOPES = ("https://www.googleapis.com/auth/calendar.events",)
MAX_BATCH = 50
MAX_PAGE = 2500
DEFAULT_REQUESTS_PER_MINUTE = 300.0
RATE_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
)
LIST_FIELDS = "nextPageToken,nextSyncToken,items(id,etag,status)"
WRITE_FIELDS = "id,etag"

Clock = Callable[[], float]
Sleep = Callable[[float], None]


# --- quotas -----------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket: ``per_minute`` requests a minute on average, bursts up to ``burst``.

    :meth:`acquire` takes tokens and sleeps (with the injected ``sleep``) while the bucket is
    in debt; :meth:`defer` holds every request until a delay has passed (the server asked for
    it). ``clock`` and ``sleep`` are arguments so that tests never wait for real.
    """

    def __init__(
        self,
        per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
        burst: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else min(per_minute, MAX_BATCH))
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.stamp = clock()
        self.not_before = self.stamp
        self.waited = 0.0
        self.lock = threading.Lock()

    def acquire(self, tokens: int = 1) -> float:
        """Take ``tokens`` (one per API call); returns the seconds slept."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= tokens
            wait = max(0.0, -self.tokens / self.rate, self.not_before - now)
            self.waited += wait
        if wait > 0:
            self.sleep(wait)
        return wait

    def defer(self, seconds: float) -> None:
        with self.lock:
            self.not_before = max(self.not_before, self.clock() + seconds)


class RateLimiters:
    """The limiters of one process, one per calendar: every target writing to a calendar
    shares its bucket (the process that owns this registry decides its lifetime)."""

    def __init__(self) -> None:
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def get(self, calendar: str, per_minute: float = DEFAULT_REQUESTS_PER_MINUTE) -> RateLimiter:
        with self._lock:
            limiter = self._limiters.get(calendar)
            if limiter is None or limiter.rate != per_minute / 60.0:
                limiter = self._limiters[calendar] = RateLimiter(per_minute)
            return limiter


# --- errors, translated once ------------------------------------------------------------------


class SequenceTooLow(PermanentError):
    """400: the event's ``sequence`` on Google is above ours (Google or a person raised it)."""


class _TokenExpired(Exception):
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


def _http_error(exc: HttpError, what: str) -> RemoteError:
    headers = {str(k).lower(): str(v) for k, v in dict(exc.resp).items()}
    return error_for(int(exc.resp.status), exc.content, headers, what)


def _transport_error(exc: BaseException, what: str) -> RemoteError | None:
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


# --- credentials ------------------------------------------------------------------------------


def load_credentials(
    name: str,
    base: Path,
    *,
    token_file: Path | None = None,
    service_account_file: Path | None = None,
    subject: str | None = None,
) -> Credentials:
    """Service-account JSON (``subject``: domain-wide delegation) or an authorized-user token
    file, by path (relative to ``base``). The file's content is never shown in errors."""

    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else base / path

    path: Path | None = None
    try:
        if service_account_file is not None:
            from google.oauth2 import service_account

            path = resolve(service_account_file)
            account: service_account.Credentials = (
                service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    str(path), scopes=list(SCOPES)
                )
            )
            if subject:
                account = account.with_subject(subject)  # type: ignore[no-untyped-call]
            return account
        if token_file is not None:
            from google.oauth2.credentials import Credentials as UserCredentials

            path = resolve(token_file)
            user: Credentials = UserCredentials.from_authorized_user_file(  # type: ignore[no-untyped-call]
                str(path)
            )
            return user
    except (OSError, ValueError, KeyError) as exc:
        raise PermanentError(
            f"cible « {name} » : identifiants Google illisibles dans {path} ({type(exc).__name__})"
        ) from None
    raise PermanentError(
        f"cible « {name} » : identifiants Google manquants (attendu : "
        'token_file = "secrets/google-token.json" ou service_account_file = "…")'
    )


# --- the target -------------------------------------------------------------------------------


class GoogleTarget:
    """One Google calendar (implements :class:`~syncsvc.calendars.base.Target`)."""

    def __init__(
        self,
        name: str,
        calendar: str,
        credentials: Credentials,
        *,
        api_endpoint: str | None = None,
        batch_uri: str | None = None,
        timeout: float = 30.0,
        limiter: RateLimiter | None = None,
        requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
        page_size: int = MAX_PAGE,
        with_attendees: bool = False,
        backoff: Callable[[int], float] | None = None,
    ) -> None:
        self.name = name
        self.calendar = calendar
        endpoint = api_endpoint or DEFAULT_API_ENDPOINT
        self.api_endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self.batch_uri = batch_uri or DEFAULT_BATCH_URI
        self.page_size = max(1, min(MAX_PAGE, page_size))
        self.with_attendees = with_attendees
        self.limiter = limiter or RateLimiter(requests_per_minute)
        self.backoff = backoff or _jittered_backoff
        self._throttled = 0  # consecutive batches with rate-limited calls
        self.http = google_auth_httplib2.AuthorizedHttp(
            credentials, http=httplib2.Http(timeout=timeout)
        )
        self.service = build(
            "calendar",
            "v3",
            http=self.http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.api_endpoint},
        )
        self.events = self.service.events()

    # --- HTTP, translated once ---------------------------------------------------------------

    def _run(self, request: Any, what: str, *, listing: bool = False) -> Any:
        self.limiter.acquire(1)
        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            if listing and int(exc.resp.status) == 410:
                raise _TokenExpired from None
            raise _http_error(exc, what) from None
        except Exception as exc:
            error = _transport_error(exc, what)
            if error is None:
                raise
            raise error from None

    def _what(self, call: str, event: str | None = None) -> str:
        return f"Google {call} {self.calendar}" + (f"/{event}" if event else "")

    def _body(self, item: Item) -> dict[str, Any]:
        return event_resource(
            item.entry, item.content_hash, item.sequence, with_attendees=self.with_attendees
        )

    def _insert(self, body: dict[str, Any]) -> Any:
        return self.events.insert(
            calendarId=self.calendar, body=body, sendUpdates="none", fields=WRITE_FIELDS
        )

    def _update(self, href: str, body: dict[str, Any], etag: str | None) -> Any:
        request = self.events.update(
            calendarId=self.calendar,
            eventId=href,
            body=body,
            sendUpdates="none",
            fields=WRITE_FIELDS,
        )
        if etag:
            request.headers["If-Match"] = etag
        return request

    def _delete(self, href: str, etag: str | None) -> Any:
        request = self.events.delete(calendarId=self.calendar, eventId=href, sendUpdates="none")
        if etag:
            request.headers["If-Match"] = etag
        return request

    def _get(self, href: str) -> dict[str, Any]:
        event: dict[str, Any] = self._run(
            self.events.get(calendarId=self.calendar, eventId=href),
            self._what("events.get", href),
        )
        return event

    # --- calendar ----------------------------------------------------------------------------

    def prepare(self, hint: str | None = None) -> str:
        """The calendar id: Google calendars are created and shared by people, not here (a
        missing or unshared calendar shows up as an error of the first listing)."""
        return self.calendar

    def href_for(self, uid: str) -> str:
        return event_id(uid)

    # --- change detection ----------------------------------------------------------------

    def changes(self, since: str | None) -> Changes:
        if since:
            try:
                return self._listing(since)
            except _TokenExpired:
                pass  # stale token: list everything once
        try:
            return self._listing(None)
        except _TokenExpired:
            raise TemporaryError(self._what("events.list") + ": HTTP 410", status=410) from None

    def _listing(self, token: str | None) -> Changes:
        present: dict[str, str | None] = {}
        deleted: set[str] = set()
        page: str | None = None
        while True:
            params: dict[str, Any] = {
                "calendarId": self.calendar,
                "showDeleted": True,
                "maxResults": self.page_size,
                "fields": LIST_FIELDS,
            }
            if token:
                params["syncToken"] = token
            else:
                params["privateExtendedProperty"] = f"{OWNER_KEY}=1"
            if page:
                params["pageToken"] = page
            try:
                result = self._run(
                    self.events.list(**params), self._what("events.list"), listing=True
                )
            except NotFound:
                raise PermanentError(
                    f"calendrier Google « {self.calendar} » introuvable ou non partagé avec "
                    "ce compte (attendu : l'id du calendrier, partagé en écriture)"
                ) from None
            for event in result.get("items", []):
                if event.get("status") == "cancelled":
                    deleted.add(event["id"])
                else:
                    present[event["id"]] = event.get("etag")
            page = result.get("nextPageToken")
            if not page:
                new_token = result.get("nextSyncToken")
                return Changes(
                    new_token, present, frozenset(deleted - present.keys()), full=token is None
                )

    # --- items ------------------------------------------------------------------------------

    def etag_if_ours(self, href: str, uid: str) -> str | None:
        event = self._get(href)
        private = (event.get("extendedProperties") or {}).get("private") or {}
        etag: str | None = event.get("etag")
        if event.get("status") == "cancelled" and not private:
            return etag  # a tombstone keeps only its id: bringing it back harms nobody
        if private.get(OWNER_KEY) != "1" or event.get("iCalUID") != uid:
            raise PermanentError(
                f"{self._what('events.get', href)} : un événement qui n'a pas été créé par "
                "syncsvc porte cet id ; il n'est pas modifié"
            )
        return etag

    def create(self, href: str, item: Item) -> Written:
        body = self._body(item)
        what = self._what("events.insert", href)
        try:
            event = self._run(self._insert(body), what)
        except PreconditionFailed:
            try:
                existing = self._get(href)
            except NotFound:
                raise PermanentError(
                    f"{what} : un autre événement porte déjà l'iCalUID {item.uid}"
                ) from None
            if existing.get("status") != "cancelled":
                raise
            return self._restore(href, item, existing)
        return Written(event["id"], event.get("etag"))

    def _restore(self, href: str, item: Item, existing: dict[str, Any]) -> Written:
        """Bring a cancelled tombstone back (Google ids stay taken after a deletion)."""
        body = self._body(item)
        body["sequence"] = max(item.sequence, int(existing.get("sequence") or 0))
        event = self._run(
            self._update(href, body, existing.get("etag")), self._what("events.update", href)
        )
        return Written(event["id"], event.get("etag"))

    def update(self, href: str, item: Item, etag: str | None) -> Written:
        """``events.update`` with ``If-Match: etag`` (unconditional when None)."""
        body = self._body(item)
        what = self._what("events.update", href)
        try:
            event = self._run(self._update(href, body, etag), what)
        except SequenceTooLow:
            current = self._get(href)
            body["sequence"] = max(item.sequence, int(current.get("sequence") or 0))
            event = self._run(self._update(href, body, etag), what)
        return Written(event["id"], event.get("etag"))

    def delete(self, href: str, etag: str | None) -> None:
        self._run(self._delete(href, etag), self._what("events.delete", href))

    # --- batches ---------------------------------------------------------------------------

    def write_many(self, writes: Sequence[Write]) -> Iterator[tuple[int, Result]]:
        """One batch request per 50 writes; every call's answer is translated on its own.

        A delete answered 404/410 counts as done (the event is gone, which was the point). A
        batch that cannot be sent at all gives each of its writes the same error; an
        unreachable server ends the run.
        """
        for start in range(0, len(writes), MAX_BATCH):
            chunk = writes[start : start + MAX_BATCH]
            try:
                results = self._batch(chunk)
            except RemoteError as exc:
                results = [exc] * len(chunk)
            for offset, result in enumerate(results):
                yield start + offset, result
                if isinstance(result, Unreachable):
                    return

    def _request(self, write: Write) -> Any:
        if write.action == "delete":
            return self._delete(write.href, write.etag)
        assert write.item is not None
        body = self._body(write.item)
        if write.action == "create":
            return self._insert(body)
        return self._update(write.href, body, write.etag)

    def _batch(self, writes: Sequence[Write]) -> list[Result]:
        answers: dict[int, Result] = {}

        def collect(request_id: str, response: Any, exception: Exception | None) -> None:
            index = int(request_id)
            answers[index] = self._answer(writes[index], response, exception)

        batch = BatchHttpRequest(callback=collect, batch_uri=self.batch_uri)
        for index, write in enumerate(writes):
            batch.add(self._request(write), request_id=str(index))
        what = f"Google batch {self.calendar} ({len(writes)} appels)"
        self.limiter.acquire(len(writes))
        try:
            batch.execute(http=self.http)
        except HttpError as exc:
            raise _http_error(exc, what) from None
        except BatchError as exc:
            raise TemporaryError(f"{what}: réponse de lot illisible ({exc})") from None
        except Exception as exc:
            error = _transport_error(exc, what)
            if error is None:
                raise
            raise error from None
        results = [
            answers.get(i) or TemporaryError(f"{what}: pas de réponse pour l'appel {i}")
            for i in range(len(writes))
        ]
        return self._pace(results)

    def _answer(self, write: Write, response: Any, exception: Exception | None) -> Result:
        if exception is None:
            if write.action == "delete":
                return Written(write.href, None)
            return Written(str(response["id"]), response.get("etag"))
        if not isinstance(exception, HttpError):
            return TemporaryError(f"{write.action} {write.href}: {type(exception).__name__}")
        error = _http_error(exception, self._what(f"events.{_CALLS[write.action]}", write.href))
        if write.action == "delete" and isinstance(error, NotFound):
            return Written(write.href, None)
        return error

    def _pace(self, results: list[Result]) -> list[Result]:
        """Calls refused for quota push the limiter back (by ``Retry-After``, or a jittered
        backoff): every later request of this calendar waits in the limiter, so the refusals
        are reported as retryable at once (``retry_after=0``), not waited for twice."""
        limited = [r for r in results if type(r) is TemporaryError]
        if not limited:
            self._throttled = 0
            return results
        delays = [r.retry_after for r in limited if r.retry_after is not None]
        self._throttled += 1
        self.limiter.defer(max(delays) if delays else self.backoff(self._throttled))
        return [
            TemporaryError(str(r), 0.0, r.status) if type(r) is TemporaryError else r
            for r in results
        ]

    def close(self) -> None:
        self.service.close()


_CALLS = {"create": "insert", "update": "update", "delete": "delete"}


def _jittered_backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    return float(min(cap, base * 2.0 ** (attempt - 1)) * (0.5 + random.random() / 2))
