"""The mail queue: sent, pending, failed and skipped messages, and « Renvoyer ».

Candidates' mails show their name and address to administrators only
(:mod:`syncsvc.web.privacy`)."""

from __future__ import annotations

from typing import Final

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.state.store import OutboxRow
from syncsvc.web.common import Context, Form, Web, action, log, page
from syncsvc.web.privacy import masked

OUTBOX_STATES: Final = ("dead", "pending", "sent", "skipped")


@page
def outbox_page(web: Web, ctx: Context) -> Response:
    query = ctx.request.query_params
    resent, missing = query.get("renvoye", ""), query.get("introuvable", "")

    def shown(rows: list[OutboxRow]) -> list[OutboxRow]:
        return rows if ctx.user.admin else [masked(row) for row in rows]

    return web.html(
        ctx.request,
        "outbox.j2",
        ctx=ctx,
        counts=web.store.outbox_counts(),
        groups={state: shown(web.store.messages(state, limit=200)) for state in OUTBOX_STATES},
        candidates_masked=not ctx.user.admin,
        resent=resent if resent.isdigit() else None,  # never reflect arbitrary text
        missing=missing if missing.isdigit() else None,
    )


@action
def resend(web: Web, ctx: Context, form: Form) -> Response:
    message = int(ctx.request.path_params["message_id"])
    if web.store.resend(message, web.clock()):
        log.info("envoi %d remis en file par %s", message, ctx.user.login)
        return RedirectResponse(f"/outbox?renvoye={message}", status_code=303)
    return RedirectResponse(f"/outbox?introuvable={message}", status_code=303)


ROUTES = [
    Route("/outbox", outbox_page),
    Route("/outbox/{message_id:int}/resend", resend, methods=["POST"]),
]
