"""The calendars: each target with its audience, address, last success and last error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.core import audience
from syncsvc.core.labels import CONVENED_AUDIENCE
from syncsvc.core.model import Centre
from syncsvc.errors import ConfigError
from syncsvc.inputs.settings import TargetSettings
from syncsvc.state.store import TargetState
from syncsvc.web.auth import User
from syncsvc.web.common import Context, Form, Web, action, log, page


@dataclass(frozen=True, slots=True)
class TargetRow:
    target: TargetSettings
    audience: str
    state: TargetState
    published: int
    errors: int
    url: str | None
    """The address to give a client: a feed's, or the calendar collection's own."""
    server: str | None = None
    """A CalDAV server whose calendar address is not known yet (before the first sync)."""


def audience_label(value: str, centres: Mapping[str, Centre]) -> str:
    kind, who = audience.parse(value)
    if kind == "coordinators":
        centre = centres.get(who)
        return f"Coordination — {centre.name if centre else who}"
    if kind == "session_manager":
        return f"Responsable de session {who}"
    if kind == "jury":
        return f"{CONVENED_AUDIENCE} — {who}"
    return "Toutes les sessions"


def without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part, for display."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def calendar_address(target: TargetSettings, location: str | None) -> str | None:
    """A CalDAV target's calendar collection, to paste into Thunderbird, DAVx5 or Apple
    Calendar: found at the first sync (``location``), or given in full by ``calendar``; None
    while only a calendar name is known (its home is discovered on the server)."""
    if location:
        return without_userinfo(location)
    calendar = target.calendar or ""
    if target.url and ("://" in calendar or calendar.startswith("/")):
        return without_userinfo(urljoin(target.url, calendar.rstrip("/") + "/"))
    return None


@page
def targets_page(web: Web, ctx: Context) -> Response:
    now = web.clock()
    try:
        centres = web.source.current().centres
    except ConfigError:
        centres = {}
    items = web.store.item_counts()
    errors = web.store.item_error_counts()
    base = web.settings.feeds.base_url.rstrip("/")
    rows = []
    for target in web.settings.targets:
        url = server = None
        state = web.store.target_state(target.name)
        if target.kind == "feed":
            url = f"{base}/feeds/{web.store.feed_token(target.name, now)}.ics"
        elif target.kind == "caldav" and target.url:
            url = calendar_address(target, state.location)
            server = None if url else without_userinfo(target.url)
        rows.append(
            TargetRow(
                target,
                audience_label(target.audience, centres),
                state,
                items.get(target.name, 0),
                errors.get(target.name, 0),
                url,
                server,
            )
        )
    confirmed = ctx.request.query_params.get("confirme", "")
    flash = (
        f"Suppressions confirmées pour « {confirmed} » : elles partent à la prochaine "
        "synchronisation."
        if confirmed in {t.name for t in web.settings.targets}
        else None
    )
    return web.html(ctx.request, "targets.j2", ctx=ctx, rows=rows, flash=flash)


def _may_confirm(web: Web, user: User, name: str) -> bool:
    """Who may confirm a target's held deletions: for a centre's coordinators' calendar, those
    who may change that centre; for any other calendar (all sessions, a person's), those who
    may change every centre."""
    target = next((t for t in web.settings.targets if t.name == name), None)
    kind, _, who = (target.audience if target is not None else "all").partition(":")
    if kind == "coordinators":
        return user.may_change(who)
    return user.role == "admin" or (user.role == "coordinator" and user.centres is None)


@action
def confirm_deletions(web: Web, ctx: Context, form: Form) -> Response:
    """A person confirms exactly the set of deletions the page showed them."""
    name = ctx.request.path_params["target"]
    fingerprint = form.get("fingerprint", "")
    if not _may_confirm(web, ctx.user, name):
        log.warning("suppressions sur %s : refusées à %s (autre centre)", name, ctx.user.login)
        return web.error(
            ctx.request,
            403,
            "Calendrier d'un autre centre",
            "Ces suppressions touchent un calendrier qui n'est pas celui de vos centres : un "
            "administrateur (ou un coordinateur de ce centre) doit les confirmer.",
            ctx,
        )
    if not web.store.confirm_deletions(name, fingerprint, ctx.user.login):
        return web.error(
            ctx.request,
            409,
            "Suppressions déjà changées",
            "Les suppressions en attente ont changé depuis l'affichage de la page : "
            "rechargez-la et vérifiez-les de nouveau.",
            ctx,
        )
    log.info("suppressions confirmées sur %s par %s", name, ctx.user.login)
    web.marked()  # reconcile now
    return RedirectResponse(f"/targets?confirme={quote(name)}", status_code=303)


ROUTES = [
    Route("/targets", targets_page),
    Route("/targets/{target}/confirm-deletions", confirm_deletions, methods=["POST"]),
]
