"""StoreFront as Xoxoday plays it: the sign-in call, and the hosted store spending the
company's points through the company's own endpoints (a fake company on loopback here)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.simulators.plum_sandbox import SandboxServer
from tests.sandbox.conftest import Api, FakeClock
from tests.sandbox.fake_company import API_KEY, FakeCompany

AUTH = "bot-minted-token-for-maria-8c1d"
SSO_PATH = "/v1/oauth/sso/stores/company"


def sso_body(email: str = "maria@acme.test", uid: str = "U0MARIA", auth: str = AUTH) -> dict:
    return {
        "user_input": email,
        "tpd": {
            "auth_token": auth,
            "unique_id": uid,
            "email": {"default_value": email, "editable": False, "hidden": False},
            "phone": {"default_value": "", "phone_code": "", "editable": True, "hidden": True},
            "otp": "none",
        },
    }


@pytest.fixture
def company() -> Iterator[FakeCompany]:
    fake = FakeCompany().start()
    fake.person("U0MARIA", auth_token=AUTH, points="700", first="Maria", last="López")
    yield fake
    fake.stop()


@pytest.fixture
def connected(server: SandboxServer, company: FakeCompany) -> FakeCompany:
    server.connect_storefront(company.base_url, API_KEY, timeout=5)
    return company


@pytest.fixture
def browser(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.root_url, follow_redirects=True, timeout=10) as client:
        yield client


def sign_in(api: Api, **kw: Any) -> str:
    """The store page's path for a fresh sign-in."""
    answer = api.post(SSO_PATH, sso_body(**kw))
    assert answer.status_code == 200, answer.text
    return f"/chef/v1/oauth/redirect/stores/{answer.json()['data']['ssoToken']}"


def buy(browser: httpx.Client, store: str, offer: str = "10001-348.5") -> httpx.Response:
    return browser.post(f"{store}/buy", data={"offer": offer})


# ----- the sign-in call ----------------------------------------------------------------------


def test_sign_in_keeps_the_person_and_logs_no_token(server: SandboxServer, api: Api) -> None:
    answer = api.post(SSO_PATH, sso_body())
    token = answer.json()["data"]["ssoToken"]
    session = server.state.store.session(token)
    assert session is not None
    assert (session.email, session.unique_id, session.auth_token) == (
        "maria@acme.test",
        "U0MARIA",
        AUTH,
    )
    assert (session.expires_at - session.issued_at).days == 14
    [entry] = server.requests
    assert entry["operation"] == "storeSso" and entry["status"] == 200
    assert entry["variables"]["tpd"]["auth_token"] == "[hidden]"
    assert AUTH not in repr(server.requests) and token not in repr(server.requests)


def test_sign_in_needs_a_valid_access_token_and_a_whole_body(api: Api) -> None:
    assert api.post(SSO_PATH, sso_body(), token="sbx_at_wrong").status_code == 401
    missing = sso_body()
    del missing["tpd"]["auth_token"]
    refused = api.post(SSO_PATH, missing)
    assert refused.status_code == 400 and "auth_token" in refused.json()["errorInfo"]
    assert api.post(SSO_PATH, {"user_input": "nobody", "tpd": {}}).status_code == 400
    auth = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"}
    assert api.http.post(SSO_PATH, content=b"[]", headers=auth).status_code == 400


def test_faults_and_variants_apply_to_the_sign_in(server: SandboxServer, api: Api) -> None:
    server.faults.set("storeSso", error="503", count=1)
    assert api.post(SSO_PATH, sso_body()).status_code == 503
    server.faults.set_variant("sso", "top")
    assert "ssoToken" in api.post(SSO_PATH, sso_body()).json()
    server.faults.set_variant("sso", "snake")
    assert "sso_token" in api.post(SSO_PATH, sso_body()).json()["data"]


def test_sign_ins_survive_a_restart_without_their_token_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with SandboxServer(state_path=path) as first:
        caller = Api(first)
        token = caller.post(SSO_PATH, sso_body()).json()["data"]["ssoToken"]
        caller.close()
    assert token not in path.read_text()
    with SandboxServer(state_path=path) as second:
        assert second.state.store.session(token) is not None


# ----- the store -----------------------------------------------------------------------------


def test_opening_the_store_asks_profile_and_balance_and_greets(
    api: Api, connected: FakeCompany, browser: httpx.Client
) -> None:
    page = browser.get(sign_in(api))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert connected.calls == [
        ("profile", {"api_key": API_KEY, "employee_id": "U0MARIA"}),
        ("balance", {"unique_id": "U0MARIA", "auth_token": AUTH}),
    ]
    assert "Hello, Maria López" in page.text
    assert '<p class="points">700</p>' in page.text
    assert "348.5 points" in page.text and "830 points" in page.text  # a US$10 card at 83
    assert "<script" not in page.text


