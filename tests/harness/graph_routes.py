"""The Graph v1.0 routes of the emulator, single calls and JSON batches (see graph_emulator)."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.harness.graph_mailbox import ApiError, DeltaRound, Mailbox

if TYPE_CHECKING:
    from tests.harness.graph_emulator import Answer, GraphEmulator

USER = r"^/users/(?P<mb>[^/]+)"
ROUTES = [
    ("events_delta", re.compile(USER + r"/events/delta$")),
    ("calendars", re.compile(USER + r"/calendars$")),
    ("cal_events", re.compile(USER + r"/calendars/(?P<cal>[^/]+)/events$")),
    ("cal_event", re.compile(USER + r"/calendars/(?P<cal>[^/]+)/events/(?P<ev>[^/]+)$")),
    ("delta", re.compile(USER + r"/calendars/(?P<cal>[^/]+)/calendarView/delta$")),
    ("event", re.compile(USER + r"/events/(?P<ev>[^/]+)$")),
]
WRITES = frozenset({"POST", "PATCH", "DELETE"})
DEFAULT_PAGE = 10
MAX_PAGE = 999


def _answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    from tests.harness.graph_emulator import Answer

    return Answer(status, headers or {}, body)


class Routes:
    def __init__(self, emulator: GraphEmulator) -> None:
        self.emulator = emulator
        self.rounds: dict[str, DeltaRound] = {}

    @staticmethod
    def mailbox_of(route: str) -> str | None:
        match = re.match(USER, route)
        return unquote(match["mb"]) if match else None

    # --- single calls ---------------------------------------------------------------------

    def call(
        self,
        method: str,
        route: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        in_batch: bool = False,
    ) -> Answer:
        emulator = self.emulator
        if isinstance(body, bytes):
            try:
                body = json.loads(body) if body else None
            except ValueError:
                return _answer(400, ApiError(400, "BadRequest", "Invalid JSON.").body())
        found = [(n, m) for n, p in ROUTES if (m := p.match(route)) is not None]
        if not found:
            return _answer(400, ApiError(400, "BadRequest", f"Resource not found: {route}").body())
        name, match = found[0]
        with emulator.lock:
            emulator.calls[f"{method} {name}"] += 1
            if method in WRITES and name != "calendars":
                emulator.writes += 1
        fault = emulator.take_fault("call") or (
            emulator.take_fault("batched") if in_batch else None
        )
        if fault is not None and not fault.after:
            answer = emulator.fault_answer(fault)
        else:
            try:
                with emulator.lock:
                    answer = self._dispatch(name, match, method, query, headers, body)
            except ApiError as error:
                answer = _answer(error.status, error.body())
            if fault is not None:
                answer = emulator.fault_answer(fault)
        with emulator.lock:
            emulator.log.append((method, route, answer.status))
        return answer

    def _mailbox(self, match: re.Match[str]) -> Mailbox:
        address = unquote(match["mb"]).lower()
        if address in self.emulator.denied:
            raise ApiError(403, "ErrorAccessDenied", "Access to OData is disabled.")
        found = self.emulator.mailboxes.get(address)
        if found is None:
            raise ApiError(404, "ErrorInvalidUser", f"The requested user '{address}' is invalid.")
        return found

    def _dispatch(
        self,
        name: str,
        match: re.Match[str],
        method: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
    ) -> Answer:
        mailbox = self._mailbox(match)
        if name == "events_delta":
            raise ApiError(400, "BadRequest", "events/delta is only available in beta.")
        if name == "calendars":
            if method == "POST":
                made = mailbox.add_calendar(str((body or {}).get("name", "")))
                return _answer(201, {"id": made.id, "name": made.name})
            values = [{"id": c.id, "name": c.name} for c in mailbox.calendars.values()]
            return _answer(200, self._page(match.string, query, values))
        if name == "delta":
            return self._delta(mailbox, match["cal"], match.string, query, headers)
        calendar = mailbox.calendar(match["cal"]) if "cal" in match.groupdict() else None
        if name == "cal_events":
            assert calendar is not None
            if method == "POST":
                event, _ = mailbox.create(calendar, body)
                return _answer(201, mailbox.view(event, None, None))
            found = [
                mailbox.view(e, query.get("$select"), query.get("$expand"))
                for e in calendar.events.values()
                if mailbox.matches(e, query.get("$filter"))
            ]
            return _answer(200, self._page(match.string, query, found))
        event_id = match["ev"]
        if method == "GET":
            if calendar is None and event_id in mailbox.deleted:
                event = mailbox.deleted[event_id]
            else:
                _, event = mailbox.find(calendar, event_id)
            return _answer(200, mailbox.view(event, query.get("$select"), query.get("$expand")))
        if method == "PATCH":
            updated = mailbox.update(calendar, event_id, body, headers.get("if-match"))
            return _answer(200, mailbox.view(updated, None, None))
        if method == "DELETE":
            mailbox.delete(calendar, event_id, headers.get("if-match"))
            return _answer(204)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed here.")

    def _page(self, route: str, query: dict[str, str], values: list[Any]) -> dict[str, Any]:
        try:
            top = min(MAX_PAGE, max(1, int(query.get("$top", DEFAULT_PAGE))))
            skip = max(0, int(query.get("$skip", 0)))
        except ValueError:
            raise ApiError(400, "BadRequest", "Invalid $top or $skip.") from None
        page: dict[str, Any] = {"value": values[skip : skip + top]}
        if skip + top < len(values):
            following = {**query, "$skip": str(skip + top)}
            page["@odata.nextLink"] = f"{self.emulator.graph_url}{route[1:]}?{urlencode(following)}"
        return page

    # --- delta ------------------------------------------------------------------------------

    def _delta(
        self,
        mailbox: Mailbox,
        calendar_id: str,
        route: str,
        query: dict[str, str],
        headers: dict[str, str],
    ) -> Answer:
        calendar = mailbox.calendar(calendar_id)
        size = DEFAULT_PAGE
        prefer = re.search(r"odata\.maxpagesize=(\d+)", headers.get("prefer", ""))
        if prefer:
            size = min(MAX_PAGE, max(1, int(prefer[1])))
        token = query.get("$skiptoken") or query.get("$deltatoken")
        if token:
            round_ = self.rounds.get(token)
            if round_ is None:
                raise ApiError(410, "SyncStateNotFound", "The sync state generation is not found.")
            if "$deltatoken" in query:
                pending = mailbox.delta_items(round_, initial=False)
                round_ = DeltaRound(round_.calendar, round_.start, round_.end, 0, pending)
                round_.since = max(calendar.changed.values(), default=0)
        else:
            first, last = mailbox.window(query.get("startDateTime"), query.get("endDateTime"))
            round_ = DeltaRound(calendar.id, first, last, 0)
            round_.pending = mailbox.delta_items(round_, initial=True)
            round_.since = max(calendar.changed.values(), default=0)
        page, rest = round_.pending[:size], round_.pending[size:]
        new = secrets.token_urlsafe(12)
        link = f"{self.emulator.graph_url}{route[1:]}"
        body: dict[str, Any] = {"value": page}
        if rest:
            self.rounds[new] = DeltaRound(
                round_.calendar, round_.start, round_.end, round_.since, rest
            )
            body["@odata.nextLink"] = f"{link}?$skiptoken={new}"
        else:
            self.rounds[new] = DeltaRound(round_.calendar, round_.start, round_.end, round_.since)
            body["@odata.deltaLink"] = f"{link}?$deltatoken={new}"
        return _answer(200, body)

    # --- $batch -------------------------------------------------------------------------------

    def batch(self, raw: bytes) -> Answer:
        emulator = self.emulator
        try:
            requests = json.loads(raw)["requests"]
            assert isinstance(requests, list)
            ids = [str(r["id"]) for r in requests]
        except (ValueError, KeyError, TypeError, AssertionError):
            return _answer(400, ApiError(400, "BadRequest", "Invalid batch payload.").body())
        if len(requests) > 20 or len(set(ids)) != len(ids) or not requests:
            return _answer(
                400,
                ApiError(
                    400, "BadRequest", "A batch holds 1 to 20 requests with unique ids."
                ).body(),
            )
        sequential = any(r.get("dependsOn") for r in requests)
        mailboxes = {self.mailbox_of(urlsplit(str(r.get("url", ""))).path) for r in requests}
        mailbox = next(iter(mailboxes - {None}), None)
        with emulator.lock:
            emulator.batch_sizes.append(len(requests))
        with emulator.slots(mailbox, 1 if sequential else min(4, len(requests))) as granted:
            if emulator.latency:
                time.sleep(emulator.latency)
            answers = self._run(requests) if granted else None
        if answers is None:
            throttled = emulator.throttle_answer()
            answers = {i: throttled for i in ids}
        responses = [
            {
                "id": i,
                "status": a.status,
                "headers": {
                    **a.headers,
                    **({"Content-Type": "application/json"} if a.body else {}),
                },
                **({"body": a.body} if a.body is not None else {}),
            }
            for i, a in answers.items()
        ]
        responses.reverse()  # "might appear in a different order than the requests"
        return _answer(200, {"responses": responses})

    def _run(self, requests: list[dict[str, Any]]) -> dict[str, Answer]:
        answers: dict[str, Answer] = {}
        for request in requests:
            rid = str(request["id"])
            failed = [
                d
                for d in request.get("dependsOn") or []
                if answers.get(str(d)) is None or not 200 <= answers[str(d)].status < 300
            ]
            if failed:
                body = ApiError(424, "FailedDependency", "A request this one depends on failed.")
                answers[rid] = _answer(424, body.body())
                continue
            headers = {str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()}
            if "body" in request and "content-type" not in headers:
                error = ApiError(400, "BadRequest", "Content-Type is required with a body.")
                answers[rid] = _answer(400, error.body())
                continue
            url = urlsplit("/" + str(request.get("url", "")).lstrip("/"))
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            answers[rid] = self.call(
                str(request.get("method", "GET")).upper(),
                unquote(url.path),
                query,
                headers,
                request.get("body"),
                in_batch=True,
            )
        return answers
