"""Reward link batches (generateLink) and voucher orders (placeOrder).

Links, voucher codes and pins are bearer secrets: they are stored only encrypted with
ENCRYPTION_KEY (`links_encrypted`, `response_encrypted`), never in clear columns, logs or audit
events. Orders also keep a redacted copy of Plum's response in clear for reports and support, as
Xoxoday asks clients to keep the request and response of every placeOrder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage import audit
from storage._sql import member_id
from storage.audit import AuditAction
from storage.db import session_crypto
from storage.errors import DuplicateOrder, NotFound, StorageError
from storage.members import require_member
from storage.models import LinkBatch, Member, Order
from storage.states import LinkBatchStatus, OrderStatus
from storage.types import utcnow

REDACTED = "[redacted]"
_SECRET_KEYS = frozenset({"vouchercode", "voucher_code", "pin", "link", "links", "url", "code"})
_ALWAYS_SECRET = frozenset({"vouchercode", "voucher_code", "pin", "link", "links"})


class StaleStatus(StorageError):
    """A batch or order is no longer in the status this change expects."""


# ----------------------------------------------------------------------------- link batches


def create_link_batch(
    session: Session,
    *,
    campaign_id: str,
    count: int,
    requested_by: Member | int,
    link_expiry: date | None = None,
    recipient: Member | int | None = None,
    request_key: str | None = None,
) -> LinkBatch:
    """Record a request for `count` links before calling generateLink (audited).

    `request_key` (the Slack request that asked, unique) lets a request resumed after a crash
    find its batch (`get_link_batch_by_request_key`) instead of asking Xoxoday again."""
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise ValueError("count must be a positive whole number")
    if not campaign_id:
        raise ValueError("campaign_id is required")
    asker = require_member(session, member_id=member_id(requested_by))
    target = None if recipient is None else require_member(session, member_id=member_id(recipient))
    audit.lock_chain(session)
    batch = LinkBatch(
        campaign_id=campaign_id,
        count=count,
        link_expiry=link_expiry,
        requested_by_id=asker.id,  # type: ignore[arg-type]
        recipient_id=None if target is None else target.id,
        request_key=request_key,
        status=LinkBatchStatus.REQUESTED.value,
        created_at=utcnow(),
    )
    session.add(batch)
    session.flush()
    audit.append(
        session,
        actor=asker.slack_user_id,
        action=AuditAction.LINK_BATCH_CREATED,
        subject_type="link_batch",
        subject_id=batch.id,
        after={
            "status": batch.status,
            "campaign_id": campaign_id,
            "count": count,
            "link_expiry": link_expiry,
            "recipient": None if target is None else target.slack_user_id,
        },
    )
    return batch


def _finish_batch(
    session: Session, *, batch_id: int, status: LinkBatchStatus, values: dict[str, Any]
) -> LinkBatch:
    audit.lock_chain(session)
    now = utcnow()
    result = session.exec(
        update(LinkBatch)
        .where(LinkBatch.id == batch_id)  # type: ignore[arg-type]
        .where(LinkBatch.status == LinkBatchStatus.REQUESTED.value)  # type: ignore[arg-type]
        .values(status=status.value, completed_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        if session.get(LinkBatch, batch_id) is None:
            raise NotFound(f"no link batch {batch_id}")
        raise StaleStatus(f"link batch {batch_id} is already finished")
    batch = session.get(LinkBatch, batch_id, populate_existing=True)
    assert batch is not None
    return batch


def complete_link_batch(
    session: Session,
    *,
    batch_id: int,
    links: Sequence[str],
    plum_batch_id: str | None,
    actor: str,
    campaign_name: str | None = None,
    denomination_value: Decimal | None = None,
    currency_code: str | None = None,
    country_name: str | None = None,
    message: str | None = None,
) -> LinkBatch:
    """requested → created, with the links encrypted at rest (audited without the links)."""
    crypto = session_crypto(session)
    batch = _finish_batch(
        session,
        batch_id=batch_id,
        status=LinkBatchStatus.CREATED,
        values={
            "links_encrypted": crypto.encrypt_json(list(links)),
            "plum_batch_id": plum_batch_id,
            "campaign_name": campaign_name,
            "denomination_value": denomination_value,
            "currency_code": currency_code,
            "country_name": country_name,
            "message": message,
        },
    )
    audit.append(
        session,
        actor=actor,
        action=AuditAction.LINK_BATCH_COMPLETED,
        subject_type="link_batch",
        subject_id=batch_id,
        before={"status": LinkBatchStatus.REQUESTED},
        after={
            "status": batch.status,
            "plum_batch_id": plum_batch_id,
            "links_received": len(links),
            "campaign_name": campaign_name,
            "denomination_value": denomination_value,
            "currency_code": currency_code,
        },
    )
    return batch


def fail_link_batch(session: Session, *, batch_id: int, actor: str, message: str) -> LinkBatch:
    """requested → failed, with Plum's message (audited)."""
    batch = _finish_batch(
        session, batch_id=batch_id, status=LinkBatchStatus.FAILED, values={"message": message}
    )
    audit.append(
        session,
        actor=actor,
        action=AuditAction.LINK_BATCH_FAILED,
        subject_type="link_batch",
        subject_id=batch_id,
        before={"status": LinkBatchStatus.REQUESTED},
        after={"status": batch.status, "message": message},
    )
    return batch