def test_buying_redeems_exactly_as_xoxoday_does(
    api: Api, connected: FakeCompany, browser: httpx.Client, clock: FakeClock
) -> None:
    store = sign_in(api)
    page = buy(browser, store)
    [body] = connected.bodies("redeem")
    order_id = body["order_id"]
    assert re.fullmatch(r"SB\d{10}", order_id)
    assert body == {
        "unique_id": "U0MARIA",
        "auth_token": AUTH,
        "total_points_redeemed": "348.5",
        "total_points_added": None,
        "order_id": order_id,
        "comments": "Xoxoday store: 1 x Amazon Pay e-Gift Card (Amazon.in), 348.5 INR",
        "order_date": int(clock.now.timestamp()),
        "orderData": [
            {
                "quantity": 1,
                "orderAmount": "348.5",
                "product": {
                    "productId": 10001,
                    "name": "Amazon Pay e-Gift Card (Amazon.in)",
                    "category": "giftcard",
                    "price": "348.5",
                },
            }
        ],
    }
    assert page.url.path == f"{store}/orders/{order_id}"
    assert "Order placed. The company said: Successfully updated" in page.text
    assert "351.5" in page.text  # the points left, as the company said
    assert connected.points["U0MARIA"] == Decimal("351.5")
    orders = browser.get(f"{store}/orders")
    assert order_id in orders.text and "Placed" in orders.text
    again = buy(browser, store, "1234-500")  # another order: another id
    assert "Not enough points" in again.text
    ids = [b["order_id"] for b in connected.bodies("redeem")]
    assert len(set(ids)) == 2


def test_a_refusal_is_shown_with_the_companys_words(
    api: Api, connected: FakeCompany, browser: httpx.Client
) -> None:
    connected.points["U0MARIA"] = Decimal("100")
    page = buy(browser, sign_in(api))
    assert "The company refused the order: Not enough points: you have 100." in page.text
    assert "Xoxoday admin: refund" not in page.text
    [order] = connected_orders(browser, page)
    assert order == "Refused"


def connected_orders(browser: httpx.Client, page: httpx.Response) -> list[str]:
    listing = browser.get(str(page.url).rsplit("/orders/", 1)[0] + "/orders")
    return re.findall(r"<td>(Placed|Refused|No answer)</td>", listing.text)


def test_a_dropped_answer_is_asked_again_with_the_same_order_id(
    api: Api, connected: FakeCompany, browser: httpx.Client
) -> None:
    connected.drop = ["redeem"]
    page = buy(browser, sign_in(api))
    first, second = connected.bodies("redeem")
    assert first == second  # the same body, the same order id
    assert connected.points["U0MARIA"] == Decimal("351.5")  # debited once
    assert "Order placed" in page.text


def test_no_answer_twice_leaves_the_order_unconfirmed(
    api: Api, connected: FakeCompany, browser: httpx.Client
) -> None:
    connected.drop = ["redeem", "redeem"]
    page = buy(browser, sign_in(api))
    assert len(connected.bodies("redeem")) == 2
    assert "The order is unconfirmed" in page.text and "did not answer" in page.text
    assert connected_orders(browser, page) == ["No answer"]


def test_refunds_in_part_and_in_full_go_to_the_company(
    api: Api, connected: FakeCompany, browser: httpx.Client
) -> None:
    store = sign_in(api)
    placed = buy(browser, store)
    assert "Xoxoday admin: refund" in placed.text and 'value="348.5"' in placed.text
    order_id = connected.bodies("redeem")[0]["order_id"]
    refund_url = f"{store}/orders/{order_id}/refund"
    page = browser.post(refund_url, data={"amount": "100", "comments": "broken card"})
    assert "Refunded 100 points. The company said: Successfully updated" in page.text
    assert connected.bodies("refund") == [
        {
            "unique_id": "U0MARIA",
            "auth_token": AUTH,
            "order_id": order_id,
            "transactionid": order_id,
            "redemption_amount": "100",
            "comments": "broken card",
        }
    ]
    too_much = browser.post(refund_url, data={"amount": "248.51", "comments": ""})
    assert too_much.status_code == 400 and "At most 248.5 points" in too_much.text
    assert browser.post(refund_url, data={"amount": "ten"}).status_code == 400
    assert browser.post(refund_url, data={"amount": "0.001"}).status_code == 400
    assert len(connected.bodies("refund")) == 1  # none of those reached the company
    rest = browser.post(refund_url, data={"amount": "248.5", "comments": ""})
    assert "Refunded 248.5 points" in rest.text and "Xoxoday admin: refund" not in rest.text
    assert connected.points["U0MARIA"] == Decimal("700")
    assert connected.refunded[order_id] == Decimal("348.5")


