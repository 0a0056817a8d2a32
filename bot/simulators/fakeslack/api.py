"""The fake Slack Web API as a Starlette app: `/api/<method>`, file uploads, response_url posts.

Requests are read the way Slack reads them (query string, form-encoded or JSON body, token in
`Authorization: Bearer` or a `token` argument) and every `/api/` call is recorded, failed ones too.

Two tokens, as an installed app has: the bot token (`xoxb-…`) for the Web API, and the app-level
token (`xapp-…`) that only opens Socket Mode connections (`apps.connections.open`); each is
refused with `not_allowed_token_type` where the other belongs. Every answer to the bot token
carries the scopes it was granted in `X-OAuth-Scopes`, as Slack's do (by default the ones
`manifest.yml` asks for).
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.simulators.fakeslack.errors import SlackError
from bot.simulators.fakeslack.methods import APP_METHODS, METHODS
from bot.simulators.fakeslack.workspace import Workspace
from bot.slack.ids import BOT_SCOPES

JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")
# The scopes of an app installed from manifest.yml (Bolt reads them from auth.test).
MANIFEST_SCOPES = tuple(BOT_SCOPES)


@dataclass
class Fault:
    error: str  # "": no error, only `delay`
    status: int
    retry_after: int
    remaining: int
    delay: float = 0.0  # seconds before the answer


class ApiState:
    """What the app serves from: the workspace, the expected token, the call log, the faults."""

    def __init__(
        self,
        *,
        workspace: Workspace,
        bot_token: str,
        app_token: str,
        scopes: tuple[str, ...],
    ) -> None:
        self.workspace = workspace
        self.bot_token = bot_token
        self.app_token = app_token
        self.scopes = scopes
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []
        self._faults: dict[str, list[Fault]] = {}
        self._held: dict[str, int] = {}  # calls a `delay` fault is holding, by method

    def record(self, call: dict[str, Any]) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = [c for c in self._calls if method is None or c["method"] == method]
            return copy.deepcopy(found)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def fail_next(
        self, method: str, error: str, *, count: int, status: int | None, retry_after: int
    ) -> None:
        if status is None:
            status = 429 if error == "ratelimited" else 200
        with self._lock:
            self._faults.setdefault(method, []).append(Fault(error, status, retry_after, count))

    def slow_next(self, method: str, *, seconds: float, count: int) -> None:
        with self._lock:
            self._faults.setdefault(method, []).append(Fault("", 200, 0, count, seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def held(self, method: str | None = None) -> int:
        with self._lock:
            return sum(n for m, n in self._held.items() if method is None or m == method)

    def hold(self, method: str, change: int) -> None:
        with self._lock:
            self._held[method] = self._held.get(method, 0) + change

    def take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method) or []
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault


RESPONSE_URL = "response_url"  # the name `slow_next` and `held` know posts to response_urls by


# ---------------------------------------------------------------------- HTTP
async def read_args(request: Request) -> dict[str, Any]:
    """Query string merged with a form-encoded or JSON body; JSON-carrying fields decoded."""
    args: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if body and "json" in content_type:
        parsed = json.loads(body)
        if not isinstance(parsed, dict):
            raise ValueError("a JSON body must be an object")
        args.update(parsed)
    elif body:
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for name in JSON_FIELDS:
        if isinstance(args.get(name), str) and args[name]:
            args[name] = json.loads(args[name])
    return args


def _token(request: Request, args: dict[str, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = args.get("token")
    return str(token) if token else None


def _root_url(request: Request) -> str:
    """This app's own root: scheme, host and mount path (root_path) of the request."""
    mount = str(request.scope.get("root_path", "")).rstrip("/")
    return str(request.url.replace(path=mount + "/", query=""))


