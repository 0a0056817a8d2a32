"""The order worker: places queued gift and donation orders with placeOrder, one at a time.

An order is claimed (queued → requested) and committed before placeOrder is called, with the
poNumber it was created with, so a crash leaves it `requested`; at start those are sent again
with the same poNumber. That is safe: Xoxoday never makes a second order for a poNumber it
knows (it answers "duplicate", and the order is then looked up), and after a timeout or a 5xx
the client looks the order up by poNumber before it sends anything again
(`PlumClient.place_order`). Every claim ends:
- placed: the recipient gets a DM with Reveal (the codes stay encrypted in the ledger);
- failed: Xoxoday refused; the sender is told why, and points paid with are given back;
- unknown: Xoxoday's answer proved nothing and a lookup could not tell; the order-status job
  keeps looking it up by poNumber (found: placed), and the admins are told at once with
  REWARD_IN_DOUBT_ADMIN_MINUTES=0, otherwise once it is still unresolved after that long;
- back to queued: the call provably never reached Xoxoday; tried again shortly.
A realtime order can take up to two minutes: the sender was told it is on its way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from bot import logs
from bot.plum import DuplicatePoNumberError, OrderNotFoundError, PlumClient, PlumError
from bot.processes import worker_id
from bot.rewards.events import Event, OrderFailed, OrderInDoubt, OrderPlaced, Teller
from bot.rewards.gifts import give_points_back, load_card
from bot.rewards.order_updates import note_answered
from bot.rewards.redelivery import Verdict, read_failure
from bot.settings import Settings
from storage import links as order_repo
from storage import members as member_repo
from storage import orders as orders_repo
from storage.db import Store
from storage.models import Order
from storage.states import OrderStatus

log = logging.getLogger(__name__)

RETRY_NOT_SENT_SECONDS = 30.0


class OrderWorker:
    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        settings: Settings,
        teller: Teller,
        placed: Callable[[str], object] = lambda po_number: None,
        poll_seconds: float = 2.0,
    ) -> None:
        self._placed = placed  # after an order is recorded placed (`OrderUpdates.order_placed`)
        self._store = store
        self._plum = plum
        self._settings = settings
        self._teller = teller
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Lock()
        self.worker_id = worker_id()

    def start(self) -> None:
        self.recover()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="orders", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def idle(self) -> bool:
        """No order in hand (for tests and tools)."""
        if self._busy.locked():
            return False
        with self._store.read_session() as session:
            counts = orders_repo.count_by_status(session)
        return not counts.get(OrderStatus.QUEUED.value)

    def recover(self) -> int:
        """At start: orders a crash left `requested` go back to the queue (same poNumber)."""
        if self._store.is_postgres:
            return 0  # shared: the order-status job looks stale ones up
        with self._store.session() as session:
            left = orders_repo.requested_older_than(session, age=timedelta(0))
            for order in left:
                order_repo.record_order_response(
                    session,
                    po_number=order.po_number,
                    status=OrderStatus.QUEUED,
                    response=None,
                    actor=self.worker_id,
                    message="sent again after a restart, with the same poNumber",
                )
        if left:
            log.warning("%d order(s) left being placed are sent again", len(left))
            self.wake()
        return len(left)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                while not self._stopping.is_set() and self.run_once():
                    pass
            except Exception:
                log.exception("order loop error; retrying shortly")
            self._wake.wait(self._poll)
            self._wake.clear()

    def run_once(self) -> bool:
        with self._busy:
            with self._store.session() as session:
                order = orders_repo.claim_next_queued(session, claimed_by=self.worker_id)
            if order is None:
                return False
            with logs.bound(po_number=order.po_number):  # on every line (LOG_FORMAT=json)
                self._place(order)
            return True

    def _place(self, order: Order) -> None:
        email = self._email_for(order)
        try:
            placed = self._plum.place_order(
                product_id=int(order.product_id),
                quantity=order.quantity,
                denomination=order.denomination,
                po_number=order.po_number,
                email=email,
                tag="rewardbot",
                notify_receiver_email=self._settings.REWARD_GIFT_NOTIFY_EMAIL,
            )
        except DuplicatePoNumberError:
            self._found_or_unknown(order)
            return
        except PlumError as err:
            self._after_failure(order, err)
            return
        except Exception:
            log.exception("order %s: placeOrder crashed; in doubt", order.po_number)
            self._end(order, OrderStatus.UNKNOWN, None, "The bot failed while ordering.")
            return
        plum_id = placed.order.order_id
        self._end(
            order,
            OrderStatus.PLACED,
            placed.response,
            None,
            plum_order_id=str(plum_id) if plum_id is not None else None,
            request=placed.request,
            delivery_status=placed.order.delivery_status,
        )

    def _email_for(self, order: Order) -> str | None:
        with self._store.read_session() as session:
            member_id = order.recipient_id or order.giver_id
            member = member_repo.get_member(session, member_id=member_id) if member_id else None
        return member.email if member is not None else None

    def _found_or_unknown(self, order: Order) -> None:
        """Xoxoday knows this poNumber already: the order is there; read it."""
        try:
            found = self._plum.get_order_details(po_number=order.po_number)
        except OrderNotFoundError:
            self._end(
                order, OrderStatus.UNKNOWN, None, "Xoxoday knows the order but can't show it."
            )
            return
        except PlumError as err:
            log.warning("order %s: lookup failed (%s)", order.po_number, type(err).__name__)
            self._end(order, OrderStatus.UNKNOWN, None, "Xoxoday's answer was lost.")
            return
        self._end(
            order,
            OrderStatus.PLACED,
            dict(found.raw),
            None,
            plum_order_id=str(found.order_id) if found.order_id is not None else None,
            delivery_status=found.delivery_status,
        )

    def _after_failure(self, order: Order, err: PlumError) -> None:
        reading = read_failure(err)
        if reading.verdict is Verdict.UNKNOWN:
            log.warning("order %s: outcome unknown (%s)", order.po_number, type(err).__name__)
            self._end(order, OrderStatus.UNKNOWN, None, f"{reading.reason}.")
        elif reading.verdict is Verdict.REFUSED:
            log.warning("order %s: Xoxoday refused (%s)", order.po_number, type(err).__name__)
            self._end(order, OrderStatus.FAILED, None, reading.reason)
        else:
            log.warning("order %s: not sent (%s); again soon", order.po_number, reading.reason)
            with self._store.session() as session:
                order_repo.record_order_response(
                    session,
                    po_number=order.po_number,
                    status=OrderStatus.QUEUED,
                    response=None,
                    actor=self.worker_id,
                    message=reading.reason,
                )
            self._stopping.wait(RETRY_NOT_SENT_SECONDS)

    def _end(
        self,
        order: Order,
        status: OrderStatus,
        response: dict[str, object] | None,
        message: str | None,
        *,
        plum_order_id: str | None = None,
        request: dict[str, object] | None = None,
        delivery_status: str | None = None,
    ) -> None:
        with self._store.session() as session:
            done = order_repo.record_order_response(
                session,
                po_number=order.po_number,
                status=status,
                response=response,
                actor=self.worker_id,
                plum_order_id=plum_order_id,
                message=message,
                request=request,
            )
            if status is OrderStatus.FAILED and done.points_cents:
                give_points_back(session, done)
            if status is OrderStatus.PLACED:  # the Reveal DM tells this delivery status
                note_answered(
                    session,
                    po_number=order.po_number,
                    delivery_status=delivery_status,
                    actor=self.worker_id,
                )
            card = load_card(session, done)
        if status is OrderStatus.PLACED:
            try:
                self._placed(order.po_number)  # a webhook that came before this answer
            except Exception:
                log.exception(
                    "order %s: an earlier delivery update was not applied", order.po_number
                )
        event: Event
        if status is OrderStatus.PLACED:
            event = OrderPlaced(card)
        elif status is OrderStatus.FAILED:
            event = OrderFailed(card)
        elif self._settings.REWARD_IN_DOUBT_ADMIN_MINUTES > 0:
            # The order-status job looks it up by poNumber first; the admins hear of it if it
            # is still unresolved after REWARD_IN_DOUBT_ADMIN_MINUTES (`OrderUpdates`).
            event = OrderInDoubt(card, ())
        else:
            event = OrderInDoubt(card, tuple(self._settings.REWARD_ADMINS))
        try:
            self._teller.tell(event)
        except Exception:
            log.exception("could not tell people about order %s", order.po_number)
