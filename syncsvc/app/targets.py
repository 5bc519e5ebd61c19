"""Configured targets -> adapters: the one place that reads target settings and secrets."""

from __future__ import annotations

from pathlib import Path

from syncsvc.calendars.base import Target
from syncsvc.calendars.quota import RateLimiters
from syncsvc.errors import ConfigError, PermanentError
from syncsvc.inputs.settings import TargetSettings, secret


def address_of(settings: TargetSettings) -> str:
    """Where a target's items go, as its settings say (server and calendar)."""
    if settings.kind == "caldav":
        return f"{settings.url} {settings.calendar}"
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
        from syncsvc.calendars.google_auth import load_credentials

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
    raise PermanentError(f"cible « {settings.name} » : type {settings.kind} non publiable")
