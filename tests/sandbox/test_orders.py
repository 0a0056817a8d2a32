"""placeOrder, getOrderDetails, getOrderHistory, paymentHistory and the balance they draw."""

from __future__ import annotations

import re
from decimal import Decimal

from bot.simulators.plum_sandbox import SandboxServer
from tests.sandbox.conftest import Api, FakeClock


def test_place_order_delivers_demo_vouchers_in_both_spellings(
    api: Api, server: SandboxServer
) -> None:
    r = api.order("PO-1", product=10003, denomination="500", quantity=2)
    assert r.status_code == 200, r.text
    order = r.json()["data"]["placeOrder"]["data"]
    assert r.json()["data"]["placeOrder"]["status"] == 1
    assert order["quantity"] == 2 and order["orderStatus"] == "complete"
    assert len(order["vouchers"]) == 2
    v = order["vouchers"][0]
    assert re.fullmatch(r"DEMO-\d{13}-[a-z0-9]{6}", v["code"])
    assert v["voucherCode"] == v["code"] and v["pin"] == "DEMO-PIN"
    assert v["validFrom"] and v["validTo"] == v["validity"]
    assert (v["amount"], v["currency"], v["country"], v["type"]) == (500, "INR", "IN", "codePin")
    # Flipkart has a 2.5 % discount: 1000 - 25 charged in INR
    assert order["orderDiscount"] == 25 and order["discountPercent"] == 2.5
    assert order["amountCharged"] == 975
    assert server.state.account_balance == Decimal(100000 - 975)


def test_foreign_currency_orders_are_converted_at_fixed_rates(
    api: Api, server: SandboxServer
) -> None:
    order = api.order("PO-GBP", product=10005, denomination=10).json()["data"]["placeOrder"]
    assert order["data"]["amountCharged"] == 1050  # 10 GBP * 105
    assert server.state.account_balance == Decimal(100000 - 1050)


def test_duplicate_po_number_is_rejected_and_not_charged(api: Api, server: SandboxServer) -> None:
    assert api.order("PO-DUP").status_code == 200
    balance = server.state.account_balance
    again = api.order("PO-DUP")
    assert again.status_code == 422
    assert again.json()["errorId"] == "PLE10004"
    assert server.state.account_balance == balance
    assert len(server.state.orders()) == 1


def test_place_order_errors(api: Api, server: SandboxServer) -> None:
    cases = [
        (api.order("A", quantity=11), 409, "PLE10041"),
        (api.order("B", denomination=30), 400, "PLE10018"),
        (api.order("C", product=10002, denomination=5000), 400, "PLE10018"),
        (api.order("D", product=10010, denomination=25), 502, "PLE10024"),
        (api.order("E", product=10019, denomination=50), 404, "PLE10042"),
        (api.order("F", product=99999), 400, "PLE10001"),
        (api.order("", denomination=25), 422, "PLE10004"),
        (api.order("G", email="not-an-email"), 400, "PLE10001"),
    ]
    for response, status, error_id in cases:
        assert (response.status_code, response.json()["errorId"]) == (status, error_id)
        assert response.json()["errorInfo"]
    assert server.state.account_balance == Decimal(100000)


def test_order_beyond_the_balance_is_refused(api: Api, server: SandboxServer) -> None:
    server.state.set_balance(Decimal(100))
    r = api.order("PO-BIG", product=10002, denomination=100)
    assert r.status_code == 422
    assert r.json()["errorId"] == "PLE10007"
    assert "Insufficient balance" in r.json()["errorInfo"]
    assert server.state.account_balance == Decimal(100)


def test_order_details_by_order_id_and_by_po_number(api: Api) -> None:
    placed = api.order("PO-LOOK").json()["data"]["placeOrder"]["data"]
    by_id = api.data("getOrderDetails", {"orderId": placed["orderId"]})
    by_po = api.data("getOrderDetails", {"poNumber": "PO-LOOK"})
    assert by_id.status_code == by_po.status_code == 200
    details = by_id.json()["data"]["getOrderDetails"]["data"]
    assert details == by_po.json()["data"]["getOrderDetails"]["data"]
    assert details["vouchers"][0]["code"] == placed["vouchers"][0]["code"]
    missing = api.data("getOrderDetails", {"poNumber": "never-sent"})
    assert (missing.status_code, missing.json()["errorId"]) == (404, "PLE10016")
    neither = api.data("getOrderDetails", {})
    assert (neither.status_code, neither.json()["errorId"]) == (400, "PLE10002")


