"""What every page shares: the application's state, who is asking, rendering, forms.

Pages are plain functions of (:class:`Web`, :class:`Context`) — and a form for an action —
wrapped by :func:`page` (a GET for logged-in users) or :func:`action` (a POST with a valid CSRF
token); both find who is asking (a store read) and run the page in Starlette's threadpool, and
find the :class:`Web` on the app.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import wraps
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from syncsvc.app.board import Board
from syncsvc.app.feeds import FeedPublisher
from syncsvc.app.status import ProcessStatus
from syncsvc.core import labels
from syncsvc.core.clock import Clock
from syncsvc.errors import UsageError
from syncsvc.formats import spliced
from syncsvc.formats.spliced import Fragment
from syncsvc.inputs.settings import Settings
from syncsvc.inputs.watcher import ConfigSource
from syncsvc.state.store import Store
from syncsvc.web import auth
from syncsvc.web.origin import same_origin

log = logging.getLogger("syncsvc.web")
Form = dict[str, str]
MAX_FORM_BYTES: Final = 64 * 1024
TOUCH_EVERY: Final = timedelta(minutes=1)
"""A session's "last seen" moment is written at most this often (not at every request)."""


def secret_key(settings: Settings) -> bytes:
    """The service's key from the environment, or a random one for this process only."""
    value = os.environ.get(settings.secret_key_env)
    if value:
        return value.encode()
    log.warning(
        "%s n'est pas définie : clé aléatoire pour ce processus (sessions perdues au "
        "redémarrage, liens « Marquer comme fait » des e-mails non vérifiables)",
        settings.secret_key_env,
    )
    return secrets.token_bytes(32)


