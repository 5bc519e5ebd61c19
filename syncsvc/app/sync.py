"""The shell around the core: load -> plan -> render -> diff -> apply -> record.

One target's failure never stops the others. Each remote write is recorded in the store right
after it succeeds, so a run killed midway leaves a store that the next run completes: creates
are conditional (``If-None-Match: *``) on hrefs derived from UIDs, and an existing item that is
ours is adopted, never duplicated.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

from icalendar import Component

from syncsvc.calendars.base import (
    BatchTarget,
    Changes,
    Item,
    NotFound,
    PermanentError,
    PreconditionFailed,
    Target,
    TargetError,
    TemporaryError,
    Unreachable,
    Write,
    Written,
)
from syncsvc.core import audience
from syncsvc.core.model import Centre, Milestone, Session
from syncsvc.core.planner import plan_session
from syncsvc.core.reconcile import Desired, MassDeleteRefused, Operation, Plan, Recorded, diff
from syncsvc.formats.ical import component_for, content_hash
from syncsvc.inputs.loader import Config
from syncsvc.inputs.settings import Settings, TargetSettings, secret
from syncsvc.state.store import Store

T = TypeVar("T")
Sleep = Callable[[float], None]
Planned = list[tuple[Session, Centre, list[Milestone]]]


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Sleep = time.sleep

    def delay(self, attempt: int, error: TemporaryError) -> float:
        if error.retry_after is not None:
            return float(min(self.max_delay, error.retry_after))
        backoff = min(self.max_delay, self.base_delay * 2.0**attempt)
        return float(backoff * (0.5 + random.random() / 2))


@dataclass
class TargetReport:
    name: str
    plan: Plan | None = None
    done: dict[str, int] = field(default_factory=lambda: {"create": 0, "update": 0, "delete": 0})
    errors: list[str] = field(default_factory=list)
    refused: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.refused is None


def as_moment(now: date | datetime) -> datetime:
    return now if isinstance(now, datetime) else datetime.combine(now, datetime.min.time(), UTC)


def plan_all(config: Config, now: date | datetime, store: Store | None = None) -> Planned:
    """Every loaded session with its milestones (done marks from the store count)."""
    marks = store.done_marks() if store is not None else {}
    planned: Planned = []
    for session in sorted(config.sessions.values(), key=lambda s: (s.start, s.id)):
        centre = config.centres[session.centre]
        milestones = plan_session(
            session, centre, config.rulesets[centre.id], now, marks.get(session.id)
        )
        planned.append((session, centre, milestones))
    return planned


class _RenderCache:
    """Rendered components by their inputs, kept across runs of a long-lived process.

    The key holds everything a component is made of (the session and centre as JSON, the
    milestone value, the item kind and the dashboard URL), so a hit is exactly the component
    that rendering would give again. A daemon's no-op pass then hashes nothing.
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], tuple[Component, str]] = OrderedDict()

    def get(
        self, key: tuple[object, ...], render: Callable[[], Component]
    ) -> tuple[Component, str]:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found
        component = render()
        value = (component, content_hash(component))
        self._items[key] = value
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


RENDERED = _RenderCache()


def desired_items(
    target: TargetSettings, planned: Planned, dashboard_url: str | None = None
) -> dict[str, Desired]:
    """What ``target`` should hold: the milestones its audience sees, rendered."""
    items: dict[str, Desired] = {}
    for session, centre, milestones in planned:
        if session.cancelled:
            continue  # its items leave the calendars; the jury gets a CANCEL by mail
        inputs = (session.model_dump_json(), centre.model_dump_json(), target.items, dashboard_url)
        for milestone in milestones:
            if not audience.sees(target.audience, session, milestone):
                continue
            component, digest = RENDERED.get(
                (*inputs, milestone),
                partial(component_for, session, centre, milestone, target.items, dashboard_url),
            )
            uid = str(component["UID"])
            items[uid] = Desired(uid, session.id, milestone.id, digest, component)
    return items


