"""No token, client secret, voucher code, pin or reward link in any log line or error text,
at DEBUG, across successes and every kind of failure."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx

from bot.plum import PlumError, Recipient
from tests.plum.conftest import CLIENT_SECRET, dashboard_refresh_token
from tests.plum.memory_store import MemoryStore

SANDBOX_LOGGERS = (
    "bot.simulators.plum_sandbox",
    "uvicorn",
)  # the server's own logs are not the client's


def test_no_secret_reaches_logs_or_errors(srv, make_client, fake_time, caplog):
    caplog.set_level(logging.DEBUG)
    store = MemoryStore()
    dashboard = dashboard_refresh_token(srv)
    client = make_client(
        token_flow="company",
        refresh_token=dashboard,
        token_store=store,
        timeout=0.3,
        order_timeout=0.3,
    )
    texts: list[str] = []

    def attempt(call) -> None:
        try:
            call()
        except PlumError as err:
            texts.extend([str(err), repr(err), repr(err.__cause__)])

    today = fake_time.now().date()
    placed = client.place_order(product_id=1234, quantity=1, denomination=500, po_number="PO-S1")
    links = client.generate_link(campaign_id=7890, quantity=2, expiry=today + timedelta(days=9))
    texts += [repr(placed), str(placed), repr(links), str(links), repr(client), repr(store.tokens)]
    for fault in (
        {"error": "invalid_token", "count": 1},
        {"error": "PIPE10017"},
        {"error": "500"},
        {"drop_after_apply": True},
        {"hang": True},
        {"error": "rate_limit"},
    ):
        srv.faults.set("sendBalance", **fault)
        attempt(
            lambda: client.send_balance(
                sender_email="boss@example.com",
                expiry_month=1,
                recipients=[Recipient(email="a@example.com", points=1)],
            )
        )
        srv.faults.clear("sendBalance")
    srv.faults.set("placeOrder", drop_after_apply=True, count=1)
    attempt(
        lambda: client.place_order(product_id=1234, quantity=1, denomination=500, po_number="PO-S2")
    )
    store.fail_saves = 1
    fake_time.advance(40 * 86400)  # expired: the next call refreshes, and saving fails
    attempt(client.get_balance)
    attempt(make_client(client_secret=CLIENT_SECRET + "-wrong").get_balance)
    attempt(make_client(token_flow="company", refresh_token=dashboard).get_balance)  # used up
    attempt(
        make_client(
            http_client=httpx.Client(transport=httpx.HTTPTransport(retries=0)),
            base_url="http://127.0.0.1:9/chef",
        ).get_balance
    )  # nothing listens

    secrets = {CLIENT_SECRET, dashboard, srv.access_token, srv.refresh_token}
    for tokens in store.saved:
        secrets |= {tokens.access_token, tokens.refresh_token}
    secrets |= set(links.links)
    for order in [placed.order, *srv.state.orders()]:
        for v in getattr(order, "vouchers", ()):
            secrets |= {v.code, v.pin}
    secrets.discard(None)
    secrets.discard("")
    assert len(secrets) > 8
    logged = [r.getMessage() for r in caplog.records if not r.name.startswith(SANDBOX_LOGGERS)]
    assert any("sendBalance" in line for line in logged)  # DEBUG lines were captured
    haystack = "\n".join(logged + texts)
    leaked = sorted(s for s in secrets if s in haystack)
    assert leaked == [], f"{len(leaked)} secret(s) leaked"


def test_request_log_lines_name_the_operation_only(srv, client, caplog):
    caplog.set_level(logging.DEBUG)
    client.get_balance()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.plum.requester"]
    assert any(line.startswith("plum getBalance -> HTTP 200") for line in lines)
