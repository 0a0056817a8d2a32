"""What the ledger says the Xoxoday account paid in a window, for the daily reconciliation with
Xoxoday's payment report, and the admins' order reports.

- Gift cards and donations: an order's placeOrder call is the moment money moves, which is its
  `order.sending` audit event (queued → requested); an order counts when that event falls in the
  window and it is placed, or still unknown / requested (it may have been charged). What the
  account was charged is the `amountCharged` of Xoxoday's answer (kept redacted in clear) when
  there is one, else the order's value.
- Points at Xoxoday (sendBalance): every recipient whose points were delivered in the window
  (`sent_at`), also those cancelled since (the debit happened that day; the refund is another
  day's credit), with the unique id Xoxoday gave them.
- Refunds (credits): points withdrawn by a cancel in the window (the reward's `cancelled_at`),
  and orders Xoxoday canceled in the window (their `order.delivery` audit event to `canceled`),
  which Xoxoday gives back.

Read-only; plain values, so callers need no session afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.audit import AuditAction
from storage.models import AuditEvent, Member, Order, Reward, RewardRecipient
from storage.states import DeliveryStatus, OrderStatus, RecipientOutcome, RewardStatus

# Orders whose placeOrder may have charged the account.
MAY_HAVE_PAID = (OrderStatus.PLACED, OrderStatus.UNKNOWN, OrderStatus.REQUESTED)
# Recipients whose sendBalance was paid for (a cancel later is a refund, not an undoing).
POINTS_PAID = (RecipientOutcome.SENT, RecipientOutcome.CANCELLED)
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class OrderSpend:
    """An order as the reports and the reconciliation read it."""

    po_number: str
    plum_order_id: str | None
    kind: str
    status: str
    delivery_status: str | None
    product_name: str | None
    quantity: int
    order_value: Decimal | None  # the account's currency
    currency_code: str | None  # the product's (its face value's)
    face_value: Decimal
    charged: Decimal | None  # Xoxoday's amountCharged (account currency), when it said
    giver_slack_id: str | None
    giver_name: str | None
    recipient_slack_id: str | None
    recipient_name: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def expected_charge(self) -> Decimal | None:
        return self.charged if self.charged is not None else self.order_value


@dataclass(frozen=True, slots=True)
class PointsSpend:
    """One recipient's points of a reward, delivered through sendBalance."""

    reward_short_id: str
    recipient_slack_id: str
    giver_slack_id: str
    points: int
    plum_unique_id: str | None
    outcome: str
    sent_at: datetime | None


def _charged(response: Any) -> Decimal | None:
    """The first `amountCharged` in a (redacted) placeOrder / getOrderDetails answer."""
    stack = [response]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if "amountCharged" in node and node["amountCharged"] not in (None, ""):
                try:
                    return Decimal(str(node["amountCharged"]))
                except InvalidOperation:
                    return None
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _members(session: Session, ids: Iterable[int | None]) -> dict[int, Member]:
    wanted = sorted({i for i in ids if i is not None})
    found: dict[int, Member] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for member in session.exec(select(Member).where(col(Member.id).in_(chunk))).all():
            assert member.id is not None
            found[member.id] = member
    return found


def _name(member: Member | None) -> str | None:
    if member is None:
        return None
    return member.display_name or member.real_name or member.slack_user_id


def order_spends(session: Session, orders: Iterable[Order]) -> list[OrderSpend]:
    """Orders as plain values, with their sender's and recipient's Slack ids and names."""
    rows = list(orders)
    members = _members(session, [o.giver_id for o in rows] + [o.recipient_id for o in rows])
    out = []
    for o in rows:
        giver = members.get(o.giver_id) if o.giver_id is not None else None
        recipient = members.get(o.recipient_id) if o.recipient_id is not None else None
        out.append(
            OrderSpend(
                po_number=o.po_number,
                plum_order_id=o.plum_order_id,
                kind=o.kind,
                status=o.status,
                delivery_status=o.delivery_status,
                product_name=o.product_name,
                quantity=o.quantity,
                order_value=o.order_value,
                currency_code=o.currency_code,
                face_value=o.denomination * o.quantity,
                charged=_charged(o.response_redacted),
                giver_slack_id=giver.slack_user_id if giver else o.requested_by or None,
                giver_name=_name(giver),
                recipient_slack_id=recipient.slack_user_id if recipient else None,
                recipient_name=_name(recipient),
                created_at=o.created_at,
                updated_at=o.updated_at,
            )
        )
    return out


def orders_paid_between(session: Session, *, since: datetime, until: datetime) -> list[OrderSpend]:
    """Orders whose placeOrder was called in [since, until) and may have charged the account."""
    po_numbers = session.exec(
        select(AuditEvent.subject_id)
        .where(AuditEvent.subject_type == "order")
        .where(AuditEvent.action == AuditAction.ORDER_SENDING.value)
        .where(col(AuditEvent.at) >= since)
        .where(col(AuditEvent.at) < until)
    ).all()
    return orders_by_po_number(session, set(po_numbers), statuses=MAY_HAVE_PAID)


def orders_by_po_number(
    session: Session,
    po_numbers: Iterable[str],
    *,
    statuses: Iterable[OrderStatus] | None = None,
) -> list[OrderSpend]:
    wanted = sorted(set(po_numbers))
    found: list[Order] = []
    for start in range(0, len(wanted), _CHUNK):
        query = select(Order).where(col(Order.po_number).in_(wanted[start : start + _CHUNK]))
        if statuses is not None:
            query = query.where(col(Order.status).in_([s.value for s in statuses]))
        found.extend(session.exec(query).all())
    found.sort(key=lambda o: (o.created_at, o.id or 0))
    return order_spends(session, found)