def protected_sessions(
    config: Config, recorded: Iterable[Recorded], store: Store | None = None
) -> frozenset[str]:
    """Sessions whose items and invitations must not be touched: broken files (by file name,
    by the id read inside, or by the id the store remembers for an unreadable file), or
    everything when the configuration itself (centres.yaml, the sessions folder) could not be
    read."""
    structural = {str(config.directory / "centres.yaml"), str(config.directory / "sessions")}
    protected = set(config.broken_session_ids)
    if store is not None:
        store.remember_files(config.file_ids)
        protected |= store.file_ids(config.unreadable_files)
    if any(p.file in structural for p in config.problems):
        protected |= {r.session_id for r in recorded}
        if store is not None:
            protected |= {s for s, _ in store.invitation_states()}
    return frozenset(protected)


def remote_changes(
    changes: Changes, recorded: Mapping[str, Recorded]
) -> tuple[dict[str, str | None], dict[str, str]]:
    """(changes by UID for the reconciler, ETags to adopt without writing).

    Items the store does not know are never looked at: they are not ours. An ETag the store
    lacks (the server sent none on PUT) is adopted, not treated as a remote edit.
    """
    by_href = {r.href: r for r in recorded.values()}
    found: dict[str, str | None] = {}
    adopt: dict[str, str] = {}
    for href, etag in changes.present.items():
        record = by_href.get(href)
        if record is None or etag == record.etag:
            continue
        if record.etag is None and etag is not None:
            adopt[record.uid] = etag
        else:
            found[record.uid] = etag
    for href in changes.deleted:
        if href in by_href:
            found[by_href[href].uid] = None
    if changes.full:
        for record in recorded.values():
            if record.href not in changes.present:
                found[record.uid] = None
    return found, adopt


