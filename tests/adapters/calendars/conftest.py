from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.harness.servers import (
    CalDAVServer,
    cyrus_server,
    ensure_cyrus,
    radicale_server,
    xandikos_server,
)

SERVERS = {"radicale": radicale_server, "xandikos": xandikos_server, "cyrus": cyrus_server}


def _serve(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    if kind == "cyrus" and (reason := ensure_cyrus()) is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Cyrus is needed in CI: {reason}")
        pytest.skip(reason)
    with SERVERS[kind](tmp_path_factory.mktemp(f"{kind}-server")) as server:
        yield server


# One server of each kind for the whole session, started when a test first needs it. Tests
# never use these directly: they go through ``fresh_caldav`` for a clean view of one.


@pytest.fixture(scope="session")
def shared_radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    yield from _serve("radicale", tmp_path_factory)


@pytest.fixture(scope="session")
def shared_xandikos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    yield from _serve("xandikos", tmp_path_factory)


@pytest.fixture(scope="session")
def shared_cyrus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    yield from _serve("cyrus", tmp_path_factory)


@pytest.fixture
def fresh_caldav(request: pytest.FixtureRequest) -> Iterator[Callable[[str], CalDAVServer]]:
    """``fresh_caldav(kind)``: the session's server of that kind as this test alone sees it.

    Its own empty calendar home (a new user on Radicale and Cyrus, the emptied home on
    Xandikos) and a restored proxy (up, no pending fault, counts at zero); see
    :meth:`CalDAVServer.fresh`.
    """
    with ExitStack() as stack:

        def fresh(kind: str) -> CalDAVServer:
            shared: CalDAVServer = request.getfixturevalue(f"shared_{kind}")
            return stack.enter_context(shared.fresh())

        yield fresh


@pytest.fixture(params=sorted(SERVERS))
def caldav_server(
    request: pytest.FixtureRequest, fresh_caldav: Callable[[str], CalDAVServer]
) -> CalDAVServer:
    """A real CalDAV server behind a counting proxy, shared by the session, clean for this test."""
    return fresh_caldav(request.param)
