"""The StoreFront endpoints against their OpenAPI description (`docs/storefront-openapi.yml`).

- Schemathesis drives the real web app (the one start-up's, `bot.startup`; StoreFront mode, ASGI)
  with the document's examples and bodies generated from its schemas, valid and not, and
  checks that no answer is a server error, and that every status code, content type and body
  is the one the document describes. Half the generated calls carry a real person's
  credentials (and the examples' placeholder token is swapped for a real one), so they reach
  the ledger instead of stopping at 401.
- Plain tests make each endpoint succeed (and refuse, and fail each documented way) and
  validate request and answer against the document with openapi-core, so the success shapes
  are checked whatever the generator happened to hit.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS31Validator
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient
from werkzeug.datastructures import Headers, ImmutableMultiDict

from bot.runtime import Runtime
from bot.settings import load_settings
from bot.startup import start_bot
from storage import clock, members, points, rewards, storefront_secrets
from storage.states import RewardStatus, SecretKind

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "storefront-openapi.yml"
DOC: dict[str, Any] = yaml.safe_load(DOC_PATH.read_text())
SERVER = DOC["servers"][0]["url"]

API_KEY = "openapi-test-storefront-key"
MARIA = "U0MARIA"  # the person in the document's examples
GIVER = "U0GIVER"
SEEDED_ORDER = "AB1890082790"  # the examples' order: redeemed (129 points) before the tests
# The placeholders in the document's examples, swapped for real credentials before a call.
EXAMPLE_TOKEN = DOC["paths"]["/storefront/balance"]["post"]["requestBody"]["content"][
    "application/json"
]["examples"]["seed"]["value"]["auth_token"]
EXAMPLE_KEY = DOC["paths"]["/storefront/profile"]["post"]["requestBody"]["content"][
    "application/json"
]["examples"]["seed"]["value"]["api_key"]


# --- the bot ----------------------------------------------------------------------------------


@dataclass
class StoreFrontBot:
    runtime: Runtime
    app: Any  # the ASGI app the bot serves
    token: str  # Maria's auth token
    client: TestClient

    def post(self, endpoint: str, body: object) -> httpx.Response:
        return self.client.post(f"/storefront/{endpoint}", json=body)


@contextmanager
def storefront_bot(tmp: Path, **overrides: Any) -> Iterator[StoreFrontBot]:
    """The bot in StoreFront mode on a fresh SQLite database, Maria with 700 points from a
    reward and a live auth token, and order AB1890082790 already redeemed for 129 of them."""
    settings = load_settings(
        SLACK_BOT_TOKEN="xoxb-fake",
        SLACK_SIGNING_SECRET="openapi-signing-secret",
        SLACK_API_URL="http://127.0.0.1:9/api/",  # never called here
        PLUM_BASE_URL="http://127.0.0.1:9",  # never called here
        PLUM_CLIENT_ID="unused",
        PLUM_CLIENT_SECRET="unused",
        PLUM_SENDER_EMAIL="people-ops@acme.test",
        DATABASE_URL=f"sqlite:///{tmp / 'bot.db'}",
        REWARD_POINT_SYSTEM="storefront",
        STOREFRONT_API_KEY=API_KEY,
        **overrides,
    )
    bot = start_bot(settings, worker=False, anchor=False)
    try:
        runtime = bot.runtime
        token = _seed(runtime)
        assert bot.web is not None
        with TestClient(bot.web, base_url=SERVER) as client:
            yield StoreFrontBot(runtime=runtime, app=bot.web, token=token, client=client)
    finally:
        bot.stop()


def _seed(runtime: Runtime) -> str:
    store = runtime.store
    with store.session() as s:
        giver = members.upsert_member(
            s, team_id="T1", slack_user_id=GIVER, email="gina@example.com", display_name="Gina"
        )
        maria = members.upsert_member(
            s,
            team_id="T1",
            slack_user_id=MARIA,
            email="maria@example.com",
            real_name="Maria Lopez",
        )
        created = rewards.create_reward(
            s,
            giver=giver,
            recipients=[(maria, 700)],
            citation="shipped it",
            idempotency_key="openapi-seed",
            channel_id="C1",
            status=RewardStatus.QUEUED,
            expiry_months=12,
        )
        claimed = rewards.claim_for_delivery(s, reward_id=created.reward.id)
        points.credit_reward(s, reward_id=claimed.id)
        assert maria.id is not None
        minted = storefront_secrets.mint(
            s, member_id=maria.id, kind=SecretKind.AUTH_TOKEN, lifetime=timedelta(hours=1)
        )
        points.redeem(
            s,
            member_id=maria.id,
            order_id=SEEDED_ORDER,
            cents=12900,
            today=clock.now().date(),
            token_id=minted.id,
        )
    return minted.raw


# --- schemathesis -----------------------------------------------------------------------------

schema = schemathesis.openapi.from_dict(DOC)
CHECKS = [
    not_a_server_error,  # a healthy ledger never answers 503: that would be an exception
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreFrontBot]:
    with storefront_bot(tmp_path_factory.mktemp("fuzzed")) as bot:
        yield bot


def _authenticate(body: object, bot: StoreFrontBot, operation: str) -> None:
    """Swap the examples' placeholders for real credentials, and give half the generated
    bodies that carry credentials Maria's (a quarter of GetProfile's also ask about her)."""
    if not isinstance(body, dict):
        return
    if body.get("auth_token") == EXAMPLE_TOKEN:
        body["auth_token"] = bot.token
    if body.get("api_key") == EXAMPLE_KEY:
        body["api_key"] = API_KEY
        return
    pick = zlib.crc32(f"{operation} {body!r}".encode("utf-8", "surrogatepass")) % 4
    if pick >= 2:
        return
    if "auth_token" in body or "unique_id" in body:
        body["unique_id"], body["auth_token"] = MARIA, bot.token
    if "api_key" in body:
        body["api_key"] = API_KEY
        if pick == 0:
            body["employee_id"] = MARIA


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_endpoints_answer_as_the_document_says(case: Any, fuzzed_bot: StoreFrontBot) -> None:
    _authenticate(case.body, fuzzed_bot, case.operation.label)
    case.call_and_validate(app=fuzzed_bot.app, checks=CHECKS)


# --- the document, checked with openapi-core --------------------------------------------------

OPENAPI = OpenAPI.from_dict(DOC)


class _Request:
    """What openapi-core reads of a request (the one the test client sent)."""

    host_url = SERVER

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )
        self.path = request.url.path
        self.method = request.method.lower()
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "")


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.data = response.content
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(dict(response.headers))


def documented(response: httpx.Response, *, request_valid: bool = True) -> dict[str, Any]:
    """The answer's body, once openapi-core has found the answer (and, unless told the
    request is deliberately off the document, the request) to be as documented."""
    request = _Request(response.request)
    if request_valid:
        OPENAPI.validate_request(request)
    OPENAPI.validate_response(request, _Response(response))
    body: dict[str, Any] = response.json()
    return body


REFUSAL = OAS31Validator({**DOC["components"]["schemas"]["Refusal"], "components": {}})


def refusal(response: httpx.Response, status: int) -> str:
    """The message of a documented refusal with this HTTP status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    REFUSAL.validate(body)
    return str(body["message"])


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[StoreFrontBot]:
    with storefront_bot(tmp_path) as bot:
        yield bot


