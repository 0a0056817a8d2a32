"""What operators' tools call: GET /livez, GET /readyz and GET /metrics.

- /livez: 200 while the process serves. It touches nothing else (no database, no thread), so
  only a process that no longer serves fails it: restart on that.
- /readyz: 200 when this process can take work, else 503 (`bot.health.Health.readiness`: the
  ledger and the journal take writes, the schema is not behind). Xoxoday's state is in the
  body and never makes it fail. A reading serves for `READY_FRESH_FOR` seconds, so a change
  shows within a few seconds however often it is asked, and the database is written at most
  once in that time; one that takes longer than `READY_PATIENCE` is answered 503, "slow".
- /metrics: Prometheus's text format (`bot.metrics`), behind `Authorization: Bearer <token>`
  when a token is set (METRICS_TOKEN), compared in constant time.

These routes are unauthenticated (or, for /metrics, cheap to ask): however many ask at once, one
check runs at a time on a thread of its own (`SharedCheck`, never one Slack's requests need) and
everyone who asked while it ran gets its answer.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.metrics import CONTENT_TYPE, Metrics

T = TypeVar("T")
READY_FRESH_FOR = 2.0  # seconds a readiness reading is served again
READY_PATIENCE = 3.0  # seconds /readyz waits for a reading before answering "slow"
METRICS_FRESH_FOR = 1.0


class SharedCheck(Generic[T]):
    """`check` run on a thread of its own, one at a time, its answer shared by everyone who
    asked while it ran (and, for `fresh_for` seconds after, by those who ask then)."""

    def __init__(self, check: Callable[[], T], *, name: str, fresh_for: float = 0.0) -> None:
        self._check = check
        self._fresh_for = fresh_for
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._running: asyncio.Future[T] | None = None
        self._last: tuple[float, T] | None = None

    async def get(self, *, patience: float | None = None) -> T:
        """The latest answer if fresh, else the running (or a new) check's. Raises
        TimeoutError when it takes longer than `patience` (the check carries on)."""
        last = self._last
        if last is not None and time.monotonic() - last[0] < self._fresh_for:
            return last[1]
        if self._running is None:
            started = time.monotonic()
            running = asyncio.get_running_loop().run_in_executor(self._pool, self._check)
            running.add_done_callback(lambda done: self._keep(done, started))
            self._running = running
        running = self._running
        try:
            return await asyncio.wait_for(asyncio.shield(running), timeout=patience)
        finally:
            if running.done() and self._running is running:
                self._running = None

    def _keep(self, done: asyncio.Future[T], started: float) -> None:
        if not done.cancelled() and done.exception() is None:
            self._last = (started, done.result())


class ProbesWeb:
    def __init__(
        self,
        *,
        readiness: Callable[[], dict[str, object]],
        metrics: Metrics,
        metrics_token: str | None = None,
    ) -> None:
        self._ready = SharedCheck(readiness, name="readyz", fresh_for=READY_FRESH_FOR)
        self._metrics = SharedCheck(metrics.render, name="metrics", fresh_for=METRICS_FRESH_FOR)
        self._expected = f"Bearer {metrics_token}".encode() if metrics_token else None

    def routes(self) -> list[Route]:
        return [
            Route("/livez", self.livez, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
        ]

    async def livez(self, _: Request) -> Response:
        return JSONResponse({"live": True})

    async def readyz(self, _: Request) -> Response:
        try:
            report = await self._ready.get(patience=READY_PATIENCE)
        except TimeoutError:
            report = {"database": f"slow: no answer for {READY_PATIENCE:.0f} s", "ready": False}
        except Exception as err:  # whatever it is, this process can't say it is ready
            report = {"error": f"the check failed ({type(err).__name__})", "ready": False}
        return JSONResponse(report, status_code=200 if report.get("ready") else 503)

    async def metrics(self, request: Request) -> Response:
        if self._expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self._expected):
                return JSONResponse(
                    {"error": "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(await self._metrics.get(), media_type=CONTENT_TYPE)
