"""What each target should hold: the plan rendered as entries for one audience.

:class:`Renderer` turns the one plan (:func:`syncsvc.core.planner.plan_sessions`) into the
desired items of a target — the sessions' milestones its audience sees (a cancelled session's
kept, marked cancelled) and the centres' yearly milestones — keeping the items' UIDs and
content hashes for the life of its owner (not their entries: an entry is rendered again when
its item is written).
:func:`spare_centre_items` is the deletion policy of the centres' yearly items. Both sync
(:mod:`syncsvc.app.sync`) and the feeds (:mod:`syncsvc.app.feeds`) use them.

:func:`session_fingerprint` and :func:`held_fingerprint` let a pass skip a session whose
items were rendered from the same inputs and are held by the target as rendered: it is
neither rendered nor hashed (see :meth:`syncsvc.app.sync.Syncer.sync`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from syncsvc.core import audience
from syncsvc.core.config import Config
from syncsvc.core.entries import Entry, Items, centre_entry_for, entries_for
from syncsvc.core.model import Centre, Milestone, Session
from syncsvc.core.planner import CentreMilestone, Planned, is_centre_owner
from syncsvc.core.reconcile import Desired, Plan, Recorded
from syncsvc.core.same_day import grouped_entry, same_day_groups
from syncsvc.formats.fingerprint import content_hash
from syncsvc.inputs.settings import TargetSettings

log = logging.getLogger("syncsvc.sync")
_Rendered = tuple[tuple[str, str], ...]
"""The UIDs of the entries of one milestone (or group) with their content hashes: one, or one
per exam day."""


class Renderer:
    """The UIDs and content hashes of the entries, kept by their inputs for the life of their
    owner.

    The key holds everything an entry is made of (the session and centre as JSON, the milestone
    value, the item kind and the dashboard URL), so a hit is exactly what building it again
    would give. A long-lived process then hashes nothing on a no-op pass. The entries are not
    kept (their descriptions weigh some 5 kB each, times every item of every target): a hit
    gives items whose entry is rendered again from the same inputs if it is read, which only
    writing an item does.
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], _Rendered] = OrderedDict()

    def desired(
        self,
        target: TargetSettings,
        planned: Iterable[Planned],
        dashboard_url: str | None = None,
        failed: dict[str, str] | None = None,
        centre_milestones: Iterable[CentreMilestone] = (),
    ) -> dict[str, Desired]:
        """What ``target`` should hold: the milestones its audience sees, as entries, and the
        centres' yearly milestones it sees (one per centre and year).

        A session (or centre year) whose entries cannot be built is left out and named in
        ``failed`` (with a French reason): the caller keeps its items as they are; the others
        go on."""
        items: dict[str, Desired] = {}
        kind, who = audience.parse(target.audience)
        juror = who if kind == "jury" else None
        for session, centre, milestones in planned:
            # A cancelled session's items stay, marked cancelled (see entries.as_cancelled);
            # its jury gets a CANCEL by mail.
            try:
                items.update(
                    self._session(target, session, centre, milestones, dashboard_url, juror)
                )
            except Exception as exc:  # the bulkhead: this session only
                reason = f"rendu des éléments impossible ({type(exc).__name__})"
                log.error("session %s : %s ; ses éléments restent tels quels", session.id, reason)
                if failed is not None:
                    failed[session.id] = reason
        for yearly in centre_milestones:
            if not audience.sees_centre(target.audience, yearly.centre.id):
                continue
            try:
                desired = self._centre_year(target, yearly, dashboard_url)
            except Exception as exc:  # the bulkhead: this centre year only
                reason = f"rendu des éléments impossible ({type(exc).__name__})"
                log.error("%s : %s ; ses éléments restent tels quels", yearly.owner, reason)
                if failed is not None:
                    failed[yearly.owner] = reason
                continue
            items[desired.uid] = desired
        return items

    def _centre_year(
        self, target: TargetSettings, yearly: CentreMilestone, dashboard_url: str | None
    ) -> Desired:
        centre, year, milestone = yearly.centre, yearly.year, yearly.milestone
        key = (centre.model_dump_json(), year, target.items, dashboard_url, milestone)
        found = self._items.get(key)
        if found is None:
            entry = centre_entry_for(centre, year, milestone, target.items, dashboard_url)
            digest = content_hash(entry)
            self._remember(key, ((entry.uid, digest),))
            return Desired(entry.uid, yearly.owner, milestone.id, digest, entry)
        self._items.move_to_end(key)
        ((uid, digest),) = found
        again = partial(_centre_entry, centre, year, milestone, target.items, dashboard_url)
        return Desired(uid, yearly.owner, milestone.id, digest, again)

    def _session(
        self,
        target: TargetSettings,
        session: Session,
        centre: Centre,
        milestones: list[Milestone],
        dashboard_url: str | None,
        juror: str | None,
    ) -> dict[str, Desired]:
        items: dict[str, Desired] = {}
        inputs = (session.model_dump_json(), centre.model_dump_json(), target.items)
        seen = seen_milestones(target, session, milestones)
        grouped = target.group_same_day and target.items == "events"
        for group in same_day_groups(seen) if grouped else [(m,) for m in seen]:
            key = (*inputs, dashboard_url, juror, group)
            found = self._items.get(key)
            if found is None:
                entries = _entries(session, centre, group, target.items, dashboard_url, juror)
                rendered = tuple((e.uid, content_hash(e)) for e in entries)
                self._remember(key, rendered)
                for entry, (uid, digest) in zip(entries, rendered, strict=True):
                    items[uid] = Desired(uid, session.id, group[0].id, digest, entry)
                continue
            self._items.move_to_end(key)
            again = partial(_entry, session, centre, group, target.items, dashboard_url, juror)
            for uid, digest in found:
                items[uid] = Desired(uid, session.id, group[0].id, digest, again)
        return items

    def _remember(self, key: tuple[object, ...], value: _Rendered) -> None:
        self._items[key] = value
        if len(self._items) > self.size:
            self._items.popitem(last=False)


