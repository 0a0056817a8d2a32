"""Failures against the sandbox: every error mapping, retries, and writes that must not repeat."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from bot.plum import (
    DuplicatePoNumberError,
    InvalidClientError,
    InvalidTokenError,
    IPNotAllowedError,
    OutOfStockError,
    PlumOutcomeUnknownError,
    Recipient,
    ServerError,
    ValidationError,
)
from bot.simulators.plum_sandbox.server import QuietDroppedAnswers
from tests.plum.conftest import api_ops
from tests.plum.test_errors import ERROR_TABLE

ANN = Recipient(email="ann@example.com", points=100, name="Ann")
BOB = Recipient(email="bob@example.com", points=40, name="Bob")


def send(client, *recipients):
    return client.send_balance(
        sender_email="boss@example.com", expiry_month=12, recipients=list(recipients) or [ANN]
    )


class FailFirstConnect(httpx.BaseTransport):
    """A real transport whose first `n` API requests fail to connect (nothing was sent)."""

    def __init__(self, n: int = 1) -> None:
        self.inner = httpx.HTTPTransport()
        self.n = n

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.n and "/oauth/api" in request.url.path:
            self.n -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize(("error_id", "status", "cls"), ERROR_TABLE)
@pytest.mark.parametrize("code_style", ["string", "number"])
def test_every_documented_error_id_through_the_sandbox(
    srv, client, error_id, status, cls, code_style
):
    srv.faults.set_variant("error_code", code_style)
    srv.faults.set("getOrderDetails", error=error_id)
    with pytest.raises(cls) as info:
        client.get_order_details(order_id=1)
    assert type(info.value) is cls
    assert info.value.error_id == error_id and info.value.status == status
    assert info.value.message == cls.hint


def test_wrong_client_secret_is_an_oauth_invalid_client(make_client):
    with pytest.raises(InvalidClientError) as info:
        make_client(client_secret="wrong").get_balance()
    assert info.value.status == 400  # as the seed spec answers POST /v1/oauth/token
    assert "PLUM_CLIENT_ID and PLUM_CLIENT_SECRET" in str(info.value)


def test_ip_not_allow_listed(srv, client):
    srv.faults.set("getBalance", error="PIPE10017")
    with pytest.raises(IPNotAllowedError) as info:
        client.get_balance()
    assert str(info.value).startswith(
        "Xoxoday does not accept requests from this server's IP address. "
        "Ask Xoxoday to allow-list it."
    )
    assert api_ops(srv) == ["getBalance"]  # a definite answer: not retried


@pytest.mark.parametrize("retry_after", ["header", "none"])
def test_server_rate_limit_penalty_is_waited_out(srv, client, fake_time, retry_after):
    srv.faults.set_variant("retry_after", retry_after)
    srv.rate_limits = True
    for _ in range(10):
        client.get_balance()
    balance = client.get_balance()  # the 11th: 429 with penaltySeconds 60, then served
    assert balance.value == srv.state.account_balance
    assert fake_time.slept == [60]
    assert [r["status"] for r in srv.requests if r["operation"] == "getBalance"][-2:] == [429, 200]


def test_client_side_limit_keeps_under_the_servers(srv, make_client, fake_time):
    srv.rate_limits = True
    client = make_client(rate_limit=True)
    for _ in range(12):
        client.get_balance()
    statuses = {r["status"] for r in srv.requests if r["operation"] == "getBalance"}
    assert statuses == {200}
    assert fake_time.slept == [60]  # the 11th waited for the window; the 12th did not


def test_reads_retry_5xx(srv, client, fake_time):
    srv.faults.set("getBalance", error="500", count=2)
    client.get_balance()
    assert api_ops(srv) == ["getBalance"] * 3
    assert len(fake_time.slept) == 2


def test_reads_give_up_after_max_retries(srv, make_client):
    srv.faults.set("getBalance", error="503")
    with pytest.raises(ServerError):
        make_client(max_retries=1).get_balance()
    assert api_ops(srv) == ["getBalance"] * 2


def test_read_hang_times_out_and_is_retried(srv, make_client):
    srv.faults.set("getBalance", hang=True, count=1)
    assert make_client(timeout=0.3).get_balance().value == srv.state.account_balance
    assert api_ops(srv) == ["getBalance"] * 2


def test_send_balance_dropped_after_apply_is_not_repeated(srv, client):
    srv.faults.set("sendBalance", drop_after_apply=True, count=1)
    with pytest.raises(PlumOutcomeUnknownError) as info:
        send(client, ANN, BOB)
    assert api_ops(srv) == ["sendBalance"]
    assert srv.state.points_of("ann@example.com") == 100  # applied exactly once
    assert len(srv.state.transactions()) == 2
    assert info.value.operation == "sendBalance"
    assert info.value.sent["recipients"] == [
        {"email": "ann@example.com", "points": 100},
        {"email": "bob@example.com", "points": 40},
    ]
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)


def test_send_balance_read_timeout_is_outcome_unknown(srv, make_client):
    srv.faults.set("sendBalance", hang=True, apply_first=True, count=1)
    with pytest.raises(PlumOutcomeUnknownError) as info:
        send(make_client(timeout=0.3))
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert api_ops(srv) == ["sendBalance"]
    assert srv.state.points_of("ann@example.com") == 100


def test_send_balance_5xx_is_outcome_unknown(srv, client):
    srv.faults.set("sendBalance", error="500", count=1)
    with pytest.raises(PlumOutcomeUnknownError):
        send(client)
    assert api_ops(srv) == ["sendBalance"]


@pytest.mark.parametrize("status", ["500", "502", "503", "504"])
def test_a_5xx_that_proves_nothing_says_so(srv, client, status):
    srv.faults.set("sendBalance", error=status, count=1)
    with pytest.raises(PlumOutcomeUnknownError) as info:
        send(client)
    assert info.value.cause == "server_error" and info.value.status == int(status)
    assert api_ops(srv) == ["sendBalance"]


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ({"drop_after_apply": True}, "connection_lost"),
        ({"hang": True, "apply_first": True}, "timeout"),
    ],
)
def test_an_unknown_outcome_says_which_kind_it_was(srv, make_client, fault, cause):
    srv.faults.set("sendBalance", count=1, **fault)
    with pytest.raises(PlumOutcomeUnknownError) as info:
        send(make_client(timeout=0.3))
    assert info.value.cause == cause


def test_send_balance_refused_before_processing_is_the_server_error(srv, client):
    """PLE10023 (502, balance lookup failed): Xoxoday stopped before paying anything
    (`bot.plum.retry.NOT_APPLIED_5XX`), so the caller may send it again later."""
    srv.faults.set("sendBalance", error="PLE10023", count=1)
    with pytest.raises(ServerError) as info:
        send(client)
    assert not isinstance(info.value, PlumOutcomeUnknownError)
    assert info.value.error_id == "PLE10023" and info.value.status == 502
    assert api_ops(srv) == ["sendBalance"]  # not repeated by the client either
    assert srv.state.transactions() == []


def test_send_balance_repeated_when_the_connection_was_never_made(srv, make_client):
    client = make_client(http_client=httpx.Client(transport=FailFirstConnect()))
    result = send(client, ANN)
    assert result.ids_known
    assert api_ops(srv) == ["sendBalance"]  # the refused attempt never reached the sandbox
    assert len(srv.state.transactions()) == 1


def test_send_balance_definite_rejection_is_the_mapped_error(srv, client):
    huge = Recipient(email="ann@example.com", points=10**9)
    with pytest.raises(ValidationError) as info:
        send(client, huge)
    assert not isinstance(info.value, PlumOutcomeUnknownError)
    assert "balance" in str(info.value).lower()
    assert srv.state.transactions() == []


def test_cancel_generate_and_send_links_are_never_repeated(srv, client, fake_time):
    sent = send(client, ANN)
    srv.faults.set("cancelBalance", drop_after_apply=True, count=1)
    with pytest.raises(PlumOutcomeUnknownError) as info:
        client.cancel_balance(unique_ids=list(sent.unique_ids))
    assert info.value.sent == {"unique_ids": list(sent.unique_ids)}
    expiry = fake_time.now().date().replace(year=fake_time.now().year + 1)
    srv.faults.set("generateLink", error="502", count=1)
    with pytest.raises(PlumOutcomeUnknownError):
        client.generate_link(campaign_id=7890, quantity=2, expiry=expiry)
    srv.faults.set("generateLinkEmail", drop_after_apply=True, count=1)
    with pytest.raises(PlumOutcomeUnknownError) as info:
        client.send_links(campaign_id=7890, emails=["ann@example.com"], expiry=expiry)
    assert info.value.sent["emails"] == ["ann@example.com"]
    assert api_ops(srv) == ["sendBalance", "cancelBalance", "generateLink", "generateLinkEmail"]


def _product(client):
    return next(v for v in client.get_vouchers(limit=20) if v.denominations)


def _order(client, po):
    p = _product(client)
    return client.place_order(
        product_id=p.product_id, quantity=1, denomination=p.denominations[0], po_number=po
    )


@pytest.mark.parametrize(
    "fault",
    [{"drop_after_apply": True}, {"hang": True, "apply_first": True}],
    ids=["dropped", "timed-out"],
)
def test_place_order_ambiguous_and_applied_is_found_not_duplicated(srv, make_client, fault):
    client = make_client(timeout=0.3, order_timeout=0.3)
    srv.faults.set("placeOrder", count=1, **fault)
    placed = _order(client, "PO-AMB")
    assert placed.recovered and placed.order.po_number == "PO-AMB"
    assert len(srv.state.orders()) == 1
    assert placed.order.order_id == srv.state.orders()[0].order_id
    assert [op for op in api_ops(srv) if op != "getVouchers"] == ["placeOrder", "getOrderDetails"]


@pytest.mark.parametrize("error", ["502", "PLE10012"])
def test_place_order_failed_before_applying_is_placed_again(srv, client, error):
    srv.faults.set("placeOrder", error=error, count=1)
    placed = _order(client, "PO-RETRY")
    assert not placed.recovered
    assert len(srv.state.orders()) == 1
    assert [op for op in api_ops(srv) if op != "getVouchers"] == [
        "placeOrder",
        "getOrderDetails",
        "placeOrder",
    ]


def test_place_order_refused_before_processing_is_not_looked_up(srv, client):
    srv.faults.set("placeOrder", error="PLE10023", count=1)
    with pytest.raises(ServerError) as info:
        _order(client, "PO-NOBAL")
    assert info.value.error_id == "PLE10023"
    assert [op for op in api_ops(srv) if op != "getVouchers"] == ["placeOrder"]
    assert srv.state.orders() == []


def test_place_order_definite_rejection_is_not_looked_up(srv, client):
    srv.faults.set("placeOrder", error="PLE10024")
    with pytest.raises(OutOfStockError):
        _order(client, "PO-OOS")
    assert [op for op in api_ops(srv) if op != "getVouchers"] == ["placeOrder"]


def test_reused_po_number_is_the_callers_problem(srv, client):
    _order(client, "PO-SAME")
    with pytest.raises(DuplicatePoNumberError):
        _order(client, "PO-SAME")
    assert len(srv.state.orders()) == 1


@pytest.mark.parametrize("body", ["oauth", "success0"])
def test_rejected_token_is_refreshed_once_and_the_write_repeated(srv, client, body):
    srv.faults.set_variant("invalid_token", body)
    send(client, ANN)
    srv.faults.set("sendBalance", error="invalid_token", count=1)
    send(client, BOB)
    assert srv.state.points_of("bob@example.com") == 40
    assert srv.token_requests >= 2


def test_token_rejected_twice_gives_up(srv, client):
    srv.faults.set("getBalance", error="invalid_token")
    with pytest.raises(InvalidTokenError):
        client.get_balance()
    assert api_ops(srv) == ["getBalance"] * 2


def test_token_endpoint_failure_before_a_write_is_not_outcome_unknown(srv, client):
    srv.faults.set("token", error="500")
    with pytest.raises(ServerError) as info:
        send(client)
    assert not isinstance(info.value, PlumOutcomeUnknownError)
    assert api_ops(srv) == []  # sendBalance never left
    assert srv.state.transactions() == []


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_lost_answer_leaves_the_console_quiet(srv, client):
    """The fault cuts the answer short on purpose: uvicorn's "ASGI callable returned without
    completing response" is not printed for it; the sandbox's own line says what it did."""
    uvicorn_errors, sandbox = _Kept(), _Kept()
    logging.getLogger("uvicorn.error").addHandler(uvicorn_errors)
    sandbox_log = logging.getLogger("bot.simulators.plum_sandbox.app")
    sandbox_log.addHandler(sandbox)
    level = sandbox_log.level
    sandbox_log.setLevel(logging.INFO)
    try:
        srv.faults.set("sendBalance", drop_after_apply=True, count=1)
        with pytest.raises(PlumOutcomeUnknownError):
            send(client, ANN, BOB)
        time.sleep(0.2)  # uvicorn reports a short answer as it closes the connection
    finally:
        logging.getLogger("uvicorn.error").removeHandler(uvicorn_errors)
        sandbox_log.removeHandler(sandbox)
        sandbox_log.setLevel(level)
    assert not [m for m in uvicorn_errors.messages if "without completing" in m]
    assert "sandbox fault: dropping the connection after applying sendBalance" in sandbox.messages


def test_only_a_sandbox_thread_short_answer_is_left_out() -> None:
    """The bot's own server cutting an answer short is a real error: it stays."""
    quiet = QuietDroppedAnswers()
    quiet.threads.add(threading.get_ident() + 1)  # some other thread serves a sandbox
    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, QuietDroppedAnswers.MESSAGE, None, None
    )
    assert quiet.filter(record)
    quiet.threads.add(threading.get_ident())
    assert not quiet.filter(record)
