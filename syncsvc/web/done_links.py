"""« Marquer comme fait » links from mails: a signed, expiring, single-purpose token each."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncsvc.app.board import SessionView
from syncsvc.app.marks import mark_done
from syncsvc.core import links
from syncsvc.core.model import Milestone
from syncsvc.errors import ConfigError, UsageError
from syncsvc.web.common import Web, log, origin_refused, web_of

DONE_LINK_BY = "lien e-mail"


def _link_target(web: Web, request: Request, token: str) -> tuple[SessionView, Milestone] | None:
    session_id = request.path_params["session_id"]
    milestone_id = request.path_params["milestone_id"]
    if not token or len(token) > 200:
        return None
    if not links.verify(web.key, session_id, milestone_id, token, web.clock()):
        return None
    try:
        view = web.board.snapshot(web.clock()).by_id.get(session_id)
    except ConfigError:
        return None
    found = next((m for m in view.milestones if m.id == milestone_id), None) if view else None
    return (view, found) if view is not None and found is not None else None


def _refused(web: Web, request: Request) -> Response:
    log.info("%s /done/… 403", request.method)
    return web.error(
        request,
        403,
        "Lien non valide",
        "Ce lien n'est pas valide ou a expiré. Ouvrez le tableau de bord pour marquer "
        "l'échéance comme faite.",
    )


def done_link(request: Request) -> Response:
    web = web_of(request)
    token = request.query_params.get("t", "")
    found = _link_target(web, request, token)
    if found is None:
        return _refused(web, request)
    view, milestone = found
    return web.html(request, "done.j2", view=view, m=milestone, token=token, noted=False)


async def done_link_submit(request: Request) -> Response:
    web = web_of(request)
    if web.from_elsewhere(request):
        return origin_refused(web, request)
    try:
        form = await web.form(request)
    except UsageError as exc:
        return web.error(request, exc.status, "Requête refusée", exc.message)
    token = form.get("t") or request.query_params.get("t", "")

    def work() -> Response:
        found = _link_target(web, request, token)
        if found is None:
            return _refused(web, request)
        view, milestone = found
        if milestone.status == "done":  # a second click keeps the first mark
            return web.html(request, "done.j2", view=view, m=milestone, token="", noted=False)
        mark_done(
            web.store, view.session.id, milestone.id, view.today, by=DONE_LINK_BY, note=None,
            at=web.clock(), who="lien e-mail",
        )  # fmt: skip
        web.marked()
        milestone = next(
            m
            for m in web.board.snapshot(web.clock()).by_id[view.session.id].milestones
            if m.id == milestone.id
        )
        return web.html(request, "done.j2", view=view, m=milestone, token="", noted=True)

    return await run_in_threadpool(work)


ROUTES = [
    Route("/done/{session_id}/{milestone_id}", done_link, methods=["GET"]),
    Route("/done/{session_id}/{milestone_id}", done_link_submit, methods=["POST"]),
]