def environment(zone: tzinfo | None = None) -> Environment:
    """The page templates, with the French labels and date filters of :mod:`labels`.

    ``fr_moment`` shows an instant in the zone it is given (a centre's, for one centre's thing),
    else in the reader's (``reader_zone`` of the page, see :meth:`Web.html`), else in ``zone``
    (the service's). ``zone_note(tz)`` says « heure de La Réunion (UTC+4) » when ``tz`` does not
    show the reader's wall time, and nothing when it does."""

    @pass_context
    def moment(context: Any, at: datetime | None, tz: tzinfo | None = None) -> str:
        return labels.fr_moment(at, tz or context.get("reader_zone") or zone)

    @pass_context
    def zone_note(context: Any, tz: tzinfo, at: datetime | None = None) -> str:
        reader = context.get("reader_zone") or zone
        at = at or context["page_now"]
        if reader is not None and labels.same_zone(tz, reader, at):
            return ""
        return labels.zone_label(tz, at)

    env = Environment(
        loader=PackageLoader("syncsvc.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the package: no stat per request
    )
    env.filters.update(
        fr_date=labels.fr_date,
        fr_day=labels.fr_day,
        fr_weekday_date=labels.fr_weekday_date,
        french_date=labels.french_date,
        fr_moment=moment,
        zone_note=zone_note,
        fr_moment_at=labels.fr_moment,
        field_label=labels.field_label,
        roles=lambda milestone: labels.roles(milestone.audience),
        capitalised=labels.capitalised,
        jury_summary=lambda pair: labels.jury_summary(*pair),
        day_answer=lambda answer: labels.day_answer(answer.partstat, answer.day),
    )
    env.globals.update(
        STATUS_LABELS=labels.STATUS_LABELS,
        REDO_LABEL=labels.REDO_LABEL,
        KIND_LABELS=labels.KIND_LABELS,
        SEVERITY_LABELS=labels.SEVERITY_LABELS,
        MAIL_KINDS=labels.MAIL_KINDS,
        OUTBOX_LABELS=labels.OUTBOX_LABELS,
        TARGET_KINDS=labels.TARGET_KINDS,
        PARTSTAT_LABELS=labels.PARTSTAT_LABELS,
        ALL_DAYS_LABEL=labels.ALL_DAYS_LABEL,
        BY_DAY_LABEL=labels.BY_DAY_LABEL,
        ROLE_NAMES=labels.ROLE_NAMES,
        INVITATION_LABELS=labels.INVITATION_LABELS,
        JURY_NEWS_LABELS=labels.JURY_NEWS_LABELS,
        HELD_BUT_INVITED=labels.HELD_BUT_INVITED,
        PREVIEW_HEADINGS=labels.PREVIEW_HEADINGS,
        PREVIEW_NONE=labels.PREVIEW_NONE,
        target_news=labels.target_news,
        REPLY_SOURCE_LABELS=labels.REPLY_SOURCE_LABELS,
        REPLY_STATUS_LABELS=labels.REPLY_STATUS_LABELS,
        AUDIT_ACTIONS=labels.AUDIT_LABELS,
        centre_zones_note=labels.centre_zones_note,
    )
    return env


@dataclass
class Context:
    """A request of a logged-in user."""

    request: Request
    user: auth.User
    session: auth.WebSession
    new_cookie: bool
    via_header: bool


class Web:
    """State shared by the pages of one application."""

    def __init__(
        self,
        source: ConfigSource,
        settings: Settings,
        store: Store,
        clock: Clock,
        status: ProcessStatus | None = None,
        on_marked: Callable[[], None] | None = None,
        feeds: FeedPublisher | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.status = status
        self.source = source
        self.on_marked = on_marked
        """Called after a milestone is marked done or undone (the daemon reconciles)."""
        self.board = Board(source, store)
        self.feeds = feeds or FeedPublisher(settings, store, source, clock)
        self.key = secret_key(settings)
        self.cookie_key = auth.derive_key(self.key, "session-cookie")
        self.env = environment(settings.zone)
        self.users = {u.login: u for u in settings.web.users}

    def marked(self) -> None:
        if self.on_marked is not None:
            self.on_marked()

    # -- sessions and users ----------------------------------------------------------------

    def web_session(self, request: Request) -> auth.WebSession | None:
        return auth.decode_session(
            self.cookie_key, request.cookies.get(auth.COOKIE_NAME), self.clock()
        )

    def header_user(self, request: Request) -> auth.User | None:
        header = self.settings.web.auth_header
        value = request.headers.get(header, "").strip() if header else ""
        if not value or len(value) > 255:
            return None
        known = self.users.get(value)
        if known is None:
            return auth.User(value, value)
        return auth.user_of(known, value)

    def context(self, request: Request) -> Context | None:
        """Who is asking (reads the store: call it from the threadpool)."""
        session = self.web_session(request)
        user = self.header_user(request)
        if user is not None:
            if session is None:
                return Context(request, user, auth.new_session(None, self.clock()), True, True)
            return Context(request, user, session, False, True)
        if session is None or session.login is None or not self.session_open(session):
            return None
        known = self.users.get(session.login)
        if known is None:
            return None
        user = auth.user_of(known)
        return Context(request, user, session, False, False)

    def session_open(self, session: auth.WebSession) -> bool:
        """The cookie's session id is open in the store, for that login, and not expired."""
        if session.sid is None:
            return False
        found = self.store.find_web_session(session.sid)
        now = self.clock()
        if found is None or found.login != session.login:
            return False
        if now - found.created_at > auth.SESSION_LIFETIME:
            self.store.close_web_session(session.sid)
            return False
        if now - found.last_seen_at >= TOUCH_EVERY:
            self.store.touch_web_session(session.sid, now)
        return True

    def open_session(self, login: str) -> auth.WebSession:
        """A new logged-in session, recorded in the store (expired ones are purged then)."""
        now = self.clock()
        self.store.purge_web_sessions(created_before=now - auth.SESSION_LIFETIME)
        session = auth.new_session(login, now)
        assert session.sid is not None
        self.store.open_web_session(session.sid, login, now)
        return session

    def close_session(self, session: auth.WebSession | None) -> None:
        """Log out: the session id leaves the store, so no copy of the cookie works again."""
        if session is not None and session.sid is not None:
            self.store.close_web_session(session.sid)

    def set_cookie(self, response: Response, request: Request, session: auth.WebSession) -> None:
        response.set_cookie(
            auth.COOKIE_NAME,
            auth.encode_session(self.cookie_key, session),
            httponly=True,
            samesite="lax",
            secure=self.secure_cookie(request),
            path="/",
        )

    def secure_cookie(self, request: Request) -> bool:
        """``[web] secure_cookies``: always, never, or (auto) when the request is https."""
        setting = self.settings.web.secure_cookies
        return setting is True or (setting == "auto" and request.url.scheme == "https")

    def from_elsewhere(self, request: Request) -> bool:
        """The browser says this POST comes from another site (:mod:`syncsvc.web.origin`)."""
        return not same_origin(request, self.settings.dashboard_url)

    # -- rendering ------------------------------------------------------------------------

    def reader_zone(self, user: auth.User | None) -> ZoneInfo:
        """The zone of the times a user reads that belong to no one centre: their own
        (``[[web.users]] timezone``), else the service's."""
        if user is not None and user.timezone:
            return ZoneInfo(user.timezone)
        return self.settings.zone

    def html(
        self,
        request: Request,
        template: str,
        *,
        status_code: int = 200,
        ctx: Context | None = None,
        session: auth.WebSession | None = None,
        new_cookie: bool = False,
        splice: Mapping[str, Fragment] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        """Render ``template``; each ``splice`` name is a ``{{ name }}`` replaced by ready bytes
        (sent compressed as they were kept when the client takes gzip, see
        :mod:`syncsvc.formats.spliced`)."""
        if ctx is not None:
            session, new_cookie = ctx.session, ctx.new_cookie
        marks = {name: f"\x00{name}\x00" for name in splice or {}}
        text = self.env.get_template(template).render(
            user=ctx.user if ctx else None,
            via_header=ctx.via_header if ctx else False,
            csrf=session.csrf if session else "",
            path=request.url.path,
            reader_zone=self.reader_zone(ctx.user if ctx else None),
            page_now=self.clock(),
            **values,
            **{name: Markup(mark) for name, mark in marks.items()},
        )
        parts: list[bytes | Fragment] = []
        rest = text.encode()
        for name, mark in sorted(marks.items(), key=lambda item: text.find(item[1])):
            assert splice is not None
            before, found, rest = rest.partition(mark.encode())
            parts += [before, splice[name]] if found else [before]
        parts.append(rest)
        headers = {}
        if len(parts) > 1 and spliced.accepts_gzip(request.headers.get("accept-encoding", "")):
            body = spliced.gzipped(parts)
            headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        else:
            body = spliced.joined(parts)
        response = HTMLResponse(body, status_code=status_code, headers=headers)
        response.headers["Cache-Control"] = "no-store"
        if session is not None and new_cookie:
            self.set_cookie(response, request, session)
        return response

    def error(
        self,
        request: Request,
        status_code: int,
        title: str,
        message: str,
        ctx: Context | None = None,
    ) -> HTMLResponse:
        return self.html(
            request, "error.j2", status_code=status_code, ctx=ctx, title=title, message=message
        )

    # -- forms ----------------------------------------------------------------------------

    async def form(self, request: Request) -> Form:
        """The posted form (first value of each key); UsageError with an HTTP status when it
        is too big, of another type or unreadable."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise UsageError("Formulaire trop volumineux.", 413)
        if not body:
            return {}  # an empty POST: nothing, not even a CSRF token
        if content_type != "application/x-www-form-urlencoded":
            raise UsageError("Formulaire attendu (application/x-www-form-urlencoded).", 415)
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            raise UsageError("Formulaire illisible.") from None
        form: Form = {}
        for key, value in pairs:
            form.setdefault(key, value)
        return form


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def page(view: Callable[[Web, Context], Response]) -> Callable[[Request], Awaitable[Response]]:
    """A GET page for logged-in users; others go to the login form."""

    def run(web: Web, request: Request) -> Response:
        ctx = web.context(request)
        return to_login(request) if ctx is None else view(web, ctx)

    @wraps(view)
    async def endpoint(request: Request) -> Response:
        # One trip to the threadpool for who is asking and the page (under 20 concurrent
        # clients, each trip is a wait for a thread and the GIL).
        return await run_in_threadpool(run, web_of(request), request)

    return endpoint


def action(
    work: Callable[[Web, Context, Form], Response],
) -> Callable[[Request], Awaitable[Response]]:
    """A POST from this site, for logged-in users who may act (not viewers), with a valid CSRF
    token; the work runs in the threadpool."""

    @wraps(work)
    async def endpoint(request: Request) -> Response:
        web = web_of(request)
        if web.from_elsewhere(request):
            return origin_refused(web, request)
        ctx = await run_in_threadpool(web.context, request)
        if ctx is None:
            return to_login(request)
        try:
            form = await web.form(request)
        except UsageError as exc:
            return web.error(request, exc.status, "Requête refusée", exc.message, ctx)
        if ctx.new_cookie or not auth.csrf_ok(ctx.session, form.get("csrf")):
            return csrf_refused(web, request, ctx)
        if not ctx.user.can_act:
            return read_only(web, ctx)
        return await run_in_threadpool(work, web, ctx, form)

    return endpoint


def to_login(request: Request) -> Response:
    """To the login form, and back to this page afterwards (a POST's page cannot be replayed)."""
    if request.method not in ("GET", "HEAD"):
        return RedirectResponse("/login", status_code=303)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def csrf_refused(web: Web, request: Request, ctx: Context | None = None) -> Response:
    log.warning("%s %s 403 : jeton CSRF absent ou invalide", request.method, request.url.path)
    return web.error(
        request,
        403,
        "Formulaire expiré",
        "Ce formulaire a expiré ou ne vient pas de ce site. Rechargez la page et "
        "recommencez (les cookies doivent être acceptés).",
        ctx,
    )


def read_only(web: Web, ctx: Context) -> Response:
    request = ctx.request
    log.warning(
        "%s %s 403 : %s ne fait que consulter", request.method, request.url.path, ctx.user.login
    )
    return web.error(
        request,
        403,
        "Action réservée",
        "Votre compte permet de consulter le tableau de bord, pas de le modifier : demandez à "
        "un coordinateur ou à un administrateur.",
        ctx,
    )


def not_yours(web: Web, ctx: Context, centre_id: str) -> Response:
    """403: this user may not change the sessions of ``centre_id`` (another centre's, or a
    viewer's account)."""
    request = ctx.request
    log.warning(
        "%s %s 403 : %s ne peut pas modifier le centre %s",
        request.method,
        request.url.path,
        ctx.user.login,
        centre_id,
    )
    if not ctx.user.can_act:
        return read_only(web, ctx)
    return web.error(
        request,
        403,
        "Centre d'un autre coordinateur",
        "Votre compte permet de modifier les sessions de vos centres seulement, pas celles de "
        "ce centre : demandez à son coordinateur ou à un administrateur.",
        ctx,
    )


def origin_refused(web: Web, request: Request) -> Response:
    log.warning("%s %s 403 : requête venue d'un autre site", request.method, request.url.path)
    return web.error(
        request,
        403,
        "Requête refusée",
        "Ce formulaire ne vient pas de ce site : ouvrez le tableau de bord à son adresse "
        "habituelle et recommencez.",
    )


def static_folder() -> Path:
    return Path(__file__).parent / "static"
