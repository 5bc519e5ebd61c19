"""Microsoft Graph over httpx: one client per target (keep-alive, timeouts), JSON batches, and the
per-mailbox concurrency limit.

Outlook runs at most 4 requests of one application on one mailbox at a time and answers 429
``MailboxConcurrency`` beyond; a JSON batch without ``dependsOn`` runs up to 4 of its requests at
once. :class:`MailboxConcurrency` holds, for the whole process, 4 slots per mailbox: a request
takes one, a batch ``min(4, its size)``, and a caller waits for its slots instead of being
refused. Nothing here retries on its own: a refusal becomes a :mod:`syncsvc.errors` class
(:mod:`syncsvc.calendars.graph_errors`) and the application's retry policy decides.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from syncsvc.calendars.graph_errors import response_error, transport_error
from syncsvc.errors import PermanentError
from syncsvc.oauth.microsoft import TokenSource

MAX_BATCH = 20
MAILBOX_CONCURRENCY = 4
PARALLEL_IN_BATCH = 4


class MailboxConcurrency:
    """At most ``limit`` requests in flight per mailbox, for every target of the process."""

    def __init__(self, limit: int = MAILBOX_CONCURRENCY) -> None:
        self.limit = limit
        self._busy: dict[str, int] = {}
        self._cond = threading.Condition()
        self.peak = 0

    @contextmanager
    def slots(self, mailbox: str, count: int = 1) -> Iterator[None]:
        key, count = mailbox.lower(), max(1, min(count, self.limit))
        with self._cond:
            while self._busy.get(key, 0) + count > self.limit:
                self._cond.wait()
            self._busy[key] = self._busy.get(key, 0) + count
            self.peak = max(self.peak, self._busy[key])
        try:
            yield
        finally:
            with self._cond:
                self._busy[key] -= count
                self._cond.notify_all()


MAILBOXES = MailboxConcurrency()
"""The process's limiter (targets share it; tests may pass their own)."""


@dataclass(frozen=True, slots=True)
class SubResponse:
    """One answer inside a batch."""

    status: int
    headers: dict[str, str]
    body: Any


class GraphClient:
    """Requests to one mailbox, authenticated, counted against its concurrency."""

    def __init__(
        self,
        mailbox: str,
        graph_url: str,
        tokens: TokenSource,
        client: httpx.Client,
        concurrency: MailboxConcurrency | None = None,
    ) -> None:
        self.mailbox = mailbox
        self.base = graph_url if graph_url.endswith("/") else graph_url + "/"
        self.tokens = tokens
        self.client = client
        self.concurrency = concurrency or MAILBOXES
        self.requests = 0

    def url(self, path: str) -> str:
        """``path`` under the Graph root; a link Graph gave (``@odata.nextLink``…) as it is, if
        it points at the same Graph root (the bearer token never goes elsewhere)."""
        if not path.startswith("https://"):
            return self.base + path.lstrip("/")
        origin = "/".join(self.base.split("/")[:3]) + "/"
        if not path.startswith(origin):
            raise PermanentError(f"lien Graph inattendu hors de {origin} : refusé")
        return path

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.tokens.token()}",
            "Prefer": 'IdType="ImmutableId"',
        }
        if extra:
            for key, value in extra.items():
                headers[key] = f"{headers[key]}, {value}" if key == "Prefer" else value
        return headers

    def send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        slots: int = 1,
        ok: Sequence[int] = (),
    ) -> httpx.Response:
        """One request; an answer of 2xx or in ``ok`` is returned, anything else raised as the
        matching :mod:`syncsvc.errors` class. A 401 drops the cached token and tries once more
        (a secret rotated while the token lived)."""
        content = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):
            sent = self._headers(headers)
            if content is not None:
                sent["Content-Type"] = "application/json"
            try:
                with self.concurrency.slots(self.mailbox, slots):
                    self.requests += 1
                    response = self.client.request(
                        method, self.url(path), params=params, content=content, headers=sent
                    )
            except httpx.HTTPError as exc:
                error = transport_error(exc, what)
                if error is None:
                    raise
                raise error from None
            if response.status_code == 401 and attempt == 0:
                self.tokens.forget()
                continue
            if response.is_success or response.status_code in ok:
                return response
            raise response_error(response, what)
        raise AssertionError("unreachable")  # pragma: no cover

    def batch(self, requests: Sequence[dict[str, Any]], what: str) -> dict[str, SubResponse]:
        """One ``$batch`` of at most 20 independent requests; answers by request id."""
        assert len(requests) <= MAX_BATCH
        response = self.send(
            "POST",
            "$batch",
            what,
            body={"requests": list(requests)},
            slots=min(PARALLEL_IN_BATCH, len(requests)),
        )
        answers: dict[str, SubResponse] = {}
        for item in response.json().get("responses", []):
            headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
            answers[str(item.get("id"))] = SubResponse(
                int(item.get("status", 0)), headers, item.get("body")
            )
        return answers
