"""The dashboard, feeds, done links, health and metrics (Starlette, Jinja2): the web face.

One module per page group, each exporting its ``ROUTES``; :func:`create_app` puts them
together. Pages render French HTML on the server; a few lines of CSS, no JavaScript framework.

Access:

- the dashboard and its actions require a logged-in user: ``[[web.users]]`` of ``syncsvc.toml``
  (scrypt hashes from ``syncsvc hash-password``, see :mod:`syncsvc.web.auth`, upgraded at a
  login by :mod:`syncsvc.web.passwords`; throttling in :mod:`syncsvc.web.throttle`), or, when
  ``web.auth_header`` is set, the user named by that header (set by an authenticating reverse
  proxy: the service must then be reachable through that proxy only);
- a login opens a session in the store, logging out closes it (:mod:`syncsvc.web.auth`);
  a user's role (admin, coordinator, viewer) decides who acts and who sees candidates' names
  and addresses (:mod:`syncsvc.web.privacy`);
- every POST form carries a CSRF token checked against the signed session cookie, and a POST
  the browser says comes from another site is refused (:mod:`syncsvc.web.origin`);
- ``/feeds/<token>.ics``, ``/done/<session>/<milestone>?t=<token>`` and a juror's
  ``/jury/<session>/<sequence>/<answer>?a=<e-mail>&t=<token>`` carry their own tokens; a wrong
  token is a 404 (feeds) or a 403 (links) that says nothing more;
- ``/healthz`` and ``/readyz`` are open and carry no personal data; ``/metrics`` shows
  aggregate figures only, or per target (never by name unless asked) behind a bearer token
  (``[web] metrics_token_env``, see :mod:`syncsvc.web.metrics`).

The secret key (environment variable named by ``Settings.secret_key_env``) signs session
cookies and verifies done links. When it is not set, a random key is drawn for this process:
sessions then end at every restart and no done link from a mail can be verified (the mailer
only puts links in mails when the key is set).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncsvc.app.feeds import FeedPublisher
from syncsvc.app.status import ProcessStatus
from syncsvc.core.clock import Clock
from syncsvc.inputs.settings import Settings
from syncsvc.inputs.watcher import ConfigSource
from syncsvc.state.store import Store
from syncsvc.web import (
    authoring,
    centres,
    done_links,
    feeds,
    health,
    jury,
    jury_directory,
    jury_links,
    login,
    metrics,
    outbox,
    repair,
    sessions,
    spreadsheets,
    targets,
)
from syncsvc.web.common import Web, static_folder, web_of
from syncsvc.web.passwords import LoginGuard

CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


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


async def not_found(request: Request, exc: Exception) -> Response:
    if "text/html" not in request.headers.get("accept", ""):
        return PlainTextResponse("Introuvable\n", status_code=404)
    return web_of(request).error(request, 404, "Page introuvable", "Cette adresse ne mène à rien.")


def create_app(
    config: Path | ConfigSource,
    settings: Settings,
    store: Store,
    clock: Clock = utcnow,
    status: ProcessStatus | None = None,
    on_marked: Callable[[], None] | None = None,
    *,
    guard: LoginGuard | None = None,
    publisher: FeedPublisher | None = None,
) -> Starlette:
    """The web application over the configuration folder (or the process's own source).

    ``status`` (the daemon's counters) feeds /readyz and /metrics; without it (``syncsvc
    serve``) /readyz only checks that the store answers. ``on_marked`` is called after a
    milestone is marked done or undone (the daemon then reconciles the calendars). ``guard``
    protects the login form (throttle, hash cost): the service's own unless a test injects one.
    ``publisher``: the process's feed publisher (the daemon's, which its passes keep up to date and
    whose rendered entries are shared), else one of this application's own.
    """
    source = config if isinstance(config, ConfigSource) else ConfigSource(config, settings.ruleset)
    routes = [
        *authoring.ROUTES,
        *repair.ROUTES,
        *sessions.ROUTES,
        *jury.ROUTES,
        *jury_directory.ROUTES,
        *centres.ROUTES,
        *outbox.ROUTES,
        *targets.ROUTES,
        *spreadsheets.ROUTES,
        *login.ROUTES,
        *done_links.ROUTES,
        *jury_links.ROUTES,
        *feeds.ROUTES,
        *health.ROUTES,
        *metrics.ROUTES,
        Mount("/static", StaticFiles(directory=static_folder()), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.add_middleware(SecurityHeaders)
    app.state.web = Web(source, settings, store, clock, status, on_marked, publisher)
    app.state.guard = guard or LoginGuard()
    return app
