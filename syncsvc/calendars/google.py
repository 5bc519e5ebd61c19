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

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest

from syncsvc.calendars.base import Changes, Item, Result, Write, Written
from syncsvc.calendars.google_errors import (
    SequenceTooLow,
    TokenExpired,
    http_error,
    transport_error,
)
from syncsvc.calendars.quota import (
    DEFAULT_REQUESTS_PER_MINUTE,
    RateLimiter,
    jittered_backoff,
)
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
MAX_BATCH = 50
MAX_PAGE = 2500
LIST_FIELDS = "nextPageToken,nextSyncToken,items(id,etag,status)"
WRITE_FIELDS = "id,etag"


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
        self.backoff = backoff or jittered_backoff
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
                raise TokenExpired from None
            raise http_error(exc, what) from None
        except Exception as exc:
            error = transport_error(exc, what)
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
            except TokenExpired:
                pass  # stale token: list everything once
        try:
            return self._listing(None)
        except TokenExpired:
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
            raise http_error(exc, what) from None
        except BatchError as exc:
            raise TemporaryError(f"{what}: réponse de lot illisible ({exc})") from None
        except Exception as exc:
            error = transport_error(exc, what)
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
        error = http_error(exception, self._what(f"events.{_CALLS[write.action]}", write.href))
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
