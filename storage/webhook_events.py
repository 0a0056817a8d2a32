"""Reading back Xoxoday's delivery webhooks (`storage.orders.record_webhook_event` keeps them):
an update can arrive before the bot recorded placeOrder's answer, and is applied once the order
is placed (`bot.rewards.order_updates`)."""

from __future__ import annotations

from sqlmodel import Session, col, or_, select

from storage.models import PlumWebhookEvent

__all__ = ["events_for_order"]


def events_for_order(
    session: Session, *, po_number: str, plum_order_id: str | None = None
) -> list[PlumWebhookEvent]:
    """The events naming this order (by poNumber, or by Xoxoday's order id), oldest first."""
    named = PlumWebhookEvent.po_number == po_number
    if plum_order_id:
        named = or_(named, PlumWebhookEvent.plum_order_id == plum_order_id)  # type: ignore[assignment]
    return list(
        session.exec(
            select(PlumWebhookEvent)
            .where(named)
            .order_by(col(PlumWebhookEvent.received_at), col(PlumWebhookEvent.id))
        ).all()
    )
