"""Health: ``/healthz`` (alive), ``/readyz`` (store and last pass); ``/metrics`` is in
:mod:`syncsvc.web.metrics`.

These pages are open and carry no personal data.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from syncsvc.core.labels import fr_moment
from syncsvc.web.common import Web, log, web_of


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
        why = f" : {status.last_reconcile_problem}" if status.last_reconcile_problem else ""
        return (
            False,
            f"la dernière synchronisation a échoué ({fr_moment(at, web.settings.zone)}){why}",
        )
    if status.last_notify_problem:
        return False, f"le dernier passage des envois a échoué : {status.last_notify_problem}"
    age = web.clock() - at
    if age > timedelta(minutes=limit):
        minutes = int(age.total_seconds() // 60)
        return False, (
            f"dernière synchronisation réussie il y a {minutes} min (limite : {limit} min)"
        )
    return True, f"prêt (dernière synchronisation réussie : {fr_moment(at, web.settings.zone)})"


async def healthz(_: Request) -> Response:
    """Alive: answered in the event loop itself, never queued behind the threadpool."""
    return PlainTextResponse("ok\n")


def readyz(request: Request) -> Response:
    ready, reason = readiness(web_of(request))
    return PlainTextResponse(reason + "\n", status_code=200 if ready else 503)


ROUTES = [
    Route("/healthz", healthz),
    Route("/readyz", readyz),
]
