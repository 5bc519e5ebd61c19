"""ICS feed targets: a calendar served at ``/feeds/<token>.ics`` for clients to subscribe to.

A feed is reconciled like any target, except that applying the plan writes to the store only:
each item is kept there stamped (SEQUENCE, and DTSTAMP = the time it last changed), so the feed
body — and its ETag — change only when a milestone does, and serving a feed reads the store
without re-planning anything. Items of a session whose file fails to load stay in the feed as
they were. Subscribers poll; ``If-None-Match`` gets a 304 when nothing changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from syncsvc.core.reconcile import Desired, Plan, diff
from syncsvc.formats.ical import assemble, stamped
from syncsvc.state.store import Store

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
) -> Plan:
    """Bring the stored feed up to date; returns what changed (nothing leaves this machine)."""
    plan = diff(
        name, desired, store.recorded(name), protected_sessions=protected_sessions, force=True
    )
    for op in plan.operations:
        if op.action == "delete":
            store.forget(name, op.uid)
            continue
        want = op.desired
        assert want is not None
        text = stamped(want.component, now, op.sequence).to_ical().decode("utf-8")
        store.record_push(
            name,
            op.uid,
            session_id=want.session_id,
            milestone_id=want.milestone_id,
            href=FEED_HREF,
            etag=None,
            content_hash=want.content_hash,
            sequence=op.sequence,
            at=now,
            content=text,
        )
    return plan


def render(name: str, store: Store, display_name: str, refresh_minutes: int) -> Feed:
    """The feed's VCALENDAR, assembled from the stored components, with its ETag."""
    items = [item.encode("utf-8") for item in store.contents(name)]
    body = assemble(items, display_name, refresh_minutes)
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    return Feed(body, etag, len(items))
