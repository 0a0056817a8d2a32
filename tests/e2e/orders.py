"""Helpers for the order tests: make a gift order as the order worker does (commit it, claim it,
placeOrder at the sandbox, record the answer), post Xoxoday's webhook, read the ledger back."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

import httpx
from sqlmodel import select

from bot.plum import PlacedOrder
from bot.rewards.order_updates import note_answered
from storage import members as member_repo
from storage.links import get_order, record_order_response
from storage.models import AuditEvent, Order, PlumWebhookEvent
from storage.orders import claim_next_queued, create_order
from storage.states import OrderKind, OrderStatus
from tests.e2e.harness import ADMIN, MARIA, BotHarness

HOOK_KEY = "test-webhook-api-key"
TEAM = "T0ACME"
PRODUCT = 10004  # Starbucks US eGift: 10, 25 or 50 USD


def queue_order(
    bot: BotHarness,
    po: str,
    *,
    sender: str = ADMIN,
    recipient: str | None = MARIA,
    kind: OrderKind = OrderKind.GIFT,
    denomination: int = 25,
) -> Order:
    """Commit a gift (or donation) order and claim it: it is `requested`, placeOrder not sent."""
    with bot.runtime.store.session() as session:
        giver = member_repo.upsert_member(session, team_id=TEAM, slack_user_id=sender)
        for_whom = (
            member_repo.upsert_member(session, team_id=TEAM, slack_user_id=recipient)
            if recipient
            else None
        )
        create_order(
            session,
            po_number=po,
            kind=kind,
            giver=giver,
            recipient=for_whom,
            product_id=str(PRODUCT),
            product_name="Starbucks US eGift",
            quantity=1,
            denomination=Decimal(denomination),
            currency_code="USD",
            order_value=Decimal(denomination),
            request={"productId": PRODUCT, "denomination": denomination, "poNumber": po},
            request_key=f"test:{po}",
            needs_approval=False,
        )
    with bot.runtime.store.session() as session:
        claimed = claim_next_queued(session, claimed_by="test-worker")
    assert claimed is not None and claimed.po_number == po
    return claimed


def send_order(bot: BotHarness, po: str, *, denomination: int = 25) -> PlacedOrder:
    """placeOrder at the sandbox (the order stays `requested` in the ledger)."""
    return bot.runtime.plum.place_order(
        product_id=PRODUCT, quantity=1, denomination=denomination, po_number=po
    )


def record_placed(
    bot: BotHarness, po: str, placed: PlacedOrder, *, note_answer: bool = False
) -> Order:
    """Record placeOrder's answer and apply any update that came before it, as the worker does
    (with `note_answer`, also the delivery status the answer gave, telling nobody)."""
    with bot.runtime.store.session() as session:
        order = record_order_response(
            session,
            po_number=po,
            status=OrderStatus.PLACED,
            response=placed.response,
            actor="test-worker",
            plum_order_id=str(placed.order.order_id),
        )
        if note_answer:
            note_answered(
                session,
                po_number=po,
                delivery_status=placed.order.delivery_status,
                actor="test-worker",
            )
    bot.runtime.order_updates.order_placed(po)
    return order


def place_order(bot: BotHarness, po: str, *, note_answer: bool = False, **kw: Any) -> Order:
    queue_order(bot, po, **kw)
    return record_placed(bot, po, send_order(bot, po), note_answer=note_answer)


def order(bot: BotHarness, po: str) -> Order:
    with bot.runtime.store.read_session() as session:
        found = get_order(session, po_number=po)
    assert found is not None
    return found


def events(bot: BotHarness) -> list[PlumWebhookEvent]:
    with bot.runtime.store.read_session() as session:
        return list(session.exec(select(PlumWebhookEvent)).all())


def delivery_audits(bot: BotHarness, po: str) -> list[AuditEvent]:
    with bot.runtime.store.read_session() as session:
        found = session.exec(select(AuditEvent).where(AuditEvent.subject_id == po)).all()
    return [e for e in found if e.action == "order.delivery"]


def hook_body(
    po: str | None,
    status: str = "delivered",
    *,
    event_id: str | None = None,
    order_id: Any = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"orderDate": "2026-03-02T08:00:00Z", "deliveryStatus": status}
    if po is not None:
        data["poNumber"] = po
    if order_id is not None:
        data["orderId"] = order_id
    return {
        "id": event_id or "evt_" + secrets.token_hex(8),
        "data": data,
        "createdAt": "2026-03-02T08:00:01Z",
    }


def post_hook(
    bot: BotHarness, body: Any, *, key: str | None = HOOK_KEY, raw: bytes | None = None
) -> httpx.Response:
    headers = {"x-api-key": key} if key is not None else {}
    if raw is not None:
        headers["content-type"] = "application/json"
        return httpx.post(f"{bot.url}/webhooks/plum", content=raw, headers=headers, timeout=10)
    return httpx.post(f"{bot.url}/webhooks/plum", json=body, headers=headers, timeout=10)


def vouchers_of(bot: BotHarness, po: str) -> list[str]:
    """The codes, pins and links the sandbox issued for an order (to prove they are nowhere)."""
    found = bot.sandbox.state.order(po_number=po)
    assert found is not None
    return [v.code for v in found.vouchers]
