"""The ASGI app: the Plum API under `/chef` (with StoreFront's sign-in and hosted store, see
`storefront/`), and the admin endpoints under `/_sandbox`.

Every API request goes through one pipeline: record it (without secrets), authenticate, count
it against the rate limit, roll the faults, apply the operation, render the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.simulators.plum_sandbox import admin
from bot.simulators.plum_sandbox.context import SandboxContext
from bot.simulators.plum_sandbox.errors import ApiFailure, AppError, OAuthError, PlainError
from bot.simulators.plum_sandbox.faults import Decision
from bot.simulators.plum_sandbox.operations import QUERIES, OpContext
from bot.simulators.plum_sandbox.shapes import token_body, validation_body
from bot.simulators.plum_sandbox.storefront import sso
from bot.simulators.plum_sandbox.storefront import store as storefront_store

log = logging.getLogger(__name__)
MAX_HANG_SECONDS = 600.0
REFRESH_FLOWS = ("user", "company")


class DroppedResponse(Response):
    """Starts a response, sends part of the body, then gives up: the server closes the
    connection, so the client sees a protocol error after the operation was applied."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"data":', "more_body": True})


class Pipeline:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.op_ctx = OpContext(state=ctx.state, faults=ctx.faults, webhooks=ctx.hooks)

    def failure_response(self, failure: ApiFailure) -> JSONResponse:
        rendering = self.ctx.faults.rendering()
        return JSONResponse(
            failure.body(rendering), status_code=failure.status, headers=failure.headers(rendering)
        )

    async def _hang(self, request: Request) -> None:
        """Wait until the client gives up or the server stops (never blocks shutdown)."""
        deadline = time.monotonic() + MAX_HANG_SECONDS
        while not self.ctx.stopping.is_set() and time.monotonic() < deadline:
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.05)

    async def run(
        self,
        request: Request,
        operation: str,
        logged: Any,
        apply: Callable[[], dict[str, Any]],
        *,
        authenticate: bool = True,
    ) -> Response:
        entry = self.ctx.log.record(operation, request.url.path, logged)
        try:
            response = await self._run(request, operation, apply, authenticate=authenticate)
        except ApiFailure as failure:
            response = self.failure_response(failure)
        except Exception:
            log.exception("sandbox: %s failed", operation)
            response = self.failure_response(PlainError(500))
        entry["status"] = response.status_code
        if isinstance(response, DroppedResponse):
            entry["dropped"] = True
        return response

    async def _run(
        self,
        request: Request,
        operation: str,
        apply: Callable[[], dict[str, Any]],
        *,
        authenticate: bool,
    ) -> Response:
        if authenticate:
            self.authenticate(request)
        self.ctx.limiter.check(operation)
        decision: Decision = self.ctx.faults.decide(operation)
        if decision.latency_seconds:
            await asyncio.sleep(decision.latency_seconds)
        if not decision.apply_first:
            await self._misbehave(request, decision)
        body = apply()
        if decision.drop_after_apply:
            log.info("sandbox fault: dropping the connection after applying %s", operation)
            return DroppedResponse()
        if decision.apply_first:
            await self._misbehave(request, decision)
        return JSONResponse(body)

    async def _misbehave(self, request: Request, decision: Decision) -> None:
        if decision.hang:
            await self._hang(request)
            raise PlainError(503, "The sandbox stopped while a request hung")
        if decision.failure is not None:
            raise decision.failure

    def authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AppError("PIPE10013", "Send the header 'Authorization: Bearer <access_token>'.")
        self.ctx.tokens.access(token.strip())
        return token.strip()


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AppError(None, "The body must be JSON: {query, tag, variables}.") from None
    if not isinstance(body, dict):
        raise AppError(None, "The body must be a JSON object: {query, tag, variables}.")
    return body