def get_link_batch(session: Session, *, batch_id: int) -> LinkBatch | None:
    return session.get(LinkBatch, batch_id)


def get_link_batch_by_request_key(session: Session, *, request_key: str) -> LinkBatch | None:
    return session.exec(select(LinkBatch).where(LinkBatch.request_key == request_key)).first()


def list_link_batches(session: Session, *, limit: int = 10) -> list[LinkBatch]:
    """The latest batches first (for the admins' App Home)."""
    return list(
        session.exec(
            select(LinkBatch)
            .order_by(col(LinkBatch.created_at).desc(), col(LinkBatch.id).desc())
            .limit(limit)
        ).all()
    )


def reveal_links(session: Session, *, batch_id: int) -> list[str]:
    """Decrypt a batch's links (to hand them to the admin who asked). Never log the result."""
    batch = session.get(LinkBatch, batch_id)
    if batch is None:
        raise NotFound(f"no link batch {batch_id}")
    if batch.links_encrypted is None:
        return []
    return list(session_crypto(session).decrypt_json(batch.links_encrypted))


# ----------------------------------------------------------------------------- orders


def redact(value: Any, *, in_vouchers: bool = False) -> Any:
    """A copy of a Plum response without voucher codes, pins or links."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            lowered = str(key).lower()
            secret = _SECRET_KEYS if in_vouchers else _ALWAYS_SECRET
            if lowered in secret and item is not None:
                out[str(key)] = REDACTED
            else:
                out[str(key)] = redact(item, in_vouchers=in_vouchers or lowered == "vouchers")
        return out
    if isinstance(value, list):
        return [redact(item, in_vouchers=in_vouchers) for item in value]
    return value


def record_order_request(
    session: Session,
    *,
    po_number: str,
    product_id: str,
    quantity: int,
    denomination: Decimal,
    request: Mapping[str, Any],
    requested_by: str,
    currency_code: str | None = None,
) -> Order:
    """Record a placeOrder request before it is sent. A known poNumber raises DuplicateOrder."""
    if not po_number:
        raise ValueError("po_number is required")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValueError("quantity must be a positive whole number")
    audit.lock_chain(session)
    if get_order(session, po_number=po_number) is not None:
        raise DuplicateOrder(po_number)
    now = utcnow()
    order = Order(
        po_number=po_number,
        status=OrderStatus.REQUESTED.value,
        product_id=product_id,
        quantity=quantity,
        denomination=denomination,
        currency_code=currency_code,
        requested_by=requested_by,
        request=audit.jsonable(redact(request)),
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    audit.append(
        session,
        actor=requested_by,
        action=AuditAction.ORDER_REQUESTED,
        subject_type="order",
        subject_id=po_number,
        after={
            "status": order.status,
            "product_id": product_id,
            "quantity": quantity,
            "denomination": denomination,
            "currency_code": currency_code,
        },
    )
    return order


_ORDER_NEXT = {
    # requested → queued: placeOrder provably never reached Xoxoday; tried again later.
    OrderStatus.REQUESTED: {
        OrderStatus.PLACED,
        OrderStatus.FAILED,
        OrderStatus.UNKNOWN,
        OrderStatus.QUEUED,
    },
    OrderStatus.UNKNOWN: {OrderStatus.PLACED, OrderStatus.FAILED, OrderStatus.UNKNOWN},
}
_ORDER_ACTION = {
    OrderStatus.QUEUED: AuditAction.ORDER_REQUESTED,
    OrderStatus.PLACED: AuditAction.ORDER_PLACED,
    OrderStatus.FAILED: AuditAction.ORDER_FAILED,
    OrderStatus.UNKNOWN: AuditAction.ORDER_UNKNOWN,
}


def record_order_response(
    session: Session,
    *,
    po_number: str,
    status: OrderStatus | str,
    response: Mapping[str, Any] | None,
    actor: str,
    plum_order_id: str | None = None,
    message: str | None = None,
    request: Mapping[str, Any] | None = None,
) -> Order:
    """Store Plum's answer: in full encrypted, redacted in clear (audited without secrets);
    `request`: the exact request sent, when it differs from the one recorded before.

    requested → placed | failed | unknown; unknown (timeout, 5xx) → placed | failed after the
    order was looked up by poNumber.
    """
    status = OrderStatus(status)
    audit.lock_chain(session)
    order = get_order(session, po_number=po_number)
    if order is None:
        raise NotFound(f"no order {po_number}")
    old = OrderStatus(order.status)
    if status not in _ORDER_NEXT.get(old, set()):
        raise StaleStatus(f"order {po_number} is {old}; it cannot become {status}")
    crypto = session_crypto(session)
    redacted = audit.jsonable(redact(response)) if response is not None else None
    result = session.exec(
        update(Order)
        .where(Order.id == order.id)  # type: ignore[arg-type]
        .where(Order.status == old.value)  # type: ignore[arg-type]
        .values(
            status=status.value,
            response_redacted=redacted,
            response_encrypted=(
                crypto.encrypt_json(audit.jsonable(response)) if response is not None else None
            ),
            plum_order_id=plum_order_id or order.plum_order_id,
            message=message,
            updated_at=utcnow(),
            **({"request": audit.jsonable(redact(request))} if request is not None else {}),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # pragma: no cover - serialized by the chain lock
        raise StaleStatus(f"order {po_number} changed meanwhile")
    audit.append(
        session,
        actor=actor,
        action=_ORDER_ACTION[status],
        subject_type="order",
        subject_id=po_number,
        before={"status": old},
        after={
            "status": status,
            "plum_order_id": plum_order_id or order.plum_order_id,
            "message": message,
        },
    )
    fresh = session.get(Order, order.id, populate_existing=True)
    assert fresh is not None
    return fresh


def refresh_placed_response(
    session: Session, *, po_number: str, response: Mapping[str, Any], actor: str
) -> Order:
    """A placed order's answer read again from Xoxoday (its codes came later): stored as the
    first one was, in full encrypted and redacted in clear."""
    order = get_order(session, po_number=po_number)
    if order is None or order.status != OrderStatus.PLACED.value:
        raise StaleStatus(f"order {po_number} is not placed")
    crypto = session_crypto(session)
    session.exec(
        update(Order)
        .where(Order.id == order.id)  # type: ignore[arg-type]
        .values(
            response_redacted=audit.jsonable(redact(response)),
            response_encrypted=crypto.encrypt_json(audit.jsonable(response)),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    audit.append(
        session,
        actor=actor,
        action=AuditAction.ORDER_PLACED,
        subject_type="order",
        subject_id=po_number,
        after={"status": OrderStatus.PLACED, "answer": "read again from Xoxoday"},
    )
    fresh = session.get(Order, order.id, populate_existing=True)
    assert fresh is not None
    return fresh


def get_order(session: Session, *, po_number: str) -> Order | None:
    return session.exec(
        select(Order).where(Order.po_number == po_number).execution_options(populate_existing=True)
    ).first()


def reveal_order_response(session: Session, *, po_number: str) -> Any:
    """Plum's full response for an order, decrypted (voucher codes included). Never log it."""
    order = get_order(session, po_number=po_number)
    if order is None:
        raise NotFound(f"no order {po_number}")
    if order.response_encrypted is None:
        return None
    return session_crypto(session).decrypt_json(order.response_encrypted)
