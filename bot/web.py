"""The ASGI app: Slack's requests at POST /slack/events, GET /healthz, the operators' probes
and metrics (GET /livez, /readyz, /metrics: `bot.probes_web`), and (points in the bot) the
StoreFront routes under /storefront (`bot.storefront_web`), and Xoxoday's delivery webhook at
POST /webhooks/plum (`bot.plum_webhook_web`).

Every request to /slack/events passes the gate (`bot.slack.gate`: size, signature, shape)
before Bolt sees it; Bolt's sync `App.dispatch` then runs in Starlette's thread pool (its
middleware records the request in the intake journal, `bot.slack.journal`, before the listener
acks), so a slow listener never blocks the event loop. The start-up (`bot.startup`) builds the
web app of a running bot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.foreground import Foreground
from bot.metrics import Metrics
from bot.offload import Offload
from bot.probes_web import ProbesWeb, SharedCheck
from bot.slack.gate import Admitted, Ignored, Rejected, admit, bolt_headers

if TYPE_CHECKING:
    from bot.plum_webhook_web import PlumWebhookWeb
    from bot.storefront_web import StoreFrontWeb

log = logging.getLogger(__name__)

# Slack's requests dispatched at once (each holds its thread until its ack: the journal's
# commit, then the listener's ack function): as many as Starlette's own thread pool had.
SLACK_THREADS = 40

HealthCheck = Callable[[], dict[str, object]]


# What a request to /slack/events is, for /metrics (a label: never anything of the person).
KINDS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "event_callback",
        "message_action",
        "shortcut",
        "url_verification",
        "view_closed",
        "view_submission",
    }
)


def request_kind(body: dict[str, Any]) -> str:
    if body.get("command"):
        return "command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind in KINDS else "other"


def create_web_app(
    *,
    bolt_app: App,
    health: HealthCheck,
    signing_secret: str,
    foreground: Foreground | None = None,
    storefront: StoreFrontWeb | None = None,
    plum_webhook: PlumWebhookWeb | None = None,
    probes: ProbesWeb | None = None,
    metrics: Metrics | None = None,
    offload: Offload | None = None,
) -> Starlette:
    """`foreground` counts the Slack requests in flight, which background work yields to;
    `storefront` adds the routes Xoxoday's store calls when points live in the bot;
    `plum_webhook` the route Xoxoday posts delivery updates to; `probes` GET /livez, /readyz
    and /metrics; `metrics` counts Slack's requests and times their acknowledgements;
    `offload` the threads Bolt dispatches Slack's requests on (`bot.offload`)."""
    gauge = foreground or Foreground()
    counted = metrics or Metrics()
    dispatching = offload or Offload("slack", threads=SLACK_THREADS)

    async def slack_events(request: Request) -> Response:
        arrived = time.perf_counter()
        try:
            admitted = await admit(
                chunks=request.stream(), headers=request.headers, secret=signing_secret
            )
        except Ignored as ignored:
            log.info("ignored a signed event: %s", ignored.reason)
            counted.slack_request(kind="event_callback", status=200)
            return Response(status_code=200)
        except Rejected as rejected:
            counted.slack_request(kind="unverified", status=rejected.status)
            return JSONResponse({"error": rejected.reason}, status_code=rejected.status)
        kind = request_kind(admitted.body)
        if admitted.body.get("ssl_check") == "1":
            counted.slack_request(kind="ssl_check", status=200)
            return Response(status_code=200)  # Slack's certificate probe: nothing to do
        response = await _dispatch(admitted, request)
        counted.slack_request(
            kind=kind, status=response.status_code, seconds=time.perf_counter() - arrived
        )
        return response

    async def _dispatch(admitted: Admitted, request: Request) -> Response:
        an_event = admitted.body.get("type") in ("event_callback", "app_rate_limited")
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
                if an_event:
                    return Response(status_code=200)
                return JSONResponse({"error": "malformed request"}, status_code=400)
            bolt_response = await dispatching.run(bolt_app.dispatch, bolt_request)
        finally:
            gauge.end()
        if an_event and bolt_response.status == 404:
            # An event no listener takes (one the manifest doesn't subscribe to, or
            # app_rate_limited): acknowledged, so Slack keeps delivering the others.
            return Response(status_code=200)
        return to_starlette_response(bolt_response)

    # Unauthenticated: however many ask at once, one check runs at a time, on a thread of its
    # own (never one that Slack's requests need), and everyone who asked while it ran gets it.
    shared_health = SharedCheck(health, name="healthz")

    async def healthz(_: Request) -> Response:
        report = await shared_health.get()
        return JSONResponse(report, status_code=200 if report.get("ok") else 503)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if storefront is not None:
        routes += storefront.routes()
    if plum_webhook is not None:
        routes += plum_webhook.routes()
    if probes is not None:
        routes += probes.routes()
    return Starlette(routes=routes)
