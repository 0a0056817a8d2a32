"""After the order: Xoxoday's delivery status of gift cards and donations (issue 14).

Two ways in, one way to apply:

- **The webhook** (`bot.plum_webhook_web`): `receive(body)` checks the update's shape, keeps
  it once per event id (`storage.orders.record_webhook_event`; an order this bot did not place
  is kept with `matched=False`) and applies it to a placed order, all in one transaction, so the
  answer goes back fast; `after(received)` then tells people (on another thread).
- **The poll** (`bot.jobs.order_status`): `poll()` looks at orders still waiting for their
  delivery after a while, and at orders whose placeOrder outcome is not known (`unknown`, or
  `requested` for too long), and asks getOrderDetails by poNumber, so a missed webhook changes
  nothing.

An update can come before the bot has recorded placeOrder's answer (the order is still
`requested`): it is kept, and applied when the order is placed (`order_placed(po_number)`, which
the order worker calls once it recorded the answer) or by the next poll, from the kept event,
without asking Xoxoday again.

Telling: each delivery change is told exactly once, to the sender and to the person the gift is
for (`OrderDeliveryChanged`, through the teller): the change is applied under the audit-chain
lock to the order as it is then, and only the call that changed it tells. Voucher codes, pins and
links are never part of any of this: they live in the order's encrypted response only.

An order Xoxoday does not know (OrderNotFoundError) after it was sent is never marked failed
here: a lookup cannot prove the request never reached Xoxoday. It stays `unknown`, looked up
again by each poll; a stale `requested` one becomes `unknown` and the admins are told once (an
order the worker recorded `unknown` was told to them by the worker).

The order worker, recording placeOrder's answer, calls `note_answered` in that transaction (the
answer's own delivery status is told with the Reveal DM, not again when the webhook confirms
it) and `order_placed` after it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from sqlmodel import Session

from bot.plum.errors import OrderNotFoundError, PlumError
from bot.plum.models import Order as PlumOrder
from bot.rewards.events import OrderDeliveryChanged, OrderUnresolved, Teller
from storage import audit, once, webhook_events
from storage import members as member_repo
from storage import orders as order_repo
from storage.db import Store
from storage.links import get_order, record_order_response
from storage.models import Order
from storage.states import DeliveryStatus, OrderKind, OrderStatus

log = logging.getLogger(__name__)

WEBHOOK_ACTOR = "xoxoday:webhook"
POLL_ACTOR = "job:order-status"
# What is done once per order (`storage.once`): the admins hear of an order nobody can place.
UNRESOLVED_ONCE_KIND = "order_unresolved"

# Longest values kept of an update (the columns of `plum_webhook_events`).
EVENT_ID_MAX = 100
PO_NUMBER_MAX = 64
ORDER_ID_MAX = 100
STATUS_MAX = 32

# How Xoxoday spells a delivery status, lower-cased.
_STATUS_WORDS: dict[str, DeliveryStatus] = {
    "delivered": DeliveryStatus.DELIVERED,
    "complete": DeliveryStatus.DELIVERED,
    "completed": DeliveryStatus.DELIVERED,
    "canceled": DeliveryStatus.CANCELED,
    "cancelled": DeliveryStatus.CANCELED,
    "pending": DeliveryStatus.PENDING,
    "processing": DeliveryStatus.PENDING,
    "in progress": DeliveryStatus.PENDING,
}
DONE = (DeliveryStatus.DELIVERED, DeliveryStatus.CANCELED)


def delivery_status_of(text: object) -> DeliveryStatus | None:
    """`delivered`, `Canceled`, `CANCELLED`, ... as a DeliveryStatus; None for anything else."""
    if not isinstance(text, str):
        return None
    return _STATUS_WORDS.get(" ".join(text.split()).lower())


class BadUpdate(ValueError):
    """The body is not a delivery update; the message says why (safe to answer with)."""


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    event_id: str
    po_number: str | None
    plum_order_id: str | None
    raw_status: str | None
    status: DeliveryStatus | None  # None: a status the bot does not act on


def _ref(value: object, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadUpdate(f"{name} must be a string or a number")
    text = str(value).strip()
    if not text:
        return None
    if len(text) > limit:
        raise BadUpdate(f"{name} is longer than {limit} characters")
    return text


def parse_update(body: object) -> DeliveryUpdate:
    """`{"id", "data": {orderId, poNumber, orderDate, deliveryStatus}, "createdAt"}`; BadUpdate
    when it is not one (no event id, no order named, wrong types, values too long)."""
    if not isinstance(body, Mapping):
        raise BadUpdate("the body must be a JSON object")
    event_id = _ref(body.get("id"), "id", EVENT_ID_MAX)
    if event_id is None:
        raise BadUpdate("id (the event's id) is required")
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise BadUpdate("data must be an object")
    po_number = _ref(data.get("poNumber"), "data.poNumber", PO_NUMBER_MAX)
    plum_order_id = _ref(data.get("orderId"), "data.orderId", ORDER_ID_MAX)
    if po_number is None and plum_order_id is None:
        raise BadUpdate("data.poNumber or data.orderId is required")
    raw_status = data.get("deliveryStatus")
    if raw_status is not None and not isinstance(raw_status, str):
        raise BadUpdate("data.deliveryStatus must be a string")
    if raw_status is not None and len(raw_status) > STATUS_MAX:
        raise BadUpdate(f"data.deliveryStatus is longer than {STATUS_MAX} characters")
    return DeliveryUpdate(
        event_id=event_id,
        po_number=po_number,
        plum_order_id=plum_order_id,
        raw_status=raw_status,
        status=delivery_status_of(raw_status),
    )


# ── what people are told ────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class OrderCard:
    """An order as messages show it: never a voucher code, pin or link."""

    po_number: str
    kind: OrderKind
    product_name: str
    quantity: int
    denomination: Decimal
    currency_code: str | None
    value: Decimal | None
    status: OrderStatus
    sender_id: str  # Slack user id
    sender_tz: str | None = None
    recipient_id: str | None = None  # None: a donation in the team's name
    recipient_tz: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeliveryChange:
    order: OrderCard
    status: DeliveryStatus  # delivered or canceled


class OrderLookup(Protocol):
    """getOrderDetails (`bot.plum.PlumClient`)."""

    def get_order_details(
        self,
        *,
        order_id: int | None = None,
        po_number: str | None = None,
        send_mail_to_receiver: bool = False,
    ) -> PlumOrder: ...


def card_of(session: Session, order: Order) -> OrderCard:
    giver = member_repo.get_member(session, member_id=order.giver_id) if order.giver_id else None
    recipient = (
        member_repo.get_member(session, member_id=order.recipient_id)
        if order.recipient_id
        else None
    )
    return OrderCard(
        po_number=order.po_number,
        kind=OrderKind(order.kind),
        product_name=order.product_name or f"product {order.product_id}",
        quantity=order.quantity,
        denomination=order.denomination,
        currency_code=order.currency_code,
        value=order.order_value,
        status=OrderStatus(order.status),
        sender_id=giver.slack_user_id if giver is not None else order.requested_by,
        sender_tz=giver.tz if giver is not None else None,
        recipient_id=recipient.slack_user_id if recipient is not None else None,
        recipient_tz=recipient.tz if recipient is not None else None,
        created_at=order.created_at,
    )


# ── results ─────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Received:
    """What one webhook call did. `duplicate`: this event id was kept before (nothing done);
    `matched`: it names an order of this bot; `changes` are told by `after`; `look_up` is an
    order whose placeOrder outcome is unknown, looked up by `after`; `unresolved` an order the
    bot took for failed that Xoxoday says it has (the admins are told by `after`)."""

    event_id: str
    duplicate: bool = False
    matched: bool = False
    applied: bool = False
    changes: tuple[DeliveryChange, ...] = ()
    look_up: str | None = None
    unresolved: tuple[OrderCard, str] | None = None


@dataclass(slots=True)
class PollReport:
    checked: int = 0
    delivered: int = 0
    canceled: int = 0
    placed: int = 0  # unknown or stale requested orders Xoxoday turned out to have
    unresolved: int = 0  # not found at Xoxoday: kept unknown, the admins told (once)
    failed_lookups: int = 0  # Xoxoday could not be asked
    errors: list[str] = field(default_factory=list)

    def text(self) -> str:
        if not self.checked:
            return "no orders waiting for their delivery status"
        parts = [f"checked {self.checked} order(s)"]
        for count, what in (
            (self.delivered, "delivered"),
            (self.canceled, "canceled"),
            (self.placed, "found placed by poNumber"),
            (self.unresolved, "not found at Xoxoday (kept unknown)"),
            (self.failed_lookups, "could not be looked up"),
        ):
            if count:
                parts.append(f"{count} {what}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Checked:
    change: DeliveryChange | None = None
    placed: bool = False
    unresolved: bool = False
    lookup_failed: bool = False


# ── the service ─────────────────────────────────────────────────────────────────────────


class OrderUpdates:
    def __init__(
        self,
        *,
        store: Store,
        plum: OrderLookup,
        teller: Teller,
        ask_after: timedelta | None = None,
    ) -> None:
        self._store = store
        self._plum = plum
        self._teller = teller
        # REWARD_IN_DOUBT_ADMIN_MINUTES: an order recorded `unknown` was not told to the admins
        # (the poll looks it up by poNumber first); one still unresolved this long after is.
        # None: the order worker told them when it recorded `unknown`.
        self._ask_after = ask_after

    # --- the webhook ------------------------------------------------------------------------

    def receive(self, body: object) -> Received:
        """Keep and apply one webhook call (BadUpdate when it is not one). Nobody is told yet:
        hand the result to `after` once Xoxoday has its answer."""
        update = parse_update(body)
        with self._store.session(correlation_id=f"plum-webhook:{update.event_id}") as session:
            audit.lock_chain(session)  # one update (or poll) applies at a time: told once
            order = self._order_named(session, update)
            fresh = order_repo.record_webhook_event(
                session,
                event_id=update.event_id,
                po_number=update.po_number,
                plum_order_id=update.plum_order_id,
                delivery_status=update.raw_status,
                matched=order is not None,
                body=body if isinstance(body, Mapping) else None,
            )
            if not fresh:
                return Received(update.event_id, duplicate=True, matched=order is not None)
            if order is None:
                log.info("plum webhook %s names no order of this bot", update.event_id)
                return Received(update.event_id)
            status = OrderStatus(order.status)
            if update.status is None:
                log.info(
                    "plum webhook %s: status %r not acted on", update.event_id, update.raw_status
                )
                return Received(update.event_id, matched=True)
            if status == OrderStatus.PLACED:
                change = _apply(session, order.po_number, update.status, actor=WEBHOOK_ACTOR)
                changes = (change,) if change is not None else ()
                return Received(update.event_id, matched=True, applied=True, changes=changes)
            if status == OrderStatus.UNKNOWN:
                return Received(update.event_id, matched=True, look_up=order.po_number)
            if status in (OrderStatus.FAILED, OrderStatus.REJECTED) and update.status in DONE:
                reason = (
                    f"Xoxoday says this order was {update.status.value}, but the bot took it "
                    f"for {status.value}: check it in Xoxoday's dashboard."
                )
                return Received(
                    update.event_id, matched=True, unresolved=(card_of(session, order), reason)
                )
            # requested (placeOrder's answer not recorded yet), queued, pending approval: kept,
            # applied by `order_placed` or the next poll.
            return Received(update.event_id, matched=True)

    def after(self, received: Received) -> None:
        """What a webhook call leaves to do once it was answered: tell people, look an order
        up. Never raises."""
        try:
            for change in received.changes:
                self._tell(change)
            if received.unresolved is not None:
                card, reason = received.unresolved
                self._unresolved_once(card, reason)
            if received.look_up is not None:
                self.check(received.look_up, actor=WEBHOOK_ACTOR)
        except Exception:
            log.exception("plum webhook %s: telling or looking up failed", received.event_id)

    # --- placeOrder answered ----------------------------------------------------------------

    def order_placed(self, po_number: str) -> DeliveryChange | None:
        """Once placeOrder's answer is recorded (`placed`): apply a delivery update that came
        before it, and tell people. None when there was none (or it changed nothing)."""
        with self._store.session() as session:
            audit.lock_chain(session)
            order = get_order(session, po_number=po_number)
            if order is None or order.status != OrderStatus.PLACED.value:
                return None
            kept = _kept_status(session, order)
            change = (
                _apply(session, po_number, kept, actor=WEBHOOK_ACTOR) if kept is not None else None
            )
        if change is not None:
            self._tell(change)
        return change

    # --- the poll -----------------------------------------------------------------------------

    def poll(
        self, *, pending_after: timedelta, requested_after: timedelta, limit: int = 100
    ) -> PollReport:
        """Check orders still waiting for their delivery `pending_after` after their last
        change, and orders `requested` for `requested_after` with no answer recorded."""
        with self._store.read_session() as session:
            waiting = order_repo.undelivered_older_than(session, age=pending_after, limit=limit)
            stale = order_repo.requested_older_than(session, age=requested_after)[:limit]
        report = PollReport()
        for po_number in dict.fromkeys(o.po_number for o in [*stale, *waiting]):
            report.checked += 1
            try:
                checked = self.check(po_number, actor=POLL_ACTOR)
            except Exception as err:  # one order must not stop the others
                log.exception("order-status: order %s could not be checked", po_number)
                report.errors.append(f"{po_number}: {type(err).__name__}")
                continue
            if checked.change is not None:
                if checked.change.status == DeliveryStatus.DELIVERED:
                    report.delivered += 1
                else:
                    report.canceled += 1
            report.placed += int(checked.placed)
            report.unresolved += int(checked.unresolved)
            report.failed_lookups += int(checked.lookup_failed)
        return report

    def check(self, po_number: str, *, actor: str = POLL_ACTOR) -> Checked:
        """Bring one order up to date: a kept update first, else getOrderDetails by poNumber.
        A placed order gets its delivery status; an unknown or requested one that Xoxoday has
        becomes placed; one it does not have stays (or becomes) unknown, the admins told once."""
        with self._store.read_session() as session:
            order = get_order(session, po_number=po_number)
            if order is None:
                return Checked()
            status = OrderStatus(order.status)
            kept = _kept_status(session, order) if status == OrderStatus.PLACED else None
        if status not in (OrderStatus.PLACED, OrderStatus.UNKNOWN, OrderStatus.REQUESTED):
            return Checked()
        if kept is not None:
            with self._store.session() as session:
                audit.lock_chain(session)
                change = _apply(session, po_number, kept, actor=actor)
            if change is not None:
                self._tell(change)
                return Checked(change=change)
        try:
            found = self._plum.get_order_details(po_number=po_number)
        except OrderNotFoundError:
            return self._not_found(po_number, actor=actor)
        except PlumError as err:
            log.warning("order %s could not be looked up (%s)", po_number, type(err).__name__)
            if status == OrderStatus.UNKNOWN:
                self._ask_admins_when_due(
                    po_number,
                    "Xoxoday's answer proved nothing and the order can't be looked up by its "
                    "poNumber right now: check Xoxoday's dashboard before ordering again.",
                )
            return Checked(lookup_failed=True)
        delivery = delivery_status_of(found.delivery_status)
        if delivery is None and delivery_status_of(found.order_status) == DeliveryStatus.CANCELED:
            delivery = DeliveryStatus.CANCELED
        placed = False
        with self._store.session() as session:
            audit.lock_chain(session)
            order = get_order(session, po_number=po_number)
            if order is None:
                return Checked()
            if order.status in (OrderStatus.UNKNOWN.value, OrderStatus.REQUESTED.value):
                record_order_response(
                    session,
                    po_number=po_number,
                    status=OrderStatus.PLACED,
                    response={"data": {"getOrderDetails": {"status": 1, "data": found.raw}}},
                    actor=actor,
                    plum_order_id=str(found.order_id) if found.order_id is not None else None,
                    message="found by poNumber",
                )
                placed = True
            change = (
                _apply(session, po_number, delivery, actor=actor) if delivery is not None else None
            )
        if change is not None:
            self._tell(change)
        return Checked(change=change, placed=placed)

    def _not_found(self, po_number: str, *, actor: str) -> Checked:
        with self._store.session() as session:
            audit.lock_chain(session)
            order = get_order(session, po_number=po_number)
            if order is None:
                return Checked()
            status = OrderStatus(order.status)
            if status == OrderStatus.REQUESTED:
                order = record_order_response(
                    session,
                    po_number=po_number,
                    status=OrderStatus.UNKNOWN,
                    response=None,
                    actor=actor,
                    message="not found by poNumber long after it was sent",
                )
            card = card_of(session, order)
        if status == OrderStatus.UNKNOWN:
            # Whoever recorded `unknown` told the admins then, or (with `ask_after`) they are
            # told once it has stayed unresolved that long; it stays unknown, and is looked up
            # again next time.
            self._ask_admins_when_due(
                po_number,
                "Xoxoday finds no order with this poNumber, and the bot can't prove the order "
                "never reached Xoxoday, so it stays unknown: check Xoxoday's dashboard before "
                "ordering again.",
            )
            return Checked(unresolved=True)
        if status == OrderStatus.PLACED:
            reason = (
                "The bot recorded this order as placed, but Xoxoday finds no order with its "
                "poNumber: check it in Xoxoday's dashboard."
            )
        else:
            reason = (
                "Xoxoday finds no order with this poNumber, and the bot can't prove the order "
                "never reached Xoxoday, so it stays unknown: check Xoxoday's dashboard before "
                "ordering again."
            )
        self._unresolved_once(card, reason)
        return Checked(unresolved=True)

    # --- telling ------------------------------------------------------------------------------

    def _tell(self, change: DeliveryChange) -> None:
        try:
            self._teller.tell(OrderDeliveryChanged(change))
        except Exception:
            log.exception("order %s: the delivery change was not told", change.order.po_number)

    def _ask_admins_when_due(self, po_number: str, reason: str) -> None:
        """An order `unknown` past `ask_after` that Xoxoday's records don't settle: the admins
        hear of it once (not when the order worker told them already: no `ask_after`)."""
        if self._ask_after is None:
            return
        with self._store.read_session() as session:
            order = get_order(session, po_number=po_number)
            if order is None or order.status != OrderStatus.UNKNOWN.value:
                return
            since = order.updated_at
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            if datetime.now(UTC) - since < self._ask_after:
                return
            card = card_of(session, order)
        self._unresolved_once(card, reason)

    def _unresolved_once(self, card: OrderCard, reason: str) -> bool:
        with self._store.session() as session:
            first = once.claim_once(session, kind=UNRESOLVED_ONCE_KIND, key=card.po_number)
        if first:
            try:
                self._teller.tell(OrderUnresolved(card, reason=reason))
            except Exception:
                log.exception("order %s: the admins were not told", card.po_number)
        return first

    @staticmethod
    def _order_named(session: Session, update: DeliveryUpdate) -> Order | None:
        order = get_order(session, po_number=update.po_number) if update.po_number else None
        if order is None and update.plum_order_id:
            order = order_repo.find_by_plum_id(session, plum_order_id=update.plum_order_id)
        return order


def note_answered(
    session: Session, *, po_number: str, delivery_status: str | None, actor: str
) -> None:
    """In the transaction that records placeOrder's answer (`placed`): keep the delivery status
    the answer gave (a realtime order is `delivered` at once), telling nobody, since whoever
    records the answer tells people about it (the Reveal DM). A webhook saying the same later
    then changes nothing and tells nothing; one saying something else (canceled, or delivered
    after `pending`) is told. Without it, the webhook's first word is told."""
    status = delivery_status_of(delivery_status)
    if status is not None:
        audit.lock_chain(session)
        _apply(session, po_number, status, actor=actor)


