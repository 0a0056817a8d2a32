"""The /_sandbox admin endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from bot.simulators.plum_sandbox import SandboxServer
from tests.sandbox.conftest import Api


@pytest.fixture
def admin(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.root_url}/_sandbox") as client:
        yield client


def test_state_shows_balance_points_and_batches_but_no_secrets(
    api: Api, admin: httpx.Client
) -> None:
    api.send_points(("a@example.com", 30), ("b@example.com", 20))
    placed = api.order("PO-1").json()["data"]["placeOrder"]["data"]
    link = {"campaignId": 7890, "links_quantity": 1, "link_expiry": "31-12-2025"}
    links = api.data("generateLink", link).json()["data"]["generateLink"]["links"]
    api.http.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox",
            "client_secret": "sandbox",
        },
    )
    state = admin.get("/state").json()
    assert state["points"] == {"a@example.com": 30, "b@example.com": 20}
    assert state["orders"] == 1 and state["currency"] == "INR"
    assert state["balance"] == str(100000 - 50 - 2075 - 500)
    assert [b["quantity"] for b in state["link_batches"]] == [1]
    assert state["token_requests"] == 1
    text = admin.get("/state").text
    assert placed["vouchers"][0]["code"] not in text and links[0] not in text


def test_redeem_by_email_and_by_unique_id(api: Api, admin: httpx.Client) -> None:
    body = api.send_points(("r@example.com", 30), ("r@example.com", 20)).json()
    ids = [r["unique_id"] for r in body["data"]["sendBalance"]["recipients"]]
    assert (
        admin.post("/redeem", json={"email": "r@example.com", "points": 10}).json()["points"] == 40
    )
    assert admin.post("/redeem", json={"unique_id": ids[1]}).json()["points"] == 20
    too_many = admin.post("/redeem", json={"email": "r@example.com", "points": 999})
    assert too_many.status_code == 400 and "has only 20" in too_many.json()["error"]
    assert admin.post("/redeem", json={"points": 1}).status_code == 400
    assert admin.post("/redeem", json={"unique_id": 1}).status_code == 400


def test_reset_restores_the_account_and_keeps_tokens(
    api: Api, admin: httpx.Client, server: SandboxServer
) -> None:
    api.send_points(("x@example.com", 10))
    server.faults.set("getBalance", error="500")
    r = admin.post("/reset", json={"balance": "2500"})
    assert r.json() == {"ok": True, "balance": "2500"}
    assert server.state.points_of("x@example.com") == 0
    assert server.state.account_balance == Decimal(2500)
    assert api.data("getBalance").status_code == 200  # fault cleared, token still valid
    assert admin.post("/reset", json={"balance": "lots"}).status_code == 400
    assert admin.post("/reset", content=b"[1]").status_code == 400


async def _status_from(server: SandboxServer, host: str, path: str) -> int:
    transport = httpx.ASGITransport(app=server.app, client=(host, 4567))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        return (await client.get(path)).status_code


@pytest.mark.parametrize("path", ["/_sandbox/state", "/_sandbox/faults"])
def test_admin_answers_loopback_clients_only(server: SandboxServer, path: str) -> None:
    assert asyncio.run(_status_from(server, "10.1.2.3", path)) == 403
    assert asyncio.run(_status_from(server, "::1", path)) == 200
