"""What every part of the store needs: a transaction."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Float, literal_column
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from syncsvc.state.bare import NOW_SQL


class StorePart:
    """A part of :class:`syncsvc.state.store.Store` (Radicale-style mixin): the one thing it
    needs from the whole is a transaction."""

    dialect: str = "sqlite"

    def begin(self, durable: bool = False) -> AbstractContextManager[Connection]:
        """A transaction; ``durable`` ones survive a power loss (SQLite ``FULL``)."""
        raise NotImplementedError

    def holds(self, holder: str, epoch: int) -> ColumnElement[bool]:
        """The fence condition (see :mod:`syncsvc.state.lease`)."""
        raise NotImplementedError

    def now_seconds(self) -> ColumnElement[float]:
        """The database's clock, in seconds since 1970 (fractional)."""
        return literal_column(NOW_SQL.get(self.dialect, NOW_SQL["sqlite"]), Float)
