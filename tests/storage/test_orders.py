"""Gift and donation orders: committed with their poNumber before placeOrder, once per Slack
request, decided once, claimed once, delivery updates and webhook events once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from storage import links, orders
from storage.db import Store
from storage.orders import OrderChanged
from storage.states import DeliveryStatus, OrderKind, OrderStatus
from storage.types import utcnow
from tests.storage.conftest import People


def make(store: Store, people: People, *, key: str = "T1", approval: bool = False):
    with store.session() as s:
        return orders.create_order(
            s,
            po_number=f"PO-{key}",
            kind=OrderKind.GIFT,
            giver=people.admin,
            recipient=people.alice,
            product_id="10001",
            product_name="Amazon gift card",
            quantity=1,
            denomination=Decimal("500"),
            currency_code="INR",
            order_value=Decimal("500"),
            request={"productId": 10001},
            request_key=key,
            needs_approval=approval,
            note="thanks!",
        )


def test_one_order_per_request_and_its_life(store: Store, people: People) -> None:
    first = make(store, people)
    again = make(store, people)
    assert first.fresh and not again.fresh and again.order.po_number == first.order.po_number
    assert first.order.status == OrderStatus.QUEUED
    with store.session() as s:
        claimed = orders.claim_next_queued(s, claimed_by="w1")
        assert claimed is not None and claimed.status == OrderStatus.REQUESTED
        assert orders.claim_next_queued(s, claimed_by="w2") is None
    with store.session() as s:
        placed = links.record_order_response(
            s,
            po_number="PO-T1",
            status="placed",
            response={"data": {"vouchers": [{"voucherCode": "SECRET-1", "pin": "9"}]}},
            actor="w1",
            plum_order_id="777",
        )
    assert "SECRET-1" not in str(placed.response_redacted)
    with store.session() as s:
        order = orders.find_by_plum_id(s, plum_order_id="777")
        assert order is not None
        order, changed = orders.set_delivery(
            s, order=order, status=DeliveryStatus.DELIVERED, actor="webhook"
        )
        assert changed and order.delivery_status == "delivered"
        assert not orders.set_delivery(
            s, order=order, status=DeliveryStatus.DELIVERED, actor="webhook"
        )[1]
    since = utcnow() - timedelta(days=1)
    with store.read_session() as s:
        spent = orders.spent_between(
            s, giver_id=people.admin.id or 0, since=since, until=utcnow() + timedelta(1)
        )
    assert spent == Decimal("500")


def test_a_decision_is_made_once(store: Store, people: People) -> None:
    make(store, people, key="A", approval=True)
    with store.session() as s:
        assert orders.claim_next_queued(s, claimed_by="w") is None  # waits for approval
        decided = orders.decide(s, po_number="PO-A", approver="UAPPROVER", approve=False)
    assert decided.status == OrderStatus.REJECTED and decided.decided_by == "UAPPROVER"
    with store.session() as s, pytest.raises(OrderChanged):
        orders.decide(s, po_number="PO-A", approver="UADMIN", approve=True)
    with store.read_session() as s:
        spent = orders.spent_between(
            s,
            giver_id=people.admin.id or 0,
            since=utcnow() - timedelta(1),
            until=utcnow() + timedelta(1),
        )
    assert spent == 0  # rejected orders don't count


def test_webhook_events_are_kept_once(store: Store, people: People) -> None:
    with store.session() as s:
        kept = orders.record_webhook_event(
            s,
            event_id="evt-1",
            po_number="PO-X",
            plum_order_id="1",
            delivery_status="delivered",
            matched=False,
            body={"id": "evt-1"},
        )
        again = orders.record_webhook_event(
            s,
            event_id="evt-1",
            po_number="PO-X",
            plum_order_id="1",
            delivery_status="delivered",
            matched=False,
            body={"id": "evt-1"},
        )
    assert kept and not again
