"""The one seam every calendar target implements, and the errors it raises.

Errors say what happens next::

    TargetError
     ├── TemporaryError(retry_after)   server down, timeout, 429, 5xx: retry later
     │    └── Unreachable              no connection at all: stop this target for this run
     ├── PermanentError                retrying is useless (401, 403, bad request)
     ├── PreconditionFailed            412: the remote item exists / changed since we saw it
     └── NotFound                      404 / 410: the remote item (or calendar) is gone
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable


class TargetError(Exception):
    pass


class TemporaryError(TargetError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(TemporaryError):
    pass


class PermanentError(TargetError):
    pass


class PreconditionFailed(TargetError):
    pass


class NotFound(TargetError):
    pass


@dataclass(frozen=True, slots=True)
class Written:
    href: str
    etag: str | None


@dataclass(frozen=True, slots=True)
class Item:
    """What to write: one milestone's component, stamped by the adapter in its own format
    (an iCalendar resource for CalDAV, an event resource for Google)."""

    uid: str
    session_id: str
    component: Any  # icalendar Component (see syncsvc.formats.ical.component_for)
    sequence: int
    stamp: datetime
    content_hash: str


@dataclass(frozen=True, slots=True)
class Write:
    """One write of a batch: ``item`` is None for a delete."""

    action: Literal["create", "update", "delete"]
    href: str
    item: Item | None
    etag: str | None


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
        the service keeps and passes back as ``hint`` to skip discovery next time."""

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

    def close(self) -> None: ...


@runtime_checkable
class BatchTarget(Target, Protocol):
    """A target that can send many writes in one request (Google's batch endpoint)."""

    batch_size: int

    def write_batch(self, writes: list[Write]) -> list[Written | TargetError]:
        """One result per write, in order: a failed write does not fail its siblings."""