def orders_by_reference(session: Session, references: Iterable[str]) -> dict[str, OrderSpend]:
    """Orders known by Xoxoday's order id or by poNumber, keyed by the reference given."""
    wanted = sorted({r for r in references if r})
    by_ref: dict[str, OrderSpend] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.exec(
            select(Order).where(
                col(Order.plum_order_id).in_(chunk) | col(Order.po_number).in_(chunk)
            )
        ).all()
        for spend in order_spends(session, rows):
            for ref in (spend.plum_order_id, spend.po_number):
                if ref in chunk:
                    by_ref[ref] = spend
    return by_ref


def _points(session: Session, rows: list[tuple[RewardRecipient, Reward]]) -> list[PointsSpend]:
    members = _members(session, [r.member_id for r, _ in rows] + [r.giver_id for r, _ in rows])
    out = []
    for recipient, reward in rows:
        person = members.get(recipient.member_id)
        giver = members.get(recipient.giver_id)
        out.append(
            PointsSpend(
                reward_short_id=reward.short_id,
                recipient_slack_id=person.slack_user_id if person else str(recipient.member_id),
                giver_slack_id=giver.slack_user_id if giver else str(recipient.giver_id),
                points=recipient.points,
                plum_unique_id=recipient.plum_unique_id,
                outcome=recipient.outcome,
                sent_at=recipient.sent_at,
            )
        )
    return out


def points_sent_between(session: Session, *, since: datetime, until: datetime) -> list[PointsSpend]:
    """Recipients whose points were delivered in [since, until) (cancelled since included)."""
    rows = session.exec(
        select(RewardRecipient, Reward)
        .join(Reward, col(Reward.id) == RewardRecipient.reward_id)
        .where(col(RewardRecipient.outcome).in_([o.value for o in POINTS_PAID]))
        .where(col(RewardRecipient.sent_at) >= since)
        .where(col(RewardRecipient.sent_at) < until)
        .order_by(col(RewardRecipient.sent_at), col(RewardRecipient.id))
    ).all()
    return _points(session, [(r, w) for r, w in rows])


def points_refunded_between(session: Session, *, since: datetime, until: datetime) -> int:
    """Points sendBalance delivered that a cancel in [since, until) withdrew (Xoxoday's credit)."""
    total = session.exec(
        select(func.coalesce(func.sum(RewardRecipient.points), 0))
        .join(Reward, col(Reward.id) == RewardRecipient.reward_id)
        .where(RewardRecipient.outcome == RecipientOutcome.CANCELLED.value)
        .where(col(RewardRecipient.sent_at).is_not(None))
        .where(col(Reward.cancelled_at) >= since)
        .where(col(Reward.cancelled_at) < until)
    ).one()
    return int(total or 0)


def orders_refunded_between(
    session: Session, *, since: datetime, until: datetime
) -> list[OrderSpend]:
    """Placed orders Xoxoday canceled in [since, until) (their charge comes back)."""
    events = session.exec(
        select(AuditEvent.subject_id, AuditEvent.after)
        .where(AuditEvent.subject_type == "order")
        .where(AuditEvent.action == AuditAction.ORDER_DELIVERY.value)
        .where(col(AuditEvent.at) >= since)
        .where(col(AuditEvent.at) < until)
    ).all()
    canceled = {
        po
        for po, after in events
        if isinstance(after, Mapping) and after.get("delivery_status") == DeliveryStatus.CANCELED
    }
    return orders_by_po_number(session, canceled, statuses=(OrderStatus.PLACED,))


def points_by_unique_id(session: Session, unique_ids: Iterable[str]) -> dict[str, PointsSpend]:
    """Recipients known by the unique id Xoxoday's sendBalance gave them."""
    wanted = sorted({u for u in unique_ids if u})
    found: dict[str, PointsSpend] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.exec(
            select(RewardRecipient, Reward)
            .join(Reward, col(Reward.id) == RewardRecipient.reward_id)
            .where(col(RewardRecipient.plum_unique_id).in_(wanted[start : start + _CHUNK]))
        ).all()
        for spend in _points(session, [(r, w) for r, w in rows]):
            if spend.plum_unique_id is not None:
                found[spend.plum_unique_id] = spend
    return found


def answered_sends_started(session: Session, unique_ids: Iterable[str]) -> list[datetime]:
    """When each send Xoxoday answered with one of these unique ids was started (claimed,
    before its request left): rewards settled by anyone are left out, since their ids were not
    Xoxoday's answer to that send."""
    wanted = sorted({u for u in unique_ids if u})
    found: list[datetime] = []
    for start in range(0, len(wanted), _CHUNK):
        rows = session.exec(
            select(Reward.sending_at)
            .join(RewardRecipient, col(Reward.id) == RewardRecipient.reward_id)
            .where(col(RewardRecipient.plum_unique_id).in_(wanted[start : start + _CHUNK]))
            .where(col(Reward.settled_by).is_(None))
            .where(col(Reward.sending_at).is_not(None))
        ).all()
        found += [when for when in rows if when is not None]
    return found


def in_doubt_counts(session: Session) -> tuple[int, int]:
    """(rewards in doubt, orders whose outcome is unknown): what an unknown payment may be."""
    rewards = session.exec(
        select(func.count()).select_from(Reward).where(Reward.status == RewardStatus.IN_DOUBT.value)
    ).one()
    orders = session.exec(
        select(func.count())
        .select_from(Order)
        .where(col(Order.status).in_([OrderStatus.UNKNOWN.value, OrderStatus.REQUESTED.value]))
    ).one()
    return int(rewards), int(orders)