def _entries(
    session: Session,
    centre: Centre,
    group: tuple[Milestone, ...],
    items: Items,
    dashboard_url: str | None,
    juror: str | None,
) -> list[Entry]:
    """The entries of one milestone (the exam: one per day) or of one same-day group."""
    if len(group) > 1:
        return [grouped_entry(session, centre, group, dashboard_url)]
    (one,) = group
    return entries_for(session, centre, one, items, dashboard_url, juror)


def _entry(
    session: Session,
    centre: Centre,
    group: tuple[Milestone, ...],
    items: Items,
    dashboard_url: str | None,
    juror: str | None,
    uid: str,
) -> Entry:
    """The entry ``uid`` of one milestone or group, rendered again (a :class:`Renderer` hit
    keeps no entry; only writing an item reads it, rarely one the renderer had kept)."""
    (entry,) = (
        e for e in _entries(session, centre, group, items, dashboard_url, juror) if e.uid == uid
    )
    return entry


def _centre_entry(
    centre: Centre,
    year: int,
    milestone: Milestone,
    items: Items,
    dashboard_url: str | None,
    uid: str,
) -> Entry:
    """The entry ``uid`` of a centre's yearly milestone, rendered again."""
    entry = centre_entry_for(centre, year, milestone, items, dashboard_url)
    assert entry.uid == uid, (entry.uid, uid)
    return entry


def seen_milestones(
    target: TargetSettings, session: Session, milestones: Iterable[Milestone]
) -> list[Milestone]:
    """The milestones of ``session`` that ``target``'s audience sees: its items are made of
    these alone (none: the session has no item there)."""
    return [m for m in milestones if audience.sees(target.audience, session, m)]


MILESTONE_FIELDS = tuple(f.name for f in dataclasses.fields(Milestone))
"""Every field of a planned milestone (one added later is part of the fingerprint too)."""


def session_fingerprint(
    version: str,
    target: TargetSettings,
    session: Session,
    centre: Centre,
    milestones: Iterable[Milestone],
    dashboard_url: str | None,
    spelled: dict[int, tuple[object, str]] | None = None,
) -> str:
    """What the session's items on ``target`` are rendered from: the code (``version``, see
    :func:`syncsvc.app.quick.code_version`), the target's audience and kind of items, the
    dashboard URL, the session and its centre as JSON, and every planned milestone the target
    sees (:func:`seen_milestones`) field by field (the planner's answer holds the day, the
    ruleset, the holidays and the done marks).

    Everything :meth:`Renderer.desired` reads for the session is here: equal fingerprints
    render equal items. A value spelled differently from one process to another only costs a
    rendering, never a missed change. ``spelled``: the JSON of the models shared by many
    sessions (centres, rules), kept by the caller for one pass (each with its object, so
    that its ``id`` stays its own)."""
    cache: dict[int, tuple[object, str]] = {} if spelled is None else spelled
    digest = hashlib.sha256(version.encode())
    head = (target.audience, target.items, target.group_same_day, dashboard_url)
    digest.update(repr(head).encode())
    digest.update(session.model_dump_json().encode())
    digest.update(_spelled(centre, cache).encode())
    lines: list[str] = []
    for milestone in milestones:
        for item in MILESTONE_FIELDS:
            value = getattr(milestone, item)
            model = hasattr(value, "model_dump_json")
            lines.append(f"{item}={_spelled(value, cache) if model else repr(value)}")
        lines.append("\x1e")
    digest.update("\n".join(lines).encode())
    return digest.hexdigest()


def _spelled(model: Any, cache: dict[int, tuple[object, str]]) -> str:
    found = cache.get(id(model))
    if found is None or found[0] is not model:
        found = cache[id(model)] = (model, str(model.model_dump_json()))
    return found[1]


def held_fingerprint(rendered: str, items: Iterable[tuple[str, str]]) -> str:
    """The fingerprint stored for a session: ``rendered`` (:func:`session_fingerprint`) with
    the items the target holds for it, (UID, content hash) — a store that lost or changed an
    item of the session then never matches."""
    digest = hashlib.sha256(rendered.encode())
    for uid, digest_of_item in sorted(items):
        digest.update(f"{uid}|{digest_of_item}\n".encode())
    return digest.hexdigest()


def items_by_session(recorded: Mapping[str, Recorded]) -> dict[str, list[tuple[str, str]]]:
    """(UID, content hash) of the recorded items, by session."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for uid, have in recorded.items():
        found[have.session_id].append((uid, have.content_hash))
    return found


def spare_centre_items(plan: Plan, config: Config) -> Plan:
    """The plan without deletions of centre yearly items while a session file fails to load.

    A centre's yearly item (the annual programming) belongs to no session, so no session's
    broken file or failed planning protects it: it is created and updated as usual. It is
    deleted when its centre has no session left that year — unless a session file fails to
    load, since the missing session may be that year's only one. (When centres.yaml or the
    sessions folder cannot be read at all, every item is kept, see :func:`protected_in`.)"""
    if not (config.broken_session_ids or config.unreadable_files):
        return plan
    kept = tuple(
        op
        for op in plan.operations
        if not (
            op.action == "delete"
            and op.recorded is not None
            and is_centre_owner(op.recorded.session_id)
        )
    )
    spared = len(plan.operations) - len(kept)
    return Plan(plan.target, kept, plan.kept + spared, plan.protected) if spared else plan
