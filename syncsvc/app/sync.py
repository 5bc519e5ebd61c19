"""Sync: for each push target, fetch what changed remotely, decide a plan, run it, record it.

A session whose items were rendered from the same inputs (:func:`session_fingerprint`) and
are held by the target as rendered — nothing changed there, on the server or in the store —
is neither rendered nor hashed: its items are kept as they are. Only the others are rendered
and compared.

One target's failure never stops the others. Each remote write is recorded in the store right
after it succeeds, so a run killed midway leaves a store that the next run completes: creates
are conditional on hrefs derived from UIDs, and an existing item that is ours is adopted, never
duplicated (see :mod:`syncsvc.app.apply`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from syncsvc.app.apply import Applier, RetryPolicy
from syncsvc.app.cancellations import observe as observe_cancellations
from syncsvc.app.desired import Renderer as Renderer  # re-exported: the faces build it here
from syncsvc.app.desired import (
    held_fingerprint,
    items_by_session,
    seen_milestones,
    session_fingerprint,
    spare_centre_items,
)
from syncsvc.app.fence import Fence
from syncsvc.app.quick import (
    InputParts,
    code_version,
    stamp,
    stamp_parts,
    token_after_writes,
)
from syncsvc.app.quick import TargetReport as TargetReport  # re-exported
from syncsvc.app.targets import address_of, make_target
from syncsvc.calendars.base import Target
from syncsvc.calendars.quota import RateLimiters
from syncsvc.core.clock import Now, instant
from syncsvc.core.config import Config
from syncsvc.core.planner import (
    CentreMilestone,
    Planned,
    centre_year_share,
    is_centre_owner,
    plan_sessions,
)
from syncsvc.core.reconcile import (
    Desired,
    Plan,
    Recorded,
    deletes_fingerprint,
    deletion_hold,
    diff,
    protected_sessions,
    remote_changes,
    without_deletes,
)
from syncsvc.errors import NotFound, RemoteError, SyncsvcError
from syncsvc.inputs.settings import Settings, TargetSettings
from syncsvc.state.store import Store

log = logging.getLogger("syncsvc.sync")


def protected_in(config: Config, store: Store, recorded: Iterable[Recorded] = ()) -> frozenset[str]:
    """The sessions nothing may touch now (see :func:`syncsvc.core.reconcile.protected_sessions`),
    with what the store remembers: which session each unreadable file held, and which sessions
    have items or invitations (protected when the configuration itself cannot be read)."""
    store.remember_files(config.file_ids)
    broken = set(config.broken_session_ids) | store.file_ids(config.unreadable_files)
    known: set[str] = set()
    if config.structure_broken:
        known = {r.session_id for r in recorded} | {s for s, _ in store.invitation_states()}
    return protected_sessions(broken, config.structure_broken, known)


class Syncer:
    """Runs reconcile passes over the push targets; owns what a process keeps between passes
    (rendered entries, Google quota buckets)."""

    def __init__(
        self,
        store: Store,
        retry: RetryPolicy | None = None,
        *,
        force: bool = False,
        renderer: Renderer | None = None,
        limiters: RateLimiters | None = None,
        fence: Fence | None = None,
        inputs: InputParts | None = None,
    ) -> None:
        """``inputs``: what this pass is made of, taken before the configuration was loaded
        (:func:`syncsvc.app.quick.input_parts`); given, each complete pass records its stamp
        so that the next sync can skip everything when nothing changed, or render only the
        sessions whose file changed (:mod:`syncsvc.app.changed`)."""
        self.inputs = inputs
        self.version = code_version()
        """The code this process renders with (part of every session's fingerprint)."""
        self.store = store
        self.retry = retry or RetryPolicy()
        self.fence = fence
        self.applier = Applier(store, self.retry, fence)
        self.force = force
        self.renderer = renderer or Renderer()
        self.limiters = limiters or RateLimiters()

    def sync_all(
        self,
        settings: Settings,
        config: Config,
        now: Now,
        *,
        only: str | Iterable[str] | None = None,
        dry_run: bool = False,
        targets: Mapping[str, Target] | None = None,
    ) -> list[TargetReport]:
        """One pass over every push target, or the ``only`` ones (feeds are served, not
        pushed). A session whose planning fails keeps its items as they are."""
        if not dry_run:  # what the files say of cancellations, as the sending pass notes it
            observe_cancellations(self.store, config, now)
        planning = plan_sessions(config, self.store.done_marks(), now)
        failed = {**planning.failed, **planning.centre_failed}
        for owner, reason in failed.items():
            log.error("session %s : %s ; ses éléments restent tels quels", owner, reason)
        planned = planning.planned
        chosen = {only} if isinstance(only, str) else None if only is None else set(only)
        reports = []
        for target_settings in settings.targets:
            skipped = chosen is not None and target_settings.name not in chosen
            if target_settings.kind == "feed" or skipped:
                continue
            given = (targets or {}).get(target_settings.name)
            try:
                target = given or make_target(target_settings, config.directory, self.limiters)
            except SyncsvcError as exc:
                reports.append(TargetReport(target_settings.name, errors=[str(exc)]))
                continue
            try:
                reports.append(
                    self.sync(
                        target_settings,
                        target,
                        config,
                        planned,
                        instant(now),
                        dry_run=dry_run,
                        max_delete_share=settings.max_delete_share,
                        max_delete_items=settings.max_delete_items,
                        dashboard_url=settings.dashboard_url,
                        failed=failed,
                        centre_milestones=planning.centre_milestones,
                        planned_at=now,
                    )
                )
            finally:
                if given is None:
                    target.close()
        return reports

    def sync(
        self,
        settings: TargetSettings,
        target: Target,
        config: Config,
        planned: list[Planned],
        now: datetime,
        *,
        dry_run: bool = False,
        max_delete_share: float = 0.5,
        max_delete_items: int = 20,
        dashboard_url: str | None = None,
        failed: dict[str, str] | None = None,
        centre_milestones: Sequence[CentreMilestone] = (),
        planned_at: Now | None = None,
    ) -> TargetReport:
        """One pass over one target. ``failed``: sessions (or centre years) whose planning
        failed (their items are kept as they are, like those of a broken file);
        ``centre_milestones``: the centres' yearly milestones of the same plan;
        ``planned_at``: the ``now`` the plan was made for (default ``now``)."""
        report = TargetReport(settings.name)
        failed = dict(failed or {})
        self.retry.new_pass()
        name = settings.name
        moved = self._moved(settings, dry_run)
        if moved is not None:
            report.errors.append(moved)
            if not dry_run:
                self.store.record_failure(name, moved, now)
            return report
        try:
            recorded, changes_token, found = self._fetch(name, target, dry_run)
            guarded = protected_in(config, self.store, recorded.values())
            spelled: dict[int, tuple[object, str]] = {}  # centres and rules, once a pass
            seen = {
                p.session.id: seen_milestones(settings, p.session, p.milestones) for p in planned
            }
            fingerprints = {
                p.session.id: session_fingerprint(
                    self.version,
                    settings,
                    p.session,
                    p.centre,
                    seen[p.session.id],
                    dashboard_url,
                    spelled,
                )
                for p in planned
                if seen[p.session.id]  # a session this audience does not see has no item here
            }
            skipped = self._unchanged_sessions(
                name, fingerprints, recorded, found, guarded | failed.keys()
            )
            desired = self.renderer.desired(
                settings,
                [p for p in planned if p.session.id not in skipped and seen[p.session.id]],
                dashboard_url,
                failed,
                centre_milestones,
            )
            protected = guarded | failed.keys()
            considered = {u: r for u, r in recorded.items() if r.session_id not in skipped}
            plan = diff(
                name,
                desired,
                considered,
                remote_changes=found,
                protected_sessions=frozenset(protected),
                force=True,  # deletions are weighed below, where a person can confirm them
            )
            if len(considered) < len(recorded):  # the skipped sessions' items: kept as they are
                kept = plan.kept + len(recorded) - len(considered)
                plan = Plan(plan.target, plan.operations, kept, plan.protected)
            plan = spare_centre_items(plan, config)
            plan = self._weigh_deletions(
                plan,
                recorded,
                config,
                settings,
                max_delete_share,
                max_delete_items,
                report,
                now,
                dry_run=dry_run,
            )
            report.plan = plan
            if dry_run:
                return report
            applied = self.applier.run(plan, target, now)
            report.done, report.errors = applied.done, applied.errors
            if not report.errors:
                token = changes_token
                if not plan.is_noop:
                    token = self._token_after_writes(name, target, token)
                self.store.record_sync_token(name, token)
                self.store.record_success(name, now)
            if not (plan.is_noop and skipped == fingerprints.keys()):  # else: as stored
                self._record_fingerprints(name, fingerprints, desired, recorded, skipped, protected)
            if not report.errors:
                day = now if planned_at is None else planned_at
                self._record_stamp(name, config, plan, failed, report, day)
        except RemoteError as exc:
            report.errors.append(str(exc))
        if not dry_run and not report.ok:
            self.store.record_failure(name, report.refused or "; ".join(report.errors[:3]), now)
        return report

    def _unchanged_sessions(
        self,
        name: str,
        fingerprints: Mapping[str, str],
        recorded: Mapping[str, Recorded],
        remote: Mapping[str, str | None],
        protected: Iterable[str],
    ) -> frozenset[str]:
        """The sessions this pass need not render: the fingerprint stored for each (inputs
        and items held, see :func:`held_fingerprint`) is the one they have now, and none of
        their items changed on the server. A protected session is never skipped (its items
        are kept anyway, and must be reported as protected)."""
        stored = self.store.session_fingerprints(name)
        if not stored:
            return frozenset()
        held = items_by_session(recorded)
        touched = {recorded[uid].session_id for uid in remote if uid in recorded}
        touched.update(protected)
        return frozenset(
            session
            for session, rendered in fingerprints.items()
            if session not in touched
            and session in stored
            and stored[session] == held_fingerprint(rendered, held.get(session, ()))
        )

    def _record_fingerprints(
        self,
        name: str,
        fingerprints: Mapping[str, str],
        desired: Mapping[str, Desired],
        before: Mapping[str, Recorded],
        skipped: frozenset[str],
        protected: Iterable[str],
    ) -> None:
        """Store the fingerprint of every session the target now holds exactly as rendered
        (the skipped ones included); a session with an item written wrongly, not written,
        held back or protected gets none, and is rendered again next time."""
        wanted: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for uid, want in desired.items():
            wanted[want.session_id].add((uid, want.content_hash))
        for uid, have in before.items():
            if have.session_id in skipped:
                wanted[have.session_id].add((uid, have.content_hash))
        held = items_by_session(self.store.recorded(name))
        left_out = set(protected)
        rows = {
            session: held_fingerprint(rendered, held.get(session, ()))
            for session, rendered in fingerprints.items()
            if session not in left_out and set(held.get(session, ())) == wanted.get(session, set())
        }
        if rows != self.store.session_fingerprints(name):  # a no-op pass writes nothing
            self.store.record_session_fingerprints(name, rows)

    def _record_stamp(
        self,
        name: str,
        config: Config,
        plan: Plan,
        failed: Mapping[str, str],
        report: TargetReport,
        now: Now,
    ) -> None:
        """The stamp of a complete pass (see :mod:`syncsvc.app.quick`); a pass that left
        anything aside (a broken file, a failed session, held deletions, an error) records
        none, so the next one is a full pass that meets the same thing again."""
        complete = (
            self.inputs is not None
            and report.ok
            and not config.problems
            and not failed
            and not plan.protected
        )
        if not complete:
            self.store.record_stamp(name, None)
            return
        assert self.inputs is not None
        zones = tuple(sorted({c.timezone for c in config.centres.values()}))
        recorded = self.store.recorded(name)
        state = self.store.target_state(name)
        found = stamp(self.inputs.digest(), zones, now, recorded, state.address, state.location)
        shares = {sid: centre_year_share(s) for sid, s in config.sessions.items()}
        self.store.record_stamp(name, found, zones, stamp_parts(self.inputs.sessions, shares))

    def _moved(self, settings: TargetSettings, dry_run: bool) -> str | None:
        """A French refusal when the target's address changed while items live at the old one
        (they would be left behind, unowned); None when there is nothing to move."""
        address = address_of(settings)
        state = self.store.target_state(settings.name)
        if state.address == address:
            return None
        if state.address is not None and self.store.recorded(settings.name):
            return (
                f"cible « {settings.name} » : l'adresse a changé (avant : {state.address} ; "
                f"maintenant : {address}) alors que ses éléments sont encore à l'ancienne : rien "
                "n'est écrit. Pour publier ailleurs, donner un nouveau nom à la cible (les "
                "éléments de l'ancien calendrier y restent, à supprimer à la main) ou remettre "
                "l'ancienne adresse (attendu : une adresse inchangée ou un nouveau nom)"
            )
        if not dry_run:
            self.store.record_address(settings.name, address, moved=state.address is not None)
        return None

    def _weigh_deletions(
        self,
        plan: Plan,
        recorded: dict[str, Recorded],
        config: Config,
        settings: TargetSettings,
        max_share: float,
        max_items: int,
        report: TargetReport,
        now: datetime,
        *,
        dry_run: bool,
    ) -> Plan:
        """The plan to run: its deletions wait for a person's confirmation when
        :func:`deletion_hold` says so, unless ``--force`` or a confirmation of exactly this set
        (from the targets page); everything else goes on meanwhile."""
        reason = deletion_hold(
            plan,
            recorded,
            max_share=max_share if settings.max_delete_share is None else settings.max_delete_share,
            max_items=max_items if settings.max_delete_items is None else settings.max_delete_items,
            # a centre year's item leaving is never a session « no longer in the configuration »
            loaded=frozenset(config.sessions)
            | {r.session_id for r in recorded.values() if is_centre_owner(r.session_id)},
            intended=frozenset(s.id for s in config.sessions.values() if s.cancelled),
        )
        state = self.store.target_state(settings.name)
        fingerprint = deletes_fingerprint(plan)
        confirmed = state.confirmed_fingerprint == fingerprint
        if reason is None or self.force or confirmed:
            if state.held_fingerprint is not None and not dry_run:
                self.store.record_held(settings.name, None, None, now)
            return plan
        report.refused = (
            f"suppressions en attente de confirmation : {reason} ; vérifier le dossier des "
            "sessions, puis confirmer sur la page « Calendriers » du tableau de bord ou "
            "relancer avec --force"
        )
        if not dry_run and state.held_fingerprint != fingerprint:
            self.store.record_held(settings.name, fingerprint, reason, now)
        return without_deletes(plan)

    def _fetch(
        self, name: str, target: Target, dry_run: bool
    ) -> tuple[dict[str, Recorded], str | None, dict[str, str | None]]:
        """(recorded items, the target's new change token, remote changes by UID)."""
        state = self.store.target_state(name)
        location = self.retry.call(lambda: target.prepare(state.location))
        if location != state.location and not dry_run:
            self.store.record_location(name, location)
        recorded = self.store.recorded(name)
        token = state.sync_token if recorded else None
        try:
            changes = self.retry.call(lambda: target.changes(token))
        except NotFound:  # the calendar itself was deleted: create it again, restore all
            location = self.retry.call(lambda: target.prepare(None))
            if not dry_run:
                self.store.record_location(name, location)
            changes = self.retry.call(lambda: target.changes(None))
        found = remote_changes(changes.present, changes.deleted, changes.full, recorded)
        if not dry_run:
            for uid, etag in found.adopt.items():
                self.store.record_etag(name, uid, etag)
        return recorded, changes.token, found.by_uid

    def _token_after_writes(self, name: str, target: Target, token: str | None) -> str | None:
        """See :func:`syncsvc.app.quick.token_after_writes`."""
        return token_after_writes(self.store, name, target, token, self.retry)


def sync_all(
    settings: Settings,
    config: Config,
    store: Store,
    now: Now,
    *,
    only: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    retry: RetryPolicy | None = None,
    targets: Mapping[str, Target] | None = None,
) -> list[TargetReport]:
    """One pass over every push target with a fresh :class:`Syncer` (a command's life)."""
    syncer = Syncer(store, retry, force=force)
    return syncer.sync_all(settings, config, now, only=only, dry_run=dry_run, targets=targets)