def test_order_details_strings_variant(api: Api, server: SandboxServer) -> None:
    api.order("PO-S", product=10003, denomination=100)
    server.faults.set_variant("orderDetails", "strings")
    details = api.data("getOrderDetails", {"poNumber": "PO-S"}).json()
    data = details["data"]["getOrderDetails"]["data"]
    assert data["orderDiscount"] == "2.50" and data["discountPercent"] == "2.5"


def test_order_history_by_date_with_paging(api: Api, clock: FakeClock) -> None:
    api.order("H-1", tag="march")
    clock.advance(days=1)
    api.order("H-2", tag="march")
    api.order("H-3", tag="other")
    day = clock.now.date().isoformat()
    r = api.data("getOrderHistory", {"startDate": day, "endDate": day, "limit": 1, "page": 1})
    rows = r.json()["data"]["getOrderHistory"]["data"]
    assert [row["poNumber"] for row in rows] == ["H-3"]
    assert "vouchers" not in rows[0]
    page2 = api.data("getOrderHistory", {"startDate": day, "endDate": day, "limit": 1, "page": 2})
    assert [row["poNumber"] for row in page2.json()["data"]["getOrderHistory"]["data"]] == ["H-2"]
    tagged = api.data("getOrderHistory", {"tag": "march", "limit": 10})
    assert len(tagged.json()["data"]["getOrderHistory"]["data"]) == 2
    none = api.data("getOrderHistory", {"startDate": "2020-01-01", "endDate": "2020-01-31"})
    assert (none.status_code, none.json()["errorId"]) == (404, "PLE10022")
    bad = api.data("getOrderHistory", {"startDate": "01/02/2025"})
    assert (bad.status_code, bad.json()["errorId"]) == (400, "PLE10032")


def test_payment_history_lists_the_ledger(api: Api, server: SandboxServer) -> None:
    api.order("P-1", product=10004, denomination=10)  # 830 INR
    api.send_points(("a@example.com", 200))
    body = api.data("paymentHistory", {"limit": 10, "page": 1}).json()
    rows = body["data"]["paymentHistory"]["data"]
    assert [r["adjusted_amount"] for r in rows] == [-200, -830, 100000]
    assert rows[0]["closing_balance"] == 100000 - 830 - 200
    assert {r["transaction_status"] for r in rows} == {"Complete"}
    assert rows[-1]["reason"].startswith("Funds added")


def test_payment_history_guide_variant_and_top_level_data(api: Api, server: SandboxServer) -> None:
    server.faults.set_variant("paymentHistory", "guide")
    r = api.post(
        "/v1/oauth/api",
        {
            "query": "plumProAPI.mutation.paymentHistory",
            "tag": "plumProAPI",
            "data": {"limit": 5, "page": 1},
        },
    )
    assert r.status_code == 200
    assert r.json()["data"]["getPaymentReport"]["data"][0]["adjusted_amount"] == 100000


def test_payment_history_names_what_each_debit_paid_for(api: Api, server: SandboxServer) -> None:
    """sendBalance rows carry the recipient's unique_id, placeOrder rows the order id (what the
    bot's reconciliation matches on); add_payment makes a debit no API call made."""
    order = api.order("P-REF", product=10003, denomination="500").json()["data"]["placeOrder"]
    api.send_points(("a@example.com", 70))
    (tx,) = server.state.transactions("a@example.com")
    server.state.add_payment(amount=Decimal(42), reference_id="DASH-1", reason="=SUM(A1)")
    rows = api.data("paymentHistory", {"limit": 10}).json()["data"]["paymentHistory"]["data"]
    by_ref = {r["reference_id"]: r for r in rows}
    charged = order["data"]["amountCharged"]
    assert by_ref[str(order["data"]["orderId"])]["adjusted_amount"] == -charged
    assert by_ref[str(tx.unique_id)]["adjusted_amount"] == -70
    assert by_ref["DASH-1"]["adjusted_amount"] == -42 and by_ref["DASH-1"]["reason"] == "=SUM(A1)"
    assert rows[0]["closing_balance"] == 100000 - charged - 70 - 42
