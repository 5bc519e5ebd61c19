"""The daemon's web socket: Nagle off on every accepted connection (syncsvc/daemon/web.py).

With Nagle on, a small response on a kept-alive connection (a page sent gzip, a redirect)
waited for the client's delayed ACK of its headers: ~40 ms each, whatever the page cost.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx

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


def test_requests_are_parsed_by_httptools() -> None:
    """httptools (a runtime dependency) parses HTTP in C: with h11, uvicorn's pure-Python
    parser, a dashboard page cost the daemon more CPU (README, « Développement »)."""

    async def app(scope: dict[str, object], receive: object, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def scenario() -> tuple[int, str]:
        port = free_port()
        server = WebServer(app, "127.0.0.1", port, asyncio.Event())
        server.start()
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(200):
                    if server.server is not None and server.server.started:
                        break
                    await asyncio.sleep(0.05)
                response = await client.get(f"http://127.0.0.1:{port}/")
            assert server.server is not None
            return response.status_code, server.server.config.http_protocol_class.__name__
        finally:
            await server.stop()

    assert asyncio.run(scenario()) == (200, "HttpToolsProtocol")
