"""A small stand-in for the company's point system (the bot's /storefront endpoints), served
on loopback, that records every body the store sends and can drop answers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.types import Receive, Scope, Send

from bot.simulators.fakeslack.server import ServerThread

API_KEY = "company-api-key-1f2e"


class FakeCompany:
    """Balances by unique_id; redeem and refund are idempotent on the order id. `drop` names
    endpoints whose next answer is cut off after the call was applied (once per name listed)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.points: dict[str, Decimal] = {}
        self.tokens: dict[str, str] = {}  # unique_id -> the auth_token the bot minted
        self.profiles: dict[str, dict[str, str]] = {}
        self.redeemed: dict[str, Decimal] = {}
        self.refunded: dict[str, Decimal] = {}
        self.drop: list[str] = []
        self.server = ServerThread(self, name="fake-company")

    def start(self) -> FakeCompany:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/storefront"

    def person(
        self, unique_id: str, *, auth_token: str, points: str, first: str, last: str
    ) -> None:
        self.points[unique_id] = Decimal(points)
        self.tokens[unique_id] = auth_token
        self.profiles[unique_id] = {"first_name": first, "last_name": last}

    def bodies(self, endpoint: str) -> list[dict[str, Any]]:
        return [body for name, body in self.calls if name == endpoint]

    # ----- the endpoints ------------------------------------------------------------------
    def answer(self, endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if endpoint == "profile":
            if body.get("api_key") != API_KEY:
                return 401, {"status": "0", "message": "Unknown api_key."}
            uid = str(body.get("employee_id"))
            profile = self.profiles.get(uid)
            if profile is None:
                return 200, {"status": 0, "message": "No such person."}
            data = {"employee_id": uid, "company_email_id": f"{uid}@acme.test", **profile}
            return 200, {"status": 1, "message": "ok", "employee_data": data}
        uid = str(body.get("unique_id"))
        if self.tokens.get(uid) != body.get("auth_token"):
            return 401, {"status": "0", "message": "Your session has expired."}
        if endpoint == "balance":
            have = str(self.points[uid])
            return 200, {
                "status": "1",
                "points_info": {"points_available": have},
                "data": {"unique_id": uid, "points": have},
            }
        order_id = str(body.get("order_id") or body.get("transactionid"))
        if endpoint == "redeem":
            amount = Decimal(str(body["total_points_redeemed"]))
            if order_id not in self.redeemed:
                if amount > self.points[uid]:
                    return 200, {
                        "status": "0",
                        "message": f"Not enough points: you have {self.points[uid]}.",
                    }
                self.points[uid] -= amount
                self.redeemed[order_id] = amount
            data = {"order_id": order_id, "points": str(self.points[uid])}
            return 200, {"status": "1", "message": "Successfully updated", "data": data}
        if endpoint == "refund":
            amount = Decimal(str(body["redemption_amount"]))
            self.points[uid] += amount
            self.refunded[order_id] = self.refunded.get(order_id, Decimal(0)) + amount
            data = {
                "transaction_id": order_id,
                "order_id": order_id,
                "points": str(self.points[uid]),
            }
            return 200, {"status": "1", "message": "Successfully updated", "data": data}
        return 404, {"status": "0", "message": "no such endpoint"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        endpoint = scope["path"].removeprefix("/storefront/")
        body = json.loads(raw) if raw else {}
        self.calls.append((endpoint, body))
        status, answer = self.answer(endpoint, body)
        content = json.dumps(answer).encode()
        if endpoint in self.drop:
            self.drop.remove(endpoint)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", str(len(content) + 100).encode())],
                }
            )
            await send({"type": "http.response.body", "body": content[:5], "more_body": True})
            return  # the connection closes mid-answer
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": content})