class Syncer:
    """Runs one reconcile pass of one target."""

    def __init__(
        self, store: Store, retry: RetryPolicy | None = None, *, force: bool = False
    ) -> None:
        self.store = store
        self.retry = retry or RetryPolicy()
        self.force = force

    def _call(self, action: Callable[[], T]) -> T:
        for attempt in range(self.retry.attempts):
            try:
                return action()
            except Unreachable:
                raise  # no connection at all: the next scheduled run retries, not this one
            except TemporaryError as exc:
                if attempt == self.retry.attempts - 1:
                    raise
                self.retry.sleep(self.retry.delay(attempt, exc))
        raise AssertionError("unreachable")

    def sync(
        self,
        settings: TargetSettings,
        target: Target,
        config: Config,
        planned: Planned,
        now: datetime,
        *,
        dry_run: bool = False,
        max_delete_share: float = 0.5,
        dashboard_url: str | None = None,
    ) -> TargetReport:
        report = TargetReport(settings.name)
        name = settings.name
        try:
            state = self.store.target_state(name)
            location = self._call(lambda: target.prepare(state.location))
            if location != state.location and not dry_run:
                self.store.record_location(name, location)
            recorded = self.store.recorded(name)
            token = state.sync_token if recorded else None
            try:
                changes = self._call(lambda: target.changes(token))
            except NotFound:  # the calendar itself was deleted: create it again, restore all
                location = self._call(lambda: target.prepare(None))
                if not dry_run:
                    self.store.record_location(name, location)
                changes = self._call(lambda: target.changes(None))
            found, adopt = remote_changes(changes, recorded)
            if not dry_run:
                for uid, etag in adopt.items():
                    self.store.record_etag(name, uid, etag)
            desired = desired_items(settings, planned, dashboard_url)
            share = (
                settings.max_delete_share
                if settings.max_delete_share is not None
                else (max_delete_share)
            )
            plan = diff(
                name,
                desired,
                recorded,
                remote_changes=found,
                protected_sessions=protected_sessions(config, recorded.values(), self.store),
                max_delete_share=share,
                force=self.force,
            )
            report.plan = plan
            if dry_run:
                return report
            self._apply(plan, target, now, report, settings.concurrency)
            if not report.errors:
                token = changes.token
                if not plan.is_noop:
                    token = self._token_after_writes(name, target, token)
                self.store.record_sync_token(name, token)
                self.store.record_success(name, now)
        except MassDeleteRefused as exc:
            report.refused = str(exc)
        except TargetError as exc:
            report.errors.append(str(exc))
        if not dry_run and not report.ok:
            self.store.record_failure(name, report.refused or "; ".join(report.errors[:3]), now)
        return report

    def _token_after_writes(self, name: str, target: Target, token: str | None) -> str | None:
        """A token that already covers our own writes.

        The token read before writing would replay them next time, and would miss an item we
        created that someone deletes before the next sync (created and deleted after the
        token: no change to report). Ask again once; keep the new token only if everything it
        reports is our own doing, otherwise keep the old one so the next run sees the rest.
        """
        after = self._call(lambda: target.changes(token))
        found, adopt = remote_changes(after, self.store.recorded(name))
        for uid, etag in adopt.items():
            self.store.record_etag(name, uid, etag)
        return after.token if not found else token

    def _apply(
        self,
        plan: Plan,
        target: Target,
        now: datetime,
        report: TargetReport,
        concurrency: int = 1,
    ) -> None:
        if isinstance(target, BatchTarget):
            self._apply_batched(plan, target, now, report)
            return
        clone = getattr(target, "clone", None)
        if concurrency > 1 and clone is not None and len(plan.operations) > 1:
            self._apply_concurrently(plan, target, clone, now, report, concurrency)
            return
        for op in plan.operations:
            if not self._apply_one(op, target, now, plan.target, report):
                return

    def _apply_concurrently(
        self,
        plan: Plan,
        target: Target,
        clone: Callable[[], Target],
        now: datetime,
        report: TargetReport,
        workers: int,
    ) -> None:
        """Up to ``workers`` writes in flight, each worker with its own connection; the first
        unreachable server stops them all (the next run resumes)."""
        pending = list(reversed(plan.operations))
        lock = threading.Lock()
        stop = threading.Event()
        targets = [target] + [clone() for _ in range(workers - 1)]

        def work(own: Target) -> None:
            while not stop.is_set():
                with lock:
                    if not pending:
                        return
                    op = pending.pop()
                local = TargetReport(report.name)
                ok = self._apply_one(op, own, now, plan.target, local)
                with lock:
                    for action, count in local.done.items():
                        report.done[action] += count
                    report.errors += local.errors
                if not ok:
                    stop.set()

        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(work, targets))
        finally:
            for extra in targets[1:]:
                extra.close()

    def _apply_one(
        self, op: Operation, target: Target, now: datetime, name: str, report: TargetReport
    ) -> bool:
        """Perform one operation with retries; False when the target is unreachable."""
        try:
            self._call(lambda: self._perform(op, target, now, name))
            report.done[op.action] += 1
        except Unreachable as exc:
            report.errors.append(str(exc))
            return False  # the server is down: stop here, the next run resumes
        except TargetError as exc:
            report.errors.append(f"{op.uid}: {exc}")
            self.store.record_item_error(name, op.uid, str(exc), now)
        return True

    def _apply_batched(
        self, plan: Plan, target: BatchTarget, now: datetime, report: TargetReport
    ) -> None:
        """Send the plan in batches; every write that fails in a batch gets the one-by-one path
        (with its retries, adoption and conflict handling)."""
        ops = list(plan.operations)
        for start in range(0, len(ops), target.batch_size):
            chunk = ops[start : start + target.batch_size]
            writes = [self._write_for(op, target, now) for op in chunk]
            try:
                results = self._call(partial(target.write_batch, writes))
            except Unreachable as exc:
                report.errors.append(str(exc))
                return
            for op, write, result in zip(chunk, writes, results, strict=True):
                if isinstance(result, Written):
                    self._record(op, write, result, now, plan.target)
                    report.done[op.action] += 1
                elif not self._apply_one(op, target, now, plan.target, report):
                    return

    @staticmethod
    def _item(op: Operation, now: datetime) -> Item:
        want = op.desired
        assert want is not None
        return Item(want.uid, want.session_id, want.component, op.sequence, now, want.content_hash)

    def _write_for(self, op: Operation, target: Target, now: datetime) -> Write:
        if op.action == "delete":
            assert op.recorded is not None
            return Write("delete", op.recorded.href, None, op.recorded.etag)
        href = op.recorded.href if op.recorded is not None else target.href_for(op.uid)
        etag = op.recorded.etag if op.action == "update" and op.recorded is not None else None
        return Write(op.action, href, self._item(op, now), etag)

    def _record(
        self, op: Operation, write: Write, written: Written, now: datetime, name: str
    ) -> None:
        if op.action == "delete":
            self.store.forget(name, op.uid)
            return
        want = op.desired
        assert want is not None
        self.store.record_push(
            name,
            op.uid,
            session_id=want.session_id,
            milestone_id=want.milestone_id,
            href=written.href,
            etag=written.etag,
            content_hash=want.content_hash,
            sequence=op.sequence,
            at=now,
        )

    def _perform(self, op: Operation, target: Target, now: datetime, name: str) -> None:
        write = self._write_for(op, target, now)
        written = Written(write.href, None)
        if op.action == "delete":
            assert op.recorded is not None
            self._delete(target, op.recorded)
        elif op.action == "create":
            assert write.item is not None
            try:
                written = target.create(write.href, write.item)
            except PreconditionFailed:
                written = self._adopt(target, write.href, write.item)
        else:
            assert write.item is not None
            try:
                written = target.update(write.href, write.item, write.etag)
            except PreconditionFailed:
                written = self._adopt(target, write.href, write.item)
            except NotFound:
                written = target.create(write.href, write.item)
        self._record(op, write, written, now, name)

    @staticmethod
    def _delete(target: Target, record: Recorded) -> None:
        try:
            target.delete(record.href, record.etag)
        except NotFound:
            return
        except PreconditionFailed:  # edited remotely since; still ours: delete that version
            try:
                target.delete(record.href, None)
            except NotFound:
                return

    @staticmethod
    def _adopt(target: Target, href: str, item: Item) -> Written:
        """An item is already at ``href`` (a crash after the write, or a remote edit):
        overwrite it if it is ours; the target refuses if it is someone else's."""
        try:
            etag = target.etag_if_ours(href, item.uid)
        except NotFound:
            return target.create(href, item)
        return target.update(href, item, etag)


