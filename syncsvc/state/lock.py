"""One active instance per store: a lock file next to a SQLite database, a PostgreSQL advisory
lock otherwise. The operating system (or PostgreSQL, when the connection dies) releases both
when the holder dies."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text

from syncsvc.state.store import Store

LOCK_KEY = 0x5959_4E43  # "SYNC": the PostgreSQL advisory lock id


class InstanceLock:
    """Held by the active instance for its whole life."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._file: IO[str] | None = None
        self._connection: Any = None

    @property
    def sqlite(self) -> bool:
        return self.store.url.drivername.startswith("sqlite")

    def describe(self) -> str:
        return f"fichier {self.path()}" if self.sqlite else "verrou consultatif PostgreSQL"

    def path(self) -> Path:
        database = self.store.url.database or "syncsvc"
        return Path(f"{database}.lock") if database != ":memory:" else Path("var/memory.lock")

    def try_acquire(self) -> bool:
        if self.sqlite:
            path = self.path()
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            self._file = handle
            return True
        connection = self.store.engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        if got:
            connection.commit()
            self._connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self._connection.close()
            self._connection = None
