"""« Je serai présent(e) » / « Je ne pourrai pas venir »: a juror's signed links from an
invitation (same signing and expiry rules as the done links).

The link opens a page that says what will be recorded, with one button: mail scanners that
open every link (Safe Links and the like) record nothing; the button's POST does. A link of an
invitation replaced since (the session changed: a new SEQUENCE) records nothing and says to use
the latest message. A second click on the same answer keeps the first.

A link with ``d=<day>`` (signed with it) answers that exam day only, as a reply to one occurrence
of the invitation does; a link without one answers for the whole session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncsvc.app.board import SessionView
from syncsvc.core import links
from syncsvc.core.invitations import invited_people
from syncsvc.core.jury import JuryReply, answers, day_answers
from syncsvc.errors import ConfigError, UsageError
from syncsvc.web.common import Web, log, origin_refused, web_of

MAX_EMAIL: Final = 254


@dataclass(frozen=True, slots=True)
class Target:
    view: SessionView
    email: str
    name: str
    sequence: int
    answer: str
    """``accept`` or ``decline`` (the URL's word)."""
    partstat: str
    current: int | None
    """The SEQUENCE of the invitation in force (None: none in force any more)."""
    day: date | None = None
    """The one exam day answered (None: the whole session)."""


def _target(web: Web, request: Request, token: str) -> Target | None:
    params = request.path_params
    email = request.query_params.get("a", "").strip().lower()
    session_id, answer = params["session_id"], params["answer"]
    try:
        sequence = int(params["sequence"])
    except ValueError:
        return None
    if not token or len(token) > 200 or not email or len(email) > MAX_EMAIL:
        return None
    written = request.query_params.get("d")
    day = links.parse_day(written) if written is not None else None
    if written is not None and day is None:
        return None
    now = web.clock()
    if not links.verify_answer(web.key, session_id, email, sequence, answer, token, now, day):
        return None
    try:
        view = web.board.snapshot(web.clock()).by_id.get(session_id)
    except ConfigError:
        return None
    if view is None or (day is not None and day not in view.exam_dates):
        return None
    member = next((m for m, _ in invited_people(view.session) if m.email == email), None)
    if member is None:
        return None
    state = web.store.invitation_states().get((session_id, email))
    current = state.sequence if state is not None and state.status == "invited" else None
    partstat = links.JURY_ANSWERS[answer]
    return Target(view, email, member.name, sequence, answer, partstat, current, day)


def _refused(web: Web, request: Request) -> Response:
    log.info("%s /jury/… 403", request.method)
    return web.error(
        request,
        403,
        "Lien non valide",
        "Ce lien n'est pas valide ou a expiré. Répondez avec les boutons de votre agenda, ou "
        "répondez simplement au message d'invitation.",
    )


def _page(web: Web, request: Request, target: Target, token: str, noted: bool) -> Response:
    return web.html(
        request,
        "jury_answer.j2",
        t=target,
        token=token,
        noted=noted,
        outdated=target.current != target.sequence,
    )


def answer_link(request: Request) -> Response:
    """The page of the link (Starlette runs a plain function in its threadpool)."""
    web = web_of(request)
    token = request.query_params.get("t", "")
    found = _target(web, request, token)
    if found is None:
        return _refused(web, request)
    return _page(web, request, found, token, noted=False)


async def answer_submit(request: Request) -> Response:
    web = web_of(request)
    if web.from_elsewhere(request):
        return origin_refused(web, request)
    try:
        form = await web.form(request)
    except UsageError as exc:
        return web.error(request, exc.status, "Requête refusée", exc.message)
    token = form.get("t") or request.query_params.get("t", "")

    def work() -> Response:
        found = _target(web, request, token)
        if found is None:
            return _refused(web, request)
        if found.current != found.sequence:
            return _page(web, request, found, "", noted=False)
        record(web, found)
        return _page(web, request, found, "", noted=True)

    return await run_in_threadpool(work)


def record(web: Web, target: Target) -> None:
    """The answer into the ledger, unless it is already the juror's answer (for that day)."""
    session_id = target.view.session.id
    states = web.store.invitation_states()
    replies = web.store.jury_replies(session_id)
    key = (session_id, target.email)
    whole = answers(replies, states).get(key)
    days = day_answers(replies, states).get(key, {})
    said = [whole, *days.values()] if target.day is None else [days.get(target.day) or whole]
    if all(r is not None and r.partstat == target.partstat for r in said):
        return  # a second click: the first stands
    now = web.clock()
    web.store.record_reply(
        JuryReply(
            key=f"link:{session_id}:{target.email}:{target.sequence}:{uuid.uuid4().hex}",
            source="link",
            kind="reply",
            status="applied",
            session_id=session_id,
            email=target.email,
            name=target.name,
            partstat=target.partstat,
            sequence=target.sequence,
            comment=None,
            replied_at=now,
            recorded_at=now,
            day=target.day,
        )
    )
    log.info("%s : réponse du jury par lien (%s)", session_id, target.partstat)


ROUTES = [
    Route("/jury/{session_id}/{sequence}/{answer}", answer_link, methods=["GET"]),
    Route("/jury/{session_id}/{sequence}/{answer}", answer_submit, methods=["POST"]),
]
