"""Fixtures of the system tests: an SMTP inbox, a Radicale, a PostgreSQL schema, the CalDAV
password in the environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from tests.harness.servers import CalDAVServer, free_port, radicale_server
from tests.system.service import PG, Inbox


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[CalDAVServer]:
    with radicale_server(tmp_path / "radicale") as server:
        yield server


@pytest.fixture
def pg_url() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex}"
    engine = create_engine(PG)
    try:
        with engine.begin() as db:
            db.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        if os.environ.get("CI"):
            raise AssertionError(f"PostgreSQL injoignable sur {PG} : {exc}") from exc
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as db:
            db.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_CALDAV_PASSWORD", "secret")
