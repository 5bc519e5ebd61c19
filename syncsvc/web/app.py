"""HTTP shell: dashboard, ICS feeds, "mark done" links, health and metrics (Starlette, Jinja2).

Thin: it calls the same functions as the CLI (loader, planner, checks, store) and renders French
pages on the server; a few lines of CSS, no JavaScript framework.

Access:

- the dashboard and its actions require a logged-in user: ``[[web.users]]`` of ``syncsvc.toml``
  (scrypt hashes from ``syncsvc hash-password``, see :mod:`syncsvc.web.auth`), or, when
  ``web.auth_header`` is set, the user named by that header (set by an authenticating reverse
  proxy: the service must then be reachable through that proxy only);
- every POST form carries a CSRF token checked against the signed session cookie;
- ``/feeds/<token>.ics`` and ``/done/<session>/<milestone>?t=<token>`` carry their own tokens;
  a wrong token is a 404 (feeds) or a 403 (done links) that says nothing more;
- ``/healthz``, ``/readyz`` and ``/metrics`` are open and carry no personal data.

Tokens never reach a log line: the access log is ours and prints ``/feeds/…`` only.

The secret key (environment variable named by ``Settings.secret_key_env``) signs session
cookies and verifies done links. When it is not set, a random key is drawn for this process:
sessions then end at every restart and no done link from a mail can be verified (the mailer
only puts links in mails when the key is set).

The configuration is loaded on first use and again whenever a file of ``centres.yaml`` or
``sessions/`` changes; plans are cached until the configuration, a centre's local day or the
done marks change (see :mod:`syncsvc.app.board`). Blocking work runs in Starlette's threadpool.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncsvc.app import feeds as feed
from syncsvc.app.board import (
    STATUSES,
    Board,
    ConfigSource,
    Mark,
    SessionView,
    checklist,
)
from syncsvc.app.status import Status as ProcessStatus
from syncsvc.app.sync import desired_items, plan_all, protected_sessions
from syncsvc.core import audience, links
from syncsvc.core.model import Centre, Milestone
from syncsvc.formats import prometheus as metrics
from syncsvc.formats.ical import KIND_LABELS, STATUS_LABELS
from syncsvc.formats.timeline import timeline_svg
from syncsvc.inputs.loader import ConfigError
from syncsvc.inputs.settings import Settings, TargetSettings
from syncsvc.state.store import Store, TargetState
from syncsvc.web import auth

log = logging.getLogger("syncsvc.web")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
Clock = Callable[[], datetime]

MAX_FORM_BYTES: Final = 64 * 1024
MAX_NOTE: Final = 2000
MAX_BY: Final = 120
TIMELINE_TAIL: Final = timedelta(days=120)
"""Milestones due later than this after a session's end are drawn at the chart's right edge."""
ROLE_LABELS: Final = {
    "coordinators": "coordination",
    "session_manager": "resp. session",
    "deputy_manager": "suppléant",
    "centre_management": "direction",
    "jury": "jury",
}
SEVERITY_LABELS: Final = {"error": "Erreur", "warning": "Avertissement", "info": "Info"}
TARGET_KINDS: Final = {"caldav": "CalDAV", "google": "Google Agenda", "feed": "Flux ICS"}


class LoginThrottle:
    """At most ``limit`` failed logins per identifier in ``window``; then wait."""

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, login: str, now: datetime) -> list[datetime]:
        kept = [t for t in self._failures.get(login.casefold(), []) if now - t < self.window]
        self._failures[login.casefold()] = kept
        return kept

    def blocked(self, login: str, now: datetime) -> bool:
        with self._lock:
            return len(self._recent(login, now)) >= self.limit

    def failed(self, login: str, now: datetime) -> None:
        with self._lock:
            self._recent(login, now).append(now)


OUTBOX_STATES: Final = ("dead", "pending", "sent", "skipped")
OUTBOX_LABELS: Final = {
    "dead": "En échec",
    "pending": "En attente",
    "sent": "Envoyés",
    "skipped": "Non envoyés (manqués)",
}
MAIL_KINDS: Final = {
    "reminder": "Rappel",
    "overdue": "Alerte retard",
    "digest": "Récapitulatif",
    "candidate_info": "Information candidats",
    "invitation": "Invitation jury",
}
WEEKDAYS: Final = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
DONE_LINK_BY: Final = "lien e-mail"
CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Feeds:
    """Keeps the stored feeds up to date with the configuration, lazily, under one lock."""

    def __init__(
        self,
        config_dir: Path,
        settings: Settings,
        store: Store,
        clock: Clock,
        source: ConfigSource | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.settings = settings
        self.store = store
        self.clock = clock
        self.source = source or ConfigSource(config_dir, settings.ruleset)
        self.targets = {t.name: t for t in settings.targets if t.kind == "feed"}
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] | None = None
        self._names: dict[str, str] = {}

    def refresh(self) -> None:
        """Re-plan and update every feed when the config, the day or the done marks changed."""
        with self._lock:
            now = self.clock()
            config = self.source.current()
            zones = {c.timezone for c in config.centres.values()} or {"Europe/Paris"}
            days = tuple(sorted(str(now.astimezone(ZoneInfo(z)).date()) for z in zones))
            marks = hashlib.sha256(repr(sorted(self.store.done_marks().items())).encode())
            state = (self.source.generation, id(config), days, marks.hexdigest())
            if state == self._fingerprint:
                return
            self._names = {cid: c.name for cid, c in config.centres.items()}
            planned = plan_all(config, now, self.store)
            for target in self.targets.values():
                desired = desired_items(target, planned, self.settings.dashboard_url)
                recorded = self.store.recorded(target.name).values()
                feed.refresh(
                    target.name,
                    desired,
                    self.store,
                    now,
                    protected_sessions(config, recorded, self.store),
                )
            self._fingerprint = state

    def target_for(self, token: str) -> TargetSettings | None:
        if not TOKEN_RE.match(token):
            return None
        name = self.store.feed_for_token(token)
        return self.targets.get(name) if name else None

    def render(self, target: TargetSettings) -> feed.Feed:
        self.refresh()
        return feed.render(
            target.name,
            self.store,
            audience.calendar_name(target.audience, self._names),
            self.settings.feeds.refresh_minutes,
        )


# --- presentation helpers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChecklistRow:
    """One line of a session's checklist table."""

    m: Milestone
    mark: Mark | None
    origin: str | None
    """``store`` (marked here or by the CLI), ``file`` (``done:`` of the session file) or None."""
    intro: str
    todo: list[str]


