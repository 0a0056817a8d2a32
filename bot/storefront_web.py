"""The StoreFront routes of the web app (points in the bot, seed 002):

- `POST /storefront/{balance,profile,redeem,refund}`: what Xoxoday's store calls
  (`bot.rewards.storefront`). Callers outside STOREFRONT_ALLOWED_IPS get 403; bodies over
  64 KiB 413; anything that is not JSON 400; a ledger that can't answer 503. Never a 500, and
  every answer carries `status` "0" or "1".
- `GET /storefront/go/{link}`: the single-use link behind a Redeem button
  (`bot.rewards.redeem`): a redirect to Xoxoday's store, or a short page saying what to do.

Behind a proxy, set uvicorn's FORWARDED_ALLOW_IPS to the proxy's address so the caller's
address (X-Forwarded-For) is the one checked.
"""

from __future__ import annotations

import html
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.json_body import BodyProblem, read_json
from bot.offload import Offload
from bot.rewards.redeem import LINK_PATH, RedeemService
from bot.rewards.refusal import Refusal
from bot.rewards.storefront import StoreFrontService

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
ENDPOINTS = ("balance", "profile", "redeem", "refund")
# Xoxoday's calls answered at once: on SQLite the debits take turns on one writer's lock anyway,
# and balances read side by side (measured: 16 threads gave 3,100 balances a second on one CPU,
# 4 gave 2,400); PostgreSQL has 15 connections in its pool.
STOREFRONT_THREADS = 16


def storefront_threads(max_connections: int | None = None) -> Offload:
    """The store's threads: on PostgreSQL at most half the pool's connections, so calls stuck
    behind a lock (debits of one person take turns on their row) never hold every connection,
    and Slack's requests and the workers still get one."""
    threads = STOREFRONT_THREADS
    if max_connections is not None:
        threads = max(1, min(threads, max_connections // 2))
    return Offload("storefront", threads=threads)


@dataclass(frozen=True, slots=True)
class StoreFrontWeb:
    service: StoreFrontService
    redeem: RedeemService
    allowed: Sequence[str] = ()  # networks; empty: any caller
    offload: Offload = field(default_factory=lambda: storefront_threads())

    def stop(self) -> None:
        self.offload.close()

    def routes(self) -> list[Route]:
        return [
            Route("/storefront/{endpoint}", self._call, methods=["POST"]),
            Route(LINK_PATH + "{link}", self._open, methods=["GET"]),
        ]

    def _allowed(self, request: Request) -> bool:
        if not self.allowed:
            return True
        host = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net, strict=False) for net in self.allowed)

    async def _call(self, request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        if endpoint not in ENDPOINTS:
            return _refused("There is no such endpoint.", 404)
        if not self._allowed(request):
            log.warning("storefront: a call from an address not allowed was refused")
            return _refused("This address may not call the point system.", 403)
        try:
            parsed = await read_json(request, limit=MAX_BODY_BYTES)
        except BodyProblem as problem:
            if problem.status == 413:
                return _refused("The request is too large.", 413)
            return _refused("The request must be JSON.", 400)
        try:
            answer = await self.offload.run(self.service.answer, endpoint, parsed)
        except Exception as err:
            log.error("storefront %s could not be answered (%s)", endpoint, type(err).__name__)
            return _refused("The point system can't answer right now; try again shortly.", 503)
        return JSONResponse(answer.body, status_code=answer.status_code)

    async def _open(self, request: Request) -> Response:
        link = request.path_params["link"]
        try:
            outcome = await self.offload.run(self.redeem.open_link, link)
        except Exception as err:
            log.error("a Redeem link could not be opened (%s)", type(err).__name__)
            outcome = Refusal("Something went wrong on our side. Please try again in a minute.")
        if isinstance(outcome, str):
            return RedirectResponse(outcome, status_code=303, headers=_PRIVATE)
        status = 410 if outcome.code == "link_used" else 503
        return HTMLResponse(_page(outcome.text), status_code=status, headers=_PRIVATE)


_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _refused(message: str, status: int) -> JSONResponse:
    return JSONResponse({"status": "0", "message": message}, status_code=status)


def _page(text: str) -> str:
    plain = text.replace("*", "")
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<title>Redeem your points</title>"
        "<body style='font:16px system-ui,sans-serif;max-width:32em;margin:4em auto;"
        "padding:0 1em;color:#1d1c1d'>"
        f"<h1 style='font-size:1.3em'>Redeem your points</h1><p>{html.escape(plain)}</p>"
        "</body></html>"
    )
