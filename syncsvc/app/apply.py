"""Run a plan on a target: writes, retries, recovery as decided, a record after each write.

The plan decided everything (:mod:`syncsvc.core.reconcile`): what to write, and what to do when
the server says an item exists or is gone. This module only carries it out:

1. every operation goes through :meth:`Target.write_many` (one path, whatever the adapter does
   underneath: sequential, concurrent or batched requests), and each success is recorded in the
   store as soon as it is known;
2. the writes refused for a temporary reason (quota, 5xx, timeout) go through ``write_many``
   again, together, after the retry policy's delay (``Retry-After`` when the server gave one),
   until the policy's attempts are spent;
3. an operation refused for another reason is performed on its own with the operation's decided
   recovery (adopt, recreate…), with retries for temporary errors;
4. an unreachable server ends the run for this target: the next pass resumes from the store.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from syncsvc.app.fence import Fence
from syncsvc.calendars.base import Item, Result, Target, Write, Written, write_one
from syncsvc.core.reconcile import Operation, Plan, Recovery
from syncsvc.errors import (
    NotFound,
    PreconditionFailed,
    RemoteError,
    TemporaryError,
    Unreachable,
)

T = TypeVar("T")
BATCH = 50
"""Writes between two checks of the instance lease."""
Sleep = Callable[[float], None]


class ItemStore(Protocol):
    """What running a plan records: :class:`syncsvc.state.store.Store`, or the
    :class:`syncsvc.state.bare.BareStore` of a sync that renders only the changed sessions
    (the same statements)."""

    def record_push(
        self,
        target: str,
        uid: str,
        *,
        session_id: str,
        milestone_id: str,
        href: str,
        etag: str | None,
        content_hash: str,
        sequence: int,
        at: datetime,
        content: str | None = None,
        epoch: int | None = None,
    ) -> None: ...

    def record_item_error(self, target: str, uid: str, error: str, at: datetime) -> None: ...

    def forget(self, target: str, uid: str) -> None: ...


@dataclass
class RetryPolicy:
    """How long to insist on temporary errors: exponential backoff with jitter, honouring the
    server's ``Retry-After``, within a time budget per pass (not a number of attempts: five
    quota answers in a row must not lose a pass that a few more seconds would have saved).
    ``sleep`` is injected so tests never wait."""

    budget_seconds: float = 300.0
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Sleep = time.sleep
    spent: float = 0.0
    """Seconds waited so far in this pass (see :meth:`new_pass`)."""

    def new_pass(self) -> None:
        self.spent = 0.0

    def delay(self, attempt: int, error: TemporaryError) -> float:
        if error.retry_after is not None:
            return float(min(self.max_delay, error.retry_after))
        backoff = min(self.max_delay, self.base_delay * 2.0**attempt)
        return float(backoff * (0.5 + random.random() / 2))

    def wait(self, attempt: int, error: TemporaryError) -> bool:
        """Wait before another attempt; False when the pass's budget does not allow it."""
        delay = self.delay(attempt, error)
        if self.spent + delay > self.budget_seconds:
            return False
        self.spent += delay
        if delay > 0:
            self.sleep(delay)
        return True

    def call(self, action: Callable[[], T]) -> T:
        """``action()``, again after a delay on temporary errors while the budget lasts; an
        unreachable server is not retried here (the daemon retries the target soon)."""
        attempt = 0
        while True:
            try:
                return action()
            except Unreachable:
                raise
            except TemporaryError as exc:
                if not self.wait(attempt, exc):
                    raise
                attempt += 1


@dataclass
class Applied:
    """What a run of a plan did."""

    done: dict[str, int] = field(default_factory=lambda: {"create": 0, "update": 0, "delete": 0})
    errors: list[str] = field(default_factory=list)
    unreachable: bool = False


