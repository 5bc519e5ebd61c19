"""Health and metrics: ``/healthz`` (alive), ``/readyz`` (store and last pass), ``/metrics``.

These pages are open and carry no personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from syncsvc.app.board import STATUSES
from syncsvc.app.status import Status as ProcessStatus
from syncsvc.core.labels import fr_moment
from syncsvc.errors import ConfigError
from syncsvc.formats import prometheus as metrics
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
    """Every family ``/metrics`` shows: this process's passes, the store, the plan."""
    status = web.status or ProcessStatus()
    targets = [t.name for t in web.settings.targets]
    return [
        *_pass_families(status, targets),
        *_store_families(web, targets),
        *_plan_families(web),
    ]


def _pass_families(status: ProcessStatus, targets: list[str]) -> list[metrics.Family]:
    family, sample = metrics.Family, metrics.Sample
    runs = dict(status.reconcile_runs)
    summary: list[metrics.Sample] = []
    for name in sorted(set(targets) | set(runs)):
        labels = {"target": name}
        summary.append(sample(status.reconcile_seconds_total.get(name, 0.0), labels, "_sum"))
        summary.append(sample(float(runs.get(name, 0)), labels, "_count"))
    last_at, last_ok = status.last_reconcile_at, status.last_reconcile_ok
    return [
        family(
            "syncsvc_reconcile_runs_total",
            "counter",
            "Passes de synchronisation par cible depuis le démarrage du processus.",
            _per_target(runs, targets),
        ),
        family(
            "syncsvc_reconcile_errors_total",
            "counter",
            "Passes de synchronisation en erreur par cible depuis le démarrage du processus.",
            _per_target(dict(status.reconcile_errors), targets),
        ),
        family(
            "syncsvc_reconcile_duration_seconds",
            "summary",
            "Durée des passes de synchronisation par cible (somme et nombre).",
            tuple(summary),
        ),
        family(
            "syncsvc_reconcile_last_duration_seconds",
            "gauge",
            "Durée de la dernière passe de synchronisation par cible.",
            tuple(
                sample(seconds, {"target": name})
                for name, seconds in sorted(status.reconcile_seconds.items())
            ),
        ),
        family(
            "syncsvc_last_reconcile_timestamp_seconds",
            "gauge",
            "Fin de la dernière passe de synchronisation (secondes depuis l'époque Unix).",
            (sample(last_at.timestamp()),) if last_at else (),
        ),
        family(
            "syncsvc_last_reconcile_success",
            "gauge",
            "1 si la dernière passe de synchronisation a réussi sur toutes les cibles, sinon 0.",
            (sample(1.0 if last_ok else 0.0),) if last_ok is not None else (),
        ),
        family(
            "syncsvc_mails_sent_total",
            "counter",
            "Messages remis au relais depuis le démarrage du processus.",
            (sample(float(status.mails_sent)),),
        ),
        family(
            "syncsvc_mails_failed_total",
            "counter",
            "Envois échoués depuis le démarrage du processus.",
            (sample(float(status.mails_failed)),),
        ),
    ]


def _store_families(web: Web, targets: list[str]) -> list[metrics.Family]:
    family, sample = metrics.Family, metrics.Sample
    outbox = {"pending": 0, "sent": 0, "dead": 0, **web.store.outbox_counts()}
    return [
        family(
            "syncsvc_items",
            "gauge",
            "Éléments enregistrés comme publiés, par cible.",
            _per_target(web.store.item_counts(), targets),
        ),
        family(
            "syncsvc_item_errors",
            "gauge",
            "Éléments en erreur lors de la dernière tentative, par cible.",
            _per_target(web.store.item_error_counts(), targets),
        ),
        family(
            "syncsvc_outbox_messages",
            "gauge",
            "Messages de la file d'envoi par état (pending, sent, dead).",
            tuple(sample(float(n), {"state": state}) for state, n in sorted(outbox.items())),
        ),
    ]


def _plan_families(web: Web) -> list[metrics.Family]:
    family, sample = metrics.Family, metrics.Sample
    try:
        snapshot = web.board.snapshot(web.clock())
    except ConfigError:
        return []
    counts = snapshot.milestone_counts
    return [
        family(
            "syncsvc_milestones",
            "gauge",
            "Jalons des sessions non annulées, par statut, à l'heure du service.",
            tuple(sample(float(counts[s]), {"status": s}) for s in STATUSES),
        ),
        family(
            "syncsvc_overdue_milestones",
            "gauge",
            "Jalons en retard des sessions non annulées.",
            (sample(float(counts["overdue"])),),
        ),
        family(
            "syncsvc_sessions",
            "gauge",
            "Sessions chargées depuis la configuration.",
            (sample(float(len(snapshot.views))),),
        ),
        family(
            "syncsvc_config_problems",
            "gauge",
            "Problèmes de chargement de la configuration (fichiers en erreur).",
            (sample(float(len(snapshot.config.problems))),),
        ),
    ]


async def healthz(_: Request) -> Response:
    """Alive: answered in the event loop itself, never queued behind the threadpool."""
    return PlainTextResponse("ok\n")


def readyz(request: Request) -> Response:
    ready, reason = readiness(web_of(request))
    return PlainTextResponse(reason + "\n", status_code=200 if ready else 503)


def metrics_page(request: Request) -> Response:
    body = metrics.exposition(metric_families(web_of(request)))
    return Response(body, media_type=metrics.CONTENT_TYPE)


ROUTES = [
    Route("/healthz", healthz),
    Route("/readyz", readyz),
    Route("/metrics", metrics_page),
]