def _kept_status(session: Session, order: Order) -> DeliveryStatus | None:
    """The newest delivered/canceled status a kept webhook event gives this order."""
    events = webhook_events.events_for_order(
        session, po_number=order.po_number, plum_order_id=order.plum_order_id
    )
    for event in reversed(events):
        status = delivery_status_of(event.delivery_status)
        if status in DONE:
            return status
    return None


def _apply(
    session: Session, po_number: str, status: DeliveryStatus, *, actor: str
) -> DeliveryChange | None:
    """Set a placed order's delivery status, read under the chain lock (the caller holds it);
    the change to tell, or None when nothing changed (or it is only `pending`)."""
    order = get_order(session, po_number=po_number)
    if order is None or order.status != OrderStatus.PLACED.value:
        return None
    current = delivery_status_of(order.delivery_status)
    if status == DeliveryStatus.PENDING and current in DONE:
        return None  # an older update arriving late: never back to pending
    fresh, changed = order_repo.set_delivery(session, order=order, status=status, actor=actor)
    if not changed or status not in DONE:
        return None
    return DeliveryChange(order=card_of(session, fresh), status=status)


__all__ = [
    "BadUpdate",
    "DeliveryChange",
    "DeliveryUpdate",
    "OrderCard",
    "OrderLookup",
    "OrderUpdates",
    "PollReport",
    "Received",
    "delivery_status_of",
    "note_answered",
    "parse_update",
]
