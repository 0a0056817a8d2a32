"""Run the sandbox with uvicorn: in a daemon thread (tests, the embedded sandbox) or in the
foreground (`rewardbot sandbox`)."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from bot.simulators.plum_sandbox.app import create_app
from bot.simulators.plum_sandbox.clock import Clock
from bot.simulators.plum_sandbox.context import SandboxContext
from bot.simulators.plum_sandbox.faults import Faults
from bot.simulators.plum_sandbox.state import DEFAULT_BALANCE, DEFAULT_CURRENCY, SandboxState
from bot.simulators.plum_sandbox.storefront.company import DEFAULT_TIMEOUT_SECONDS
from bot.simulators.plum_sandbox.webhooks import DEFAULT_TIMEOUT_SECONDS as WEBHOOK_TIMEOUT_SECONDS
from bot.simulators.plum_sandbox.webhooks import Webhooks

START_TIMEOUT_SECONDS = 10.0


class HideStoreTokens(logging.Filter):
    """The store's sign-in link carries the ssoToken in its path: the access log shows
    `/stores/[hidden]` instead (a bearer secret never reaches a log)."""

    _TOKEN = re.compile(r"(/stores/)[^/?\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._TOKEN.sub(r"\1[hidden]", a) if isinstance(a, str) else a for a in record.args
            )
        return True


class QuietDroppedAnswers(logging.Filter):
    """A "lost answer" fault cuts its response short on purpose (`DroppedResponse`), which
    uvicorn reports as "ASGI callable returned without completing response" at ERROR: from a
    thread serving a sandbox that line is the fault working, not an error (the sandbox logs
    its own line saying what it dropped), so it is left out; any other server's stays."""

    MESSAGE = "ASGI callable returned without completing response."

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()  # idents of the threads serving a sandbox

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.thread in self.threads and record.getMessage() == self.MESSAGE)

    @classmethod
    def serving_here(cls) -> None:
        """The calling thread serves a sandbox."""
        uvicorn_errors = logging.getLogger("uvicorn.error")
        found = [f for f in uvicorn_errors.filters if isinstance(f, cls)]
        quiet = found[0] if found else cls()
        if not found:
            uvicorn_errors.addFilter(quiet)
        quiet.threads.add(threading.get_ident())


