"""Fixtures: a sandbox on a loopback port with a clock the test moves, and a tiny API caller."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.simulators.plum_sandbox import SandboxServer

QUERY_TAGS = {
    "getFilters": ("plumProAPI.mutation.getFilters", "plumProAPI"),
    "getVouchers": ("plumProAPI.mutation.getVouchers", "plumProAPI"),
    "getBalance": ("plumProAPI.query.getBalance", "plumProAPI"),
    "placeOrder": ("plumProAPI.mutation.placeOrder", "plumProAPI"),
    "getOrderDetails": ("plumProAPI.mutation.getOrderDetails", "plumProAPI"),
    "getOrderHistory": ("plumProAPI.mutation.getOrderHistory", "plumProAPI"),
    "paymentHistory": ("plumProAPI.mutation.paymentHistory", "plumProAPI"),
    "sendBalance": ("storesAdmin.mutation.sendBalance", "storeAdmin"),
    "user_balance": ("storesAdmin.query.user_balance", "storeAdmin"),
    "cancelBalance": ("storesAdmin.mutation.cancelBalance", "storeAdmin"),
    "campaignList": ("xoxo_link.query.campaignList", "xoxo_link"),
    "generateLink": ("xoxo_link.mutation.generateLink", "xoxo_link"),
    "generateLinkEmail": ("xoxo_link.mutation.generateLinkEmail", "xoxo_link"),
}
PATHS = {
    "generateLink": "/v1/oauth/api/generateLink",
    "generateLinkEmail": "/v1/oauth/api/sendLinks",
}


class FakeClock:
    """A UTC clock that only moves when the test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 3, 10, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Api:
    """Raw httpx calls to one sandbox, in the request shapes of the docs."""

    def __init__(self, server: SandboxServer, *, timeout: float = 5.0) -> None:
        self.server = server
        self.token = server.access_token
        self.http = httpx.Client(base_url=server.base_url, timeout=timeout)

    def renew(self) -> None:
        """A new access token by client credentials (after the test moved the clock far)."""
        creds = {"grant_type": "client_credentials", "client_id": "sandbox"}
        r = self.http.post("/v1/oauth/token", data={**creds, "client_secret": "sandbox"})
        self.token = r.json()["access_token"]

    def post(self, path: str, body: Any, *, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.http.post(path, json=body, headers=headers)

    def call(self, op: str, variables: dict[str, Any], **kw: Any) -> httpx.Response:
        query, tag = QUERY_TAGS[op]
        body = {"query": query, "tag": tag, "variables": variables}
        return self.post(PATHS.get(op, "/v1/oauth/api"), body, **kw)

    def data(self, op: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.call(op, {"data": data or {}}, **kw)

    def send_points(self, *pairs: tuple[str, int], expiry_month: int = 12) -> httpx.Response:
        return self.call(
            "sendBalance",
            {
                "sender_email": "admin@example.com",
                "expiry_month": expiry_month,
                "recipients": [
                    {"to_name": e.split("@")[0], "to_email": e, "amount": str(p), "citation": "t"}
                    for e, p in pairs
                ],
            },
        )

    def order(
        self, po: str, product: int = 10004, denomination: Any = 25, **extra: Any
    ) -> httpx.Response:
        data = {"productId": product, "quantity": 1, "denomination": denomination, "poNumber": po}
        data["email"] = "winner@example.com"
        data.update(extra)
        return self.data("placeOrder", data)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[SandboxServer]:
    with SandboxServer(clock=clock, seed=0) as srv:
        yield srv


@pytest.fixture
def api(server: SandboxServer) -> Iterator[Api]:
    caller = Api(server)
    yield caller
    caller.close()


class SpecValidator:
    """Validates bodies against schemas of ../shared/seeds/plum-openapi.yml."""

    URI = "urn:plum-openapi"

    def __init__(self, path: Path) -> None:
        self.spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.registry = Registry().with_resource(
            self.URI, Resource.from_contents(self.spec, default_specification=DRAFT202012)
        )

    def component(self, name: str) -> dict[str, Any]:
        return {"$ref": f"{self.URI}#/components/schemas/{name}"}

    def pointer(self, *parts: str) -> dict[str, Any]:
        escaped = "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)
        return {"$ref": f"{self.URI}#/{escaped}"}

    def errors(self, body: Any, schema: dict[str, Any]) -> list[str]:
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=FormatChecker()
        )
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


@pytest.fixture(scope="session")
def spec(shared_dir: Path) -> SpecValidator:
    return SpecValidator(shared_dir / "seeds" / "plum-openapi.yml")
