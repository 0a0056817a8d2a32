"""Delivery updates of gift cards and donations (`bot.rewards.order_updates`) on their ports:
Xoxoday's webhook kept once per event and applied to the order it names, the poll's lookups by
poNumber, an update that comes before placeOrder's answer applied once the answer is recorded;
each delivery change told once (`OrderDeliveryChanged`) whoever applies it, and an order nobody
can resolve told to the admins once (`OrderUnresolved`)."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from bot.plum import PlacedOrder
from bot.rewards.events import OrderDeliveryChanged, OrderUnresolved
from bot.rewards.order_updates import BadUpdate, note_answered, parse_update
from storage import members as member_repo
from storage.links import get_order, record_order_response
from storage.models import AuditEvent, Order, PlumWebhookEvent
from storage.orders import claim_next_queued, create_order
from storage.states import DeliveryStatus, OrderKind, OrderStatus
from tests.domain.conftest import Domain
from tests.domain.support import BOB, MARIA, TEAM

PRODUCT = 10001  # Amazon Pay e-Gift Card (Amazon.in), any amount from 10 INR
LONG_AGO = timedelta(days=365)


def queue_order(
    domain: Domain, po: str, *, recipient: str | None = MARIA, kind: OrderKind = OrderKind.GIFT
) -> Order:
    """Commit an order and claim it, as the order worker does: `requested`, not sent yet."""
    with domain.store.session() as session:
        giver = member_repo.upsert_member(session, team_id=TEAM, slack_user_id=BOB, tz="UTC")
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
            product_name="Amazon Pay e-Gift Card",
            quantity=1,
            denomination=Decimal(500),
            currency_code="INR",
            order_value=Decimal(500),
            request={"productId": PRODUCT, "denomination": 500, "poNumber": po},
            request_key=f"test:{po}",
            needs_approval=False,
        )
    with domain.store.session() as session:
        claimed = claim_next_queued(session, claimed_by="test-worker")
    assert claimed is not None and claimed.po_number == po
    return claimed


def send_order(domain: Domain, po: str) -> PlacedOrder:
    """placeOrder at Xoxoday (the order stays `requested` in the ledger)."""
    return domain.plum.place_order(product_id=PRODUCT, quantity=1, denomination=500, po_number=po)


def record_placed(
    domain: Domain, po: str, placed: PlacedOrder, *, note_answer: bool = False
) -> None:
    """Record placeOrder's answer and apply an update that came before it, as the worker does
    (with `note_answer`, also the delivery status the answer gave, telling nobody)."""
    with domain.store.session() as session:
        record_order_response(
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
    domain.order_updates.order_placed(po)


def place_order(domain: Domain, po: str, *, note_answer: bool = False, **kw: Any) -> PlacedOrder:
    queue_order(domain, po, **kw)
    placed = send_order(domain, po)
    record_placed(domain, po, placed, note_answer=note_answer)
    return placed


def hook(po: str | None, status: str = "delivered", *, event_id: str | None = None, **data: Any):
    body: dict[str, Any] = {"orderDate": "2026-03-02T08:00:00Z", "deliveryStatus": status}
    if po is not None:
        body["poNumber"] = po
    body.update(data)
    return {"id": event_id or "evt_" + secrets.token_hex(8), "data": body, "createdAt": "now"}


def receive(domain: Domain, body: dict[str, Any]) -> Any:
    """The webhook: kept and applied, answered, then people told (`after`)."""
    received = domain.order_updates.receive(body)
    domain.order_updates.after(received)
    return received


def order(domain: Domain, po: str) -> Order:
    with domain.store.read_session() as session:
        found = get_order(session, po_number=po)
    assert found is not None
    return found


def kept_events(domain: Domain) -> list[PlumWebhookEvent]:
    with domain.store.read_session() as session:
        return list(session.exec(select(PlumWebhookEvent)).all())


def delivery_audits(domain: Domain, po: str) -> list[AuditEvent]:
    with domain.store.read_session() as session:
        found = session.exec(select(AuditEvent).where(AuditEvent.subject_id == po)).all()
    return [e for e in found if e.action == "order.delivery"]


def changes(domain: Domain) -> list[tuple[str, DeliveryStatus]]:
    return [
        (e.change.order.po_number, e.change.status) for e in domain.teller.of(OrderDeliveryChanged)
    ]


# ── the webhook ──────────────────────────────────────────────────────────────────────────


def test_a_delivery_is_told_once_however_often_it_comes(domain: Domain) -> None:
    place_order(domain, "PO-HOOK-1")
    first = receive(domain, hook("PO-HOOK-1", event_id="evt-1"))
    assert first.matched and first.applied and not first.duplicate
    [told] = domain.teller.of(OrderDeliveryChanged)
    assert told.change.status is DeliveryStatus.DELIVERED
    card = told.change.order
    assert (card.po_number, card.sender_id, card.recipient_id) == ("PO-HOOK-1", BOB, MARIA)
    assert card.product_name == "Amazon Pay e-Gift Card" and card.status is OrderStatus.PLACED
    assert order(domain, "PO-HOOK-1").delivery_status == DeliveryStatus.DELIVERED
    # The same event again (a retry after a lost answer), and another with the same news.
    again = receive(domain, hook("PO-HOOK-1", "Delivered", event_id="evt-1"))
    assert again.duplicate and again.matched
    other = receive(domain, hook("PO-HOOK-1", "DELIVERED"))
    assert other.matched and not other.duplicate and other.changes == ()
    assert len(domain.teller.of(OrderDeliveryChanged)) == 1
    assert len(delivery_audits(domain, "PO-HOOK-1")) == 1
    kept = kept_events(domain)
    assert len(kept) == 2 and all(e.matched for e in kept)


def test_a_canceled_order_is_told_as_canceled(domain: Domain) -> None:
    place_order(domain, "PO-CANCEL")
    receive(domain, hook("PO-CANCEL", "Cancelled"))
    assert changes(domain) == [("PO-CANCEL", DeliveryStatus.CANCELED)]
    assert order(domain, "PO-CANCEL").delivery_status == DeliveryStatus.CANCELED
    receive(domain, hook("PO-CANCEL", "delivered"))  # news after the end: told too
    assert changes(domain)[-1] == ("PO-CANCEL", DeliveryStatus.DELIVERED)


def test_an_order_the_bot_did_not_place_is_kept_unmatched(domain: Domain) -> None:
    for body in (hook("PO-NOT-OURS"), hook(None, orderId=424242)):
        assert not receive(domain, body).matched
    assert [(e.po_number, e.plum_order_id, e.matched) for e in kept_events(domain)] == [
        ("PO-NOT-OURS", None, False),
        (None, "424242", False),
    ]
    assert domain.teller.events == []


def test_an_update_found_by_xoxodays_order_id_alone(domain: Domain) -> None:
    placed = place_order(domain, "PO-BY-ID")
    received = receive(domain, hook(None, orderId=placed.order.order_id))
    assert received.matched
    assert changes(domain) == [("PO-BY-ID", DeliveryStatus.DELIVERED)]


def test_a_status_the_bot_does_not_act_on_is_kept(domain: Domain) -> None:
    """Moved from tests/e2e/test_order_webhook.py."""
    place_order(domain, "PO-ODD")
    received = receive(domain, hook("PO-ODD", "on its way"))
    assert received.matched and not received.applied
    assert [e.delivery_status for e in kept_events(domain)] == ["on its way"]
    assert order(domain, "PO-ODD").delivery_status is None
    assert domain.teller.events == []


def test_an_update_before_the_placeorder_answer_is_applied_once_it_is_recorded(
    domain: Domain,
) -> None:
    queue_order(domain, "PO-EARLY")
    placed = send_order(domain, "PO-EARLY")  # Xoxoday has it; the bot has not recorded it yet
    early = receive(domain, hook("PO-EARLY", orderId=placed.order.order_id))
    assert early.matched and not early.applied
    assert order(domain, "PO-EARLY").delivery_status is None  # kept, not applied yet
    assert domain.teller.events == []
    record_placed(domain, "PO-EARLY", placed)  # the worker records the answer
    assert order(domain, "PO-EARLY").delivery_status == DeliveryStatus.DELIVERED
    assert changes(domain) == [("PO-EARLY", DeliveryStatus.DELIVERED)]
    assert domain.order_updates.order_placed("PO-EARLY") is None  # again: nothing more
    assert len(domain.teller.events) == 1


def test_a_delivery_the_placeorder_answer_gave_is_not_told_again(domain: Domain) -> None:
    placed = place_order(domain, "PO-SAID", note_answer=True)
    assert placed.order.delivery_status == "delivered"  # a realtime order
    assert order(domain, "PO-SAID").delivery_status == DeliveryStatus.DELIVERED
    receive(domain, hook("PO-SAID"))
    assert domain.teller.events == []  # the Reveal DM told it
    assert len(delivery_audits(domain, "PO-SAID")) == 1


def test_a_delivery_after_a_pending_answer_is_told_once(domain: Domain) -> None:
    domain.xoxoday.webhooks.delay_seconds = 60.0  # Xoxoday answers "pending", delivers later
    place_order(domain, "PO-LATER", note_answer=True)
    assert order(domain, "PO-LATER").delivery_status == DeliveryStatus.PENDING
    assert domain.teller.events == []
    receive(domain, hook("PO-LATER"))
    receive(domain, hook("PO-LATER", "pending"))  # an older update arriving late
    assert changes(domain) == [("PO-LATER", DeliveryStatus.DELIVERED)]
    assert order(domain, "PO-LATER").delivery_status == DeliveryStatus.DELIVERED


def test_a_failed_order_xoxoday_says_it_delivered_is_told_to_the_admins_once(
    domain: Domain,
) -> None:
    queue_order(domain, "PO-FAILED")
    with domain.store.session() as session:
        record_order_response(
            session,
            po_number="PO-FAILED",
            status=OrderStatus.FAILED,
            response=None,
            actor="test-worker",
            message="refused",
        )
    for _ in range(2):
        receive(domain, hook("PO-FAILED"))
    [told] = domain.teller.of(OrderUnresolved)
    assert told.order.po_number == "PO-FAILED" and "took it for failed" in told.reason
    assert order(domain, "PO-FAILED").status == OrderStatus.FAILED
    assert domain.teller.of(OrderDeliveryChanged) == []


def test_parse_update_reads_the_documented_shape() -> None:
    """Moved from tests/e2e/test_order_webhook.py."""
    update = parse_update(
        {
            "id": 17,
            "data": {
                "orderId": 9800001,
                "poNumber": "PO-1",
                "orderDate": "2026-03-02T08:00:00Z",
                "deliveryStatus": " Cancelled ",
            },
            "createdAt": "2026-03-02T08:00:01Z",
        }
    )
    assert (update.event_id, update.plum_order_id, update.status) == (
        "17",
        "9800001",
        DeliveryStatus.CANCELED,
    )
    with pytest.raises(BadUpdate):
        parse_update({"id": True, "data": {"poNumber": "PO-1"}})


# ── the poll ─────────────────────────────────────────────────────────────────────────────


def wait_delivered_at_xoxoday(domain: Domain, po: str) -> None:
    """Xoxoday delivers a realtime order moments after placing it (on its own thread)."""
    deadline = time.monotonic() + 5
    while True:
        found = domain.xoxoday.state.order(po_number=po)
        if found is not None and found.delivery_status == "delivered":
            return
        assert time.monotonic() < deadline, f"Xoxoday never delivered {po}"
        time.sleep(0.02)


def test_the_poll_finds_a_delivery_the_webhook_missed_and_tells_it_once(domain: Domain) -> None:
    place_order(domain, "PO-POLL")
    wait_delivered_at_xoxoday(domain, "PO-POLL")
    report = domain.order_updates.poll(pending_after=timedelta(0), requested_after=LONG_AGO)
    assert (report.checked, report.delivered) == (1, 1)
    assert changes(domain) == [("PO-POLL", DeliveryStatus.DELIVERED)]
    again = domain.order_updates.poll(pending_after=timedelta(0), requested_after=LONG_AGO)
    assert again.checked == 0 and len(domain.teller.events) == 1
    assert len(delivery_audits(domain, "PO-POLL")) == 1


def test_an_order_in_doubt_that_xoxoday_has_becomes_placed(domain: Domain) -> None:
    queue_order(domain, "PO-FOUND")
    send_order(domain, "PO-FOUND")
    wait_delivered_at_xoxoday(domain, "PO-FOUND")
    with domain.store.session() as session:
        record_order_response(
            session,
            po_number="PO-FOUND",
            status=OrderStatus.UNKNOWN,
            response=None,
            actor="test-worker",
            message="Xoxoday's answer was lost.",
        )
    checked = domain.order_updates.check("PO-FOUND")
    assert checked.placed and checked.change is not None
    found = order(domain, "PO-FOUND")
    assert found.status == OrderStatus.PLACED and found.plum_order_id
    assert changes(domain) == [("PO-FOUND", DeliveryStatus.DELIVERED)]
    assert domain.teller.of(OrderUnresolved) == []


def test_an_order_xoxoday_never_got_stays_unknown_and_the_admins_hear_once(
    domain: Domain,
) -> None:
    queue_order(domain, "PO-LOST")  # requested, and never reached Xoxoday
    # found stale, then looked up again by the next poll (it is unknown now)
    for _ in range(2):
        report = domain.order_updates.poll(pending_after=timedelta(0), requested_after=timedelta(0))
        assert (report.checked, report.unresolved) == (1, 1)
    assert order(domain, "PO-LOST").status == OrderStatus.UNKNOWN  # never taken for failed
    [told] = domain.teller.of(OrderUnresolved)
    assert told.order.po_number == "PO-LOST" and "stays unknown" in told.reason
    domain.order_updates.check("PO-LOST")
    assert len(domain.teller.of(OrderUnresolved)) == 1


def test_the_webhook_and_the_poll_racing_tell_each_change_once(domain: Domain) -> None:
    pos = [f"PO-RACE-{i}" for i in range(5)]
    for po in pos:
        place_order(domain, po)
        wait_delivered_at_xoxoday(domain, po)
        start = threading.Barrier(2)

        def webhook(po: str = po, start: threading.Barrier = start) -> None:
            start.wait()
            receive(domain, hook(po))

        def poll(po: str = po, start: threading.Barrier = start) -> None:
            start.wait()
            domain.order_updates.check(po)

        threads = [threading.Thread(target=webhook), threading.Thread(target=poll)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert sorted(changes(domain)) == [(po, DeliveryStatus.DELIVERED) for po in pos]
    assert all(len(delivery_audits(domain, po)) == 1 for po in pos)
