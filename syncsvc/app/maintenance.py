"""Back up, restore and move the state store — with the service stopped on it.

Each operation takes the instance lease first (:mod:`syncsvc.app.fence`): a running service on
the same store makes it refuse, so a backup is consistent and a restore or a move never races
the service's own writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from syncsvc.app.fence import Fence
from syncsvc.errors import UsageError
from syncsvc.state.store import Store
from syncsvc.state.transfer import backup_sqlite, copy_rows, is_empty, sqlite_path

BUSY = (
    "le service (syncsvc run) est actif sur cette base d'état : l'arrêter d'abord (attendu : "
    "aucune instance active sur la base)"
)
POSTGRES = (
    "la base d'état est PostgreSQL : la sauvegarder avec pg_dump et la restaurer avec "
    "pg_restore (voir README « Exploitation ») ; syncsvc backup et restore servent aux "
    "fichiers SQLite"
)


@contextmanager
def stopped(store: Store, seconds: float) -> Iterator[Fence]:
    fence = Fence.take(store, seconds)
    if fence is None:
        raise UsageError(BUSY)
    try:
        yield fence
    finally:
        fence.give_back()


def backup(store: Store, destination: Path, lease_seconds: float) -> None:
    """A consistent copy of a SQLite store into ``destination`` (which must not exist)."""
    source = sqlite_path(store)
    if source is None:
        raise UsageError(POSTGRES)
    if destination.exists():
        raise UsageError(f"« {destination} » existe déjà (attendu : un nouveau fichier)")
    with stopped(store, lease_seconds):
        backup_sqlite(source, destination)


def restore(store: Store, backup_file: Path, lease_seconds: float) -> int:
    """Replace a SQLite store by a backup (checked first), then bring its schema up to date;
    returns the backup's schema version."""
    target = sqlite_path(store)
    if target is None:
        raise UsageError(POSTGRES)
    found = Store(f"sqlite:///{backup_file}") if backup_file.is_file() else None
    try:
        version = found.version() if found is not None else 0
    except Exception:
        version = 0
    finally:
        if found is not None:
            found.close()
    if version == 0:
        raise UsageError(
            f"« {backup_file} » n'est pas une sauvegarde de syncsvc (attendu : un fichier fait "
            "par syncsvc backup)"
        )
    with stopped(store, lease_seconds):
        store.engine.dispose()
        store.durable_engine.dispose()
        with sqlite3.connect(backup_file) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
    store.migrate()
    return version


def move(store: Store, url: str, lease_seconds: float) -> dict[str, int]:
    """Copy every row of ``store`` into a new, empty store at ``url`` (SQLite to PostgreSQL,
    say); returns the rows copied per table."""
    destination = Store(url)
    try:
        destination.migrate()
        if not is_empty(destination):
            shown = make_url(url).render_as_string(hide_password=True)
            raise UsageError(
                f"la base de destination n'est pas vide (attendu : une base neuve) : {shown}"
            )
        with stopped(store, lease_seconds):
            store.migrate()
            return copy_rows(store, destination)
    finally:
        destination.close()
