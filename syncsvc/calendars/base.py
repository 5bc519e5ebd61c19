"""The one seam every calendar target implements.

A target is one calendar on one server. It stores *items* (one calendar entry each) under
*hrefs* derived from their UIDs, reports what changed remotely, and writes. Its protocol's
answers become the errors of :mod:`syncsvc.errors` in one place per adapter: the application
layer decides from the error class alone.

Writing: :meth:`Target.write_many` is the only path the application uses for a plan. Each
adapter chooses how: one request after another (:class:`SequentialWrites`), several connections
at once (CalDAV servers that accept concurrent writes), or batch requests (Google). Results come
back as each write finishes, so the store records them at once; one failed write never fails its
siblings, except :class:`~syncsvc.errors.Unreachable`, which ends the run for that target.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from syncsvc.errors import RemoteError, Unreachable

if TYPE_CHECKING:  # a type only: listing what changed needs no entry
    from syncsvc.core.entries import Entry


@dataclass(frozen=True, slots=True)
class Written:
    href: str
    etag: str | None


@dataclass(frozen=True, slots=True)
class Item:
    """What to write: one entry, with the SEQUENCE and stamp the adapter spells in its format."""

    entry: Entry
    sequence: int
    stamp: datetime
    content_hash: str

    @property
    def uid(self) -> str:
        return self.entry.uid


@dataclass(frozen=True, slots=True)
class Write:
    """One write: ``item`` is None for a delete; ``etag`` makes it conditional."""

    action: Literal["create", "update", "delete"]
    href: str
    item: Item | None
    etag: str | None


Result = Written | RemoteError
"""What one write came to."""


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed remotely since ``since`` (or everything present, when ``full``).

    ``present`` maps hrefs to ETags; ``deleted`` lists hrefs reported gone. In a full listing,
    anything absent from ``present`` is gone too.
    """

    token: str | None
    present: dict[str, str | None] = field(default_factory=dict)
    deleted: frozenset[str] = frozenset()
    full: bool = False


class Target(Protocol):
    """A calendar that holds items under hrefs derived from their UIDs."""

    name: str

    def prepare(self, hint: str | None = None) -> str:
        """Make sure the calendar exists (create it when missing); returns its location, which
        the application keeps and passes back as ``hint`` to skip discovery next time."""

    def href_for(self, uid: str) -> str:
        """Where the item with ``uid`` lives (derived, so a retried create finds it)."""

    def changes(self, since: str | None) -> Changes:
        """Remote changes since the token ``since`` (a full listing when None or stale)."""

    def etag_if_ours(self, href: str, uid: str) -> str | None:
        """The ETag of the item at ``href`` if syncsvc made it (UID and marker match);
        NotFound when nothing is there, PermanentError when someone else's item is."""

    def create(self, href: str, item: Item) -> Written:
        """Store a new item; PreconditionFailed if something is already there."""

    def update(self, href: str, item: Item, etag: str | None) -> Written:
        """Replace the item if its ETag is still ``etag`` (unconditionally when None)."""

    def delete(self, href: str, etag: str | None) -> None:
        """Remove the item if its ETag is still ``etag``; NotFound if already gone."""

    def write_many(self, writes: Sequence[Write]) -> Iterator[tuple[int, Result]]:
        """Perform ``writes``, yielding (index, result) as each finishes, in any order. Stops
        after yielding an :class:`~syncsvc.errors.Unreachable` result."""

    def close(self) -> None: ...


class SingleWrites(Protocol):
    """The single-item calls a target has (what :class:`SequentialWrites` needs)."""

    def create(self, href: str, item: Item) -> Written: ...

    def update(self, href: str, item: Item, etag: str | None) -> Written: ...

    def delete(self, href: str, etag: str | None) -> None: ...


def write_one(target: SingleWrites, write: Write) -> Written:
    """One write through the target's single-item calls."""
    if write.action == "delete":
        target.delete(write.href, write.etag)
        return Written(write.href, None)
    assert write.item is not None
    if write.action == "create":
        return target.create(write.href, write.item)
    return target.update(write.href, write.item, write.etag)


class SequentialWrites:
    """``write_many`` as one request after another (mixed into adapters)."""

    def write_many(self: SingleWrites, writes: Sequence[Write]) -> Iterator[tuple[int, Result]]:
        for index, write in enumerate(writes):
            try:
                yield index, write_one(self, write)
            except Unreachable as exc:
                yield index, exc
                return
            except RemoteError as exc:
                yield index, exc
