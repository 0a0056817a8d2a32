"""What an approver and a sender read about a gift card or donation waiting for approval, and
the amount hint of the gift form."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.plum import Voucher
from bot.rewards.gifts import GiftCard, GiftCost, GiftForm
from bot.slack.blocks import gifts as gift_blocks
from bot.slack.ids import ActionId, BlockId
from storage.states import OrderStatus
from tests.slack.blocks.blockkit_rules import (
    assert_valid_message,
    assert_valid_view,
    blocks_of,
    elements,
    visible,
)

SENDER, MARIA, APPROVER = "UADMIN01", "UMARIA01", "UAPPR001"
COST = GiftCost(
    value=Decimal("1660.00"),
    currency="INR",
    threshold=Decimal(1500),
    spent_before=Decimal(300),
    cap=Decimal(5000),
)
GIFT = GiftCard(
    po_number="RB-0123456789AB",
    donation=False,
    product="Amazon.com Gift Card",
    amount=Decimal(20),
    currency="USD",
    giver_id=SENDER,
    recipient_id=MARIA,
    status=OrderStatus.PENDING_APPROVAL,
    note="for the launch",
    cost=COST,
)
DONATION = replace(GIFT, donation=True, product="GiveDirectly", recipient_id=None, note=None)


def fields(msg: dict) -> list[str]:
    return [f["text"] for b in blocks_of(msg, "section") for f in b.get("fields") or []]


def test_the_approver_sees_what_it_costs_who_sends_it_to_whom_and_the_month() -> None:
    msg = gift_blocks.approval_request(GIFT)
    assert_valid_message(msg)
    seen = visible(msg)
    assert blocks_of(msg, "header")[0]["text"]["text"] == "Gift card to approve"
    assert (
        "<@UADMIN01> wants to send a *20.00 USD* Amazon.com Gift Card for <@UMARIA01>. It needs "
        "approval: it costs 1,660.00 INR, and orders of 1,500.00 INR or more need one."
    ) in seen
    assert fields(msg) == [
        "*From*\n<@UADMIN01>",
        "*To*\n<@UMARIA01>",
        "*Costs the company*\n1,660.00 INR",
        "*Sender's spend this month*\n300.00 INR before this one; 1,960.00 INR of 5,000.00 INR "
        "with it",
    ]
    assert ">for the launch" in seen and "RB-0123456789AB" in seen


def test_approving_asks_for_confirmation_first_and_rejecting_does_not_spend() -> None:
    msg = gift_blocks.approval_request(GIFT)
    buttons = {b["action_id"]: b for b in elements(msg, "button")}
    assert set(buttons) == {ActionId.GIFT_APPROVE, ActionId.GIFT_REJECT}
    confirm = buttons[ActionId.GIFT_APPROVE]["confirm"]
    assert confirm["title"]["text"] == "Approve this gift card?"
    assert confirm["text"]["text"] == (
        "1,660.00 INR from the company account will be spent on a *20.00 USD* Amazon.com Gift "
        "Card for <@UMARIA01>. It's ordered right away."
    )
    assert confirm["confirm"]["text"] == "Approve"
    assert "confirm" not in buttons[ActionId.GIFT_REJECT]  # a reject asks for nothing to spend


@pytest.mark.parametrize(
    ("approved", "heading", "said"),
    [
        (True, "Gift card approved", "✅ *Approved* by <@UAPPR001>. It's being ordered now."),
        (False, "Gift card rejected", "🚫 *Rejected* by <@UAPPR001>. Nothing was ordered."),
    ],
)
def test_once_decided_the_approvers_copy_keeps_who_for_whom_and_how_much(
    approved: bool, heading: str, said: str
) -> None:
    msg = gift_blocks.approval_decided(GIFT, approver=APPROVER, approved=approved)
    assert_valid_message(msg)
    seen = visible(msg)
    assert blocks_of(msg, "header")[0]["text"]["text"] == heading
    assert said in seen
    assert "<@UADMIN01> asked to send a *20.00 USD* Amazon.com Gift Card for <@UMARIA01>." in seen
    assert "*From*\n<@UADMIN01>" in fields(msg) and "*To*\n<@UMARIA01>" in fields(msg)
    assert "*Costs the company*\n1,660.00 INR" in fields(msg)
    assert "*20.00 USD* Amazon.com Gift Card" in seen
    assert elements(msg, "button") == [] and blocks_of(msg, "actions") == []


def test_a_donation_in_the_teams_name_is_said_so() -> None:
    msg = gift_blocks.approval_request(DONATION)
    assert blocks_of(msg, "header")[0]["text"]["text"] == "Donation to approve"
    assert "*To*\nIn the team's name" in fields(msg)
    confirm = elements(msg, "button")[0]["confirm"]
    assert confirm["title"]["text"] == "Approve this donation?"


def test_the_sender_hears_the_threshold_and_the_value_in_the_same_currency() -> None:
    seen = visible(gift_blocks.sender_pending(GIFT))
    assert (
        "needs an approver's OK first: it costs 1,660.00 INR, and orders of 1,500.00 INR or "
        "more need one."
    ) in seen
    assert "worth the approval threshold or more" not in seen


def voucher(**values: object) -> Voucher:
    return Voucher(product_id=10002, name="Amazon.com Gift Card", currency_code="USD", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("product", "hint"),
    [
        (voucher(min_value=Decimal(1), max_value=Decimal(2000)), "Between 1 and 2,000 USD"),
        (voucher(min_value=Decimal("10.50")), "At least 10.50 USD"),
        (voucher(max_value=Decimal(500)), "Up to 500 USD"),
        (voucher(), "Any amount in USD"),
    ],
)
def test_the_amount_hint_says_the_range_in_words(product: Voucher, hint: str) -> None:
    view = gift_blocks.gift_modal(
        form=GiftForm(donation=False, recipient=None, company=True, points=None),
        recipient=None,
        product=product,
    )
    amount = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GIFT_AMOUNT)
    assert amount["element"]["placeholder"]["text"] == hint


def test_while_the_catalogue_loads_the_form_says_so_and_a_search_says_to_type_again() -> None:
    form = GiftForm(donation=False, recipient=None, company=True, points=None, loading=True)
    view = gift_blocks.gift_modal(form=form, recipient=MARIA, product=None)
    assert_valid_view(view)
    seen = visible(view)
    assert "I'm loading its catalogue" in seen and "this form updates itself" in seen
    product = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GIFT_PRODUCT)
    assert "still loading" in product["hint"]["text"]
    loaded = gift_blocks.gift_modal(
        form=replace(form, loading=False), recipient=MARIA, product=None
    )
    assert "loading" not in visible(loaded)
    [hint] = gift_blocks.suggestions(None)["options"]
    assert hint["text"]["text"] == "⏳ Still loading Xoxoday's catalogue: type again"
    assert not hint["value"].isdigit()  # never taken for a product
    assert gift_blocks.suggestions([])["options"] == []
