"""The ASGI app: Slack's requests at POST /slack/events and GET /healthz.

Bolt's sync `App.dispatch` runs in Starlette's thread pool, so a slow listener never blocks the
event loop and every request is acknowledged within Slack's three seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HealthCheck = Callable[[], dict[str, object]]


def create_web_app(*, bolt_app: App, health: HealthCheck) -> Starlette:
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def healthz(_: Request) -> Response:
        report = await run_in_threadpool(health)
        return JSONResponse(report, status_code=200 if report.get("ok") else 503)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
