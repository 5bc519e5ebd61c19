"""A sync after some session files changed, and nothing else: only these sessions are loaded,
planned, rendered and written.

:mod:`syncsvc.app.unchanged` found that every input of the target's last complete pass is as
it was — the code, the settings, ``centres.yaml`` and every other file but the session files,
the done marks, the day, the target's recorded items, its address and location — apart from
some files of the sessions folder, each changed in place (none added, removed or renamed).
Then every other session would render exactly what the target holds, and a full pass would
skip it anyway (its fingerprint holds, see :meth:`syncsvc.app.sync.Syncer.sync`): this pass
loads ``centres.yaml``, ``jury.yaml`` and the changed files alone (:func:`~syncsvc.inputs.
loader.load_config` with ``only``), plans their sessions and runs what the full pass would
run for them, with the same functions: :func:`~syncsvc.app.desired.session_fingerprint`, the
:class:`~syncsvc.app.desired.Renderer`, :func:`~syncsvc.core.reconcile.diff`, the deletion
guard (:func:`~syncsvc.core.reconcile.deletion_hold`), the :class:`~syncsvc.app.apply.
Applier` (conditional writes, each recorded as it succeeds, the lease checked before each
batch), the sessions' fingerprints and the new stamp. The store is the
:class:`~syncsvc.state.bare.BareStore`, the server is reached through
:class:`~syncsvc.calendars.bare.BareCalDAV`: neither SQLAlchemy nor the keep-alive HTTP
library is imported.

A centre's yearly items depend on every session of that centre and year: each changed
session must give its centre's year what it gave at the stamped pass
(:func:`~syncsvc.core.planner.centre_year_share`: centre, year, cancelled, its file's done
marks), or the full pass is taken.

The change token: after creates, one more REPORT takes a token that covers our own writes,
as the full pass does (:func:`~syncsvc.app.quick.token_after_writes`: an item created and
then deleted by someone after the old token may never be reported since it). Updates and
deletions alone keep the token read before writing: whatever anyone does to those items later
is reported since it, and our own writes, reported too, are recognised as ours by their
recorded ETags (:func:`~syncsvc.app.unchanged.ours_only`, as every pass reads a report).

Declined — None, before anything is written, and the full pass runs as if this module did not
exist — whenever that pass would meet something else: a changed file with a problem (the full
pass reports it), a session whose planning or rendering fails, a change on the server,
deletions the guard would hold, deletions waiting for a confirmation, a target writing over
several connections.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from syncsvc.app.apply import Applier, RetryPolicy
from syncsvc.app.desired import (
    Renderer,
    held_fingerprint,
    items_by_session,
    seen_milestones,
    session_fingerprint,
)
from syncsvc.app.fence import NOT_ACTIVE, Fence
from syncsvc.app.quick import (
    code_version,
    remember_computed,
    stamp,
    stamp_parts,
    token_after_writes,
)
from syncsvc.app.unchanged import Changed, QuickPass, ours_only
from syncsvc.calendars.bare import BareCalDAV
from syncsvc.core.clock import Now, instant
from syncsvc.core.planner import Planned, centre_year_share, plan_sessions
from syncsvc.core.reconcile import Desired, Plan, Recorded, deletion_hold, diff
from syncsvc.errors import RemoteError
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.inputs.settings import Settings, TargetSettings, load_settings
from syncsvc.state.bare import BareStore


@dataclass
class _Pass:
    """What one target's pass will do, decided before anything is written."""

    changed: Changed
    settings: TargetSettings
    plan: Plan
    token: str | None
    desired: dict[str, Desired]
    fingerprints: dict[str, str | None]
    """The changed sessions' fingerprints (None: the session has no item on this target)."""
    shares: dict[str, str]


def changed_sync(
    config_dir: Path, store: BareStore, fence: Fence, changed: list[Changed], now: Now
) -> list[QuickPass] | None:
    """Each target's pass over its changed sessions, or None (nothing written): the full
    path decides (see the module)."""
    settings = load_settings(config_dir)
    for target in changed:  # the public holidays the stamped pass computed
        remember_computed(target.state.stamp_parts)
    names = frozenset().union(*(c.files for c in changed))
    config = load_config(config_dir, load_ruleset(settings.ruleset), only=names)
    if config.problems or {p.name for p in config.session_files.values()} != names:
        return None  # a changed file the full pass must report
    planning = plan_sessions(config, store.done_marks(config.sessions), now)
    if planning.failed:
        return None
    planned = {p.session.id: p for p in planning.planned}
    version = code_version()
    passes = []
    for target in changed:
        decided = _decide(target, settings, config.session_files, planned, store, version)
        if decided is None:
            return None
        passes.append(decided)
    return [_run(one, store, fence, now) for one in passes]