def make_target(settings: TargetSettings, base: Path) -> Target:
    """The adapter for one configured target."""
    if settings.kind == "caldav":
        from syncsvc.calendars.caldav import CalDAVTarget

        assert settings.url is not None
        assert settings.calendar is not None
        return CalDAVTarget(
            settings.name,
            settings.url,
            settings.calendar,
            username=settings.username,
            password=secret(settings, base),
            display_name=settings.display_name,
            color=settings.color,
            timeout=settings.timeout,
        )
    if settings.kind == "google":
        from syncsvc.calendars.google import GoogleTarget

        return GoogleTarget.from_settings(settings, base)
    raise PermanentError(f"cible « {settings.name} » : type {settings.kind} pas encore disponible")


def sync_all(
    settings: Settings,
    config: Config,
    store: Store,
    now: datetime,
    *,
    only: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    retry: RetryPolicy | None = None,
    targets: Mapping[str, Target] | None = None,
) -> list[TargetReport]:
    """One pass over every push target (feeds are served, not pushed)."""
    planned = plan_all(config, now, store)
    syncer = Syncer(store, retry, force=force)
    reports = []
    for target_settings in settings.targets:
        if only is not None and target_settings.name != only:
            continue
        if target_settings.kind == "feed":
            continue
        try:
            target = (targets or {}).get(target_settings.name) or make_target(
                target_settings, config.directory
            )
        except Exception as exc:
            reports.append(TargetReport(target_settings.name, errors=[str(exc)]))
            continue
        try:
            reports.append(
                syncer.sync(
                    target_settings,
                    target,
                    config,
                    planned,
                    now,
                    dry_run=dry_run,
                    max_delete_share=settings.max_delete_share,
                    dashboard_url=settings.dashboard_url,
                )
            )
        finally:
            if targets is None or target_settings.name not in targets:
                target.close()
    return reports
