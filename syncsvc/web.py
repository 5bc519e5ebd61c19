"""HTTP shell: ICS feeds and health (Starlette). Thin: it calls the same functions as the CLI.

Feed URLs carry their own unguessable token; a wrong token is a 404 that says nothing more.
Tokens never reach a log line: the access log is ours and prints ``/feeds/…`` only.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from syncsvc import audience
from syncsvc.calendars import feed
from syncsvc.loader import load_config, load_ruleset
from syncsvc.service import desired_items, plan_all, protected_sessions
from syncsvc.settings import Settings, TargetSettings
from syncsvc.store import Store

log = logging.getLogger("syncsvc.web")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Feeds:
    """Keeps the stored feeds up to date with the configuration, lazily, under one lock."""

    def __init__(self, config_dir: Path, settings: Settings, store: Store, clock: Clock) -> None:
        self.config_dir = config_dir
        self.settings = settings
        self.store = store
        self.clock = clock
        self.targets = {t.name: t for t in settings.targets if t.kind == "feed"}
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] | None = None
        self._zones: set[str] = {"Europe/Paris"}
        self._names: dict[str, str] = {}

    def _state(self, now: datetime) -> tuple[object, ...]:
        files = [self.config_dir / "centres.yaml"]
        sessions = self.config_dir / "sessions"
        if sessions.is_dir():
            files += sorted(sessions.iterdir())
        stats = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.exists())
        days = tuple(sorted(str(now.astimezone(ZoneInfo(z)).date()) for z in self._zones))
        marks = hashlib.sha256(repr(sorted(self.store.done_marks().items())).encode()).hexdigest()
        return stats, days, marks

    def refresh(self) -> None:
        """Re-plan and update every feed when the config, the day or the done marks changed."""
        with self._lock:
            now = self.clock()
            state = self._state(now)
            if state == self._fingerprint:
                return
            config = load_config(self.config_dir, load_ruleset(self.settings.ruleset))
            self._zones = {c.timezone for c in config.centres.values()} or self._zones
            self._names = {cid: c.name for cid, c in config.centres.items()}
            planned = plan_all(config, now, self.store)
            for target in self.targets.values():
                desired = desired_items(target, planned, self.settings.dashboard_url)
                recorded = self.store.recorded(target.name).values()
                feed.refresh(
                    target.name, desired, self.store, now, protected_sessions(config, recorded)
                )
            self._fingerprint = self._state(now)

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


def create_app(
    config_dir: Path, settings: Settings, store: Store, clock: Clock = _utcnow
) -> Starlette:
    feeds = Feeds(config_dir, settings, store, clock)

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

    app = Starlette(
        routes=[
            Route("/feeds/{token}.ics", serve_feed, methods=["GET", "HEAD"]),
            Route("/healthz", healthz),
        ]
    )
    app.state.feeds = feeds
    return app
