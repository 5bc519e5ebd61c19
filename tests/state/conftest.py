"""Fixtures of the store tests: each test runs against SQLite (a file) and PostgreSQL (a fresh
schema per test).

PostgreSQL: ``SYNCSVC_TEST_POSTGRES_URL`` or the local server (trust auth). When it cannot be
reached the PostgreSQL cases are skipped, or fail when ``CI`` is set (CI has PostgreSQL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from syncsvc.state.store import Store

POSTGRES_URL = os.environ.get(
    "SYNCSVC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the test database, to create and drop the per-test schemas."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    message: str | None = None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        message = f"PostgreSQL injoignable à {POSTGRES_URL} : {exc.orig}"
    if message is not None:
        engine.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI est défini : PostgreSQL doit tourner)", pytrace=False)
        pytest.skip(message)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fresh(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A store on an empty database (not migrated)."""
    if backend == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'state.db'}")
        yield store
        store.close()
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"t_{uuid.uuid4().hex}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = Store(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    try:
        with store.begin() as connection:  # the options parameter reached the server
            assert connection.execute(text("SELECT current_schema()")).scalar() == schema
        yield store
    finally:
        store.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def store(fresh: Store) -> Store:
    fresh.migrate()
    return fresh
