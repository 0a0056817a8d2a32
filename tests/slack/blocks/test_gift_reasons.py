"""What a gift card's sender and the admins read when an order goes wrong: Xoxoday's reason
once, as a clause of the sentence (never "it.." when the reason has its own full stop)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.rewards.gifts import GiftCard
from bot.slack.blocks import gifts
from storage.states import OrderStatus
from tests.slack.blocks.blockkit_rules import assert_valid_message, blocks_of


def card(message: str | None, **over: object) -> GiftCard:
    fields: dict[str, object] = {
        "po_number": "PO-7",
        "donation": False,
        "product": "Amazon Pay e-Gift Card",
        "amount": Decimal("500"),
        "currency": "INR",
        "giver_id": "UBOB0001",
        "recipient_id": "UMARIA01",
        "status": OrderStatus.FAILED,
        "message": message,
        **over,
    }
    return GiftCard(**fields)  # type: ignore[arg-type]


def said(payload: dict[str, object]) -> str:
    assert_valid_message(payload)
    return str(blocks_of(payload, "section")[0]["text"]["text"])


@pytest.mark.parametrize(
    "reason",
    [
        "Ask your Xoxoday account manager to enable it.",
        "Ask your Xoxoday account manager to enable it",
    ],
)
def test_the_sender_reads_the_reason_once_with_one_full_stop(reason: str) -> None:
    text = said(gifts.sender_failed(card(reason)))
    assert text == (
        "❌ A *500.00 INR* Amazon Pay e-Gift Card for <@UMARIA01> wasn't ordered: Ask your "
        "Xoxoday account manager to enable it."
    )


def test_without_a_reason_the_sender_reads_that_xoxoday_refused() -> None:
    text = said(gifts.sender_failed(card(None, points=Decimal("500"))))
    assert text.endswith("wasn't ordered: Xoxoday refused it. Your points are back.")


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (None, "Xoxoday's answer was lost. I keep"),
        ("The bot failed while ordering.", "ordering. I keep"),
    ],
)
def test_the_admins_read_a_sentence_that_ends_before_the_next(
    message: str | None, shown: str
) -> None:
    text = said(gifts.admin_unknown(card(message, status=OrderStatus.UNKNOWN)))
    assert shown in text and ".." not in text