def test_markup_in_a_name_or_a_refusal_is_shown_as_text(
    api: Api, connected: FakeCompany, browser: httpx.Client
) -> None:
    evil = '<script>alert("x")</script>'
    connected.profiles["U0MARIA"] = {"first_name": evil, "last_name": 'O"Brien & <b>Co</b>'}
    page = browser.get(sign_in(api))
    assert evil not in page.text and "<b>Co</b>" not in page.text
    assert escape(f'Hello, {evil} O"Brien & <b>Co</b>') in page.text
    connected.points["U0MARIA"] = Decimal("1")
    original = connected.answer

    def refuse_with_markup(endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if endpoint == "redeem":
            return 200, {"status": "0", "message": "<img src=x onerror=alert(1)> too poor"}
        return original(endpoint, body)

    connected.answer = refuse_with_markup  # type: ignore[method-assign]
    refused = buy(browser, page.url.path)
    assert (
        "<img" not in refused.text and "&lt;img src=x onerror=alert(1)&gt; too poor" in refused.text
    )


def test_a_store_without_a_point_system_says_so(
    api: Api, browser: httpx.Client, server: SandboxServer
) -> None:
    store = sign_in(api)
    page = browser.get(store)
    assert page.status_code == 503
    assert "No company point system is connected" in page.text
    assert buy(browser, store).status_code == 503


def test_unknown_expired_and_foreign_links(
    api: Api, connected: FakeCompany, browser: httpx.Client, clock: FakeClock
) -> None:
    assert browser.get("/chef/v1/oauth/redirect/stores/no-such-token").status_code == 404
    connected.person("U0BOB", auth_token="bob-token", points="50", first="Bob", last="B")
    maria = sign_in(api)
    bob = sign_in(api, email="bob@acme.test", uid="U0BOB", auth="bob-token")
    buy(browser, maria, "10015-100")
    order_id = connected.bodies("redeem")[0]["order_id"]
    assert browser.get(f"{bob}/orders/{order_id}").status_code == 404
    assert order_id not in browser.get(f"{bob}/orders").text
    assert browser.post(f"{bob}/orders/{order_id}/refund", data={"amount": "1"}).status_code == 404
    clock.advance(days=14, seconds=1)
    assert browser.get(maria).status_code == 410


def test_a_bad_api_key_stops_at_the_profile(
    api: Api, server: SandboxServer, company: FakeCompany, browser: httpx.Client
) -> None:
    server.connect_storefront(company.base_url, "wrong-key")
    page = browser.get(sign_in(api))
    assert page.status_code == 502 and "Unknown api_key." in page.text
    assert [name for name, _ in company.calls] == ["profile"]


def test_admin_connects_shows_and_disconnects(
    server: SandboxServer, company: FakeCompany, api: Api
) -> None:
    admin = f"{server.root_url}/_sandbox/storefront"
    assert httpx.get(admin).json()["connected"] is False
    set_to = {"base_url": company.base_url + "/", "api_key": API_KEY, "timeout": 3}
    shown = httpx.post(admin, json=set_to).json()
    assert shown["connected"] and shown["base_url"] == company.base_url
    assert shown["endpoints"]["redeem"] == company.base_url + "/redeem"
    assert API_KEY not in httpx.get(admin).text
    sign_in(api)
    sign_ins = httpx.get(admin).json()["sign_ins"]
    assert [s["unique_id"] for s in sign_ins] == ["U0MARIA"] and AUTH not in httpx.get(admin).text
    assert httpx.post(admin, json={"base_url": "ftp://x", "api_key": "k"}).status_code == 400
    assert httpx.post(admin, json={"base_url": None}).json()["connected"] is False


def test_reset_clears_store_orders_but_keeps_sign_ins(
    api: Api, server: SandboxServer, connected: FakeCompany, browser: httpx.Client
) -> None:
    store = sign_in(api)
    buy(browser, store)
    assert len(server.state.store.orders()) == 1
    httpx.post(f"{server.root_url}/_sandbox/reset", json={}).raise_for_status()
    assert server.state.store.orders() == []
    assert browser.get(store).status_code == 200
    assert server.context.storefront.connection is not None


def test_the_access_log_never_shows_a_sign_in_link(tmp_path: Path) -> None:
    """`rewardbot sandbox` logs each request (log level info): the ssoToken in a store path is
    hidden there."""
    import logging

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    with SandboxServer(state_path=tmp_path / "s.json", log_level="info", rate_limits=False) as srv:
        keep = Keep()
        logging.getLogger("uvicorn.access").addHandler(keep)
        try:
            path = "/chef/v1/oauth/redirect/stores/sso-secret-token-123"
            httpx.get(srv.root_url + path, timeout=5)
            httpx.get(srv.root_url + path + "/orders", timeout=5)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and len(seen) < 2:
                time.sleep(0.05)
        finally:
            logging.getLogger("uvicorn.access").removeHandler(keep)
    assert len(seen) >= 2 and all("/stores/[hidden]" in line for line in seen), seen
    assert not any("sso-secret-token-123" in line for line in seen)
