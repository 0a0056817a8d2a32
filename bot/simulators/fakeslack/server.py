"""Run an ASGI app under uvicorn in a background thread, on a real loopback port."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import uvicorn


class _PromptServer(uvicorn.Server):
    """Notices `should_exit` within 20 ms instead of uvicorn's 100 ms, as the Plum sandbox's
    server does (a test stops two or three of these, one after the other, at every teardown);
    uvicorn's own tick work still runs every 100 ms."""

    async def main_loop(self) -> None:
        ticks = 0
        while not self.should_exit:
            ticks += 1
            await asyncio.sleep(0.02)
            if ticks % 5 == 0 and await self.on_tick(ticks // 5):
                self.should_exit = True


class ServerThread:
    """`start()` returns once the socket listens; `port` is the bound port (port=0 picks one)."""

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, name: str = "asgi"
    ) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
        )
        self._server = _PromptServer(config)
        self._thread = threading.Thread(target=self._run, name=f"{name}-server", daemon=True)
        self._error: BaseException | None = None
        self.host = host
        self.port = port

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except BaseException as err:  # surfaced by start()
            self._error = err

    def start(self, *, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(
                    f"server failed to start on {self.host}:{self.port}: {self._error}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start within {timeout}s")
            time.sleep(0.01)
        sockets = self._server.servers[0].sockets
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self, *, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"
