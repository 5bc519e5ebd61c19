"""Two replicas starting together on a fresh database both try to create the schema.

Seen with the PostgreSQL compose stack: one of them failed its first start (IntegrityError on
PostgreSQL, « table schema_version already exists » on SQLite). Migrating is serialised: the
second waits for the first and finds the schema already there.
"""

from __future__ import annotations

import threading
from pathlib import Path

from syncsvc.state.schema import SCHEMA_VERSION
from syncsvc.state.store import Store


def test_two_stores_migrating_a_fresh_database_at_once_both_succeed(fresh: Store) -> None:
    twin = Store(fresh.url.render_as_string(hide_password=False))
    barrier = threading.Barrier(2)
    found: dict[str, int] = {}
    errors: list[BaseException] = []

    def start(name: str, store: Store) -> None:
        barrier.wait()
        try:
            found[name] = store.migrate()
        except BaseException as exc:  # the test reports whatever escaped
            errors.append(exc)

    try:
        threads = [
            threading.Thread(target=start, args=(name, store))
            for name, store in (("a", fresh), ("b", twin))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert fresh.version() == SCHEMA_VERSION
        # One created the schema (found 0), the other waited and found it complete.
        assert sorted(found.values()) == [0, SCHEMA_VERSION]
    finally:
        twin.close()


def test_two_processes_opening_a_new_sqlite_file_at_once_both_succeed(tmp_path: Path) -> None:
    """Turning a new SQLite file to WAL is refused at once (« database is locked », busy
    timeout or not) while the other connection holds a lock: it failed about 4 starts in 10.
    Twenty fresh files, two stores each, started together."""
    for attempt in range(20):
        url = f"sqlite:///{tmp_path / f'state-{attempt}.db'}"
        stores = [Store(url), Store(url)]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        threads = [
            threading.Thread(target=_migrate, args=(store, barrier, errors)) for store in stores
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            for store in stores:
                store.close()
        assert errors == [], f"attempt {attempt + 1}: {errors[0]}"


def _migrate(store: Store, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    barrier.wait()
    try:
        store.migrate()
    except BaseException as exc:  # the test reports whatever escaped
        errors.append(exc)