class Applier:
    """Runs plans on targets and records each result in the store.

    With a ``fence``, every batch of :data:`BATCH` writes starts only after this process proved
    it still holds the instance lease (:class:`~syncsvc.errors.NotActive` otherwise).
    """

    def __init__(
        self, store: ItemStore, retry: RetryPolicy | None = None, fence: Fence | None = None
    ) -> None:
        self.store = store
        self.retry = retry or RetryPolicy()
        self.fence = fence

    def _batches(
        self, ops: list[Operation], target: Target, now: datetime
    ) -> Iterator[tuple[Operation, Result]]:
        for start in range(0, len(ops), BATCH):
            chunk = ops[start : start + BATCH]
            if self.fence is not None:
                self.fence.check()
            writes = [self._write_for(op, target, now) for op in chunk]
            for index, result in target.write_many(writes):
                yield chunk[index], result

    def run(self, plan: Plan, target: Target, now: datetime) -> Applied:
        applied = Applied()
        pending = list(plan.operations)
        to_recover: list[Operation] = []
        attempt = 0
        while pending:
            later: list[tuple[Operation, TemporaryError]] = []
            for op, result in self._batches(pending, target, now):
                if isinstance(result, Written):
                    self._record(plan.target, op, result, now)
                    applied.done[op.action] += 1
                elif isinstance(result, Unreachable):
                    applied.errors.append(str(result))
                    applied.unreachable = True
                    return applied
                elif isinstance(result, TemporaryError):
                    later.append((op, result))
                else:
                    to_recover.append(op)
            pending = [op for op, _ in later]
            if later and not self.retry.wait(attempt, later[0][1]):
                for op, error in later:
                    applied.errors.append(f"{op.uid}: {error}")
                    self.store.record_item_error(plan.target, op.uid, str(error), now)
                break
            attempt += 1
        for op in to_recover:
            if self.fence is not None:
                self.fence.check()
            if not self._perform(plan.target, op, target, now, applied):
                break
        return applied

    # -- one operation, with its decided recovery ----------------------------------------------

    def _perform(
        self, name: str, op: Operation, target: Target, now: datetime, applied: Applied
    ) -> bool:
        """Perform ``op`` alone with retries; False when the server is unreachable."""
        try:
            written = self.retry.call(lambda: self._attempt(op, target, now))
        except Unreachable as exc:
            applied.errors.append(str(exc))
            applied.unreachable = True
            return False
        except RemoteError as exc:
            applied.errors.append(f"{op.uid}: {exc}")
            self.store.record_item_error(name, op.uid, str(exc), now)
            return True
        self._record(name, op, written, now)
        applied.done[op.action] += 1
        return True

    def _attempt(self, op: Operation, target: Target, now: datetime) -> Written:
        write = self._write_for(op, target, now)
        error: RemoteError
        try:
            return write_one(target, write)
        except PreconditionFailed as exc:
            recovery, error = op.if_exists, exc
        except NotFound as exc:
            recovery, error = op.if_missing, exc
        if recovery == "fail":
            raise error
        return _recover(recovery, target, write, op)

    # -- the store -------------------------------------------------------------------------

    @staticmethod
    def _write_for(op: Operation, target: Target, now: datetime) -> Write:
        if op.action == "delete":
            assert op.recorded is not None
            return Write("delete", op.recorded.href, None, op.recorded.etag)
        want = op.desired
        assert want is not None
        href = op.recorded.href if op.recorded is not None else target.href_for(op.uid)
        etag = op.recorded.etag if op.action == "update" and op.recorded is not None else None
        item = Item(want.entry, op.sequence, now, want.content_hash)
        return Write(op.action, href, item, etag)

    def _record(self, name: str, op: Operation, written: Written, now: datetime) -> None:
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
            epoch=self.fence.epoch if self.fence is not None else None,
        )


def _recover(recovery: Recovery, target: Target, write: Write, op: Operation) -> Written:
    # "fail" never reaches here: the caller re-raises the server's answer.
    """Carry out the recovery the plan decided for ``op`` (see :mod:`syncsvc.core.reconcile`)."""
    if recovery == "gone":
        return Written(write.href, None)
    if recovery == "delete_any":
        with contextlib.suppress(NotFound):
            target.delete(write.href, None)
        return Written(write.href, None)
    assert write.item is not None, f"{op.action} {op.uid}: recovery {recovery} needs an item"
    if recovery == "recreate":
        return target.create(write.href, write.item)
    # "adopt": already there (a run cut short, or a remote edit): overwrite it if it is ours;
    # the target refuses someone else's item.
    try:
        etag = target.etag_if_ours(write.href, write.item.uid)
    except NotFound:
        return target.create(write.href, write.item)
    return target.update(write.href, write.item, etag)
