"""Contract: every request the client sends and every sandbox answer it reads, validated
against the seed OpenAPI text (`seeds/plum-openapi.yml`) with openapi-core.

A wrapping transport validates each exchange. Paths the seed does not describe (the refresh
endpoints, /sendLinks) are listed, not validated; answers with a status the seed does not list
for the path are validated against its `ApiError` schema.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS31Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from bot.plum import NoVouchersError, OrderNotFoundError, Recipient
from tests.plum.conftest import dashboard_refresh_token

SPEC_HOST = "https://accounts.xoxoday.com"  # the seed's production server, minus /chef

# openapi-core cannot check the seed's oauth2 scheme (it checks the bearer one); say so once.
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")


class SpecRequest:
    """An httpx.Request as openapi-core reads requests, moved onto the seed's server URL."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )

    host_url = SPEC_HOST

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return self._request.headers.get("content-type", "").lower()


class SpecResponse:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def data(self) -> bytes:
        return self._response.content

    @property
    def content_type(self) -> str:
        return self._response.headers.get("content-type", "").lower()

    @property
    def headers(self) -> Headers:
        return Headers(dict(self._response.headers))


class ValidatingTransport(httpx.BaseTransport):
    def __init__(self, spec: dict[str, Any]) -> None:
        self.inner = httpx.HTTPTransport()
        self.openapi = OpenAPI.from_dict(spec)
        self.spec = spec
        self.api_error = OAS31Validator(
            {**spec["components"]["schemas"]["ApiError"], "components": spec["components"]}
        )
        self.validated: list[tuple[str, int]] = []
        self.unspecified: list[str] = []
        self.problems: list[str] = []

    def _documented(self, path: str, method: str, status: int) -> bool | None:
        item = self.spec["paths"].get(path.removeprefix("/chef"))
        if item is None or method not in item:
            return None
        return str(status) in item[method]["responses"]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        path, method = request.url.path, request.method.lower()
        label = _label(request)
        documented = self._documented(path, method, response.status_code)
        if documented is None:
            self.unspecified.append(f"{method.upper()} {path}")
            return response
        wrapped = SpecRequest(request)
        try:
            self.openapi.validate_request(wrapped)
        except Exception as err:
            self.problems.append(f"request {label}: {_why(err)}")
        if documented:
            try:
                self.openapi.validate_response(wrapped, SpecResponse(response))
            except Exception as err:
                self.problems.append(f"response {label} {response.status_code}: {_why(err)}")
        else:
            for error in self.api_error.iter_errors(response.json()):
                self.problems.append(f"error body {label} {response.status_code}: {error.message}")
        self.validated.append((label, response.status_code))
        return response

    def close(self) -> None:
        self.inner.close()


def _label(request: httpx.Request) -> str:
    if request.headers.get("content-type", "").startswith("application/json") and request.content:
        query = json.loads(request.content).get("query")
        if query:
            return str(query).rsplit(".", 1)[-1]
    return f"{request.method} {urlsplit(str(request.url)).path}"


def _why(err: Exception) -> str:
    cause = err.__cause__
    details = getattr(cause, "schema_errors", None) or getattr(err, "schema_errors", None)
    if details:
        return f"{type(err).__name__}: " + "; ".join(e.message for e in details)
    return f"{type(err).__name__}: {err} {cause or ''}"


