"""Client behaviour on transport failures, scripted with httpx.MockTransport.

(The same behaviours against the real sandbox are in test_sandbox_*.py; these cover failures
that only a transport can produce, such as a ConnectError before anything was sent.)
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from bot.plum import (
    PlumClient,
    PlumConnectionError,
    PlumOutcomeUnknownError,
    PlumTimeoutError,
    RateLimitedError,
    Recipient,
    ServerError,
)
from tests.plum.memory_store import MemoryStore

BASE = "https://plum.test/chef"
TOKEN = {"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}
SENT_OK = {
    "data": {
        "sendBalance": {
            "error": False,
            "message": "ok",
            "recipients": [{"unique_id": 11, "points": 100}],
        }
    }
}
BALANCE = {"data": {"getBalance": {"status": 1, "data": {"value": 10, "currency": "USD"}}}}


class Script:
    """Answers token requests, then hands API requests to `steps` in order."""

    def __init__(self, *steps: Callable[[httpx.Request], httpx.Response] | dict | Exception):
        self.steps = list(steps)
        self.api_calls: list[dict] = []
        self.token_calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/chef/v1/oauth/token"):
            self.token_calls += 1
            return httpx.Response(200, json={**TOKEN, "access_token": f"tok-{self.token_calls}"})
        self.api_calls.append(json.loads(request.content))
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, dict):
            return httpx.Response(200, json=step)
        return step(request)


def client(script: Script, slept: list[float] | None = None, **kw) -> PlumClient:
    return PlumClient(
        base_url=BASE,
        client_id="id",
        client_secret="SECRET",
        token_store=MemoryStore(),
        http_client=httpx.Client(transport=httpx.MockTransport(script)),
        sleep=(slept.append if slept is not None else lambda s: None),
        **kw,
    )


def send(c: PlumClient):
    return c.send_balance(
        sender_email="boss@example.com",
        expiry_month=12,
        recipients=[Recipient(email="a@example.com", points=100)],
    )


def test_send_balance_retried_when_the_connection_was_never_made():
    script = Script(httpx.ConnectError("refused"), SENT_OK)
    result = send(client(script))
    assert result.unique_ids == (11,)
    assert len(script.api_calls) == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ReadError("reset"),
        lambda r: httpx.Response(500, json={"code": 500, "error": "boom"}),
        lambda r: httpx.Response(200, text="<html>proxy</html>"),
    ],
)
def test_send_balance_never_repeated_once_it_may_have_arrived(failure):
    script = Script(failure, SENT_OK)
    with pytest.raises(PlumOutcomeUnknownError) as info:
        send(client(script))
    assert len(script.api_calls) == 1
    err = info.value
    assert err.operation == "sendBalance"
    assert err.sent["recipients"] == [{"email": "a@example.com", "points": 100}]
    assert "tok-" not in str(err) and "SECRET" not in str(err)


def test_send_balance_gives_up_with_a_connection_error_after_max_retries():
    script = Script(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(PlumConnectionError) as info:
        send(client(script, max_retries=2))
    assert not isinstance(info.value, PlumOutcomeUnknownError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert len(script.api_calls) == 3


def test_send_balance_rate_limited_is_a_definite_rejection_not_retried():
    body = {"errors": [{"message": "auth.request_limit_exceeded", "penaltySeconds": 60}]}
    script = Script(lambda r: httpx.Response(429, json=body), SENT_OK)
    with pytest.raises(RateLimitedError) as info:
        send(client(script))
    assert info.value.retry_after == 60
    assert len(script.api_calls) == 1


def test_reads_retry_timeouts_and_5xx_with_backoff():
    script = Script(
        httpx.ReadTimeout("slow"),
        lambda r: httpx.Response(502, json={"code": "502", "error": "Bad Gateway"}),
        BALANCE,
    )
    slept: list[float] = []
    assert client(script, slept).get_balance().value == 10
    assert len(script.api_calls) == 3
    assert len(slept) == 2 and 0 < slept[0] <= slept[1] * 2


def test_reads_honour_the_penalty_seconds():
    body = {"errors": [{"message": "auth.request_limit_exceeded", "penaltySeconds": 17}]}
    script = Script(lambda r: httpx.Response(429, json=body), BALANCE)
    slept: list[float] = []
    client(script, slept).get_balance()
    assert slept == [17]


def test_reads_honour_retry_after_header():
    script = Script(lambda r: httpx.Response(429, headers={"Retry-After": "3"}), BALANCE)
    slept: list[float] = []
    client(script, slept).get_balance()
    assert slept == [3]


def test_a_read_timeout_that_persists_is_a_timeout_error():
    script = Script(*[httpx.ReadTimeout("slow")] * 3)
    with pytest.raises(PlumTimeoutError) as info:
        client(script).get_balance()
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def test_persistent_5xx_on_a_read_is_a_server_error():
    script = Script(*[lambda r: httpx.Response(503, json={"code": 503, "error": "down"})] * 3)
    with pytest.raises(ServerError):
        client(script).get_balance()
    assert len(script.api_calls) == 3


def test_place_order_after_timeout_finds_the_order_and_does_not_order_again():
    placed = {
        "data": {"getOrderDetails": {"status": 1, "data": {"orderId": 77, "poNumber": "PO-1"}}}
    }
    script = Script(httpx.ReadTimeout("slow"), placed)
    result = client(script).place_order(product_id=1, quantity=1, denomination=20, po_number="PO-1")
    assert result.recovered and result.order.order_id == 77
    assert [c["query"] for c in script.api_calls] == [
        "plumProAPI.mutation.placeOrder",
        "plumProAPI.mutation.getOrderDetails",
    ]


def test_place_order_after_timeout_not_found_orders_again():
    missing = lambda r: httpx.Response(  # noqa: E731
        404, json={"code": "404", "errorId": "PLE10016", "errorInfo": "not found"}
    )
    ok = {"data": {"placeOrder": {"status": 1, "data": {"orderId": 78}}}}
    script = Script(httpx.ReadTimeout("slow"), missing, ok)
    result = client(script).place_order(product_id=1, quantity=1, denomination=20, po_number="PO-2")
    assert not result.recovered and result.order.order_id == 78
    assert result.request["variables"]["data"]["poNumber"] == "PO-2"


def test_place_order_lookup_failing_means_outcome_unknown():
    script = Script(httpx.ReadTimeout("slow"), *[httpx.ReadTimeout("slow")] * 3)
    with pytest.raises(PlumOutcomeUnknownError) as info:
        client(script).place_order(product_id=1, quantity=1, denomination=20, po_number="PO-3")
    assert info.value.sent["po_number"] == "PO-3"
    assert sum(c["query"].endswith("placeOrder") for c in script.api_calls) == 1


def test_invalid_token_refreshes_once_and_repeats_the_write():
    invalid = lambda r: httpx.Response(  # noqa: E731
        401, json={"error": "invalid_token", "error_description": "invalid/expired token"}
    )
    seen: list[str] = []

    def ok(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json=SENT_OK)

    script = Script(invalid, ok)
    assert send(client(script)).unique_ids == (11,)
    assert script.token_calls == 2
    assert seen == ["Bearer tok-2"]


def test_client_repr_and_errors_hide_the_secret():
    c = client(Script())
    assert "SECRET" not in repr(c)


class _Drip(httpx.SyncByteStream):
    """An answer that arrives one byte at a time, each within the read timeout."""

    def __init__(self, body: bytes, every: float) -> None:
        self.body, self.every = body, every

    def __iter__(self):
        import time

        for byte in self.body:
            time.sleep(self.every)
            yield bytes([byte])


def _dripping(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, stream=_Drip(json.dumps(SENT_OK).encode(), every=0.02))


def test_an_answer_dripped_past_the_deadline_leaves_a_write_in_doubt(monkeypatch) -> None:
    monkeypatch.setattr("bot.plum.requester.MIN_ANSWER_DEADLINE", 0.3)
    c = client(Script(_dripping), timeout=httpx.Timeout(0.1))
    with pytest.raises(PlumOutcomeUnknownError):
        send(c)


def test_an_answer_dripped_past_the_deadline_is_a_timeout_for_a_read(monkeypatch) -> None:
    monkeypatch.setattr("bot.plum.requester.MIN_ANSWER_DEADLINE", 0.3)
    drip = lambda request: httpx.Response(  # noqa: E731
        200, stream=_Drip(json.dumps(BALANCE).encode(), every=0.02)
    )
    c = client(Script(drip, drip, drip, drip), timeout=httpx.Timeout(0.1))
    with pytest.raises(PlumTimeoutError):
        c.get_balance()


def test_an_answer_larger_than_any_plum_answer_is_cut_off(monkeypatch) -> None:
    monkeypatch.setattr("bot.plum.requester.MAX_ANSWER_BYTES", 1000)
    huge = lambda request: httpx.Response(  # noqa: E731
        200, stream=httpx.ByteStream(json.dumps(SENT_OK).encode() + b" " * 5000)
    )
    c = client(Script(huge))
    with pytest.raises(PlumOutcomeUnknownError):
        send(c)


def test_a_compressed_answer_is_read_whole() -> None:
    import gzip

    packed = lambda request: httpx.Response(  # noqa: E731
        200,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        stream=httpx.ByteStream(gzip.compress(json.dumps(BALANCE).encode())),
    )
    assert client(Script(packed)).get_balance().value == 10


def test_headers_dripped_past_the_deadline_leave_a_write_in_doubt(monkeypatch) -> None:
    """httpx's read timeout counts from the last byte: a server that drips its headers one
    byte at a time must still be cut off at the whole-answer deadline."""
    import socket
    import threading
    import time

    monkeypatch.setattr("bot.plum.requester.MIN_ANSWER_DEADLINE", 0.5)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    stop = threading.Event()

    def drip() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(100):  # 10 s of header, a byte every 0.1 s
                    if stop.is_set():
                        break
                    conn.sendall(b"a")
                    time.sleep(0.1)
            except OSError:
                pass
            finally:
                conn.close()

    threading.Thread(target=drip, daemon=True).start()
    c = PlumClient(
        base_url=f"http://127.0.0.1:{port}/chef",
        client_id="id",
        client_secret="SECRET",
        token_store=MemoryStore(),
        access_token="tok",
        timeout=httpx.Timeout(0.3),
        sleep=lambda s: None,
    )
    started = time.monotonic()
    try:
        with pytest.raises(PlumOutcomeUnknownError):
            send(c)
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 3.0