def credentials(bot: StoreFrontBot) -> dict[str, str]:
    return {"unique_id": MARIA, "auth_token": bot.token}


def test_the_document_is_valid_openapi() -> None:
    from openapi_spec_validator import validate

    validate(DOC)
    assert set(DOC["paths"]) == {
        f"/storefront/{e}" for e in ("balance", "profile", "redeem", "refund")
    }


def test_balance_answers_both_shapes_as_documented(bot: StoreFrontBot) -> None:
    body = documented(bot.post("balance", credentials(bot)))
    assert body["status"] == "1"
    assert body["points_info"] == {
        "points_received": "700",
        "points_redeemed": "129",
        "points_available": "571",
    }
    assert body["data"] == {"unique_id": MARIA, "points": "571"}


def test_get_profile_answers_both_shapes_as_documented(bot: StoreFrontBot) -> None:
    body = documented(bot.post("profile", {"api_key": API_KEY, "employee_id": MARIA}))
    assert body["status"] == 1
    assert body["employee_data"]["first_name"] == "Maria"
    assert body["employee_data"]["company_email_id"] == "maria@example.com"
    assert body["user_data"]["points"] == "571"
    unknown = documented(bot.post("profile", {"api_key": API_KEY, "employee_id": "U0NOBODY"}))
    assert unknown["status"] == "0" and "U0NOBODY" in unknown["message"]


