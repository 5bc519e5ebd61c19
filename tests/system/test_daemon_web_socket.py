"""The daemon's web socket: Nagle off on every accepted connection (syncsvc/daemon/web.py).

With Nagle on, a small response on a kept-alive connection (a page sent gzip, a redirect)
waited for the client's delayed ACK of its headers: ~40 ms each, whatever the page cost.
"""

from __future__ import annotations

import asyncio
import socket

from syncsvc.daemon.web import WebServer
from tests.harness.servers import free_port


def test_accepted_connections_have_tcp_nodelay() -> None:
    async def scenario() -> int:
        server = WebServer(None, "127.0.0.1", free_port(), asyncio.Event())
        sock = await server._bind()
        assert sock is not None
        found: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            raw = writer.get_extra_info("socket")
            found.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listening = await asyncio.start_server(accepted, sock=sock)
        async with listening:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            value = await asyncio.wait_for(found, 10)
            writer.close()
        return value

    assert asyncio.run(scenario()) != 0
