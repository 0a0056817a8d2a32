"""Gift card and donation orders in the ledger and at the sandbox, made the way the gift worker
makes them (create_order → claim_next_queued → PlumClient.place_order → record_order_response),
for the admin reports and the reconciliation tests."""

from __future__ import annotations

import copy
import secrets
from decimal import Decimal
from typing import Any

from bot.plum import PlacedOrder
from storage import links as link_repo
from storage import members as member_repo
from storage import orders as order_repo
from storage.states import DeliveryStatus, OrderKind, OrderStatus
from tests.e2e.harness import ADMIN, MARIA, BotHarness, message_text

TEAM = "T0001"
NAMES = {ADMIN: ("ada", "Ada Lovelace"), MARIA: ("maria", "Maria Garcia")}


def member(bot: BotHarness, session: Any, user_id: str) -> Any:
    name, real = NAMES.get(user_id, ("", ""))
    return member_repo.upsert_member(
        session, team_id=TEAM, slack_user_id=user_id, display_name=name, real_name=real
    )


def order(
    bot: BotHarness,
    *,
    product_id: int = 10003,
    name: str = "Flipkart Gift Card",
    denomination: int = 500,
    currency: str = "INR",
    giver: str = ADMIN,
    recipient: str | None = MARIA,
    kind: OrderKind = OrderKind.GIFT,
    outcome: str = "placed",
    delivery: DeliveryStatus | None = None,
    at_xoxoday: bool = True,
    ledger_charge: Decimal | None = None,
) -> tuple[str, PlacedOrder | None]:
    """An order of one unit; `outcome`: placed, failed, unknown, pending (waits for approval),
    queued. Returns its poNumber and, when placeOrder was called, what Xoxoday answered.

    For reconciliation tests: `at_xoxoday=False` records it as placed (Xoxoday order 9999999,
    charged its value) without calling Xoxoday; `ledger_charge` records Xoxoday's answer with
    another amountCharged than it said."""
    po = f"PO-T-{secrets.token_hex(4)}"
    # Made and (unless it waits) claimed in one transaction: the bot's own order worker, which
    # polls for queued orders, never sees it queued and never places it itself.
    with bot.runtime.store.session() as session:
        order_repo.create_order(
            session,
            po_number=po,
            kind=kind,
            giver=member(bot, session, giver),
            recipient=member(bot, session, recipient) if recipient else None,
            product_id=str(product_id),
            product_name=name,
            quantity=1,
            denomination=Decimal(denomination),
            currency_code=currency,
            order_value=Decimal(denomination),
            request={"productId": product_id, "denomination": denomination, "poNumber": po},
            request_key=f"test:{po}",
            needs_approval=outcome == "pending",
        )
        if outcome not in ("pending", "queued"):
            claimed = order_repo.claim_next_queued(session, claimed_by="test-worker")
            assert claimed is not None and claimed.po_number == po
    if outcome in ("pending", "queued"):
        return po, None
    placed = None
    if outcome == "failed":
        status, response, plum_id = OrderStatus.FAILED, {"error": "Out of stock"}, None
    elif not at_xoxoday:
        status, plum_id = OrderStatus.PLACED, "9999999"
        response = {
            "data": {"placeOrder": {"data": {"orderId": 9999999, "amountCharged": denomination}}}
        }
    else:
        placed = bot.runtime.plum.place_order(
            product_id=product_id, quantity=1, denomination=denomination, po_number=po
        )
        status = OrderStatus.UNKNOWN if outcome == "unknown" else OrderStatus.PLACED
        response, plum_id = copy.deepcopy(placed.response), str(placed.order.order_id)
        if ledger_charge is not None:
            response["data"]["placeOrder"]["data"]["amountCharged"] = int(ledger_charge)
    with bot.runtime.store.session() as session:
        link_repo.record_order_response(
            session,
            po_number=po,
            status=status,
            response=response,
            actor="test-worker",
            plum_order_id=plum_id,
        )
        if delivery is not None:
            found = order_repo.get_order(session, po_number=po)
            assert found is not None
            order_repo.set_delivery(session, order=found, status=delivery, actor="test")
    return po, placed


def answers(bot: BotHarness, user: str) -> list[str]:
    """What the bot said after acknowledging (response_url follow-ups)."""
    return [message_text(m) for m in bot.fake.ephemerals(user, source="response_url")]


def ask(bot: BotHarness, text: str, *, user: str = ADMIN) -> dict[str, Any]:
    """Run `/reward text` and return the one follow-up answer (the message as posted)."""
    before = len(bot.fake.ephemerals(user, source="response_url"))
    response = bot.driver.command(text, user_id=user)
    assert response.status_code == 200 and not response.text.strip(), response.text
    return bot.wait(lambda: bot.fake.ephemerals(user, source="response_url")[before:])[0]
