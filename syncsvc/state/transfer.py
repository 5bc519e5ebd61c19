"""Whole-store copies: a SQLite file's online backup, and every row from one store to another.

The tables are the schema's own (:data:`syncsvc.state.schema.metadata`), copied in chunks in
one transaction on the destination; nothing references another table, so the order is free.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import insert, select

from syncsvc.state.schema import instance_lease, metadata, schema_version
from syncsvc.state.store import Store

CHUNK = 500


def sqlite_path(store: Store) -> Path | None:
    """The database file of a SQLite store (None for another database)."""
    database = store.url.database
    if not store.url.drivername.startswith("sqlite") or database in (None, "", ":memory:"):
        return None
    return Path(database)


def backup_sqlite(source: Path, destination: Path) -> None:
    """A consistent copy of a live SQLite database (its online backup API)."""
    with sqlite3.connect(source) as src, sqlite3.connect(destination) as dst:
        src.backup(dst)


def copy_rows(source: Store, destination: Store) -> dict[str, int]:
    """Every row of every table from ``source`` into ``destination`` (whose schema must be at
    the same version and whose tables must be empty); returns the count per table. The instance
    lease is not copied: the destination starts with none held."""
    counts: dict[str, int] = {}
    with source.begin() as src, destination.begin(durable=True) as dst:
        for table in metadata.sorted_tables:
            if table is schema_version or table is instance_lease:
                continue
            rows = src.execute(select(table)).mappings()
            counts[table.name] = 0
            chunk: list[dict[str, object]] = []
            for row in rows:
                chunk.append(dict(row))
                if len(chunk) >= CHUNK:
                    dst.execute(insert(table), chunk)
                    counts[table.name] += len(chunk)
                    chunk = []
            if chunk:
                dst.execute(insert(table), chunk)
                counts[table.name] += len(chunk)
    return counts


def is_empty(store: Store) -> bool:
    """No row in any table but the schema version (a fresh destination)."""
    with store.begin() as db:
        for table in metadata.sorted_tables:
            if table is schema_version or table is instance_lease:
                continue
            if db.execute(select(table).limit(1)).first() is not None:
                return False
    return True
