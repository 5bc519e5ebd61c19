from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import CalDAVServer, cyrus_server, ensure_cyrus, radicale_server, xandikos_server

SERVERS = {"radicale": radicale_server, "xandikos": xandikos_server, "cyrus": cyrus_server}


@pytest.fixture(params=sorted(SERVERS))
def caldav_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CalDAVServer]:
    """A real CalDAV server, started for this test, behind a counting proxy."""
    if request.param == "cyrus" and (reason := ensure_cyrus()) is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Cyrus is needed in CI: {reason}")
        pytest.skip(reason)
    with SERVERS[request.param](tmp_path / "server") as server:
        yield server
