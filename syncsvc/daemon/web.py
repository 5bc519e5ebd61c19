"""The dashboard, feeds and health pages of the service, served by uvicorn in its event loop.

While the port is taken (the instance this one replaces has not let it go yet), the server
tries again every few seconds instead of stopping the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

log = logging.getLogger("syncsvc")
PORT_RETRY_SECONDS = 3


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """One ASGI application on ``host:port`` until :meth:`stop`."""

    def __init__(self, app: Any, host: str, port: int, stopping: asyncio.Event) -> None:
        self.app, self.host, self.port, self.stopping = app, host, port, stopping
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._serve())

    async def stop(self) -> None:
        task = self.task
        if task is None:
            return
        if self.server is None:  # still waiting for its port
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return
        self.server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, 10)
        self.server = None

    async def _serve(self) -> None:
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            access_log=False,
            log_level="warning",
            lifespan="off",
        )
        sock = await self._bind()
        if sock is None:
            return
        self.server = _QuietServer(config)
        log.info("tableau de bord et flux : http://%s:%d/", self.host, self.port)
        await self.server.serve(sockets=[sock])

    async def _bind(self) -> socket.socket | None:
        announced = False
        while not self.stopping.is_set():
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            # IPPROTO_TCP named, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets
            # whose proto says TCP, and with Nagle a small response on a kept-alive connection
            # waited ~40 ms for the client's delayed ACK of its headers.
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError as exc:
                sock.close()
                if not announced:
                    log.warning(
                        "port %s:%d occupé (%s) : nouvel essai toutes les %d s",
                        self.host,
                        self.port,
                        exc.strerror,
                        PORT_RETRY_SECONDS,
                    )
                    announced = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), PORT_RETRY_SECONDS)
                continue
            sock.listen(128)
            sock.setblocking(False)
            return sock
        return None
