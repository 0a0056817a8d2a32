"""Admin endpoints under `/_sandbox` (no auth; loopback clients only).

- `GET /_sandbox/state`: balance, points per email, transactions, order count, link batches
  (never voucher codes, links or tokens).
- `GET /_sandbox/faults`, `POST /_sandbox/faults`: read or change faults and variants (JSON,
  see `Faults.update`).
- `POST /_sandbox/redeem`: `{"email", "points"}` or `{"unique_id"}`: a recipient spends points.
- `POST /_sandbox/reset`: a fresh account (optional `{"balance": "5000"}`), faults and limits
  cleared, the store's orders gone; issued tokens, store sign-ins and the connected point
  system stay.
- `GET /_sandbox/storefront`: the connected company point system (never its api_key), the
  store's sign-ins (never a token) and orders.
- `POST /_sandbox/storefront`: `{"base_url", "api_key", optional "timeout"}` connects the
  company's point system (endpoints at base_url + /balance, /profile, /redeem, /refund);
  `{"base_url": null}` disconnects it.
- `GET /_sandbox/webhooks`: the delivery webhook (its URL, never its key; disabled or not; the
  faults set) and the latest events with each call's answer.
- `POST /_sandbox/webhooks`: `{"url", "api_key", optional "timeout"}` connects it (and enables
  it again), `{"url": null}` disconnects it; `{"drop": N}` drops the next N webhooks (a missed
  webhook), `{"cancel": N}` cancels the next N orders, `{"delay_seconds": S}` delivers orders S
  seconds after they are placed, `{"retry_delays": [a, b, c]}`, `{"case": "lower|title|upper"}`
  (see `webhooks.Webhooks.update`).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.simulators.plum_sandbox.state import StateError
from bot.simulators.plum_sandbox.storefront.company import DEFAULT_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from bot.simulators.plum_sandbox.context import SandboxContext

Endpoint = Callable[[Request], Awaitable[Response]]


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _problem(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if not _loopback(request):
            return _problem("the sandbox admin endpoints answer loopback clients only", 403)
        try:
            return await handler(request)
        except (ValueError, StateError) as err:
            return _problem(str(err))

    return endpoint


def routes(ctx: SandboxContext) -> list[Route]:
    async def state(request: Request) -> Response:
        snapshot = ctx.state.snapshot()
        snapshot["token_requests"] = ctx.log.token_requests
        return JSONResponse(snapshot)

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            ctx.faults.update(await _json(request))
        return JSONResponse(ctx.faults.to_json())

    async def redeem(request: Request) -> Response:
        data = await _json(request)
        if "unique_id" in data:
            unique_id = int(data["unique_id"])
            ctx.state.redeem_transaction(unique_id)
            tx = ctx.state.transaction(unique_id)
            email = tx.email if tx else ""
        else:
            email = str(data.get("email", ""))
            points = data.get("points")
            if not email or not isinstance(points, int) or isinstance(points, bool):
                raise ValueError('send {"email", "points": N} or {"unique_id": N}')
            ctx.state.redeem(email, points)
        return JSONResponse({"ok": True, "email": email, "points": ctx.state.points_of(email)})

    async def reset(request: Request) -> Response:
        data = await _json(request)
        balance = None
        if data.get("balance") is not None:
            try:
                balance = Decimal(str(data["balance"]))
            except InvalidOperation:
                raise ValueError("balance must be a number") from None
        ctx.state.reset(balance=balance)
        ctx.faults.clear()
        ctx.limiter.reset()
        return JSONResponse({"ok": True, "balance": str(ctx.state.account_balance)})

    async def storefront(request: Request) -> Response:
        if request.method == "POST":
            data = await _json(request)
            if "base_url" in data and data["base_url"] is None:
                ctx.storefront.disconnect()
            else:
                base_url, api_key = data.get("base_url"), data.get("api_key")
                if not isinstance(base_url, str) or not isinstance(api_key, str):
                    raise ValueError('send {"base_url", "api_key"} (or {"base_url": null})')
                timeout = data.get("timeout", DEFAULT_TIMEOUT_SECONDS)
                if not isinstance(timeout, (int, float)) or isinstance(timeout, bool):
                    raise ValueError("timeout must be a number of seconds")
                ctx.storefront.connect(base_url, api_key, timeout=float(timeout))
        return JSONResponse({**ctx.storefront.to_json(), **ctx.state.store.snapshot()})

    async def webhooks(request: Request) -> Response:
        if request.method == "POST":
            ctx.hooks.update(await _json(request))
        return JSONResponse(ctx.hooks.to_json())

    return [
        Route("/_sandbox/state", _guarded(state), methods=["GET"]),
        Route("/_sandbox/webhooks", _guarded(webhooks), methods=["GET", "POST"]),
        Route("/_sandbox/storefront", _guarded(storefront), methods=["GET", "POST"]),
        Route("/_sandbox/faults", _guarded(faults), methods=["GET", "POST"]),
        Route("/_sandbox/redeem", _guarded(redeem), methods=["POST"]),
        Route("/_sandbox/reset", _guarded(reset), methods=["POST"]),
    ]
