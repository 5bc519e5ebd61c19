"""A calendar target kept in memory, for the use cases' own tests (the adapters have theirs)."""

from __future__ import annotations

from syncsvc.calendars.base import Changes, Item, SequentialWrites, Written
from syncsvc.errors import NotFound, PreconditionFailed


class MemoryTarget(SequentialWrites):
    """A calendar in memory (for the use case alone; the adapters have their own tests)."""

    def __init__(self) -> None:
        self.name = "memoire"
        self.items: dict[str, Item] = {}

    def prepare(self, hint: str | None = None) -> str:
        return "memoire"

    def href_for(self, uid: str) -> str:
        return uid

    def changes(self, since: str | None) -> Changes:
        return Changes("t", {href: href for href in self.items}, full=since is None)

    def etag_if_ours(self, href: str, uid: str) -> str | None:
        if href not in self.items:
            raise NotFound(href)
        return href

    def create(self, href: str, item: Item) -> Written:
        if href in self.items:
            raise PreconditionFailed(href)
        self.items[href] = item
        return Written(href, href)

    def update(self, href: str, item: Item, etag: str | None) -> Written:
        self.items[href] = item
        return Written(href, href)

    def delete(self, href: str, etag: str | None) -> None:
        if self.items.pop(href, None) is None:
            raise NotFound(href)

    def close(self) -> None:
        pass
