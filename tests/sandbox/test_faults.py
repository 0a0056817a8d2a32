"""Fault injection: errors, rates, one-shot counts, latency, hangs, dropped connections,
response variants, determinism with a seed, and the admin/CLI ways to set them."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from bot.simulators.plum_sandbox import Faults, FaultSpec, SandboxServer, parse_fault_spec
from tests.sandbox.conftest import Api

USER = {"user_data": {"email": "nobody@example.com"}}


def statuses(api: Api, n: int) -> list[int]:
    return [api.call("user_balance", USER).status_code for _ in range(n)]


def test_error_fault_with_a_chosen_ple_code(api: Api, server: SandboxServer) -> None:
    server.faults.set("getBalance", error="PLE10023")
    r = api.data("getBalance")
    assert r.status_code == 502
    assert r.json()["errorId"] == "PLE10023" and r.json()["code"] == "502"
    server.faults.clear("getBalance")
    assert api.data("getBalance").status_code == 200


def test_status_override_and_plain_5xx(api: Api, server: SandboxServer) -> None:
    server.faults.set("getFilters", error="PLE10024", status=503)
    assert api.data("getFilters").status_code == 503
    server.faults.set("getFilters", error="500")
    r = api.data("getFilters")
    assert r.status_code == 500
    assert r.json() == {"code": 500, "error": "Internal Server Error"}


def test_error_code_number_variant(api: Api, server: SandboxServer) -> None:
    server.faults.set_variant("error_code", "number")
    assert api.data("getOrderDetails", {"orderId": 1}).json()["code"] == 404


def test_rejected_by_fault_means_not_applied(api: Api, server: SandboxServer) -> None:
    server.faults.set("sendBalance", error="503")
    assert api.send_points(("f@example.com", 10)).status_code == 503
    assert server.state.points_of("f@example.com") == 0


def test_apply_first_error_is_the_ambiguous_write(api: Api, server: SandboxServer) -> None:
    server.faults.set("sendBalance", error="502", apply_first=True)
    assert api.send_points(("amb@example.com", 10)).status_code == 502
    assert server.state.points_of("amb@example.com") == 10


def test_one_shot_count(api: Api, server: SandboxServer) -> None:
    server.faults.set("user_balance", error="PLE10023", count=2)
    assert statuses(api, 3) == [502, 502, 200]
    assert server.faults.get("user_balance") is None


def test_rate_is_deterministic_with_the_seed() -> None:
    def run(seed: int) -> list[int]:
        with SandboxServer(seed=seed) as srv:
            srv.faults.set("user_balance", error="500", rate=0.5)
            api = Api(srv)
            try:
                return statuses(api, 24)
            finally:
                api.close()

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 0 < first.count(500) < 24


def test_count_with_rate_counts_only_fired_faults() -> None:
    faults = Faults(seed=3)
    faults.set("getBalance", error="500", rate=0.5, count=3)
    fired = sum(faults.decide("getBalance").failure is not None for _ in range(200))
    assert fired == 3


def test_latency_global_and_per_operation() -> None:
    faults = Faults(latency_ms=100)
    faults.set("placeOrder", latency_ms=250)
    assert faults.decide("placeOrder").latency_seconds == pytest.approx(0.35)
    assert faults.decide("getBalance").latency_seconds == pytest.approx(0.1)


def test_latency_makes_a_short_client_timeout_fire(server: SandboxServer) -> None:
    server.faults.latency_ms = 3000
    api = Api(server, timeout=0.2)
    with pytest.raises(httpx.ReadTimeout):
        api.data("getFilters")
    server.faults.latency_ms = 0
    assert api.data("getFilters").status_code == 200
    api.close()


def test_hang_until_the_client_times_out_and_nothing_applied(server: SandboxServer) -> None:
    server.faults.set("sendBalance", hang=True, count=1)
    api = Api(server, timeout=0.3)
    with pytest.raises(httpx.ReadTimeout):
        api.send_points(("h@example.com", 5))
    assert server.state.points_of("h@example.com") == 0
    assert api.send_points(("h@example.com", 5)).status_code == 200
    api.close()


def test_hang_after_apply(server: SandboxServer) -> None:
    server.faults.set("sendBalance", hang=True, apply_first=True)
    api = Api(server, timeout=0.3)
    with pytest.raises(httpx.ReadTimeout):
        api.send_points(("ha@example.com", 5))
    assert server.state.points_of("ha@example.com") == 5
    api.close()


def test_a_hanging_request_does_not_block_stop() -> None:
    srv = SandboxServer().start()
    srv.faults.set("getFilters", hang=True)
    api = Api(srv, timeout=30)
    import threading

    errors: list[BaseException] = []

    def call() -> None:
        try:
            api.data("getFilters")
        except httpx.HTTPError as err:
            errors.append(err)

    worker = threading.Thread(target=call)
    worker.start()
    while not srv.requests:
        threading.Event().wait(0.01)
    srv.stop()
    worker.join(timeout=10)
    assert not worker.is_alive()
    api.close()


def test_drop_after_apply_send_balance(api: Api, server: SandboxServer) -> None:
    server.faults.set("sendBalance", drop_after_apply=True, count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.send_points(("drop@example.com", 42))
    assert server.state.points_of("drop@example.com") == 42  # applied although the client failed
    assert server.requests[-1]["dropped"] is True
    assert api.send_points(("drop@example.com", 1)).status_code == 200


def test_drop_after_apply_place_order_is_found_by_po_number(
    api: Api, server: SandboxServer
) -> None:
    server.faults.set("placeOrder", drop_after_apply=True, count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.order("PO-LOST")
    found = api.data("getOrderDetails", {"poNumber": "PO-LOST"})
    assert found.status_code == 200
    assert api.order("PO-LOST").json()["errorId"] == "PLE10004"


def test_drop_after_apply_on_refresh_loses_the_rotated_token(
    api: Api, server: SandboxServer
) -> None:
    server.faults.set("token", drop_after_apply=True, count=1)
    body = {
        "grant_type": "refresh_token",
        "refresh_token": server.refresh_token,
        "client_id": "sandbox",
        "client_secret": "sandbox",
    }
    with pytest.raises(httpx.RemoteProtocolError):
        api.http.post("/v1/oauth/token/company", json=body)
    assert api.http.post("/v1/oauth/token/company", json=body).json()["error"] == "invalid_grant"


def test_admin_faults_endpoint_round_trip(api: Api, server: SandboxServer) -> None:
    admin = httpx.Client(base_url=server.root_url)
    doc = {
        "latency_ms": 5,
        "operations": {"placeOrder": {"error": "PLE10024", "error_rate": 1, "count": 1}},
        "variants": {"sendBalance": "flat", "error_code": "number"},
    }
    r = admin.post("/_sandbox/faults", json=doc)
    assert r.status_code == 200
    state = r.json()
    assert state["latency_ms"] == 5
    assert state["operations"]["placeOrder"]["error"] == "PLE10024"
    assert state["variants"]["sendBalance"] == "flat"
    failed = api.order("PO-F")
    assert (failed.status_code, failed.json()["code"]) == (502, 502)
    assert api.order("PO-F").status_code == 200
    bad = admin.post("/_sandbox/faults", json={"operations": {"nope": {"hang": True}}})
    assert bad.status_code == 400 and "nope" in bad.json()["error"]
    half_bad = {"latency_ms": 50, "variants": {"sendBalance": "weird"}}
    assert admin.post("/_sandbox/faults", json=half_bad).status_code == 400
    assert admin.get("/_sandbox/faults").json()["latency_ms"] == 5  # nothing half-applied
    cleared = admin.post("/_sandbox/faults", json={"clear": True}).json()
    assert cleared["operations"] == {} and cleared["latency_ms"] == 0
    assert cleared["variants"]["sendBalance"] == "spec"
    admin.close()


def test_parse_fault_spec() -> None:
    assert parse_fault_spec("error:PLE10024,rate:0.5,count:2") == FaultSpec(
        error="PLE10024", rate=0.5, count=2
    )
    assert parse_fault_spec("drop") == FaultSpec(drop_after_apply=True)
    assert parse_fault_spec("hang,apply_first,latency:100") == FaultSpec(
        hang=True, apply_first=True, latency_ms=100
    )
    for bad in ("explode", "rate:2", "count:0", "error:banana", "latency:-1", "rate:x"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)


def test_faults_validate_names() -> None:
    faults = Faults()
    with pytest.raises(ValueError):
        faults.set("sendPoints", hang=True)
    with pytest.raises(ValueError):
        faults.set_variant("sendBalance", "xml")
    with pytest.raises(ValueError):
        faults.set_variant("colour", "red")


def test_unreachable_refuses_connections_and_comes_back_with_its_state() -> None:
    """`unreachable`: the port is held but not listening (connection refused, as by a server
    that is down), set and cleared through the sandbox's own admin endpoint too."""

    def wait(probe: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not probe():
            assert time.monotonic() < deadline
            time.sleep(0.02)

    with SandboxServer(rate_limits=False) as server:
        url = server.base_url + "/v1/oauth/token"
        port = server.port
        assert httpx.get(url).status_code == 401
        answer = httpx.post(server.root_url + "/_sandbox/faults", json={"unreachable": True})
        assert answer.status_code == 200 and answer.json()["unreachable"] is True
        wait(lambda: not server.reachable)
        with pytest.raises(httpx.ConnectError):
            httpx.get(url)
        server.faults.clear()
        wait(lambda: server.reachable)
        assert server.port == port and httpx.get(url).status_code == 401
