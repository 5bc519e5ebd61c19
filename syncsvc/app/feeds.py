"""ICS feed targets: a calendar served at ``/feeds/<token>.ics`` for clients to subscribe to.

A feed is reconciled like any target, except that applying the plan writes to the store only:
each item is kept there stamped (SEQUENCE, and DTSTAMP = the time it last changed), so the feed
body — and its ETag — change only when a milestone does, and serving a feed reads the store
without re-planning anything. Items of a session whose file fails to load stay in the feed as
they were. Subscribers poll; ``If-None-Match`` gets a 304 when nothing changed.

:class:`FeedPublisher` keeps every configured feed up to date: the daemon refreshes it after
each reconcile pass, and serving a feed refreshes it first when its inputs changed (the
configuration, a centre's local day, the done marks), so a feed is never staler than its inputs.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from syncsvc.app.desired import Renderer, spare_centre_items
from syncsvc.app.sync import protected_in
from syncsvc.core import audience
from syncsvc.core.clock import Clock
from syncsvc.core.config import Config
from syncsvc.core.planner import plan_sessions
from syncsvc.core.reconcile import Desired, Plan, diff
from syncsvc.formats.ical import assemble, item_bytes
from syncsvc.inputs.settings import Settings, TargetSettings
from syncsvc.inputs.watcher import ConfigSource
from syncsvc.state.items import FeedItem
from syncsvc.state.store import Store

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")

FEED_HREF = "feed"


@dataclass(frozen=True, slots=True)
class Feed:
    body: bytes
    etag: str
    items: int


def refresh(
    name: str,
    desired: Mapping[str, Desired],
    store: Store,
    now: datetime,
    protected_sessions: frozenset[str] = frozenset(),
    config: Config | None = None,
) -> Plan:
    """Bring the stored feed up to date; returns what changed (nothing leaves this machine).
    With ``config``, a centre's yearly items are not deleted while a session file fails to
    load (:func:`~syncsvc.app.desired.spare_centre_items`)."""
    plan = diff(
        name, desired, store.recorded(name), protected_sessions=protected_sessions, force=True
    )
    if config is not None:
        plan = spare_centre_items(plan, config)
    forgotten: list[str] = []
    items: list[FeedItem] = []
    for op in plan.operations:
        if op.action == "delete":
            forgotten.append(op.uid)
            continue
        want = op.desired
        assert want is not None
        text = item_bytes(want.entry, now, op.sequence).decode("utf-8")
        items.append(
            FeedItem(
                op.uid,
                session_id=want.session_id,
                milestone_id=want.milestone_id,
                href=FEED_HREF,
                content_hash=want.content_hash,
                sequence=op.sequence,
                content=text,
            )
        )
    if forgotten or items:
        store.record_feed(name, forgotten, items, now)
    return plan


def render(name: str, store: Store, display_name: str, refresh_minutes: int) -> Feed:
    """The feed's VCALENDAR, assembled from the stored components, with its ETag."""
    items = [item.encode("utf-8") for item in store.contents(name)]
    body = assemble(items, display_name, refresh_minutes)
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    return Feed(body, etag, len(items))


class FeedPublisher:
    """Every feed target of the settings, kept up to date with the configuration, lazily and
    under one lock (one refresh at a time; concurrent readers wait for its result)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        source: ConfigSource,
        clock: Clock,
        renderer: Renderer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.source = source
        self.clock = clock
        self.renderer = renderer or Renderer()
        self.targets = {t.name: t for t in settings.targets if t.kind == "feed"}
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] | None = None
        self._names: dict[str, str] = {}

    def refresh(self) -> None:
        """Re-plan and update every feed when the config, the day or the done marks changed."""
        if not self.targets:
            return
        with self._lock:
            now = self.clock()
            config = self.source.current()
            zones = {c.timezone for c in config.centres.values()} or {"Europe/Paris"}
            days = tuple(sorted(str(now.astimezone(ZoneInfo(z)).date()) for z in zones))
            marks = self.store.done_marks()
            digest = hashlib.sha256(repr(sorted(marks.items())).encode()).hexdigest()
            state = (self.source.generation, id(config), days, digest)
            if state == self._fingerprint:
                return
            self._names = {cid: c.name for cid, c in config.centres.items()}
            planning = plan_sessions(config, marks, now)
            for target in self.targets.values():
                failed = {**planning.failed, **planning.centre_failed}
                desired = self.renderer.desired(
                    target,
                    planning.planned,
                    self.settings.dashboard_url,
                    failed,
                    planning.centre_milestones,
                )
                recorded = self.store.recorded(target.name).values()
                protected = protected_in(config, self.store, recorded) | failed.keys()
                refresh(target.name, desired, self.store, now, frozenset(protected), config)
            self._fingerprint = state

    def target_for(self, token: str) -> TargetSettings | None:
        """The feed a token opens, or None (a malformed token is never looked up)."""
        if not TOKEN_RE.match(token):
            return None
        name = self.store.feed_for_token(token)
        return self.targets.get(name) if name else None

    def feed(self, target: TargetSettings) -> Feed:
        self.refresh()
        return render(
            target.name,
            self.store,
            audience.calendar_name(target.audience, self._names),
            self.settings.feeds.refresh_minutes,
        )
