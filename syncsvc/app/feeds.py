"""ICS feed targets: a calendar served at ``/feeds/<token>.ics`` for clients to subscribe to.

A feed is reconciled like any target, except that applying the plan writes to the store only:
each item is kept there stamped (SEQUENCE, and DTSTAMP = the time it last changed), so the feed
body — and its ETag — change only when a milestone does, and serving a feed reads the store
without re-planning anything. Items of a session whose file fails to load stay in the feed as
they were. Subscribers poll; ``If-None-Match`` gets a 304 when nothing changed.

:class:`FeedPublisher` keeps every configured feed up to date: the daemon refreshes it after
each reconcile pass, and serving a feed refreshes it first when its inputs changed (the
configuration, a centre's local day, the done marks), so a feed is never staler than its inputs.

*Person feeds* (``[feeds] per_person = true``): every person convened in a loaded session
(juror, surveillant, comédien: :func:`~syncsvc.core.audience.convened_people`) has the feed of
the audience ``jury:<email>`` without a ``[[targets]]`` block. It is stored and served exactly
as a configured feed (same :func:`refresh` and :func:`render`, same ETag and 304), under the
name :func:`person_key` and with its own token in the same table (rotatable). Only its
refreshing differs: it is brought up to date when it is requested, never by the daemon's
passes — hundreds of people then cost nothing until their calendar client polls, and the
planning behind them is made once per state of the inputs for all of them. A token whose
person is convened nowhere any more opens an empty calendar (their clients then drop the days
rather than keep them as a 404 would make Google and Outlook do); a rotated token opens nothing.
Its name, « Examens TP — mes convocations », never changes and names no one.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from syncsvc.app.desired import Renderer, spare_centre_items
from syncsvc.app.sync import protected_in
from syncsvc.core import audience
from syncsvc.core.clock import Clock
from syncsvc.core.config import Config
from syncsvc.core.labels import PERSON_FEED_NAME
from syncsvc.core.planner import Planning, plan_sessions
from syncsvc.core.reconcile import Desired, Plan, diff
from syncsvc.formats.ical import assemble, item_bytes
from syncsvc.inputs.settings import Settings, TargetSettings
from syncsvc.inputs.watcher import ConfigSource
from syncsvc.state.items import FeedItem
from syncsvc.state.store import Store

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")

FEED_HREF = "feed"
Marks = dict[str, dict[str, date]]
PERSON_PREFIX = "person:"
"""Person feeds' names in the store: never a target's (a target's name has no colon)."""


def person_key(email: str) -> str:
    """The store's name of the feed of the person convened under ``email``: a digest of the
    address, not the address (which may be longer than the store's key, and which the store
    need not hold)."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return PERSON_PREFIX + digest[:40]


def person_target(email: str) -> TargetSettings:
    """What a person's feed holds: a feed of the audience ``jury:<email>``, events."""
    return TargetSettings.model_validate(
        {"name": "personne", "kind": "feed", "audience": f"jury:{email}"}
    )


def person_links(
    settings: Settings, store: Store, emails: Iterable[str], now: datetime
) -> dict[str, str]:
    """The feed link of each person of ``emails`` (tokens made on first use, in one go)."""
    keys = {email: person_key(email) for email in emails}
    tokens = store.feed_tokens(keys.values(), now)
    base = settings.feeds.base_url.rstrip("/")
    return {email: f"{base}/feeds/{tokens[key]}.ics" for email, key in keys.items()}


def rotate_person(store: Store, email: str, now: datetime) -> None:
    """A new token for the person's feed: the old link answers 404 from now on."""
    store.rotate_feed_token(person_key(email), now)


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


@dataclass(frozen=True, slots=True)
class _Inputs:
    """One state of the feeds' inputs and the planning made from it."""

    state: tuple[object, ...]
    config: Config
    planning: Planning
    names: dict[str, str]
    people: dict[str, str]
    """Person feed name (:func:`person_key`) -> the address convened."""


class FeedPublisher:
    """Every feed target of the settings, kept up to date with the configuration, lazily and
    under one lock (one refresh at a time; concurrent readers wait for its result); and with
    ``[feeds] per_person``, every convened person's feed, refreshed when it is requested."""

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
        self.per_person = settings.feeds.per_person
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] | None = None
        self._names: dict[str, str] = {}
        self._inputs: _Inputs | None = None
        self._people: dict[str, tuple[object, ...]] = {}
        """Person feed name -> the state of the inputs it was last refreshed from."""

    def _state(self, now: datetime) -> tuple[tuple[object, ...], Config, Marks]:
        """What the feeds are made of now: its fingerprint, the configuration, the marks."""
        config = self.source.current()
        zones = {c.timezone for c in config.centres.values()} or {"Europe/Paris"}
        days = tuple(sorted(str(now.astimezone(ZoneInfo(z)).date()) for z in zones))
        marks = self.store.done_marks()
        digest = hashlib.sha256(repr(sorted(marks.items())).encode()).hexdigest()
        return (self.source.generation, id(config), days, digest), config, marks

    def _current(
        self, now: datetime, known: tuple[tuple[object, ...], Config, Marks] | None = None
    ) -> _Inputs:
        """The inputs now, planned once per state (kept only for the person feeds)."""
        state, config, marks = known or self._state(now)
        if self._inputs is not None and self._inputs.state == state:
            return self._inputs
        people = audience.convened_people(config.sessions.values()) if self.per_person else {}
        inputs = _Inputs(
            state,
            config,
            plan_sessions(config, marks, now),
            {cid: c.name for cid, c in config.centres.items()},
            {person_key(email): email for email in people},
        )
        if self.per_person:
            self._inputs = inputs
        return inputs

    def refresh(self) -> None:
        """Re-plan and update every feed when the config, the day or the done marks changed
        (the person feeds wait until they are requested)."""
        if not self.targets:
            return
        with self._lock:
            now = self.clock()
            known = self._state(now)
            if known[0] == self._fingerprint:
                return
            inputs = self._current(now, known)
            self._names = inputs.names
            for target in self.targets.values():
                self._refresh(target.name, target, inputs, now)
            self._fingerprint = inputs.state

    def _refresh(
        self, name: str, target: TargetSettings | None, inputs: _Inputs, now: datetime
    ) -> None:
        """One feed brought up to date; ``target`` None: nothing is desired (a person
        convened nowhere any more), only the items of protected sessions stay."""
        planning = inputs.planning
        failed = {**planning.failed, **planning.centre_failed}
        desired = (
            self.renderer.desired(
                target,
                planning.planned,
                self.settings.dashboard_url,
                failed,
                planning.centre_milestones,
            )
            if target is not None
            else {}
        )
        recorded = self.store.recorded(name).values()
        protected = protected_in(inputs.config, self.store, recorded) | failed.keys()
        refresh(name, desired, self.store, now, frozenset(protected), inputs.config)

    def target_for(self, token: str) -> TargetSettings | None:
        """The feed a token opens, or None (a malformed token is never looked up)."""
        if not TOKEN_RE.match(token):
            return None
        name = self.store.feed_for_token(token)
        return self.targets.get(name) if name else None

    def person_for(self, token: str) -> str | None:
        """The person feed a token opens (its name, :func:`person_key`), or None: not a
        person's token, or ``per_person`` off."""
        if not self.per_person or not TOKEN_RE.match(token):
            return None
        name = self.store.feed_for_token(token)
        return name if name is not None and name.startswith(PERSON_PREFIX) else None

    def feed(self, target: TargetSettings) -> Feed:
        self.refresh()
        return render(
            target.name,
            self.store,
            audience.calendar_name(target.audience, self._names),
            self.settings.feeds.refresh_minutes,
        )

    def person_feed(self, name: str) -> Feed:
        """The person feed ``name`` (:func:`person_key`), refreshed first when its inputs
        changed since it was last read: the ``jury:<email>`` feed of its person, or an empty
        calendar once they are convened nowhere."""
        with self._lock:
            now = self.clock()
            inputs = self._current(now)
            email = inputs.people.get(name)
            if self._people.get(name) != inputs.state:
                target = person_target(email) if email is not None else None
                self._refresh(name, target, inputs, now)
                self._people[name] = inputs.state
        return render(name, self.store, PERSON_FEED_NAME, self.settings.feeds.refresh_minutes)
