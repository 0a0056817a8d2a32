"""The sandbox's delivery webhook: posted as Xoxoday posts it (body, x-api-key), at once for
realtime products or after a delay, canceled by a fault, dropped by a fault; retried 3 times
then disabled for the URL; getOrderDetails says what the webhook said; the admin endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.simulators.fakeslack.server import ServerThread
from bot.simulators.plum_sandbox import SandboxServer
from tests.sandbox.conftest import Api

KEY = "hook-key"


class Receiver:
    """A company's webhook endpoint: keeps every call; answers `statuses` in turn (then 200)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.json()
            with self._lock:
                self.calls.append({"key": request.headers.get("x-api-key"), "body": body})
                status = self.statuses.pop(0) if self.statuses else 200
            return JSONResponse({"ok": status == 200}, status_code=status)

        self.server = ServerThread(
            Starlette(routes=[Route("/hook", hook, methods=["POST"])]), name="receiver"
        ).start()
        self.url = f"http://127.0.0.1:{self.server.port}/hook"

    def wait(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count:
            assert time.monotonic() < deadline, f"{len(self.calls)} call(s), not {count}"
            time.sleep(0.01)
        return self.calls


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.stop()


@pytest.fixture
def hooked(server: SandboxServer, receiver: Receiver) -> SandboxServer:
    server.connect_webhook(receiver.url, KEY)
    server.webhooks.retry_delays = (0.01, 0.01, 0.01)
    return server


def settle(server: SandboxServer, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.webhooks.idle():
        assert time.monotonic() < deadline, "the webhooks did not settle"
        time.sleep(0.01)
    time.sleep(0.05)


def details(api: Api, po: str) -> dict[str, Any]:
    r = api.data("getOrderDetails", {"poNumber": po})
    assert r.status_code == 200, r.text
    return r.json()["data"]["getOrderDetails"]["data"]


def test_a_realtime_order_is_delivered_and_its_webhook_posted_once(
    api: Api, hooked: SandboxServer, receiver: Receiver
) -> None:
    placed = api.order("PO-1").json()["data"]["placeOrder"]["data"]
    assert placed["deliveryStatus"] == "delivered" and placed["vouchers"]
    [call] = receiver.wait(1)
    assert call["key"] == KEY
    body = call["body"]
    assert set(body) == {"id", "data", "createdAt"}
    assert body["id"].startswith("evt_")
    assert body["data"] == {
        "orderId": placed["orderId"],
        "poNumber": "PO-1",
        "orderDate": placed["orderDate"],
        "deliveryStatus": "delivered",
    }
    assert "DEMO" not in str(body)  # no voucher code in a webhook
    settle(hooked)
    assert len(receiver.calls) == 1
    [event] = hooked.webhooks.log
    assert event["outcome"] == "sent" and event["calls"][0]["status"] == 200


def test_a_delayed_delivery_is_pending_until_its_webhook(
    api: Api, hooked: SandboxServer, receiver: Receiver
) -> None:
    hooked.webhooks.delay_seconds = 0.3
    hooked.webhooks.set_case("title")
    placed = api.order("PO-LATE").json()["data"]["placeOrder"]["data"]
    assert placed["deliveryStatus"] == "pending" and placed["vouchers"] == []
    assert placed["orderStatus"] == "processing"
    assert details(api, "PO-LATE")["deliveryStatus"] == "pending"
    assert receiver.calls == []
    [call] = receiver.wait(1)
    assert call["body"]["data"]["deliveryStatus"] == "Delivered"  # capitalisation varies
    now = details(api, "PO-LATE")
    assert now["deliveryStatus"] == "delivered" and len(now["vouchers"]) == 1


def test_a_canceled_order_says_so_everywhere_and_is_refunded(
    api: Api, hooked: SandboxServer, receiver: Receiver
) -> None:
    balance = hooked.state.account_balance
    hooked.webhooks.cancel_next(1)
    placed = api.order("PO-NO").json()["data"]["placeOrder"]["data"]
    assert placed["deliveryStatus"] == "pending"
    [call] = receiver.wait(1)
    assert call["body"]["data"]["deliveryStatus"] == "canceled"
    got = details(api, "PO-NO")
    assert (got["deliveryStatus"], got["orderStatus"], got["vouchers"]) == (
        "canceled",
        "canceled",
        [],
    )
    assert hooked.state.account_balance == balance  # charged, then given back
    api.order("PO-YES")  # the fault was for one order
    receiver.wait(2)
    assert receiver.calls[1]["body"]["data"]["deliveryStatus"] == "delivered"


def test_a_dropped_webhook_is_never_sent_but_the_order_is_delivered(
    api: Api, hooked: SandboxServer, receiver: Receiver
) -> None:
    hooked.webhooks.drop_next(1)
    api.order("PO-MISSED")
    settle(hooked)
    assert receiver.calls == []
    assert details(api, "PO-MISSED")["deliveryStatus"] == "delivered"
    assert hooked.webhooks.log[-1]["outcome"] == "dropped"
    api.order("PO-NEXT")
    assert receiver.wait(1)[0]["body"]["data"]["poNumber"] == "PO-NEXT"


def test_a_failing_url_is_retried_three_times_then_disabled(
    api: Api, hooked: SandboxServer, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503, 401, 502]  # the first call and 3 retries all fail
    api.order("PO-A")
    receiver.wait(4)
    settle(hooked)
    assert len(receiver.calls) == 4
    assert len({c["body"]["id"] for c in receiver.calls}) == 1  # the same event each time
    event = hooked.webhooks.log[-1]
    assert event["outcome"] == "failed"
    assert [c["status"] for c in event["calls"]] == [500, 503, 401, 502]
    assert hooked.webhooks.to_json()["disabled"] is True
    api.order("PO-B")  # disabled: nothing more is posted
    settle(hooked)
    assert len(receiver.calls) == 4
    assert hooked.webhooks.log[-1]["outcome"] == "disabled"
    assert details(api, "PO-B")["deliveryStatus"] == "delivered"  # delivered all the same
    hooked.connect_webhook(receiver.url, KEY)  # set again in the dashboard: enabled
    api.order("PO-C")
    assert receiver.wait(5)[-1]["body"]["data"]["poNumber"] == "PO-C"


def test_a_retry_that_succeeds_stops_retrying(
    api: Api, hooked: SandboxServer, receiver: Receiver
) -> None:
    receiver.statuses = [500]
    api.order("PO-R")
    receiver.wait(2)
    settle(hooked)
    assert len(receiver.calls) == 2
    assert hooked.webhooks.log[-1]["outcome"] == "sent"
    assert hooked.webhooks.to_json()["disabled"] is False


def test_an_unreachable_url_counts_as_failed(api: Api, server: SandboxServer) -> None:
    server.connect_webhook("http://127.0.0.1:9/hook", KEY, timeout=0.5)  # nobody listens
    server.webhooks.retry_delays = (0.01, 0.01, 0.01)
    api.order("PO-X")
    settle(server, timeout=10)
    event = server.webhooks.log[-1]
    assert event["outcome"] == "failed" and len(event["calls"]) == 4
    assert all(c["status"] is None and c["error"] for c in event["calls"])


def test_without_a_webhook_orders_are_still_delivered(api: Api, server: SandboxServer) -> None:
    api.order("PO-Q")
    settle(server)
    assert server.webhooks.log[-1]["outcome"] == "not_connected"
    assert details(api, "PO-Q")["deliveryStatus"] == "delivered"


def test_the_admin_endpoint_connects_and_sets_faults(
    api: Api, server: SandboxServer, receiver: Receiver
) -> None:
    admin = f"{server.root_url}/_sandbox/webhooks"
    assert httpx.get(admin).json()["connected"] is False
    r = httpx.post(
        admin, json={"url": receiver.url, "api_key": KEY, "drop": 1, "retry_delays": [0, 0, 0]}
    )
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["connected"] and state["url"] == receiver.url and state["drop_next"] == 1
    assert KEY not in r.text  # never the key
    api.order("PO-1")
    api.order("PO-2")
    assert [c["body"]["data"]["poNumber"] for c in receiver.wait(1)] == ["PO-2"]
    settle(server)
    events = httpx.get(admin).json()["events"]
    assert [e["outcome"] for e in events] == ["dropped", "sent"]
    assert httpx.post(admin, json={"drop": "x"}).status_code == 400
    assert httpx.post(admin, json={"nope": 1}).status_code == 400
    assert httpx.post(admin, json={"url": None}).json()["connected"] is False


def test_a_pending_delivery_survives_a_sandbox_restart(tmp_path, receiver: Receiver) -> None:
    path = tmp_path / "sandbox.json"
    with SandboxServer(state_path=path, rate_limits=False) as first:
        first.webhooks.delay_seconds = 1.0
        caller = Api(first)
        assert caller.order("PO-S").json()["data"]["placeOrder"]["data"]["vouchers"] == []
        caller.close()
    with SandboxServer(state_path=path, rate_limits=False) as second:  # due in under 1 s
        second.connect_webhook(receiver.url, KEY)
        order = second.state.order(po_number="PO-S")
        assert order is not None and order.delivery_status == "pending"
        assert receiver.wait(1)[0]["body"]["data"]["poNumber"] == "PO-S"
        settle(second)
        assert len(receiver.calls) == 1
        assert second.state.order(po_number="PO-S").delivery_status == "delivered"
