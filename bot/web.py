"""The ASGI app: Slack's requests at POST /slack/events, GET /healthz, and (points in the
bot) the StoreFront routes under /storefront (`bot.storefront_web`), and Xoxoday's delivery
webhook at POST /webhooks/plum (`bot.plum_webhook_web`).

Every request to /slack/events passes the gate (`bot.slack.gate`: size, signature, shape)
before Bolt sees it; Bolt's sync `App.dispatch` then runs in Starlette's thread pool (its
middleware records the request in the intake journal, `bot.slack.journal`, before the listener
acks), so a slow listener never blocks the event loop. The start-up (`bot.startup`) builds the
web app of a running bot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.foreground import Foreground
from bot.slack.gate import Rejected, admit, bolt_headers

if TYPE_CHECKING:
    from bot.plum_webhook_web import PlumWebhookWeb
    from bot.storefront_web import StoreFrontWeb

log = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, object]]


class SharedHealth:
    """GET /healthz is unauthenticated, so however many ask at once, one check runs at a time,
    on a thread of its own (never one that Slack's requests need), and everyone who asked while
    it ran gets its report."""

    def __init__(self, health: HealthCheck) -> None:
        self._health = health
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz")
        self._running: asyncio.Future[dict[str, object]] | None = None

    async def report(self) -> dict[str, object]:
        if self._running is None:
            self._running = asyncio.get_running_loop().run_in_executor(self._pool, self._health)
        running = self._running
        try:
            return await asyncio.shield(running)
        finally:
            if running.done() and self._running is running:
                self._running = None


def create_web_app(
    *,
    bolt_app: App,
    health: HealthCheck,
    signing_secret: str,
    foreground: Foreground | None = None,
    storefront: StoreFrontWeb | None = None,
    plum_webhook: PlumWebhookWeb | None = None,
) -> Starlette:
    """`foreground` counts the Slack requests in flight, which background work yields to;
    `storefront` adds the routes Xoxoday's store calls when points live in the bot;
    `plum_webhook` the route Xoxoday posts delivery updates to."""
    gauge = foreground or Foreground()

    async def slack_events(request: Request) -> Response:
        try:
            admitted = await admit(
                chunks=request.stream(), headers=request.headers, secret=signing_secret
            )
        except Rejected as rejected:
            return JSONResponse({"error": rejected.reason}, status_code=rejected.status)
        if admitted.body.get("ssl_check") == "1":
            return Response(status_code=200)  # Slack's certificate probe: nothing to do
        gauge.begin()
        try:
            # Verified: Bolt gets the request as it comes over HTTP. Bolt reads ids out of it as
            # it builds the request; a shape Slack never sends (a number where Slack puts an id)
            # fails there, before anything is recorded.
            try:
                bolt_request = BoltRequest(
                    body=admitted.for_bolt, headers=bolt_headers(request.headers), mode="http"
                )
            except (TypeError, AttributeError, KeyError, IndexError, ValueError) as err:
                log.info("a signed request Bolt cannot read (%s)", type(err).__name__)
                return JSONResponse({"error": "malformed request"}, status_code=400)
            bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        finally:
            gauge.end()
        return to_starlette_response(bolt_response)

    shared_health = SharedHealth(health)

    async def healthz(_: Request) -> Response:
        report = await shared_health.report()
        return JSONResponse(report, status_code=200 if report.get("ok") else 503)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if storefront is not None:
        routes += storefront.routes()
    if plum_webhook is not None:
        routes += plum_webhook.routes()
    return Starlette(routes=routes)
