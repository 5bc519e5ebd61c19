"""``/metrics`` (Prometheus): aggregate figures when open, per target behind a bearer token.

- Without ``[web] metrics_token_env``, /metrics is open and shows aggregate figures only: the
  passes, errors and items summed over all targets, the mail queue, the plan. No ``target``
  label, so nothing that names a person (targets are often named after one:
  ``responsable-chabert``, ``flux-jury-maillot``).
- With ``metrics_token_env = "VAR"``, /metrics requires ``Authorization: Bearer <value of
  VAR>`` (401 otherwise) and adds the per-target series. While ``VAR`` is not set, /metrics
  answers 503: it never opens by mistake. The token never reaches a log line.
- Per-target series are labelled ``target="<kind>-<rank>"`` (``caldav-1``, ``feed-4``: the
  rank among the targets of that kind in ``syncsvc.toml``) and ``audience="<audience kind>"``
  (``coordinators``, ``session_manager``, ``jury``, ``all``). ``metrics_target_names = true``
  labels them by their names instead, for an administrator who wants them.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Mapping
from typing import Final, Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from syncsvc.app.board import STATUSES
from syncsvc.app.status import ProcessStatus
from syncsvc.errors import ConfigError
from syncsvc.formats import prometheus as metrics
from syncsvc.inputs.settings import TargetSettings
from syncsvc.web.common import Web, log, web_of

TargetLabels = dict[str, dict[str, str]]
"""The labels of each configured target, by its name, in the order of ``syncsvc.toml``."""
PER_TARGET_LABELS: Final = ("target", "audience")
PER_TARGET_ONLY: Final = frozenset({"syncsvc_reconcile_last_duration_seconds"})
"""Families that mean nothing once summed over the targets: left out of the open figures."""


def target_labels(targets: Iterable[TargetSettings], *, names: bool = False) -> TargetLabels:
    """``{"target": "caldav-1", "audience": "coordinators"}``… for each target (or its name)."""
    ranks: dict[str, int] = {}
    labels: TargetLabels = {}
    for target in targets:
        ranks[target.kind] = ranks.get(target.kind, 0) + 1
        shown = target.name if names else f"{target.kind}-{ranks[target.kind]}"
        labels[target.name] = {"target": shown, "audience": target.audience.partition(":")[0]}
    return labels


def _per_target(values: Mapping[str, float], targets: TargetLabels) -> tuple[metrics.Sample, ...]:
    """One sample per configured target (a name the settings no longer know is left out)."""
    return tuple(
        metrics.Sample(float(values.get(name, 0)), labels) for name, labels in targets.items()
    )


def metric_families(web: Web) -> list[metrics.Family]:
    """Every family ``/metrics`` shows in full: this process's passes, the store, the plan."""
    status = web.status or ProcessStatus()
    targets = target_labels(web.settings.targets, names=web.settings.web.metrics_target_names)
    return [
        *_pass_families(status, targets),
        *_store_families(web, targets),
        *_plan_families(web),
    ]


def _durations(status: ProcessStatus, targets: TargetLabels) -> tuple[metrics.Sample, ...]:
    """The ``_sum`` and ``_count`` samples of the pass-duration summary, per target."""
    summary: list[metrics.Sample] = []
    for name, labels in targets.items():
        total = status.reconcile_seconds_total.get(name, 0.0)
        summary.append(metrics.Sample(total, labels, "_sum"))
        summary.append(metrics.Sample(float(status.reconcile_runs.get(name, 0)), labels, "_count"))
    return tuple(summary)


def _pass_families(status: ProcessStatus, targets: TargetLabels) -> list[metrics.Family]:
    family, sample = metrics.Family, metrics.Sample
    runs = dict(status.reconcile_runs)
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
            _durations(status, targets),
        ),
        family(
            "syncsvc_reconcile_last_duration_seconds",
            "gauge",
            "Durée de la dernière passe de synchronisation par cible.",
            tuple(
                sample(status.reconcile_seconds[name], labels)
                for name, labels in targets.items()
                if name in status.reconcile_seconds
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


def _store_families(web: Web, targets: TargetLabels) -> list[metrics.Family]:
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


def aggregate(families: Iterable[metrics.Family]) -> list[metrics.Family]:
    """The families with their per-target samples summed (what open /metrics shows)."""
    summed: list[metrics.Family] = []
    for family in families:
        if family.name in PER_TARGET_ONLY:
            continue
        if not any("target" in s.labels for s in family.samples):
            summed.append(family)
            continue
        totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for s in family.samples:
            rest = tuple((k, v) for k, v in s.labels.items() if k not in PER_TARGET_LABELS)
            totals[(s.suffix, rest)] = totals.get((s.suffix, rest), 0.0) + s.value
        samples = tuple(
            metrics.Sample(value, dict(rest), suffix) for (suffix, rest), value in totals.items()
        )
        summed.append(metrics.Family(family.name, family.type, family.help, samples))
    return summed


def access(web: Web, request: Request) -> Literal["full", "aggregate"] | Response:
    """What this request may see, or the refusal (401 without the token, 503 without one)."""
    variable = web.settings.web.metrics_token_env
    if variable is None:
        return "aggregate"
    expected = os.environ.get(variable, "")
    if not expected:
        log.warning("/metrics 503 : la variable %s n'est pas définie", variable)
        return PlainTextResponse(
            f"/metrics fermé : la variable d'environnement {variable} n'est pas définie\n",
            status_code=503,
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "replace"), expected.encode("utf-8")
    ):
        return "full"
    log.info("/metrics 401 : jeton absent ou invalide")
    return PlainTextResponse(
        "Jeton requis (Authorization: Bearer …)\n",
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="syncsvc-metrics"'},
    )


async def metrics_page(request: Request) -> Response:
    web = web_of(request)
    allowed = access(web, request)
    if isinstance(allowed, Response):
        return allowed
    families = await run_in_threadpool(metric_families, web)
    if allowed == "aggregate":
        families = aggregate(families)
    return Response(metrics.exposition(families), media_type=metrics.CONTENT_TYPE)


ROUTES = [Route("/metrics", metrics_page)]
