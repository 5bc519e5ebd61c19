from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import CalDAVServer, radicale_server, xandikos_server

SERVERS = {"radicale": radicale_server, "xandikos": xandikos_server}


@pytest.fixture(params=sorted(SERVERS))
def caldav_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CalDAVServer]:
    """A real CalDAV server, started for this test, behind a counting proxy."""
    with SERVERS[request.param](tmp_path / "server") as server:
        yield server
