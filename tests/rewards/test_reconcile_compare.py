"""`bot.rewards.reconcile.compare`: how Xoxoday's payment rows are matched to the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bot.plum import PaymentRecord
from bot.rewards.reconcile import compare
from storage.reconcile import OrderSpend, PointsSpend

DAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 10, tzinfo=UTC)


def row(
    ref: str | None, amount: int, *, reason: str = "", status: str = "Complete"
) -> PaymentRecord:
    return PaymentRecord(
        invoice_number=None,
        reference_id=ref,
        date=DAY.isoformat(),
        reason=reason,
        adjusted_amount=Decimal(amount),
        transaction_status=status,
        closing_balance=None,
    )


def spend(po: str, plum_id: str | None, value: int, *, status: str = "placed") -> OrderSpend:
    return OrderSpend(
        po_number=po,
        plum_order_id=plum_id,
        kind="gift",
        status=status,
        delivery_status=None,
        product_name="Card",
        quantity=1,
        order_value=Decimal(value),
        currency_code="INR",
        face_value=Decimal(value),
        charged=None,
        giver_slack_id="U1",
        giver_name="ada",
        recipient_slack_id="U2",
        recipient_name="maria",
        created_at=AT,
        updated_at=AT,
    )


def points(short: str, n: int, uid: str | None) -> PointsSpend:
    return PointsSpend(
        reward_short_id=short,
        recipient_slack_id="U2",
        giver_slack_id="U1",
        points=n,
        plum_unique_id=uid,
        outcome="sent",
        sent_at=AT,
    )


def test_references_reasons_and_amounts_match() -> None:
    result = compare(
        day=DAY,
        orders=[spend("PO-1", "900", 500), spend("PO-2", "901", 300), spend("PO-3", None, 100)],
        points=[points("R1", 50, "77"), points("R2", 20, None)],
        payments=[
            row("900", -500),
            row(None, -300, reason="Order 901 (1 x Card)"),  # no reference: the reason names it
            row("PO-3", -100),  # by poNumber
            row("77", -50),
            row("Q", -20),  # a recipient without an id: matched by amount
            row("FUND-1", 100000),  # credits are not spending
            row("X", -999, status="Cancelled"),  # a cancelled debit is not spending
        ],
        known_elsewhere={},
        points_at_xoxoday=True,
    )
    assert result.matches, result
    assert (result.ledger_total, result.plum_total) == (Decimal(970), Decimal(970))


def test_an_order_in_doubt_without_a_charge_is_no_difference_but_a_failed_one_charged_is() -> None:
    result = compare(
        day=DAY,
        orders=[spend("PO-1", None, 500, status="unknown")],
        points=[],
        payments=[row("905", -250)],
        known_elsewhere={"905": "order PO-9 is failed"},
        points_at_xoxoday=True,
    )
    (unknown,) = result.unknown
    assert unknown.ledger_says == "order PO-9 is failed"
    assert not result.orders


def test_a_debit_for_another_days_item_is_not_reported() -> None:
    result = compare(
        day=DAY,
        orders=[],
        points=[],
        payments=[row("906", -250)],
        known_elsewhere={"906": None},
        points_at_xoxoday=True,
    )
    assert result.matches


def test_with_points_in_the_bot_rewards_are_not_expected() -> None:
    result = compare(
        day=DAY,
        orders=[],
        points=[points("R1", 50, "77")],
        payments=[],
        known_elsewhere={},
        points_at_xoxoday=False,
    )
    assert result.matches and result.recipients_checked == 0
