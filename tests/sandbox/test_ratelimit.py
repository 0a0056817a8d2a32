"""The documented per-minute limits, on the sandbox's clock."""

from __future__ import annotations

from bot.simulators.plum_sandbox import SandboxServer
from bot.simulators.plum_sandbox.ratelimit import LIMITS_PER_MINUTE
from tests.sandbox.conftest import Api, FakeClock


def test_documented_limits() -> None:
    assert LIMITS_PER_MINUTE == {
        "getOrderDetails": 200,
        "getVouchers": 50,
        "getBalance": 10,
        "placeOrder": 100,
        "getOrderHistory": 200,
        "getFilters": 50,
    }


def test_over_the_limit_is_429_with_a_60_second_penalty(api: Api, clock: FakeClock) -> None:
    assert all(api.data("getBalance").status_code == 200 for _ in range(10))
    over = api.data("getBalance")
    assert over.status_code == 429
    assert over.json() == {
        "errors": [{"message": "auth.request_limit_exceeded", "penaltySeconds": 60}]
    }
    assert over.headers["Retry-After"] == "60"
    assert api.data("getFilters").status_code == 200  # limits are per operation
    clock.advance(seconds=45)
    still = api.data("getBalance")
    assert still.status_code == 429 and still.headers["Retry-After"] == "15"
    clock.advance(seconds=15)
    assert api.data("getBalance").status_code == 200


def test_the_window_slides(api: Api, clock: FakeClock) -> None:
    for _ in range(5):
        assert api.data("getBalance").status_code == 200
    clock.advance(seconds=30)
    for _ in range(5):
        assert api.data("getBalance").status_code == 200
    clock.advance(seconds=30)  # the first five are now a minute old
    for _ in range(5):
        assert api.data("getBalance").status_code == 200
    assert api.data("getBalance").status_code == 429  # ten in the last minute


def test_variant_without_retry_after_header(api: Api, server: SandboxServer) -> None:
    server.faults.set_variant("retry_after", "none")
    for _ in range(10):
        api.data("getBalance")
    over = api.data("getBalance")
    assert over.status_code == 429 and "Retry-After" not in over.headers
    assert over.json()["errors"][0]["penaltySeconds"] == 60


def test_rate_limits_can_be_switched_off(clock: FakeClock) -> None:
    with SandboxServer(clock=clock, rate_limits=False) as srv:
        api = Api(srv)
        assert all(api.data("getBalance").status_code == 200 for _ in range(15))
        srv.rate_limits = True
        assert [api.data("getBalance").status_code for _ in range(11)][-1] == 429
        api.close()


def test_points_operations_have_no_published_limit(api: Api) -> None:
    codes = [
        api.call("user_balance", {"user_data": {"email": "a@example.com"}}).status_code
        for _ in range(30)
    ]
    assert set(codes) == {200}
