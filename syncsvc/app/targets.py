"""Configured targets -> adapters: the one place that reads target settings and secrets."""

from __future__ import annotations

import os
from pathlib import Path

from syncsvc.calendars.base import Target
from syncsvc.calendars.quota import RateLimiters
from syncsvc.errors import ConfigError, PermanentError
from syncsvc.inputs.settings import TargetSettings, secret


def address_of(settings: TargetSettings) -> str:
    """Where a target's items go, as its settings say (server and calendar)."""
    if settings.kind == "caldav":
        return f"{settings.url} {settings.calendar}"
    if settings.kind == "graph":
        return f"graph {settings.graph_url} {settings.mailbox} {settings.calendar}"
    return f"{settings.kind} {settings.calendar or ''} {settings.api_endpoint or ''}".strip()


def make_target(settings: TargetSettings, base: Path, limiters: RateLimiters) -> Target:
    """The adapter for one configured push target (``base``: the configuration folder, for
    relative secret paths; ``limiters``: the process's Google quota buckets)."""
    if settings.kind == "caldav":
        from syncsvc.calendars.caldav import CalDAVTarget

        if settings.url is None or settings.calendar is None:
            raise ConfigError(f"cible « {settings.name} » : url et calendar sont obligatoires")
        return CalDAVTarget(
            settings.name,
            settings.url,
            settings.calendar,
            username=settings.username,
            password=secret(settings, base),
            display_name=settings.display_name,
            color=settings.color,
            timeout=settings.timeout,
            concurrency=settings.concurrency,
        )
    if settings.kind == "google":
        from syncsvc.calendars.google import GoogleTarget
        from syncsvc.oauth.google import load_credentials

        if settings.calendar is None:
            raise ConfigError(f"cible « {settings.name} » : calendar est obligatoire")
        credentials = load_credentials(
            settings.name,
            base,
            token_file=settings.token_file,
            service_account_file=settings.service_account_file,
            subject=settings.subject,
        )
        return GoogleTarget(
            settings.name,
            settings.calendar,
            credentials,
            api_endpoint=settings.api_endpoint,
            batch_uri=settings.batch_uri,
            timeout=settings.timeout,
            limiter=limiters.get(settings.calendar, settings.requests_per_minute),
            with_attendees=settings.attendees,
        )
    if settings.kind == "graph":
        return _graph_target(settings, base)
    raise PermanentError(f"cible « {settings.name} » : type {settings.kind} non publiable")


def _graph_secret(settings: TargetSettings, base: Path) -> str | None:
    """The client secret of a graph target, from its environment variable or file."""
    if settings.client_secret_env:
        value = os.environ.get(settings.client_secret_env)
        if not value:
            raise ConfigError(
                f"cible « {settings.name} » : la variable d'environnement "
                f"{settings.client_secret_env} n'est pas définie (attendu : le secret client de "
                "l'application Microsoft Entra)"
            )
        return value
    if settings.client_secret_file:
        path = _resolve(settings.client_secret_file, base)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError:
            value = ""
        if not value:
            raise ConfigError(
                f"cible « {settings.name} » : fichier de secret {path} illisible ou vide "
                "(attendu : le secret client de l'application Microsoft Entra)"
            )
        return value
    return None


def _resolve(path: Path, base: Path) -> Path:
    return path if path.is_absolute() else base / path


def _graph_target(settings: TargetSettings, base: Path) -> Target:
    import httpx

    from syncsvc.calendars.graph import GraphTarget
    from syncsvc.calendars.graph_http import GraphClient
    from syncsvc.oauth.microsoft import GraphCredential, TokenSource, tls_trust

    if not (settings.tenant_id and settings.client_id and settings.mailbox and settings.calendar):
        raise ConfigError(
            f"cible « {settings.name} » : tenant_id, client_id, mailbox et calendar sont "
            "obligatoires"
        )
    certificate = settings.client_certificate_file
    credential = GraphCredential(
        settings.tenant_id,
        settings.client_id,
        secret=_graph_secret(settings, base),
        certificate_file=_resolve(certificate, base) if certificate else None,
        authority=settings.authority,
    )
    ca_bundle = _resolve(settings.ca_bundle, base) if settings.ca_bundle else None
    client = httpx.Client(
        verify=tls_trust(ca_bundle),
        timeout=httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
        headers={"User-Agent": "syncsvc"},
    )
    tokens = TokenSource(settings.name, credential, client)
    graph = GraphClient(settings.mailbox, settings.graph_url, tokens, client)
    return GraphTarget(settings.name, settings.mailbox, settings.calendar, graph)