def test_redeem_in_the_seeds_shape_and_the_newer_guides(bot: StoreFrontBot) -> None:
    seed = {
        **credentials(bot),
        "total_points_redeemed": "100",
        "total_points_added": None,
        "order_id": "AB2000000001",
        "comments": "",
    }
    body = documented(bot.post("redeem", seed))
    assert body == {
        "status": "1",
        "message": "Successfully updated",
        "data": {"order_id": "AB2000000001", "points": "471"},
    }
    assert documented(bot.post("redeem", seed)) == body  # idempotent on the order id
    newer = {
        **credentials(bot),
        "total_points_redeemed": 348.5,
        "total_points_added": None,
        "order_id": "AB2000000002",
        "comments": "",
        "order_date": 1700000000,
        "orderData": [
            {
                "quantity": 1,
                "orderAmount": 348.5,
                "product": {
                    "productId": "12345",
                    "name": "Amazon gift card",
                    "category": "giftcard",
                    "price": 348.5,
                },
            }
        ],
    }
    body = documented(bot.post("redeem", newer))
    assert body["status"] == "1" and body["data"] == {"order_id": "AB2000000002", "points": "122.5"}


def test_redeem_refusals_are_documented(bot: StoreFrontBot) -> None:
    base = {**credentials(bot), "total_points_added": None, "comments": ""}
    too_much = documented(
        bot.post("redeem", {**base, "order_id": "AB3", "total_points_redeemed": "1000"})
    )
    assert too_much["status"] == "0" and "Not enough points" in too_much["message"]
    other_amount = documented(
        bot.post("redeem", {**base, "order_id": SEEDED_ORDER, "total_points_redeemed": "1"})
    )
    assert other_amount["status"] == "0"
    added = documented(
        bot.post(
            "redeem",
            {**base, "order_id": "AB4", "total_points_redeemed": "1", "total_points_added": "5"},
        )
    )
    assert added["status"] == "0"


def test_refund_in_the_seeds_shape_and_the_newer_guides(bot: StoreFrontBot) -> None:
    seed = {
        **credentials(bot),
        "transactionid": SEEDED_ORDER,
        "redemption_amount": "29",
        "comments": "",
    }
    body = documented(bot.post("refund", seed))
    assert body == {
        "status": "1",
        "message": "Successfully updated",
        "data": {"transaction_id": SEEDED_ORDER, "order_id": SEEDED_ORDER, "points": "600"},
    }
    assert documented(bot.post("refund", seed)) == body  # the same refund again: once
    newer = {
        **credentials(bot),
        "order_id": SEEDED_ORDER,
        "transactionid": "RF0001",
        "redemption_amount": 0.5,
        "comments": "one item was out of stock",
    }
    body = documented(bot.post("refund", newer))
    assert body["data"] == {"transaction_id": "RF0001", "order_id": SEEDED_ORDER, "points": "600.5"}
    # The refunds never exceed the order: 129 redeemed, 29.5 refunded, 100 is too much.
    capped = documented(bot.post("refund", {**seed, "redemption_amount": "100"}))
    assert capped["status"] == "0" and "more than order" in capped["message"]


def test_bad_and_unauthenticated_calls_are_documented(bot: StoreFrontBot) -> None:
    missing = bot.post("redeem", {**credentials(bot), "total_points_redeemed": "1"})
    assert "order_id" in refusal(missing, 400)
    documented(missing, request_valid=False)
    three_decimals = bot.post(
        "refund", {**credentials(bot), "order_id": SEEDED_ORDER, "redemption_amount": "1.005"}
    )
    assert "two decimals" in refusal(three_decimals, 400)
    documented(three_decimals, request_valid=False)
    wrong_token = bot.post("balance", {"unique_id": MARIA, "auth_token": "nope"})
    refusal(wrong_token, 401)
    documented(wrong_token)
    someone_else = bot.post("balance", {"unique_id": GIVER, "auth_token": bot.token})
    refusal(someone_else, 401)
    documented(someone_else)
    wrong_key = bot.post("profile", {"api_key": "nope", "employee_id": MARIA})
    refusal(wrong_key, 401)
    documented(wrong_key)
    for raw in (b"not json", b"[1, 2]", b""):
        refusal(bot.client.post("/storefront/balance", content=raw), 400)