def build_app(state: ApiState) -> Starlette:
    """The ASGI app, at the root of a server or mounted under a path: upload, file and permalink
    URLs it hands out are built from the URL it was reached at."""

    async def web_api(request: Request) -> Response:
        method = request.path_params["method"]
        root = _root_url(request)
        call: dict[str, Any] = {"method": method, "args": {}, "at": time.time(), "token_ok": False}
        try:
            args = await read_args(request)
        except (ValueError, UnicodeDecodeError):
            return _finish(state, call, {"ok": False, "error": "invalid_json"})
        token = _token(request, args)
        args.pop("token", None)
        call["args"] = args
        app_method = method in APP_METHODS
        expected, other = (
            (state.app_token, state.bot_token) if app_method else (state.bot_token, state.app_token)
        )
        call["token_ok"] = token == expected
        handler = APP_METHODS.get(method) or METHODS.get(method)
        if handler is None:
            return _finish(state, call, {"ok": False, "error": "unknown_method"})
        if not token:
            return _finish(state, call, {"ok": False, "error": "not_authed"})
        if token == other:
            return _finish(state, call, {"ok": False, "error": "not_allowed_token_type"})
        if not call["token_ok"]:
            return _finish(state, call, {"ok": False, "error": "invalid_auth"})
        if app_method:
            return _finish(state, call, {"ok": True, **handler(state.workspace, args, root)})
        fault = state.take_fault(method)
        if fault is not None and fault.delay:
            state.hold(method, 1)
            try:
                await asyncio.sleep(fault.delay)
            finally:
                state.hold(method, -1)
        if fault is not None and fault.error:
            headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
            body = {"ok": False, "error": fault.error}
            return _finish(state, call, body, status=fault.status, headers=headers)
        try:
            result = handler(state.workspace, args, root)
        except SlackError as err:
            body = {"ok": False, "error": err.error}
            if err.messages:
                body["response_metadata"] = {"messages": err.messages}
            return _finish(state, call, body)
        return _finish(state, call, {"ok": True, **result})

    async def upload(request: Request) -> Response:
        try:
            state.workspace.files.receive(request.path_params["file_id"], await request.body())
        except SlackError:
            return PlainTextResponse("file_not_found", status_code=404)
        return PlainTextResponse(f"OK - {len(await request.body())}")

    async def download(request: Request) -> Response:
        try:
            found = state.workspace.files.get(request.path_params["file_id"])
        except SlackError:
            return PlainTextResponse("file_not_found", status_code=404)
        # A person's upload (a form's file input) is theirs: the app reads it as Slack's
        # url_private is read, with the bot's token. (The bot's own uploads stay open to the
        # playground's page, as they are to a signed-in browser.)
        authorization = request.headers.get("authorization")
        if found.get("user") and authorization != f"Bearer {state.bot_token}":
            return PlainTextResponse("not_authed", status_code=403)
        return Response(found["content"], media_type="application/octet-stream")

    async def response_url(request: Request) -> Response:
        # `slow_next("response_url", …)` holds a post to any response_url, as for a method
        fault = state.take_fault(RESPONSE_URL)
        if fault is not None and fault.delay:
            state.hold(RESPONSE_URL, 1)
            try:
                await asyncio.sleep(fault.delay)
            finally:
                state.hold(RESPONSE_URL, -1)
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            return PlainTextResponse("invalid_payload", status_code=400)
        try:
            state.workspace.receive_response(request.path_params["key"], body)
        except SlackError as err:
            return PlainTextResponse(err.error, status_code=404)
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/api/{method}", web_api, methods=["GET", "POST"]),
            Route("/upload/{file_id}", upload, methods=["POST"]),
            Route("/files/{file_id}/{name}", download, methods=["GET"]),
            Route("/response/{key}", response_url, methods=["POST"]),
        ]
    )


def _finish(
    state: ApiState,
    call: dict[str, Any],
    body: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    call["ok"] = bool(body.get("ok"))
    call["error"] = body.get("error")
    state.record(call)
    all_headers = dict(headers or {})
    if call["token_ok"] and call["method"] not in APP_METHODS:
        all_headers["X-OAuth-Scopes"] = ",".join(state.scopes)
    return JSONResponse(body, status_code=status, headers=all_headers)
