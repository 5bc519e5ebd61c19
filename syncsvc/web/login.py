"""Login and logout: the signed session cookie, a CSRF token on every form, throttling
(:mod:`syncsvc.web.throttle` says the policy).

A login opens a session in the store (a fresh random id in the cookie); logging out closes
it there, so the cookie — or any copy of it — stops working at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.errors import UsageError
from syncsvc.web import auth
from syncsvc.web.common import Form, Web, csrf_refused, log, origin_refused, web_of
from syncsvc.web.passwords import LoginGuard, PoolFull, check_password
from syncsvc.web.throttle import Slot, retry_after, wait_text

BUSY_RETRY_AFTER: Final = 2
"""Seconds to wait when too many logins are being checked at once."""


def safe_next(value: str | None) -> str:
    """A local path to go back to after login (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _login_page(
    web: Web, request: Request, session: auth.WebSession, new_cookie: bool = False, **values: Any
) -> Response:
    return web.html(
        request,
        "login.j2",
        session=session,
        new_cookie=new_cookie,
        no_users=not web.settings.web.users,
        header_hint=web.settings.web.auth_header,
        **values,
    )


def login_form(request: Request) -> Response:
    web = web_of(request)
    session = web.web_session(request)
    return _login_page(
        web,
        request,
        session or auth.new_session(None, web.clock()),
        new_cookie=session is None,
        next=safe_next(request.query_params.get("next")),
        login="",
        failed=False,
        left="sortie" in request.query_params,
    )


async def checked_form(request: Request) -> tuple[auth.WebSession, Form] | Response:
    """The posted form and the visitor's session, or the refusal (another site, bad form, bad
    CSRF)."""
    web = web_of(request)
    if web.from_elsewhere(request):
        return origin_refused(web, request)
    session = web.web_session(request)
    try:
        form = await web.form(request)
    except UsageError as exc:
        return web.error(request, exc.status, "Requête refusée", exc.message)
    if session is None or not auth.csrf_ok(session, form.get("csrf")):
        return csrf_refused(web, request)
    return session, form


def client_address(request: Request) -> str:
    """The client's address (the proxy's ``X-Forwarded-For`` when uvicorn trusts the proxy)."""
    return request.client.host if request.client else "inconnue"


def too_many(web: Web, request: Request, wait: timedelta) -> Response:
    log.info("connexion refusée : trop de tentatives")
    response = web.error(
        request,
        429,
        "Trop de tentatives",
        "Trop de tentatives de connexion pour cet identifiant ou depuis cette adresse : "
        f"réessayez dans {wait_text(wait)}.",
    )
    response.headers["Retry-After"] = str(retry_after(wait))
    return response


def too_busy(web: Web, request: Request) -> Response:
    log.warning("connexion refusée : trop de connexions en cours de vérification")
    response = web.error(
        request,
        429,
        "Service très sollicité",
        "Le service est très sollicité : réessayez dans quelques secondes.",
    )
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


async def login_submit(request: Request) -> Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    web = web_of(request)
    guard: LoginGuard = request.app.state.guard
    throttle = guard.throttle
    session, form = checked
    login, password = form.get("login", "").strip(), form.get("password", "")
    slot = throttle.reserve(login, client_address(request), web.clock())
    if not isinstance(slot, Slot):
        return too_many(web, request, slot)
    try:
        user = await guard.pool.run(check_password, web, guard, login, password)
    except PoolFull:
        throttle.cancel(slot)
        return too_busy(web, request)
    except BaseException:
        throttle.cancel(slot)
        raise
    if user is None:
        log.info("connexion refusée")
        return _login_page(
            web,
            request,
            session,
            next=safe_next(form.get("next")),
            login=login,
            failed=True,
            left=False,
        )
    throttle.succeeded(slot)
    log.info("connexion de %s", user.login)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    web.set_cookie(response, request, await run_in_threadpool(web.open_session, user.login))
    return response


def logout_form(request: Request) -> Response:
    web = web_of(request)
    ctx = web.context(request)
    if ctx is None:
        return RedirectResponse("/login", status_code=303)
    return web.html(request, "logout.j2", ctx=ctx)


async def logout_submit(request: Request) -> Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    web = web_of(request)
    session, _ = checked
    await run_in_threadpool(web.close_session, session)
    log.info("déconnexion%s", f" de {session.login}" if session.login else "")
    response = RedirectResponse("/login?sortie=1", status_code=303)
    web.set_cookie(response, request, auth.new_session(None, web.clock()))
    return response


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout_form, methods=["GET"]),
    Route("/logout", logout_submit, methods=["POST"]),
]