async def _form_or_json(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise OAuthError("invalid_request", "The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise OAuthError("invalid_request", "The body must be a JSON object.")
        return body
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The form body is not UTF-8.") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def _token_log(fields: dict[str, Any]) -> dict[str, Any]:
    """What may be recorded of a token request: never the secret or a token."""
    return {k: fields.get(k) for k in ("grant_type", "client_id") if k in fields}


def create_app(*, context: SandboxContext | None = None, **build_args: Any) -> Starlette:
    """The sandbox as an ASGI app. Without `context`, one is built from `build_args` (the
    keyword arguments of `SandboxContext.build`); it is available as `app.state.sandbox`."""
    ctx = context or SandboxContext.build(**build_args)
    pipe = Pipeline(ctx)

    async def api(request: Request, *, expected: str | None = None) -> Response:
        try:
            body = await _json_body(request)
        except ApiFailure as failure:
            ctx.log.record("unknown", request.url.path, None)["status"] = failure.status
            return pipe.failure_response(failure)
        query = body.get("query")
        op = QUERIES.get(query) if isinstance(query, str) else None
        name = op.name if op else expected or "unknown"

        def apply() -> dict[str, Any]:
            if op is None or (expected is not None and op.name != expected):
                wanted = f" (this path serves {expected})" if expected else ""
                raise AppError(None, f"Unknown query {query!r}{wanted}.", error="Unknown query")
            if body.get("tag") != op.tag:
                raise AppError(
                    None,
                    f"tag must be {op.tag!r} for {query}, got {body.get('tag')!r}.",
                    error="Invalid tag",
                )
            return op.handler(pipe.op_ctx, body)

        logged = body.get("variables")
        if logged is None and "data" in body:
            logged = {"data": body["data"]}
        return await pipe.run(request, name, logged, apply)

    async def api_root(request: Request) -> Response:
        return await api(request)

    async def generate_link(request: Request) -> Response:
        return await api(request, expected="generateLink")

    async def send_links(request: Request) -> Response:
        return await api(request, expected="generateLinkEmail")

    async def token(request: Request) -> Response:
        try:
            fields = await _form_or_json(request)
        except ApiFailure as failure:
            ctx.log.record("token", request.url.path, None)["status"] = failure.status
            return pipe.failure_response(failure)

        def apply() -> dict[str, Any]:
            grant = fields.get("grant_type")
            if grant != "client_credentials":
                raise OAuthError(
                    "unsupported_grant_type", "grant_type must be client_credentials here."
                )
            issued = ctx.tokens.client_credentials(
                fields.get("client_id"), fields.get("client_secret")
            )
            return token_body(issued, now=ctx.state.now(), variant=ctx.faults.variant("token"))

        return await pipe.run(request, "token", _token_log(fields), apply, authenticate=False)

    async def validate(request: Request) -> Response:
        def apply() -> dict[str, Any]:
            token = pipe.authenticate(request)
            record = ctx.tokens.access(token)
            return validation_body(
                token, record.expires_at, now=ctx.state.now(), variant=ctx.faults.variant("token")
            )

        return await pipe.run(request, "validateToken", None, apply, authenticate=False)

    def refresh_endpoint(flow: str) -> Callable[[Request], Any]:
        async def refresh(request: Request) -> Response:
            try:
                fields = await _form_or_json(request)
            except ApiFailure as failure:
                ctx.log.record("token", request.url.path, None)["status"] = failure.status
                return pipe.failure_response(failure)

            def apply() -> dict[str, Any]:
                if fields.get("grant_type") != "refresh_token":
                    raise OAuthError(
                        "unsupported_grant_type", "grant_type must be refresh_token here."
                    )
                issued = ctx.tokens.refresh(
                    flow=flow,
                    refresh_token=fields.get("refresh_token"),
                    client_id=fields.get("client_id"),
                    client_secret=fields.get("client_secret"),
                )
                return token_body(issued, now=ctx.state.now(), variant=ctx.faults.variant("token"))

            return await pipe.run(request, "token", _token_log(fields), apply, authenticate=False)

        return refresh

    async def store_sso(request: Request) -> Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            failure = AppError(None, "The body must be a JSON object: {user_input, tpd}.")
            ctx.log.record("storeSso", request.url.path, None)["status"] = failure.status
            return pipe.failure_response(failure)

        def apply() -> dict[str, Any]:
            signing_in = sso.parse(body)
            return sso.sign_in(ctx.state.store, signing_in, variant=ctx.faults.variant("sso"))

        return await pipe.run(request, "storeSso", sso.logged(body), apply)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return JSONResponse({"code": status, "error": str(getattr(exc, "detail", "Error"))}, status)

    routes = [
        Route("/chef/v1/oauth/token", token, methods=["POST"]),
        Route("/chef/v1/oauth/token", validate, methods=["GET"]),
        *(
            Route(f"/chef/v1/oauth/token/{flow}", refresh_endpoint(flow), methods=["POST"])
            for flow in REFRESH_FLOWS
        ),
        Route("/chef/v1/oauth/api", api_root, methods=["POST"]),
        Route("/chef/v1/oauth/api/generateLink", generate_link, methods=["POST"]),
        Route("/chef/v1/oauth/api/sendLinks", send_links, methods=["POST"]),
        Route("/chef/v1/oauth/sso/stores/company", store_sso, methods=["POST"]),
        *storefront_store.routes(ctx),
        *admin.routes(ctx),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.sandbox = ctx
    return app