def _decide(
    changed: Changed,
    settings: Settings,
    files: Mapping[str, Path],
    planned: Mapping[str, Planned],
    store: BareStore,
    version: str,
) -> _Pass | None:
    """The plan of one target's pass (None: declined, see the module)."""
    found = [t for t in settings.targets if t.name == changed.name]
    if len(found) != 1 or found[0].kind != "caldav" or found[0].concurrency > 1:
        return None
    target = found[0]
    if changed.state.held_fingerprint is not None:
        return None  # deletions wait for a person: the full pass says so
    sessions = {sid: planned[sid] for sid, path in files.items() if path.name in changed.files}
    shares = dict(changed.shares)
    for sid, one in sessions.items():
        share = centre_year_share(one.session)
        if shares.get(sid) != share:
            return None  # the centre's yearly items may change: every session is needed
        shares[sid] = share
    remote = changed.remote.answer()
    recorded = changed.recorded
    if remote is None or not ours_only(remote, recorded):
        return None  # a change on the server: the full pass adopts or restores it
    stored = store.session_fingerprints(target.name)
    held = items_by_session(recorded)
    spelled: dict[int, tuple[object, str]] = {}
    fingerprints: dict[str, str | None] = {}
    render: list[Planned] = []
    for sid, one in sorted(sessions.items()):
        seen = seen_milestones(target, one.session, one.milestones)
        if not seen:  # a session this audience does not see has no item here
            fingerprints[sid] = None
            render.append(one)
            continue
        rendered = session_fingerprint(
            version, target, one.session, one.centre, seen, settings.dashboard_url, spelled
        )
        fingerprints[sid] = rendered
        if stored.get(sid) != held_fingerprint(rendered, held.get(sid, ())):
            render.append(one)
    failed: dict[str, str] = {}
    desired = Renderer().desired(
        target,
        [p for p in render if fingerprints[p.session.id] is not None],
        settings.dashboard_url,
        failed,
    )
    if failed:
        return None
    considered_sessions = {p.session.id for p in render}
    considered = {u: r for u, r in recorded.items() if r.session_id in considered_sessions}
    plan = diff(target.name, desired, considered, force=True)
    plan = Plan(plan.target, plan.operations, plan.kept + len(recorded) - len(considered))
    reason = deletion_hold(
        plan,
        recorded,
        max_share=settings.max_delete_share
        if target.max_delete_share is None
        else target.max_delete_share,
        max_items=settings.max_delete_items
        if target.max_delete_items is None
        else target.max_delete_items,
        loaded=frozenset(changed.shares) | frozenset(sessions),
        intended=frozenset(sid for sid, p in sessions.items() if p.session.cancelled),
    )
    if reason is not None:
        return None  # held: the full pass holds them and says why
    fingerprints = {sid: fingerprints[sid] for sid in considered_sessions}
    return _Pass(changed, target, plan, remote.token, desired, fingerprints, shares)


def _run(one: _Pass, store: BareStore, fence: Fence, now: Now) -> QuickPass:
    """Write the pass's plan and record it, as :meth:`syncsvc.app.sync.Syncer.sync` does."""
    name, moment, retry = one.settings.name, instant(now), RetryPolicy()
    target = BareCalDAV(
        name,
        one.changed.state.location or "",
        username=one.settings.username,
        password=one.changed.password,
        timeout=one.settings.timeout,
    )
    errors: list[str] = []
    try:
        applied = Applier(store, retry, fence).run(one.plan, target, moment)
        errors = list(applied.errors)
        token = one.token
        if not errors and one.plan.count("create"):
            token = token_after_writes(store, name, target, token, retry)
    except RemoteError as exc:
        errors.append(str(exc))
        applied = None
    finally:
        target.close()
    recorded = store.recorded(name)
    _record_fingerprints(store, name, one, recorded)
    if errors:
        store.record_failure(name, "; ".join(errors[:3]), moment)
    else:
        state = one.changed.state
        zones = state.stamp_zones
        found = stamp(
            one.changed.parts.digest(), zones, now, recorded, state.address, state.location
        )
        parts = stamp_parts(one.changed.parts.sessions, one.shares)
        if not store.record_pass(
            name,
            fence.holder,
            fence.epoch,
            token=token,
            at=moment,
            stamp=found,
            zones=zones,
            parts=parts,
        ):
            errors.append(NOT_ACTIVE)  # another instance took over meanwhile
    done = applied.done if applied is not None else {"create": 0, "update": 0, "delete": 0}
    return QuickPass(name, one.plan.kept, done, tuple(errors))


def _record_fingerprints(
    store: BareStore, name: str, one: _Pass, recorded: Mapping[str, Recorded]
) -> None:
    """The changed sessions' fingerprints, as :meth:`syncsvc.app.sync.Syncer.
    _record_fingerprints` sets them: a session the target now holds exactly as rendered gets
    its own, any other none (it is rendered again next time)."""
    wanted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for uid, want in one.desired.items():
        wanted[want.session_id].add((uid, want.content_hash))
    held = items_by_session(recorded)
    rows: dict[str, str | None] = {}
    for session, rendered in one.fingerprints.items():
        same = set(held.get(session, ())) == wanted.get(session, set())
        rows[session] = (
            held_fingerprint(rendered, held.get(session, ())) if rendered and same else None
        )
    if rows:
        store.record_session_fingerprints(name, rows)
