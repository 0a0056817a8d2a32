"""Messages about a gift card's or donation's delivery (Xoxoday's webhook, or the poll): to the
person it is for, to the sender, and to the admins when an order's outcome needs a person.

None of them ever holds a voucher code, pin or link: the cards they are drawn from
(`bot.rewards.order_updates.OrderCard`) carry none. The code is only behind Reveal.
"""

from __future__ import annotations

from typing import Any

from bot.rewards.order_updates import DeliveryChange, OrderCard
from bot.slack.blocks.common import (
    format_datetime,
    mention,
    message,
    money,
    one_line,
    safe_mrkdwn,
    short_id,
)
from bot.slack.blocks.kit import context, section
from storage.states import DeliveryStatus, OrderKind

Payload = dict[str, Any]


def _what(order: OrderCard) -> str:
    """`*Amazon Pay e-Gift Card* worth *500.00 INR*` (the quantity when more than one)."""
    name = f"*{safe_mrkdwn(one_line(order.product_name))}*"
    many = f"{order.quantity} × " if order.quantity > 1 else ""
    # The face value, in the product's currency (the order's value is the account's).
    value = order.denomination * order.quantity
    return f"{many}{name} worth *{money(value, order.currency_code)}*"


def _ref(order: OrderCard) -> str:
    return f"Order {short_id(order.po_number)}"


def recipient_delivery(*, change: DeliveryChange) -> Payload:
    """The person the gift (or the donation in their name) is for."""
    order, sender = change.order, mention(change.order.sender_id)
    delivered = change.status == DeliveryStatus.DELIVERED
    if order.kind == OrderKind.DONATION:
        if delivered:
            lead = f"💚 {sender}'s donation in your name, {_what(order)}, has been made."
            text = f"{sender}'s donation in your name has been made."
        else:
            lead = f"The donation {sender} made in your name, {_what(order)}, was canceled."
            text = "A donation in your name was canceled by Xoxoday."
    elif delivered:
        lead = f"🎁 Your gift card from {sender}, {_what(order)}, has been delivered."
        text = f"Your gift card from {sender} has been delivered."
        blocks = [
            section(lead),
            context(
                "Press *Reveal* on the message about this gift to see your code; "
                "it is never shown anywhere else."
            ),
        ]
        return message(text, blocks)
    else:
        lead = (
            f"The gift card {sender} sent you, {_what(order)}, could not be delivered: "
            f"Xoxoday canceled it. {sender} has been told."
        )
        text = f"The gift card from {sender} could not be delivered."
    return message(text, [section(lead), context(_ref(order))])


def sender_delivery(*, change: DeliveryChange) -> Payload:
    """The sender: delivered, or canceled."""
    order = change.order
    whom = mention(order.recipient_id) if order.recipient_id else "the team"
    delivered = change.status == DeliveryStatus.DELIVERED
    if order.kind == OrderKind.DONATION:
        name = f"in {whom}'s name" if order.recipient_id else "in the team's name"
        if delivered:
            lead = f"💚 Your donation {name}, {_what(order)}, has been made."
            text = "Your donation has been made."
        else:
            lead = (
                f"⚠️ Your donation {name}, {_what(order)}, was canceled by Xoxoday. An admin "
                "can see why in Xoxoday's dashboard."
            )
            text = "Your donation was canceled by Xoxoday."
    elif delivered:
        lead = f"✅ Your gift card for {whom}, {_what(order)}, has been delivered."
        text = f"Your gift card for {whom} has been delivered."
    else:
        lead = (
            f"⚠️ Your gift card for {whom}, {_what(order)}, could not be delivered: Xoxoday "
            "canceled it. An admin can see why in Xoxoday's dashboard."
        )
        text = f"Your gift card for {whom} could not be delivered."
    return message(text, [section(lead), context(_ref(order))])


def admin_order_unresolved(*, order: OrderCard, reason: str, tz: str | None) -> Payload:
    """An admin: an order whose outcome the bot can't settle by itself."""
    kind = "donation" if order.kind == OrderKind.DONATION else "gift card"
    whom = f" for {mention(order.recipient_id)}" if order.recipient_id else ""
    when = f" on {format_datetime(order.created_at, tz)}" if order.created_at else ""
    lead = (
        f"🔎 A {kind}{whom} from {mention(order.sender_id)}, {_what(order)}, ordered{when}, "
        f"needs a look. {safe_mrkdwn(reason)}"
    )
    text = f"A {kind} order needs a look: {order.po_number}"
    return message(text, [section(lead), context(f"{_ref(order)} · status {order.status.value}")])
