"""ICS feed targets: a calendar served at ``/feeds/<token>.ics`` for clients to subscribe to.

A feed is reconciled like any target, except that applying the plan writes to the store only:
each item is kept there stamped (SEQUENCE, and DTSTAMP = the time it last changed), so the feed
body — and its ETag — change only when a milestone does, and serving a feed reads the store
without re-planning anything. Items of a session whose file fails to load stay in the feed as
they were. Subscribers poll; ``If-None-Match`` gets a 304 when nothing changed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from icalendar import Timezone

from syncsvc.ical import new_calendar, stamped
from syncsvc.reconcile import Desired, Plan, diff
from syncsvc.store import Store

FEED_HREF = "feed"
_TZID = re.compile(r"TZID=([^:;\r\n]+)")


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
    items = store.contents(name)
    head = new_calendar(display_name, refresh_minutes).to_ical().decode("utf-8")
    head = head.removesuffix("END:VCALENDAR\r\n")
    zones = sorted({tzid for item in items for tzid in _TZID.findall(item)})
    parts = [head]
    parts += [Timezone.from_tzid(tzid).to_ical().decode("utf-8") for tzid in zones]
    parts += items
    parts.append("END:VCALENDAR\r\n")
    body = "".join(parts).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    return Feed(body, etag, len(items))
