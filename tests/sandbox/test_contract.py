"""Every default answer of the sandbox validates against ../shared/seeds/plum-openapi.yml."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.simulators.plum_sandbox import SandboxServer
from tests.sandbox.conftest import Api, SpecValidator

pytestmark = pytest.mark.shared

GENERATE_LINK_200 = (
    "paths",
    "/v1/oauth/api/generateLink",
    "post",
    "responses",
    "200",
    "content",
    "application/json",
    "schema",
)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def check(spec: SpecValidator, body: Any, schema: dict[str, Any]) -> None:
    assert spec.errors(body, schema) == [], body


def test_token_answers_are_token_responses(
    spec: SpecValidator, api: Api, server: SandboxServer
) -> None:
    schema = spec.component("TokenResponse")
    creds = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox"}
    check(spec, ok(api.http.post("/v1/oauth/token", data=creds)), schema)
    auth = {"Authorization": f"Bearer {api.token}"}
    check(spec, ok(api.http.get("/v1/oauth/token", headers=auth)), schema)
    refresh = {**creds, "grant_type": "refresh_token", "refresh_token": server.refresh_token}
    check(spec, ok(api.http.post("/v1/oauth/token/user", json=refresh)), schema)


def test_every_operation_answers_a_plum_response(spec: SpecValidator, api: Api) -> None:
    schema = spec.component("PlumResponse")
    results = {
        "getFilters": api.data("getFilters"),
        "getVouchers": api.data("getVouchers", {"limit": 100, "exchangeRate": 1}),
        "getBalance": api.data("getBalance"),
        "placeOrder": api.order("PO-C1", product=10003, denomination=500, quantity=2),
        "sendBalance": api.send_points(("c@example.com", 10), ("d@example.com", 5)),
    }
    uid = results["sendBalance"].json()["data"]["sendBalance"]["recipients"][0]["unique_id"]
    results |= {
        "getOrderDetails": api.data("getOrderDetails", {"poNumber": "PO-C1"}),
        "getOrderHistory": api.data("getOrderHistory", {"limit": 10, "page": 1}),
        "user_balance": api.call("user_balance", {"user_data": {"email": "c@example.com"}}),
        "cancelBalance": api.call(
            "cancelBalance", {"recipients_data": {"recipients": [{"unique_id": uid}]}}
        ),
        "campaignList": api.call("campaignList", {"add_data": {"limit": 10}}),
        "paymentHistory": api.data("paymentHistory", {"limit": 50}),
    }
    for op, response in results.items():
        body = ok(response)
        assert op in body["data"], op
        check(spec, body, schema)
    unknown = api.call("user_balance", {"user_data": {"email": "nobody@example.com"}})
    check(spec, ok(unknown), schema)
    # the specific result schemas, checked directly as well
    data = {op: r.json()["data"][op] for op, r in results.items()}
    check(spec, data["placeOrder"], spec.component("PlaceOrderResult"))
    check(spec, data["getOrderDetails"], spec.component("GetOrderDetailsResult"))
    check(spec, data["paymentHistory"], spec.component("PaymentHistoryResult"))
    check(spec, data["sendBalance"], spec.component("SendPointsResult"))
    for item in data["getVouchers"]["data"]:
        check(spec, item, spec.component("Voucher"))


def test_generate_link_answer(spec: SpecValidator, api: Api) -> None:
    body = ok(
        api.data(
            "generateLink", {"campaignId": 7890, "links_quantity": 2, "link_expiry": "31-12-2025"}
        )
    )
    check(spec, body, spec.pointer(*GENERATE_LINK_200))


def test_error_answers_are_api_errors(spec: SpecValidator, api: Api, server: SandboxServer) -> None:
    schema = spec.component("ApiError")
    errors = [
        api.data("getVouchers", {"filters": [{"key": "productName", "value": "zzz"}]}),
        api.order("PO-E", denomination=31),
        api.data("getOrderDetails", {"orderId": 1}),
        api.send_points(("e@example.com", 10**9)),
        api.data("generateLink", {"campaignId": 1, "links_quantity": 1, "link_expiry": "x"}),
        api.data("getBalance", token="forged"),
        api.http.post("/v1/oauth/token", data={"grant_type": "client_credentials"}),
        api.http.post("/v1/oauth/api", json={}),
    ]
    for response in errors:
        assert response.status_code >= 400
        check(spec, response.json(), schema)


def test_the_validator_catches_the_other_variants(
    spec: SpecValidator, api: Api, server: SandboxServer
) -> None:
    """Proof the contract test can fail: the documented non-default shapes break the spec."""
    server.faults.set_variant("error_code", "number")
    numbered = api.data("getOrderDetails", {"orderId": 1}).json()
    assert spec.errors(numbered, spec.component("ApiError"))
    server.faults.set_variant("token", "docs")
    creds = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox"}
    docs_token = api.http.post("/v1/oauth/token", data=creds).json()
    assert spec.errors(docs_token, spec.component("TokenResponse"))
