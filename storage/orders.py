"""Gift cards and donations sent from Slack: each is an `Order` keyed by its poNumber, committed
before placeOrder is called, with the Slack request that asked for it (a repeated request gives
the same order), who sent it and for whom.

A gift's life: pending_approval (its value is the approval threshold or more) → queued → requested
(claimed: placeOrder is being called) → placed | failed | unknown; unknown → placed | failed once
the order has been looked up by poNumber; pending_approval → rejected. Xoxoday's delivery status
(pending → delivered | canceled) comes from its webhook or a poll. Every step is a compare-and-set
with its audit event; voucher codes live only in the encrypted response (`storage.links`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import audit
from storage._sql import dialect_name
from storage.audit import AuditAction
from storage.errors import NotFound, StorageError
from storage.links import get_order, redact
from storage.models import Member, Order, PlumWebhookEvent
from storage.states import DeliveryStatus, OrderKind, OrderStatus
from storage.types import utcnow

__all__ = [
    "OrderChanged",
    "claim_next_queued",
    "create_order",
    "decide",
    "find_by_plum_id",
    "get_order",
    "orders_between",
    "recent_orders",
    "record_webhook_event",
    "requested_older_than",
    "set_delivery",
    "spent_between",
    "undelivered_older_than",
]

# Orders that count against a sender's monthly cap: all but the ones that definitely did not
# happen.
COUNTED = (
    OrderStatus.PENDING_APPROVAL,
    OrderStatus.QUEUED,
    OrderStatus.REQUESTED,
    OrderStatus.PLACED,
    OrderStatus.UNKNOWN,
)


class OrderChanged(StorageError):
    """The order was not in the state the step expects (someone else moved it first)."""

    def __init__(self, po_number: str, status: str) -> None:
        super().__init__(f"order {po_number} is {status}")
        self.po_number = po_number
        self.status = status


@dataclass(frozen=True, slots=True)
class Created:
    order: Order
    fresh: bool  # False: the same Slack request had already made this order


def create_order(
    session: Session,
    *,
    po_number: str,
    kind: OrderKind,
    giver: Member,
    recipient: Member | None,
    product_id: str,
    product_name: str,
    quantity: int,
    denomination: Decimal,
    currency_code: str | None,
    order_value: Decimal,
    request: Mapping[str, Any],
    request_key: str,
    needs_approval: bool,
    note: str | None = None,
    points_cents: int | None = None,
    channel_id: str | None = None,
) -> Created:
    """Commit a gift or donation with its poNumber before anything is sent; the same
    `request_key` again gives the order it made."""
    audit.lock_chain(session)
    known = session.exec(select(Order).where(Order.request_key == request_key)).first()
    if known is not None:
        return Created(known, fresh=False)
    status = OrderStatus.PENDING_APPROVAL if needs_approval else OrderStatus.QUEUED
    now = utcnow()
    order = Order(
        po_number=po_number,
        status=status.value,
        kind=kind.value,
        product_id=product_id,
        product_name=product_name[:200],
        quantity=quantity,
        denomination=denomination,
        currency_code=currency_code,
        order_value=order_value,
        requested_by=giver.slack_user_id,
        giver_id=giver.id,
        recipient_id=recipient.id if recipient is not None else None,
        note=note,
        request=audit.jsonable(redact(request)),
        request_key=request_key,
        points_cents=points_cents,
        channel_id=channel_id,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    try:
        session.flush()
    except IntegrityError:  # pragma: no cover - the chain lock serialises creators
        raise OrderChanged(po_number, "taken") from None
    audit.append(
        session,
        actor=giver.slack_user_id,
        action=AuditAction.ORDER_REQUESTED,
        subject_type="order",
        subject_id=po_number,
        after={
            "status": status,
            "kind": kind,
            "product_id": product_id,
            "product": product_name,
            "quantity": quantity,
            "denomination": denomination,
            "currency_code": currency_code,
            "value": order_value,
            "for": recipient.slack_user_id if recipient is not None else None,
            "points": points_cents,
        },
    )
    return Created(order, fresh=True)


def _move(
    session: Session,
    order: Order,
    *,
    expected: Sequence[OrderStatus],
    new: OrderStatus,
    actor: str,
    action: AuditAction,
    values: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> Order:
    audit.lock_chain(session)
    done = session.exec(
        update(Order)
        .where(col(Order.id) == order.id)
        .where(col(Order.status).in_([s.value for s in expected]))
        .values(status=new.value, updated_at=utcnow(), **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        fresh = session.get(Order, order.id, populate_existing=True)
        raise OrderChanged(order.po_number, fresh.status if fresh else "gone")
    audit.append(
        session,
        actor=actor,
        action=action,
        subject_type="order",
        subject_id=order.po_number,
        before={"status": order.status},
        after={"status": new, **(after or {})},
    )
    fresh = session.get(Order, order.id, populate_existing=True)
    assert fresh is not None
    return fresh


def decide(session: Session, *, po_number: str, approver: str, approve: bool) -> Order:
    """pending_approval → queued (approved) | rejected; OrderChanged when already decided."""
    order = get_order(session, po_number=po_number)
    if order is None:
        raise NotFound(f"no order {po_number}")
    return _move(
        session,
        order,
        expected=[OrderStatus.PENDING_APPROVAL],
        new=OrderStatus.QUEUED if approve else OrderStatus.REJECTED,
        actor=approver,
        action=AuditAction.ORDER_DECIDED,
        values={"decided_by": approver},
        after={"approved": approve},
    )


def claim_next_queued(session: Session, *, claimed_by: str) -> Order | None:
    """The oldest queued order, now `requested`: commit before calling placeOrder."""
    query = (
        select(Order)
        .where(Order.status == OrderStatus.QUEUED.value)
        .order_by(col(Order.updated_at), col(Order.id))
        .limit(1)
    )
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    order = session.exec(query).first()
    if order is None:
        return None
    return _move(
        session,
        order,
        expected=[OrderStatus.QUEUED],
        new=OrderStatus.REQUESTED,
        actor=claimed_by,
        action=AuditAction.ORDER_SENDING,
    )


def requested_older_than(session: Session, *, age: timedelta) -> list[Order]:
    """Orders claimed that long ago and never answered (a crash, another process gone)."""
    cutoff = utcnow() - age
    return list(
        session.exec(
            select(Order)
            .where(Order.status == OrderStatus.REQUESTED.value)
            .where(col(Order.updated_at) <= cutoff)
            .order_by(col(Order.id))
        ).all()
    )


def set_delivery(
    session: Session, *, order: Order, status: DeliveryStatus, actor: str
) -> tuple[Order, bool]:
    """Record Xoxoday's delivery status; False when it was already that (nothing changed)."""
    if order.delivery_status == status.value:
        return order, False
    audit.lock_chain(session)
    session.exec(
        update(Order)
        .where(col(Order.id) == order.id)
        .values(delivery_status=status.value, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    audit.append(
        session,
        actor=actor,
        action=AuditAction.ORDER_DELIVERY,
        subject_type="order",
        subject_id=order.po_number,
        before={"delivery_status": order.delivery_status},
        after={"delivery_status": status},
    )
    fresh = session.get(Order, order.id, populate_existing=True)
    assert fresh is not None
    return fresh, True


def find_by_plum_id(session: Session, *, plum_order_id: str) -> Order | None:
    return session.exec(select(Order).where(Order.plum_order_id == plum_order_id)).first()


def record_webhook_event(
    session: Session,
    *,
    event_id: str,
    po_number: str | None,
    plum_order_id: str | None,
    delivery_status: str | None,
    matched: bool,
    body: Mapping[str, Any] | None,
) -> bool:
    """Keep one of Xoxoday's webhook events; False when this event id was seen before."""
    known = session.exec(
        select(PlumWebhookEvent.id).where(PlumWebhookEvent.event_id == event_id)
    ).first()
    if known is not None:
        return False
    session.add(
        PlumWebhookEvent(
            event_id=event_id,
            po_number=po_number,
            plum_order_id=plum_order_id,
            delivery_status=delivery_status,
            matched=matched,
            body=audit.jsonable(redact(body)) if body is not None else None,
            received_at=utcnow(),
        )
    )
    session.flush()
    return True


def undelivered_older_than(session: Session, *, age: timedelta, limit: int = 100) -> list[Order]:
    """Placed (or unknown) orders whose delivery is still not known after `age`."""
    cutoff = utcnow() - age
    return list(
        session.exec(
            select(Order)
            .where(col(Order.status).in_([OrderStatus.PLACED.value, OrderStatus.UNKNOWN.value]))
            .where(
                col(Order.delivery_status).is_(None)
                | (Order.delivery_status == DeliveryStatus.PENDING.value)
            )
            .where(col(Order.updated_at) <= cutoff)
            .order_by(col(Order.updated_at), col(Order.id))
            .limit(limit)
        ).all()
    )


def spent_between(
    session: Session,
    *,
    giver_id: int,
    since: datetime,
    until: datetime,
    excluding: str | None = None,
) -> Decimal:
    """What a sender's gift orders were worth in [since, until), all but failed and rejected
    (and but the order whose poNumber is `excluding`)."""
    query = (
        select(Order)
        .where(Order.giver_id == giver_id)
        .where(col(Order.status).in_([s.value for s in COUNTED]))
        .where(col(Order.created_at) >= since)
        .where(col(Order.created_at) < until)
    )
    if excluding is not None:
        query = query.where(Order.po_number != excluding)
    rows = session.exec(query).all()
    return sum((o.order_value for o in rows if o.order_value is not None), Decimal(0))


def recent_orders(session: Session, *, limit: int = 20) -> list[Order]:
    return list(
        session.exec(
            select(Order).order_by(col(Order.created_at).desc(), col(Order.id).desc()).limit(limit)
        ).all()
    )


def orders_between(session: Session, *, since: datetime, until: datetime) -> list[Order]:
    return list(
        session.exec(
            select(Order)
            .where(col(Order.created_at) >= since)
            .where(col(Order.created_at) < until)
            .order_by(col(Order.created_at), col(Order.id))
        ).all()
    )


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.exec(select(Order.status, func.count()).group_by(col(Order.status))).all()
    return {str(s): int(n) for s, n in rows}