@dataclass(frozen=True, slots=True)
class TargetRow:
    t: TargetSettings
    audience: str
    state: TargetState
    published: int
    errors: int
    url: str | None


def fr_date(day: date | None) -> str:
    return "" if day is None else f"{day:%d/%m/%Y}"


def fr_day(day: date | None) -> str:
    return "" if day is None else f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"


def fr_moment(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")


def roles(milestone: Milestone) -> str:
    return ", ".join(ROLE_LABELS.get(r, r) for r in milestone.audience)


def audience_label(value: str, centres: Mapping[str, Centre]) -> str:
    kind, who = audience.parse(value)
    if kind == "coordinators":
        centre = centres.get(who)
        return f"Coordination — {centre.name if centre else who}"
    if kind == "session_manager":
        return f"Responsable de session {who}"
    if kind == "jury":
        return f"Jury — {who}"
    return "Toutes les sessions"


def _without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part, for display."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def safe_next(value: str | None) -> str:
    """A local path to go back to after login (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("syncsvc.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fr_date=fr_date, fr_day=fr_day, fr_moment=fr_moment, roles=roles)
    env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        KIND_LABELS=KIND_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS,
        MAIL_KINDS=MAIL_KINDS,
        OUTBOX_LABELS=OUTBOX_LABELS,
        TARGET_KINDS=TARGET_KINDS,
    )
    return env


# --- security headers ----------------------------------------------------------------------


class SecurityHeaders:
    """Adds headers that keep tokens out of Referer and pages out of frames (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                ]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    extra.append((b"content-security-policy", CSP.encode()))
                headers += [(k, v) for k, v in extra if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- the application -----------------------------------------------------------------------


@dataclass
class Context:
    """A request of a logged-in user."""

    request: Request
    user: auth.User
    session: auth.WebSession
    new_cookie: bool
    via_header: bool


Form = dict[str, str]


class FormError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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


class Web:
    """State shared by the routes of one application."""

    def __init__(
        self,
        config_dir: Path,
        settings: Settings,
        store: Store,
        clock: Clock,
        status: ProcessStatus | None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.status = status
        self.source = ConfigSource(config_dir, settings.ruleset)
        self.board = Board(self.source, store)
        self.feeds = Feeds(config_dir, settings, store, clock, self.source)
        self.key = secret_key(settings)
        self.cookie_key = auth.derive_key(self.key, "session-cookie")
        self.env = _environment()
        self.users = {u.login: u for u in settings.web.users}

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
        return auth.User(value, known.name if known and known.name else value)

    def context(self, request: Request) -> Context | None:
        session = self.web_session(request)
        user = self.header_user(request)
        if user is not None:
            if session is None:
                return Context(request, user, auth.new_session(None, self.clock()), True, True)
            return Context(request, user, session, False, True)
        if session is None or session.login is None:
            return None
        known = self.users.get(session.login)
        if known is None:
            return None
        return Context(
            request, auth.User(known.login, known.name or known.login), session, False, False
        )

    def set_cookie(self, response: Response, request: Request, session: auth.WebSession) -> None:
        response.set_cookie(
            auth.COOKIE_NAME,
            auth.encode_session(self.cookie_key, session),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )

    # -- rendering ------------------------------------------------------------------------

    def html(
        self,
        request: Request,
        template: str,
        *,
        status_code: int = 200,
        ctx: Context | None = None,
        session: auth.WebSession | None = None,
        new_cookie: bool = False,
        splice: Mapping[str, bytes] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        """Render ``template``; each ``splice`` name is a ``{{ name }}`` replaced by ready bytes."""
        if ctx is not None:
            session, new_cookie = ctx.session, ctx.new_cookie
        marks = {name: f"\x00{name}\x00" for name in splice or {}}
        text = self.env.get_template(template).render(
            user=ctx.user if ctx else None,
            via_header=ctx.via_header if ctx else False,
            csrf=session.csrf if session else "",
            path=request.url.path,
            **values,
            **{name: Markup(mark) for name, mark in marks.items()},
        )
        body = text.encode()
        for name, mark in marks.items():
            assert splice is not None
            body = body.replace(mark.encode(), splice[name], 1)
        response = HTMLResponse(body, status_code=status_code)
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
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise FormError(413, "Formulaire trop volumineux.")
        if not body:
            return {}  # an empty POST: nothing, not even a CSRF token
        if content_type != "application/x-www-form-urlencoded":
            raise FormError(415, "Formulaire attendu (application/x-www-form-urlencoded).")
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            raise FormError(400, "Formulaire illisible.") from None
        form: Form = {}
        for key, value in pairs:
            form.setdefault(key, value)
        return form


def protected(
    web: Web,
) -> Callable[[Callable[[Context], Response]], Callable[[Request], Response]]:
    """A GET page for logged-in users; others go to the login form (run in the threadpool)."""

    def decorate(page: Callable[[Context], Response]) -> Callable[[Request], Response]:
        @wraps(page)
        def endpoint(request: Request) -> Response:
            ctx = web.context(request)
            if ctx is None:
                return to_login(request)
            return page(ctx)

        return endpoint

    return decorate


def action(
    web: Web,
) -> Callable[[Callable[[Context, Form], Response]], Callable[[Request], Awaitable[Response]]]:
    """A POST for logged-in users with a valid CSRF token; the work runs in the threadpool."""

    def decorate(
        work: Callable[[Context, Form], Response],
    ) -> Callable[[Request], Awaitable[Response]]:
        @wraps(work)
        async def endpoint(request: Request) -> Response:
            ctx = web.context(request)
            if ctx is None:
                return to_login(request)
            try:
                form = await web.form(request)
            except FormError as exc:
                return web.error(request, exc.status, "Requête refusée", exc.message, ctx)
            if ctx.new_cookie or not auth.csrf_ok(ctx.session, form.get("csrf")):
                return csrf_refused(web, request, ctx)
            return await run_in_threadpool(work, ctx, form)

        return endpoint

    return decorate


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


def create_app(
    config_dir: Path,
    settings: Settings,
    store: Store,
    clock: Clock = utcnow,
    status: ProcessStatus | None = None,
) -> Starlette:
    """The web application; ``status`` (the daemon's counters) feeds /readyz and /metrics.

    Without ``status`` (``syncsvc serve``, no scheduler in the process) /readyz only checks that
    the store answers.
    """
    web = Web(config_dir, settings, store, clock, status)
    feeds = web.feeds

    # -- feeds and health -----------------------------------------------------------------

    def serve_feed(request: Request) -> Response:
        target = feeds.target_for(request.path_params["token"])
        if target is None:
            log.info("GET /feeds/… 404")
            return PlainTextResponse("Introuvable\n", status_code=404)
        published = feeds.render(target)
        headers = {
            "ETag": published.etag,
            "Cache-Control": "private, max-age=300",
            "Content-Disposition": f'inline; filename="{target.name}.ics"',
        }
        if published.etag in request.headers.get("if-none-match", ""):
            log.info("GET /feeds/… (%s) 304", target.name)
            return Response(status_code=304, headers=headers)
        log.info("GET /feeds/… (%s) 200, %d éléments", target.name, published.items)
        return Response(published.body, media_type="text/calendar; charset=utf-8", headers=headers)

    def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    def readyz(_: Request) -> Response:
        ready, reason = readiness(web)
        return PlainTextResponse(reason + "\n", status_code=200 if ready else 503)

    def metrics_page(_: Request) -> Response:
        body = metrics.exposition(metric_families(web))
        return Response(body, media_type=metrics.CONTENT_TYPE)

    # -- login ----------------------------------------------------------------------------

    def login_form(request: Request) -> Response:
        session = web.web_session(request)
        new = session is None
        session = session or auth.new_session(None, clock())
        return web.html(
            request,
            "login.j2",
            session=session,
            new_cookie=new,
            next=safe_next(request.query_params.get("next")),
            login="",
            failed=False,
            left="sortie" in request.query_params,
            no_users=not settings.web.users,
            header_hint=settings.web.auth_header,
        )

    throttle = LoginThrottle()

    async def checked_form(request: Request) -> tuple[Any, dict[str, str]] | Response:
        """The posted form and the visitor's session, or the refusal (bad form, bad CSRF)."""
        session = web.web_session(request)
        try:
            form = await web.form(request)
        except FormError as exc:
            return web.error(request, exc.status, "Requête refusée", exc.message)
        if not auth.csrf_ok(session, form.get("csrf")):
            return csrf_refused(web, request)
        return session, form

    async def login_submit(request: Request) -> Response:
        checked = await checked_form(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        assert session is not None
        login, password = form.get("login", "").strip(), form.get("password", "")
        if throttle.blocked(login, clock()):
            log.info("connexion refusée : trop de tentatives")
            return web.error(
                request,
                429,
                "Trop de tentatives",
                "Trop de tentatives de connexion pour cet identifiant : réessayez dans quelques "
                "minutes.",
            )
        user = await run_in_threadpool(auth.authenticate, settings.web.users, login, password)
        if user is None:
            throttle.failed(login, clock())
            log.info("connexion refusée")
            return web.html(
                request,
                "login.j2",
                status_code=200,
                session=session,
                next=safe_next(form.get("next")),
                login=login,
                failed=True,
                left=False,
                no_users=not settings.web.users,
                header_hint=settings.web.auth_header,
            )
        log.info("connexion de %s", user.login)
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        web.set_cookie(response, request, auth.new_session(user.login, clock()))
        return response

    def logout_form(request: Request) -> Response:
        ctx = web.context(request)
        if ctx is None:
            return RedirectResponse("/login", status_code=303)
        return web.html(request, "logout.j2", ctx=ctx)

    async def logout_submit(request: Request) -> Response:
        checked = await checked_form(request)
        if isinstance(checked, Response):
            return checked
        response = RedirectResponse("/login?sortie=1", status_code=303)
        web.set_cookie(response, request, auth.new_session(None, clock()))
        return response

    # -- pages ----------------------------------------------------------------------------

    @protected(web)
    def dashboard(ctx: Context) -> Response:
        try:
            snapshot = web.board.snapshot(clock())
        except ConfigError as exc:
            return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
        table = snapshot.fragments.get("sessions")
        if table is None:
            template = web.env.get_template("_sessions_table.j2")
            table = template.render(views=snapshot.views).encode()
            snapshot.fragments["sessions"] = table
        # The big table is spliced in as bytes: a page for 1,000 sessions then costs its
        # header, not a copy of the whole table per request.
        return web.html(
            ctx.request,
            "dashboard.j2",
            ctx=ctx,
            splice={"sessions": table},
            count=len(snapshot.views),
            problems=[str(p) for p in snapshot.config.problems],
            totals=snapshot.milestone_counts,
            now=clock(),
        )

    @protected(web)
    def session_page(ctx: Context) -> Response:
        request = ctx.request
        try:
            snapshot = web.board.snapshot(clock())
        except ConfigError as exc:
            return web.error(request, 503, "Configuration illisible", str(exc), ctx)
        session_id = request.path_params["session_id"]
        view = snapshot.by_id.get(session_id)
        if view is None:
            message = (
                "Le fichier de cette session contient des erreurs : le tableau de bord les liste."
                if session_id in snapshot.config.broken_session_ids
                else "Aucune session ne porte cet identifiant."
            )
            return web.error(request, 404, "Session introuvable", message, ctx)
        session = view.session
        horizon = max(session.end, view.today) + TIMELINE_TAIL
        svg = timeline_svg(
            view.milestones,
            view.today,
            horizon=horizon,
            title=f"Chronologie de la session {session.short_label} ({session.title.label})",
        )
        rows = []
        for m in view.milestones:
            mark = snapshot.marks.get((session.id, m.id))
            intro, items = checklist(m.rule.description)
            origin = "store" if mark else ("file" if m.done_on else None)
            rows.append(ChecklistRow(m, mark, origin, intro, items))
        flash = None
        done_id = request.query_params.get("fait")
        undone_id = request.query_params.get("annule")
        titles = {m.id: m.title for m in view.milestones}
        if done_id in titles:
            flash = f"« {titles[done_id]} » est marqué fait."
        elif undone_id in titles:
            flash = f"La marque « fait » de « {titles[undone_id]} » est retirée."
        return web.html(
            request,
            "session.j2",
            ctx=ctx,
            view=view,
            s=session,
            rows=rows,
            svg=Markup(svg),
            flash=flash,
            problems=[
                str(p)
                for p in snapshot.config.problems
                if p.file == str(snapshot.config.session_files.get(session.id, ""))
            ],
        )

    def _milestone_of(ctx: Context) -> tuple[SessionView, Milestone] | Response:
        request = ctx.request
        try:
            snapshot = web.board.snapshot(clock())
        except ConfigError as exc:
            return web.error(request, 503, "Configuration illisible", str(exc), ctx)
        view = snapshot.by_id.get(request.path_params["session_id"])
        milestone_id = request.path_params["milestone_id"]
        found = next((m for m in view.milestones if m.id == milestone_id), None) if view else None
        if view is None or found is None:
            return web.error(
                request, 404, "Jalon introuvable", "Cette session ou ce jalon n'existe pas.", ctx
            )
        return view, found

    @action(web)
    def mark_done(ctx: Context, form: Form) -> Response:
        found = _milestone_of(ctx)
        if isinstance(found, Response):
            return found
        view, milestone = found
        request = ctx.request
        try:
            on = date.fromisoformat(form.get("done_on", "").strip() or view.today.isoformat())
        except ValueError:
            return web.error(
                request, 400, "Date illisible", "Indiquez la date au format jj/mm/aaaa.", ctx
            )
        if on > view.today:
            return web.error(
                request,
                400,
                "Date dans le futur",
                f"« Fait le » ne peut pas être après aujourd'hui ({fr_date(view.today)}).",
                ctx,
            )
        by = " ".join(form.get("by", "").split())[:MAX_BY] or ctx.user.name
        note = form.get("note", "").strip()[:MAX_NOTE] or None
        store.mark_done(view.session.id, milestone.id, on, by, note, clock())
        log.info("%s / %s marqué fait par %s", view.session.id, milestone.id, ctx.user.login)
        return RedirectResponse(
            f"/sessions/{quote(view.session.id)}?fait={quote(milestone.id)}#m-{milestone.id}",
            status_code=303,
        )

    @action(web)
    def mark_undone(ctx: Context, form: Form) -> Response:
        found = _milestone_of(ctx)
        if isinstance(found, Response):
            return found
        view, milestone = found
        store.mark_undone(view.session.id, milestone.id)
        log.info("%s / %s : marque retirée par %s", view.session.id, milestone.id, ctx.user.login)
        return RedirectResponse(
            f"/sessions/{quote(view.session.id)}?annule={quote(milestone.id)}#m-{milestone.id}",
            status_code=303,
        )

    @protected(web)
    def outbox_page(ctx: Context) -> Response:
        counts = store.outbox_counts()
        groups = {state: store.messages(state, limit=200) for state in OUTBOX_STATES}
        query = ctx.request.query_params
        resent, missing = query.get("renvoye", ""), query.get("introuvable", "")
        return web.html(
            ctx.request,
            "outbox.j2",
            ctx=ctx,
            counts=counts,
            groups=groups,
            resent=resent if resent.isdigit() else None,  # never reflect arbitrary text
            missing=missing if missing.isdigit() else None,
        )

    @action(web)
    def resend(ctx: Context, form: Form) -> Response:
        message = int(ctx.request.path_params["message_id"])
        if store.resend(message, clock()):
            log.info("envoi %d remis en file par %s", message, ctx.user.login)
            return RedirectResponse(f"/outbox?renvoye={message}", status_code=303)
        return RedirectResponse(f"/outbox?introuvable={message}", status_code=303)

    @protected(web)
    def targets_page(ctx: Context) -> Response:
        now = clock()
        try:
            centres = web.source.current().centres
        except ConfigError:
            centres = {}
        items = store.item_counts()
        errors = store.item_error_counts()
        base = settings.feeds.base_url.rstrip("/")
        rows = []
        for target in settings.targets:
            url = None
            if target.kind == "feed":
                url = f"{base}/feeds/{store.feed_token(target.name, now)}.ics"
            elif target.kind == "caldav" and target.url:
                url = _without_userinfo(target.url)
            rows.append(
                TargetRow(
                    target,
                    audience_label(target.audience, centres),
                    store.target_state(target.name),
                    items.get(target.name, 0),
                    errors.get(target.name, 0),
                    url,
                )
            )
        return web.html(ctx.request, "targets.j2", ctx=ctx, rows=rows)

    # -- done links from mails ------------------------------------------------------------

    def _link_target(request: Request, token: str) -> tuple[SessionView, Milestone] | None:
        session_id = request.path_params["session_id"]
        milestone_id = request.path_params["milestone_id"]
        if not token or len(token) > 200:
            return None
        if not links.verify(web.key, session_id, milestone_id, token, clock()):
            return None
        try:
            view = web.board.snapshot(clock()).by_id.get(session_id)
        except ConfigError:
            return None
        found = next((m for m in view.milestones if m.id == milestone_id), None) if view else None
        return (view, found) if view is not None and found is not None else None

    def link_refused(request: Request) -> Response:
        log.info("%s /done/… 403", request.method)
        return web.error(
            request,
            403,
            "Lien non valide",
            "Ce lien n'est pas valide ou a expiré. Ouvrez le tableau de bord pour marquer "
            "l'échéance comme faite.",
        )

    def done_link(request: Request) -> Response:
        token = request.query_params.get("t", "")
        found = _link_target(request, token)
        if found is None:
            return link_refused(request)
        view, milestone = found
        return web.html(request, "done.j2", view=view, m=milestone, token=token, noted=False)

    async def done_link_submit(request: Request) -> Response:
        try:
            form = await web.form(request)
        except FormError as exc:
            return web.error(request, exc.status, "Requête refusée", exc.message)
        token = form.get("t") or request.query_params.get("t", "")

        def work() -> Response:
            found = _link_target(request, token)
            if found is None:
                return link_refused(request)
            view, milestone = found
            if milestone.status == "done":  # a second click keeps the first mark
                return web.html(request, "done.j2", view=view, m=milestone, token="", noted=False)
            store.mark_done(view.session.id, milestone.id, view.today, DONE_LINK_BY, None, clock())
            log.info("%s / %s marqué fait par lien e-mail", view.session.id, milestone.id)
            milestone = next(
                m
                for m in web.board.snapshot(clock()).by_id[view.session.id].milestones
                if m.id == milestone.id
            )
            return web.html(request, "done.j2", view=view, m=milestone, token="", noted=True)

        return await run_in_threadpool(work)

    # -- errors ---------------------------------------------------------------------------

    async def not_found(request: Request, exc: Exception) -> Response:
        if "text/html" not in request.headers.get("accept", ""):
            return PlainTextResponse("Introuvable\n", status_code=404)
        return web.error(request, 404, "Page introuvable", "Cette adresse ne mène à rien.")

    static = Path(__file__).parent / "static"
    app = Starlette(
        routes=[
            Route("/", dashboard),
            Route("/sessions/{session_id}", session_page),
            Route(
                "/sessions/{session_id}/milestones/{milestone_id}/done", mark_done, methods=["POST"]
            ),
            Route(
                "/sessions/{session_id}/milestones/{milestone_id}/undone",
                mark_undone,
                methods=["POST"],
            ),
            Route("/outbox", outbox_page),
            Route("/outbox/{message_id:int}/resend", resend, methods=["POST"]),
            Route("/targets", targets_page),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login_submit, methods=["POST"]),
            Route("/logout", logout_form, methods=["GET"]),
            Route("/logout", logout_submit, methods=["POST"]),
            Route("/done/{session_id}/{milestone_id}", done_link, methods=["GET"]),
            Route("/done/{session_id}/{milestone_id}", done_link_submit, methods=["POST"]),
            Route("/feeds/{token}.ics", serve_feed, methods=["GET", "HEAD"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_page),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ],
        exception_handlers={404: not_found},
    )
    app.add_middleware(SecurityHeaders)
    app.state.feeds = feeds
    app.state.web = web
    return app


# --- readiness and metrics -----------------------------------------------------------------


def readiness(web: Web) -> tuple[bool, str]:
    """(ready, French reason): the store answers and the last reconcile succeeded recently."""
    try:
        web.store.version()
    except Exception as exc:  # any driver error means "not reachable"
        log.warning("readyz : base d'état injoignable (%s)", type(exc).__name__)
        return False, "base d'état injoignable"
    status = web.status
    if status is None:
        return True, "prêt (aucune synchronisation suivie par ce processus)"
    limit = web.settings.web.ready_within_minutes
    at, ok = status.last_reconcile_at, status.last_reconcile_ok
    if at is None or ok is None:
        return False, "aucune synchronisation terminée depuis le démarrage"
    if not ok:
        return False, f"la dernière synchronisation a échoué ({fr_moment(at)})"
    age = web.clock() - at
    if age > timedelta(minutes=limit):
        minutes = int(age.total_seconds() // 60)
        return False, (
            f"dernière synchronisation réussie il y a {minutes} min (limite : {limit} min)"
        )
    return True, f"prêt (dernière synchronisation réussie : {fr_moment(at)})"


def _per_target(values: Mapping[str, float], names: Iterable[str]) -> tuple[metrics.Sample, ...]:
    keys = sorted(set(names) | set(values))
    return tuple(metrics.Sample(float(values.get(k, 0)), {"target": k}) for k in keys)


def metric_families(web: Web) -> list[metrics.Family]:
    status = web.status or ProcessStatus()
    targets = [t.name for t in web.settings.targets]
    F, S = metrics.Family, metrics.Sample
    runs = dict(status.reconcile_runs)
    summary: list[metrics.Sample] = []
    for name in sorted(set(targets) | set(runs)):
        labels = {"target": name}
        summary.append(S(status.reconcile_seconds_total.get(name, 0.0), labels, "_sum"))
        summary.append(S(float(runs.get(name, 0)), labels, "_count"))
    outbox = {"pending": 0, "sent": 0, "dead": 0, **web.store.outbox_counts()}
    families = [
        F(
            "syncsvc_reconcile_runs_total",
            "counter",
            "Passes de synchronisation par cible depuis le démarrage du processus.",
            _per_target(runs, targets),
        ),
        F(
            "syncsvc_reconcile_errors_total",
            "counter",
            "Passes de synchronisation en erreur par cible depuis le démarrage du processus.",
            _per_target(dict(status.reconcile_errors), targets),
        ),
        F(
            "syncsvc_reconcile_duration_seconds",
            "summary",
            "Durée des passes de synchronisation par cible (somme et nombre).",
            tuple(summary),
        ),
        F(
            "syncsvc_reconcile_last_duration_seconds",
            "gauge",
            "Durée de la dernière passe de synchronisation par cible.",
            tuple(
                S(seconds, {"target": name})
                for name, seconds in sorted(status.reconcile_seconds.items())
            ),
        ),
        F(
            "syncsvc_last_reconcile_timestamp_seconds",
            "gauge",
            "Fin de la dernière passe de synchronisation (secondes depuis l'époque Unix).",
            (S(status.last_reconcile_at.timestamp()),) if status.last_reconcile_at else (),
        ),
        F(
            "syncsvc_last_reconcile_success",
            "gauge",
            "1 si la dernière passe de synchronisation a réussi sur toutes les cibles, sinon 0.",
            (S(1.0 if status.last_reconcile_ok else 0.0),)
            if status.last_reconcile_ok is not None
            else (),
        ),
        F(
            "syncsvc_items",
            "gauge",
            "Éléments enregistrés comme publiés, par cible.",
            _per_target(web.store.item_counts(), targets),
        ),
        F(
            "syncsvc_item_errors",
            "gauge",
            "Éléments en erreur lors de la dernière tentative, par cible.",
            _per_target(web.store.item_error_counts(), targets),
        ),
        F(
            "syncsvc_outbox_messages",
            "gauge",
            "Messages de la file d'envoi par état (pending, sent, dead).",
            tuple(S(float(n), {"state": state}) for state, n in sorted(outbox.items())),
        ),
        F(
            "syncsvc_mails_sent_total",
            "counter",
            "Messages remis au relais depuis le démarrage du processus.",
            (S(float(status.mails_sent)),),
        ),
        F(
            "syncsvc_mails_failed_total",
            "counter",
            "Envois échoués depuis le démarrage du processus.",
            (S(float(status.mails_failed)),),
        ),
    ]
    try:
        snapshot = web.board.snapshot(web.clock())
    except ConfigError:
        return families
    counts = snapshot.milestone_counts
    families += [
        F(
            "syncsvc_milestones",
            "gauge",
            "Jalons des sessions non annulées, par statut, à l'heure du service.",
            tuple(S(float(counts[s]), {"status": s}) for s in STATUSES),
        ),
        F(
            "syncsvc_overdue_milestones",
            "gauge",
            "Jalons en retard des sessions non annulées.",
            (S(float(counts["overdue"])),),
        ),
        F(
            "syncsvc_sessions",
            "gauge",
            "Sessions chargées depuis la configuration.",
            (S(float(len(snapshot.views))),),
        ),
        F(
            "syncsvc_config_problems",
            "gauge",
            "Problèmes de chargement de la configuration (fichiers en erreur).",
            (S(float(len(snapshot.config.problems))),),
        ),
    ]
    return families