def test_too_large_other_paths_and_an_unavailable_ledger(
    bot: StoreFrontBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = bot.post("redeem", {**credentials(bot), "comments": "x" * (65 * 1024)})
    refusal(big, 413)
    documented(big, request_valid=False)
    refusal(bot.client.post("/storefront/orders", json={}), 404)
    OAS31Validator(
        DOC["components"]["responses"]["NotFound"]["content"]["application/json"]["schema"]
        | {"components": DOC["components"]}
    ).validate(bot.client.post("/storefront/orders", json={}).json())

    def down(*_: object) -> None:
        raise RuntimeError("database is down")

    storefront = bot.runtime.storefront
    assert storefront is not None
    monkeypatch.setattr(storefront, "answer", down)
    unavailable = bot.post("balance", credentials(bot))
    refusal(unavailable, 503)
    documented(unavailable)


def test_callers_outside_xoxodays_addresses_get_403(tmp_path: Path) -> None:
    addresses = "52.76.120.90,52.74.39.101,52.221.42.47,46.137.196.217"
    with storefront_bot(tmp_path, STOREFRONT_ALLOWED_IPS=addresses) as bot:
        forbidden = bot.post("balance", credentials(bot))  # the test client is no such address
        refusal(forbidden, 403)
        documented(forbidden)


# --- bodies the generator does not send -------------------------------------------------------


def test_deeply_nested_json_is_a_400_not_a_server_error(bot: StoreFrontBot) -> None:
    # 64 KiB of "[" is JSON Python's parser gives up on (RecursionError): that was a 500.
    for endpoint in ("balance", "redeem"):
        answer = bot.client.post(f"/storefront/{endpoint}", content=b"[" * 60_000)
        assert "JSON" in refusal(answer, 400)


def _raw(bot: StoreFrontBot, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    """Posted as Python's json writes it: lone surrogates as \\ud800 escapes, which JSON allows."""
    return bot.client.post(
        f"/storefront/{endpoint}",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )


def test_lone_surrogates_and_nul_are_refused_or_dropped_never_a_503(bot: StoreFrontBot) -> None:
    # A 503 says "try again shortly": for a body that can never be answered, Xoxoday would.
    odd = "gift\ud800card\x00"
    assert refusal(_raw(bot, "profile", {"api_key": odd, "employee_id": MARIA}), 401)
    assert refusal(_raw(bot, "balance", {"unique_id": MARIA, "auth_token": odd}), 401)
    assert refusal(_raw(bot, "balance", {"unique_id": odd, "auth_token": bot.token}), 400)
    # What an order bought is kept for its record only: what can't be kept is dropped.
    order = {
        **credentials(bot),
        "total_points_redeemed": "1",
        "order_id": "AB5",
        "comments": odd,
        "order_date": odd,
        "orderData": [{"quantity": odd, "product": {"name": odd, "category": odd}}],
    }
    answer = _raw(bot, "redeem", order)
    assert documented(answer, request_valid=False)["status"] == "1", answer.text
    with bot.runtime.store.read_session() as s:
        kept = points.find_order(s, order_id="AB5")
    assert kept is not None and kept.details is not None
    assert kept.details["items"][0]["product"] == "giftcard"
    refund = {**credentials(bot), "order_id": "AB5", "redemption_amount": "1", "comments": odd}
    assert documented(_raw(bot, "refund", refund))["status"] == "1"


def test_amounts_with_more_than_two_decimals_are_a_400_however_they_are_written(
    bot: StoreFrontBot,
) -> None:
    # 1e-5000000 underflowed to 0 cents (a 200 "more than 0" refusal, or no points added);
    # 29 significant digits were rounded to whole cents and accepted.
    for amount in ("1e-5000000", "1.0000000000000000000000000001", 1e-300):
        order = {**credentials(bot), "order_id": "AB6", "total_points_redeemed": amount}
        assert "two decimals" in refusal(bot.post("redeem", order), 400)
        added = {**order, "total_points_redeemed": "1", "total_points_added": amount}
        assert "two decimals" in refusal(bot.post("redeem", added), 400)
        refund = {**credentials(bot), "order_id": SEEDED_ORDER, "redemption_amount": amount}
        assert "two decimals" in refusal(bot.post("refund", refund), 400)
    order = {**credentials(bot), "order_id": "AB6", "total_points_redeemed": "1E+2"}
    assert documented(bot.post("redeem", order), request_valid=False)["data"]["points"] == "471"


def test_no_points_added_may_be_written_as_any_zero(bot: StoreFrontBot) -> None:
    for n, zero in enumerate((None, "", 0, "0", "0.00", 0.0, "0.0")):
        order = {
            **credentials(bot),
            "order_id": f"AB7-{n}",
            "total_points_redeemed": "1",
            "total_points_added": zero,
        }
        assert documented(bot.post("redeem", order))["status"] == "1", zero
