"""Microsoft 365 target: one calendar of one mailbox through Microsoft Graph v1.0.

App-only access (MSAL client credentials, :mod:`syncsvc.oauth.microsoft`), plain httpx
requests and JSON batches (:mod:`syncsvc.calendars.graph_http`), no SDK. Reading and change
detection are :mod:`syncsvc.calendars.graph_listing`; rendering is
:mod:`syncsvc.formats.graph_event`.

Vocabulary and invariants:

- the *href* of an item is its Graph event id (immutable ids, ``Prefer: IdType="ImmutableId"``),
  given by Graph on create and recorded by the application. Before that, :meth:`href_for` names
  the item by its UID (``uid:…``): such an href is resolved by the UID property when used;
- the *etag* is the event's ``@odata.etag``; updates and deletes send ``If-Match`` (412 when the
  event changed since);
- ownership: the UID lives in one single-value extended property; an event without it is never
  read (beyond what the delta reports), written or deleted, and :meth:`etag_if_ours` refuses it;
- a create is sent only for a UID known to be absent: the full listing of this pass says so, or
  a look-up by the UID property (20 per ``$batch``) does. An event found that way (a run cut
  short, a lost state, an event moved out of the window) is adopted: overwritten in place with
  ``If-Match``, never duplicated. Creates carry a ``transactionId`` (a create retried after a lost
  answer gets the event Graph already made);
- writes go 20 per ``$batch`` (Graph's maximum), without ``dependsOn`` (one refusal must not fail
  its neighbours with 424); each answer is translated on its own and yielded at once, so a partly
  failed batch is retried only for its failed writes (the application retries
  :class:`~syncsvc.errors.TemporaryError` writes together, after ``Retry-After``). A delete
  answered 404 counts as done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from syncsvc.calendars.base import Changes, Item, Result, Write, Written
from syncsvc.calendars.graph_errors import DeltaExpired, error_for
from syncsvc.calendars.graph_http import MAX_BATCH, GraphClient, SubResponse
from syncsvc.calendars.graph_listing import EXPAND, CalendarReader, DeltaState, Owned
from syncsvc.errors import (
    NotFound,
    PermanentError,
    RemoteError,
    TemporaryError,
    Unreachable,
)
from syncsvc.formats.graph_event import create_body, event_body, uid_of

PENDING = "uid:"
FULL_EVERY = 24 * 3600.0


class GraphTarget:
    """One calendar of one mailbox (implements :class:`~syncsvc.calendars.base.Target`)."""

    def __init__(
        self,
        name: str,
        mailbox: str,
        calendar: str,
        client: GraphClient,
        *,
        full_every: float = FULL_EVERY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.mailbox = mailbox
        self.calendar = calendar
        self.client = client
        self.full_every = full_every
        self.clock = clock
        self.reader = CalendarReader(client, mailbox, f"Graph {mailbox} « {calendar} »")
        self._by_uid: dict[str, Owned] | None = None  # the full listing of this pass, if any
        self._wrote: dict[str, str | None] = {}  # event id -> ETag, written by this target
        self._created = False  # this target made the calendar: nothing of ours is in it yet

    @property
    def what(self) -> str:
        return self.reader.what

    # --- calendar ----------------------------------------------------------------------------

    def prepare(self, hint: str | None = None) -> str:
        """The calendar's id: ``hint`` as known, else found by name, else created."""
        if hint:
            self.reader.calendar_id = hint
            return hint
        path = f"users/{quote(self.mailbox)}/calendars"
        try:
            url, params = path, {"$select": "id,name", "$top": "100"}
            while url:
                page = self.client.send("GET", url, self.what, params=params).json()
                for calendar in page.get("value", []):
                    if calendar.get("name") == self.calendar:
                        self.reader.calendar_id = str(calendar["id"])
                        return self.reader.calendar_id
                url, params = page.get("@odata.nextLink") or "", {}
            made = self.client.send("POST", path, self.what, body={"name": self.calendar}).json()
        except NotFound:
            raise PermanentError(
                f"cible « {self.name} » : boîte aux lettres « {self.mailbox} » introuvable "
                "(attendu : l'adresse d'une boîte aux lettres Microsoft 365 existante)"
            ) from None
        self.reader.calendar_id = str(made["id"])
        self._created = True
        return self.reader.calendar_id

    def href_for(self, uid: str) -> str:
        return PENDING + uid

    # --- change detection ------------------------------------------------------------------

    def changes(self, since: str | None) -> Changes:
        state = DeltaState.load(since)
        fresh = state is not None and self.clock() - state.full_at < self.full_every
        if state is not None and fresh and state.calendar == self.reader.calendar_id:
            try:
                return self._incremental(state)
            except DeltaExpired:
                pass  # Graph forgot the link: list everything once
        return self._full()

    def _incremental(self, state: DeltaState) -> Changes:
        """The changes since the delta link. ``@removed`` ids are checked one by one, except
        the events this target wrote itself moments ago (outside the window, Graph reports our
        own create or update that way): they are taken as written, and a deletion in those
        seconds is caught by the next full listing."""
        link, present, removed = self.reader.delta(state.link)
        ours = {i: self._wrote[i] for i in removed if self._wrote.get(i) is not None}
        still, gone = self.reader.check_removed(sorted(removed - ours.keys()))
        present.update(still)
        present.update(ours)
        token = DeltaState(link, state.full_at, state.calendar).dump()
        return Changes(token, present, frozenset(gone))

    def _full(self) -> Changes:
        now = self.clock()
        try:
            link = self.reader.delta_start(datetime.fromtimestamp(now, UTC))
        except DeltaExpired:
            raise TemporaryError(f"{self.what} : HTTP 410 sur une nouvelle requête delta") from None
        owned = {} if self._created else {o.uid: o for o in self.reader.owned()}
        self._by_uid = owned
        present = {o.id: o.etag for o in owned.values()}
        token = DeltaState(link, now, self.reader.calendar_id).dump()
        return Changes(token, present, full=True)

    # --- single items (the application's recoveries) ----------------------------------------

    def etag_if_ours(self, href: str, uid: str) -> str | None:
        event_id = self._resolve(href, uid)
        if event_id is None:
            raise NotFound(f"{self.what} : aucun événement pour {uid}", 404)
        event = self.client.send(
            "GET",
            self.reader.event_path(event_id),
            self.what,
            params={"$select": "id", "$expand": EXPAND},
        ).json()
        if uid_of(event) != uid:
            raise PermanentError(
                f"{self.what} : l'événement {event_id} n'a pas été créé par syncsvc pour {uid} ; "
                "il n'est pas modifié"
            )
        etag = event.get("@odata.etag")
        return str(etag) if etag else None

    def create(self, href: str, item: Item) -> Written:
        return self._one(Write("create", href, item, None))

    def update(self, href: str, item: Item, etag: str | None) -> Written:
        return self._one(Write("update", href, item, etag))

    def delete(self, href: str, etag: str | None) -> None:
        self._one(Write("delete", href, None, etag))

    def _one(self, write: Write) -> Written:
        for _, result in self.write_many([write]):
            if isinstance(result, RemoteError):
                raise result
            return result
        raise TemporaryError(f"{self.what} : pas de réponse")  # pragma: no cover

    def _resolve(self, href: str, uid: str) -> str | None:
        if not href.startswith(PENDING):
            return href
        if self._by_uid is not None:
            known = self._by_uid.get(uid)
            return known.id if known else None
        found = self.reader.lookup([uid]).get(uid)
        return found.id if found else None

    # --- batches --------------------------------------------------------------------------

    def write_many(self, writes: Sequence[Write]) -> Iterator[tuple[int, Result]]:
        """20 writes per ``$batch``; each answer translated on its own (see the docstring)."""
        try:
            plans = self._plan(writes)
        except RemoteError as exc:
            for index in range(len(writes)):
                yield index, exc
                if isinstance(exc, Unreachable):
                    return
            return
        ready = [(i, p) for i, p in enumerate(plans) if isinstance(p, Written | RemoteError)]
        for index, done in ready:
            assert isinstance(done, Written | RemoteError)
            yield index, done
        sent = [(i, p) for i, p in enumerate(plans) if isinstance(p, dict)]
        for start in range(0, len(sent), MAX_BATCH):
            chunk = sent[start : start + MAX_BATCH]
            requests = [{**request, "id": str(n)} for n, (_, request) in enumerate(chunk)]
            try:
                answers = self.client.batch(requests, f"{self.what} (lot de {len(chunk)})")
            except RemoteError as exc:
                answers = {}
                failure: RemoteError | None = exc
            else:
                failure = None
            for n, (index, _) in enumerate(chunk):
                result = failure or self._answer(writes[index], answers.get(str(n)))
                if isinstance(result, Written):
                    self._wrote[result.href] = result.etag
                yield index, result
                if isinstance(result, Unreachable):
                    return

    def _plan(self, writes: Sequence[Write]) -> list[dict[str, Any] | Result]:
        """Each write as a batch request, or its result already (nothing to send)."""
        unknown = [w.item.uid for w in writes if w.item is not None and self._must_look(w)]
        unknown += [
            w.href[len(PENDING) :] for w in writes if w.item is None and w.href.startswith(PENDING)
        ]
        if unknown and self._by_uid is None:
            found = self.reader.lookup(sorted(set(unknown)))
        else:
            found = {u: o for u in unknown if (o := (self._by_uid or {}).get(u)) is not None}
        return [self._request(write, found) for write in writes]

    def _must_look(self, write: Write) -> bool:
        return write.action == "create" or write.href.startswith(PENDING)

    def _request(self, write: Write, found: dict[str, Owned]) -> dict[str, Any] | Result:
        events = f"/{self.reader.calendar_path}/events"
        if write.item is None:  # delete
            event_id: str | None = write.href
            if write.href.startswith(PENDING):
                known = found.get(write.href[len(PENDING) :])
                event_id = known.id if known else None
            if event_id is None:
                return Written(write.href, None)
            return self._sub("DELETE", f"{events}/{quote(event_id, safe='')}", None, write.etag)
        item = write.item
        existing = found.get(item.uid)
        if write.action == "create" and existing is None:
            return self._sub(
                "POST", events, create_body(item.entry, item.sequence, item.content_hash)
            )
        if existing is not None:  # adopt: a create or an unresolved update of an event found
            event_id, etag = existing.id, existing.etag
        elif write.href.startswith(PENDING):
            return NotFound(f"{self.what} : aucun événement pour {item.uid}", 404)
        else:
            event_id, etag = write.href, write.etag
        return self._sub(
            "PATCH", f"{events}/{quote(event_id, safe='')}", event_body(item.entry), etag
        )

    @staticmethod
    def _sub(method: str, url: str, body: Any, etag: str | None = None) -> dict[str, Any]:
        headers: dict[str, str] = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if etag:
            headers["If-Match"] = etag
        request: dict[str, Any] = {"method": method, "url": url, "headers": headers}
        if body is not None:
            request["body"] = body
        return request

    def _answer(self, write: Write, answer: SubResponse | None) -> Result:
        what = f"{self.what} : {write.action} {write.item.uid if write.item else write.href}"
        if answer is None:
            return TemporaryError(f"{what} : pas de réponse dans le lot")
        if 200 <= answer.status < 300:
            if write.action == "delete":
                return Written(write.href, None)
            body = answer.body or {}
            return Written(str(body["id"]), body.get("@odata.etag"))
        error = error_for(answer.status, answer.body, answer.headers, what)
        if write.action == "delete" and isinstance(error, NotFound):
            return Written(write.href, None)
        return error  # an adopting PATCH answered 412 is PreconditionFailed: the plan adopts

    def close(self) -> None:
        self.client.client.close()
