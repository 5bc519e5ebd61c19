"""What every part of the store needs: a transaction."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy.engine import Connection


class StorePart:
    """A part of :class:`syncsvc.state.store.Store` (Radicale-style mixin): the one thing it
    needs from the whole is a transaction."""

    def begin(self, durable: bool = False) -> AbstractContextManager[Connection]:
        """A transaction; ``durable`` ones survive a power loss (SQLite ``FULL``)."""
        raise NotImplementedError