class _PromptServer(uvicorn.Server):
    """Notices `should_exit` within 20 ms instead of uvicorn's 100 ms (fast test teardown);
    uvicorn's own tick work still runs every 100 ms."""

    async def main_loop(self) -> None:
        ticks = 0
        while not self.should_exit:
            ticks += 1
            await asyncio.sleep(0.02)
            if ticks % 5 == 0 and await self.on_tick(ticks // 5):
                self.should_exit = True


class SandboxServer:
    def __init__(
        self,
        *,
        client_id: str = "sandbox",
        client_secret: str = "sandbox",
        seed: int = 0,
        state_path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        access_ttl_seconds: int | None = None,
        refresh_ttl_seconds: int | None = None,
        refresh_grace_seconds: int = 0,
        rate_limits: bool = True,
        clock: Clock | None = None,
        balance: Decimal = DEFAULT_BALANCE,
        currency: str = DEFAULT_CURRENCY,
        latency_ms: int = 0,
        log_level: str = "warning",
    ) -> None:
        self.context = SandboxContext.build(
            client_id=client_id,
            client_secret=client_secret,
            seed=seed,
            state_path=state_path,
            access_ttl_seconds=access_ttl_seconds,
            refresh_ttl_seconds=refresh_ttl_seconds,
            refresh_grace_seconds=refresh_grace_seconds,
            rate_limits=rate_limits,
            clock=clock,
            balance=balance,
            currency=currency,
            latency_ms=latency_ms,
        )
        self.app = create_app(context=self.context)
        self._host = host
        self._port = port
        self._log_level = log_level
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        # While the sandbox is unreachable: the port, bound but not listening, so connections
        # are refused and no other process takes it.
        self._held: socket.socket | None = None
        self._moving = threading.Lock()
        self.context.faults.watch_unreachable(self._reachability)

    # ----- what tests and the CLI read ------------------------------------------------------
    @property
    def state(self) -> SandboxState:
        return self.context.state

    @property
    def faults(self) -> Faults:
        return self.context.faults

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.context.log.entries

    @property
    def token_requests(self) -> int:
        return self.context.log.token_requests

    @property
    def access_token(self) -> str:
        return self.context.access_token

    @property
    def refresh_token(self) -> str:
        return self.context.refresh_token

    @property
    def client_id(self) -> str:
        return self.context.tokens.client_id

    @property
    def rate_limits(self) -> bool:
        return self.context.limiter.enabled

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        self.context.limiter.enabled = enabled

    @property
    def port(self) -> int:
        return self.bind().getsockname()[1]

    @property
    def root_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/chef"

    @property
    def store_url(self) -> str:
        """The hosted store's root: people are sent to
        `{store_url}/chef/v1/oauth/redirect/stores/{ssoToken}`."""
        return self.root_url

    # ----- StoreFront -----------------------------------------------------------------------
    def connect_storefront(
        self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        """Spend from the company's point system: its endpoints are `base_url` + `/balance`,
        `/profile`, `/redeem` and `/refund` (e.g. `http://127.0.0.1:3000/storefront`), and
        `api_key` is what its GetProfile expects. Replaces any earlier connection."""
        self.context.storefront.connect(base_url, api_key, timeout=timeout)

    def disconnect_storefront(self) -> None:
        self.context.storefront.disconnect()

    # ----- the delivery webhook ---------------------------------------------------------------
    @property
    def webhooks(self) -> Webhooks:
        """Deliveries and their webhooks: `drop_next(n)`, `cancel_next(n)`, `delay_seconds`,
        `retry_delays`, `set_case(...)`, `log` (one entry per event), `idle()`."""
        return self.context.hooks

    def connect_webhook(
        self, url: str, api_key: str, *, timeout: float = WEBHOOK_TIMEOUT_SECONDS
    ) -> None:
        """Post every delivery (or cancellation) to `url` with `x-api-key: api_key`, as the
        webhook set in Xoxoday's dashboard (e.g. `http://127.0.0.1:3000/webhooks/plum`);
        retried 3 times, then disabled until connected again. Replaces any earlier one."""
        self.context.hooks.connect(url, api_key, timeout=timeout)

    def disconnect_webhook(self) -> None:
        self.context.hooks.disconnect()

    def __repr__(self) -> str:
        bound = self.root_url if self._socket else "unbound"
        return f"SandboxServer({bound}, client_id={self.client_id!r})"

    # ----- lifecycle ------------------------------------------------------------------------
    def bind(self) -> socket.socket:
        """Bind the listening socket now (so the port is known before serving)."""
        if self._socket is None:
            family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
            # proto=IPPROTO_TCP, or asyncio skips TCP_NODELAY on accepted connections and
            # every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            self._socket = sock
        return self._socket

    def _uvicorn(self) -> uvicorn.Server:
        if self._log_level in ("debug", "info"):
            access = logging.getLogger("uvicorn.access")
            if not any(isinstance(f, HideStoreTokens) for f in access.filters):
                access.addFilter(HideStoreTokens())
        config = uvicorn.Config(
            self.app,
            log_level=self._log_level,
            lifespan="off",
            timeout_graceful_shutdown=2,
            access_log=self._log_level in ("debug", "info"),
        )
        self._server = _PromptServer(config)
        return self._server

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns once the server is listening."""
        if self._thread is not None:
            raise RuntimeError("this sandbox was already started")
        sock = self.bind()
        server = self._uvicorn()
        self._thread = threading.Thread(
            target=self._serve, args=(server, sock), name="plum-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Plum sandbox did not start")
            time.sleep(0.005)
        self.context.hooks.resume()
        return self

    @property
    def reachable(self) -> bool:
        """Serving and listening (False while `faults.unreachable` holds)."""
        server = self._server
        serving = self._thread is not None and server is not None and server.started
        return self._held is None and serving

    def _reachability(self, unreachable: bool) -> None:
        """`faults.unreachable` changed: stop listening or listen again, on a thread of its own
        (the change may come from a request this server is answering)."""
        if self._thread is None and self._held is None:
            return  # not serving in a thread (`serve_forever`, or not started)
        move = self._go_away if unreachable else self._come_back
        threading.Thread(target=move, name="plum-sandbox-reach", daemon=True).start()

    def _go_away(self) -> None:
        with self._moving:
            thread = self._thread
            if self._held is not None or thread is None or not self.context.faults.unreachable:
                return
            port = self.port
            if self._server is not None:
                self._server.should_exit = True
            thread.join(timeout=10)
            self._thread = None
            if self._socket is not None:
                self._socket.close()
                self._socket = None
            family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
            held = socket.socket(family, socket.SOCK_STREAM)
            held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            held.bind((self._host, port))
            self._port, self._held = port, held

    def _come_back(self) -> None:
        with self._moving:
            held = self._held
            if held is None or self.context.faults.unreachable:
                return
            sock = self.bind()  # beside the held port (both SO_REUSEADDR), then let it go
            held.close()
            self._held = None
            server = self._uvicorn()
            self._thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, name="plum-sandbox", daemon=True
            )
            self._thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread until Ctrl-C (uvicorn handles the signals)."""
        sock = self.bind()
        try:
            self._serve(self._uvicorn(), sock)
        finally:
            self.context.stopping.set()

    @staticmethod
    def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        QuietDroppedAnswers.serving_here()
        server.run(sockets=[sock])

    def stop(self) -> None:
        self.context.stopping.set()
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
        if self._held is not None:
            self._held.close()
            self._held = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
