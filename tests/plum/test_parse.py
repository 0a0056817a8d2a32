"""Readers accept every documented answer variant and Xoxoday's loose types."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.plum import parse
from bot.plum.errors import PlumResponseError
from bot.plum.models import IssuedVoucher, PlacedOrder, Recipient, RewardLinks

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, Decimal(12)),
        ("12.50", Decimal("12.50")),
        (0.1, Decimal("0.1")),
        (None, None),
        ("", None),
        ("n/a", None),
        (True, None),
        ("1,000", Decimal(1000)),
    ],
)
def test_decimal_from_loose_values(value, expected):
    assert parse.dec(value) == expected


def test_vouchers_with_strings_and_nulls():
    body = {
        "data": {
            "getVouchers": {
                "status": 1,
                "data": [
                    {
                        "productId": "42",
                        "name": "Amazon",
                        "valueType": "fixed_denomination",
                        "minValue": "10",
                        "maxValue": None,
                        "valueDenominations": "20,30,500",
                        "fee": "0",
                        "discount": 2.5,
                        "currencyCode": "USD",
                        "orderQuantityLimit": None,
                        "tatInDays": "0",
                    }
                ],
            }
        }
    }
    [v] = parse.vouchers(body)
    assert v.product_id == 42
    assert v.denominations == (Decimal(20), Decimal(30), Decimal(500))
    assert v.min_value == Decimal(10) and v.max_value is None
    assert v.discount == Decimal("2.5") and v.order_quantity_limit is None and v.tat_in_days == 0


def test_balance_is_decimal_and_points_optional():
    body = {"data": {"getBalance": {"status": 1, "data": {"value": "1234.56", "currency": "INR"}}}}
    assert parse.balance(body).value == Decimal("1234.56")
    body["data"]["getBalance"]["data"]["points"] = "99"
    assert parse.balance(body).points == 99


def test_balance_without_value_is_unreadable():
    with pytest.raises(PlumResponseError):
        parse.balance({"data": {"getBalance": {"status": 1, "data": {}}}})


def test_token_expiry_variants():
    seconds = parse.expiry({"expires_in": 3600}, now=NOW)
    as_string = parse.expiry({"expires_in": "3600"}, now=NOW)
    epoch_ms = parse.expiry({"expires_in": "3600", "access_token_expiry": "1735693200000"}, now=NOW)
    assert seconds == as_string == epoch_ms == datetime(2025, 1, 1, 1, tzinfo=UTC)


RECIPIENTS = [
    Recipient(email="a@example.com", points=100, name="A"),
    Recipient(email="b@example.com", points=50, name="B"),
]


def test_send_balance_spec_wrapper():
    body = {
        "data": {
            "sendBalance": {
                "error": False,
                "message": "ok",
                "recipients": [
                    {"unique_id": 1, "points": 100, "name": "A"},
                    {"unique_id": 2, "points": 50, "name": "B"},
                ],
            }
        }
    }
    result, failure = parse.send_balance(body, RECIPIENTS)
    assert failure is None and result.ids_known
    assert [(r.email, r.unique_id) for r in result.recipients] == [
        ("a@example.com", 1),
        ("b@example.com", 2),
    ]


def test_send_balance_matches_by_email_when_given():
    body = {
        "data": {
            "sendBalance": {
                "error": False,
                "recipients": [
                    {"unique_id": 2, "email": "B@example.com"},
                    {"unique_id": 1, "email": "a@example.com"},
                ],
            }
        }
    }
    result, _ = parse.send_balance(body, RECIPIENTS)
    assert result.unique_ids == (1, 2)


def test_send_balance_flat_single():
    body = {"data": {"unique_id": 987654321, "email": "a@example.com", "points": 100}}
    result, _ = parse.send_balance(body, RECIPIENTS[:1])
    assert result.ids_known and result.unique_ids == (987654321,)


def test_send_balance_flat_with_several_recipients_leaves_ids_unknown():
    body = {"data": {"unique_id": 7, "email": "a@example.com", "points": 100}}
    result, _ = parse.send_balance(body, RECIPIENTS)
    assert not result.ids_known
    assert result.unique_ids == (7,)


def test_send_balance_quickstart_has_no_ids():
    body = {"data": {"sendBalance": {"error": False, "message": "Points sent"}}}
    result, failure = parse.send_balance(body, RECIPIENTS)
    assert failure is None and not result.ids_known
    assert [r.points for r in result.recipients] == [100, 50]


def test_send_balance_error_flag():
    _, failure = parse.send_balance(
        {"data": {"sendBalance": {"error": True, "message": "no"}}}, RECIPIENTS
    )
    assert failure == "no"


def test_payment_history_both_keys():
    row = {
        "invoice_number": "I1",
        "adjusted_amount": "-100",
        "closing_balance": 900,
        "transaction_status": "Complete",
    }
    for key in ("paymentHistory", "getPaymentReport"):
        [rec] = parse.payment_history({"data": {key: {"status": 1, "data": [row]}}})
        assert rec.adjusted_amount == Decimal(-100) and rec.closing_balance == Decimal(900)


def test_user_balance_found_and_not():
    found = parse.user_balance({"data": {"user_balance": {"success": 1, "data": {"total": "250"}}}})
    assert found.found and found.total == 250
    missing = parse.user_balance(
        {"data": {"user_balance": {"success": 0, "message": "User not found", "data": None}}}
    )
    assert not missing.found and missing.total is None


def test_secrets_never_in_reprs():
    voucher = IssuedVoucher(code="CODE-SECRET-1", pin="PIN-SECRET-2", type="codePin")
    links = RewardLinks(links=("https://x.invalid/LINK-SECRET-3",), batch_id="b")
    order = parse.order(
        {"orderId": 1, "vouchers": [{"voucherCode": "CODE-SECRET-1", "pin": "PIN-SECRET-2"}]}
    )
    placed = PlacedOrder(
        order=order,
        po_number="PO1",
        request={"x": "CODE-SECRET-1"},
        response={"y": "CODE-SECRET-1"},
    )
    text = " ".join(repr(x) + str(x) for x in (voucher, links, order, placed))
    for secret in ("CODE-SECRET-1", "PIN-SECRET-2", "LINK-SECRET-3"):
        assert secret not in text
    assert order.vouchers[0].code == "CODE-SECRET-1"  # still there for the caller
    assert "<1 hidden>" in repr(links)


def test_order_details_voucher_spellings():
    order = parse.order(
        {
            "orderId": "5",
            "orderDiscount": "1.5",
            "discountPercent": "2",
            "vouchers": [
                {"code": "c1", "validTo": "2026-01-01"},
                {"voucherCode": "c2", "validity": "2026-02-01", "amount": "20"},
            ],
        }
    )
    assert order.order_id == 5 and order.order_discount == Decimal("1.5")
    assert [v.code for v in order.vouchers] == ["c1", "c2"]
    assert order.vouchers[1].amount == Decimal(20)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"errors": [{"message": "Insufficient balance in the account"}]},
        {"data": {"sendBalance": "nope"}},
        {"data": {"sendBalance": {"status": 0, "message": "?"}}},
        {"code": 500, "error": "Internal error"},
        {"data": {"recipients": []}},
        {"data": {"unique_id": ""}},
    ],
    ids=["empty", "errors", "wrapper-string", "wrapper-unknown", "code", "no-rows", "no-id"],
)
def test_a_send_balance_answer_that_does_not_say_it_was_sent_is_not_understood(
    body: dict,
) -> None:
    sent = [Recipient(email="a@x.test", points=5, name="A", citation="c")]
    with pytest.raises(PlumResponseError):
        parse.send_balance(body, sent)


@pytest.mark.parametrize("body", [{"success": 0, "message": "no"}, {"error": True}])
def test_a_send_balance_answer_that_says_no_is_a_refusal(body: dict) -> None:
    sent = [Recipient(email="a@x.test", points=5, name="A", citation="c")]
    _, failure = parse.send_balance(body, sent)
    assert failure