@pytest.fixture(scope="module")
def spec(shared_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((shared_dir / "seeds" / "plum-openapi.yml").read_text())


@pytest.fixture
def checked(spec, make_client):
    transport = ValidatingTransport(spec)
    client = make_client(http_client=httpx.Client(transport=transport))
    return client, transport


def test_every_operation_and_answer_matches_the_seed_spec(srv, checked, fake_time):
    client, transport = checked
    today = fake_time.now().date()
    client.validate()
    client.get_filters(filter_group_code="country")
    product = next(v for v in client.get_vouchers(limit=20) if v.denominations)
    client.get_balance()
    placed = client.place_order(
        product_id=product.product_id,
        quantity=1,
        denomination=product.denominations[0],
        po_number="PO-C1",
        email="ann@example.com",
    )
    client.get_order_details(order_id=placed.order.order_id)
    client.get_order_details(po_number="PO-C1")
    client.get_order_history(start_date=today - timedelta(days=1), end_date=today)
    client.payment_history(start_date=today - timedelta(days=1), end_date=today)
    sent = client.send_balance(
        sender_email="boss@example.com",
        expiry_month=12,
        recipients=[
            Recipient(email="ann@example.com", points=10, name="Ann"),
            Recipient(email="bob@example.com", points=20, name="Bob"),
        ],
    )
    client.user_balance(email="ann@example.com")
    client.cancel_balance(unique_ids=list(sent.unique_ids))
    client.campaign_list()
    client.generate_link(campaign_id=7890, quantity=2, expiry=today + timedelta(days=10))
    client.send_links(
        campaign_id=7890, emails=["ann@example.com"], expiry=today + timedelta(days=10)
    )
    assert transport.problems == []
    labels = {label for label, _ in transport.validated}
    assert labels >= {
        "POST /chef/v1/oauth/token",
        "GET /chef/v1/oauth/token",
        "getFilters",
        "getVouchers",
        "getBalance",
        "placeOrder",
        "getOrderDetails",
        "getOrderHistory",
        "paymentHistory",
        "sendBalance",
        "user_balance",
        "cancelBalance",
        "generateLink",
    }
    assert transport.unspecified == ["POST /chef/v1/oauth/api/sendLinks"]


def test_documented_error_answers_match_the_seed_spec(srv, checked):
    client, transport = checked
    with pytest.raises(OrderNotFoundError):
        client.get_order_details(po_number="PO-MISSING")  # 404 PLE10016
    with pytest.raises(NoVouchersError):
        client.get_vouchers(filters={"productName": "nothing like this"})  # 404 PLE10030
    srv.faults.set("getBalance", error="PLE10023", count=1)  # 502, then retried
    client.get_balance()
    srv.faults.set("placeOrder", error="PLE10004", count=1)  # 422
    with pytest.raises(Exception, match="poNumber"):
        client.place_order(product_id=1234, quantity=1, denomination=500, po_number="PO-E")
    assert transport.problems == []
    assert {status for _, status in transport.validated} >= {200, 404, 422, 502}


def test_refresh_flow_requests_are_listed_as_outside_the_seed(srv, spec, make_client):
    transport = ValidatingTransport(spec)
    client = make_client(
        http_client=httpx.Client(transport=transport),
        token_flow="company",
        refresh_token=dashboard_refresh_token(srv),
    )
    client.get_balance()
    assert transport.problems == []
    assert transport.unspecified == ["POST /chef/v1/oauth/token/company"]


def test_the_validator_catches_a_bad_request_and_a_bad_answer(srv, spec, client):
    """The contract tests can fail: a wrong date format and a numeric error `code` are caught."""
    transport = ValidatingTransport(spec)
    http = httpx.Client(transport=transport)
    headers = {"Authorization": f"Bearer {client.get_access_token()}"}
    body = {
        "query": "xoxo_link.mutation.generateLink",
        "tag": "xoxo_link",
        "variables": {
            "data": {"campaignId": 7890, "links_quantity": 1, "link_expiry": "2030-12-31"}
        },
    }
    http.post(f"{srv.base_url}/v1/oauth/api/generateLink", json=body, headers=headers)
    srv.faults.set_variant("error_code", "number")
    http.post(
        f"{srv.base_url}/v1/oauth/api",
        headers=headers,
        json={
            "query": "plumProAPI.mutation.getOrderDetails",
            "tag": "plumProAPI",
            "variables": {"data": {"poNumber": "PO-NONE"}},
        },
    )
    assert any(
        p.startswith("request generateLink") and "does not match" in p for p in transport.problems
    )
    assert any(p.startswith("response getOrderDetails 404") for p in transport.problems)
