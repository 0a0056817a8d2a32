"""The sandbox's account: balance, points ledger, orders, link batches, issued tokens, and the
store's sign-ins and orders (`state.store`, see `storefront.book`).

Thread-safe (one re-entrant lock). With a `path`, every change is saved atomically and the
state is loaded again on start, so an embedded sandbox keeps its account across restarts.

Money: the account has one currency (INR by default). Points are whole numbers and one point
costs one unit of the account currency. Orders and links in other currencies are converted at
the fixed rates in `catalogue.py` and rounded half-up to whole units, so every ledger amount is
whole (the seed spec types payment-history amounts as integers).
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.simulators.plum_sandbox.catalogue import Campaign, Product, convert_whole, exchange_rate
from bot.simulators.plum_sandbox.clock import Clock, add_months, checked_now, epoch_ms, utc_now
from bot.simulators.plum_sandbox.persistence import read_json, write_json_atomic
from bot.simulators.plum_sandbox.records import (
    LedgerEntry,
    LinkBatch,
    Order,
    PointsTransaction,
    TokenRecord,
    Voucher,
)
from bot.simulators.plum_sandbox.storefront.book import StoreBook

DEFAULT_BALANCE = Decimal("100000")
DEFAULT_CURRENCY = "INR"
CANCEL_WINDOW = timedelta(days=90)
STATE_VERSION = 1
_FIRST_IDS = {"unique_id": 5758001, "order_id": 9800001, "invoice": 1, "batch": 1}


class StateError(Exception):
    """A rule of the account refused the change; the message is safe to show."""


class InsufficientBalance(StateError):
    pass


class DuplicatePoNumber(StateError):
    pass


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str
    points: int
    citation: str = ""


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    unique_id: int
    success: bool
    message: str


class SandboxState:
    def __init__(
        self,
        *,
        balance: Decimal = DEFAULT_BALANCE,
        currency: str = DEFAULT_CURRENCY,
        seed: int = 0,
        clock: Clock | None = None,
        path: Path | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._clock: Clock = clock or utc_now
        self._path = Path(path) if path else None
        self._rng = random.Random(f"state:{seed}")
        self._initial_balance = Decimal(balance)
        self._currency = currency
        self._counters = dict(_FIRST_IDS)
        self._tokens: dict[str, TokenRecord] = {}
        self.store = StoreBook(lock=self._lock, now=self.now, changed=self._save)
        self._clear_business(self._initial_balance)
        saved = read_json(self._path) if self._path else None
        if saved is not None:
            self._load(saved)
        else:
            self._save()

    # ----- plumbing -------------------------------------------------------------------------
    def now(self) -> datetime:
        return checked_now(self._clock)

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def path(self) -> Path | None:
        return self._path

    @contextmanager
    def _changing(self) -> Iterator[None]:
        with self._lock:
            yield
            self._save()

    def _next(self, name: str) -> int:
        value = self._counters[name]
        self._counters[name] = value + 1
        return value

    def _clear_business(self, balance: Decimal) -> None:
        self._balance = Decimal(0)
        self._transactions: dict[int, PointsTransaction] = {}
        self._orders: dict[int, Order] = {}
        self._po_index: dict[str, int] = {}
        self._ledger: list[LedgerEntry] = []
        self._ledger_json: list[dict[str, Any]] = []  # rows never change: serialised once
        self._batches: list[LinkBatch] = []
        self.store.clear_orders()  # sign-ins stay, like issued tokens
        self._post("FUND", "Funds added to the sandbox account", balance, "Complete")

    def _post(self, reference: str, reason: str, amount: Decimal, status: str) -> LedgerEntry:
        self._balance += amount
        invoice = self._next("invoice")
        entry = LedgerEntry(
            invoice_number=f"INV-{invoice:07d}",
            reference_id=reference if reference != "FUND" else f"FUND-{invoice}",
            at=self.now(),
            reason=reason,
            amount=amount,
            status=status,
            closing_balance=self._balance,
        )
        self._ledger.append(entry)
        self._ledger_json.append(entry.to_json())
        return entry

    def _save(self) -> None:
        if self._path is None:
            return
        with self._lock:
            write_json_atomic(self._path, self._dump())

    def _dump(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "balance": str(self._balance),
            "currency": self._currency,
            "counters": dict(self._counters),
            "transactions": [t.to_json() for t in self._transactions.values()],
            "orders": [o.to_json() for o in self._orders.values()],
            "ledger": self._ledger_json,
            "link_batches": [b.to_json() for b in self._batches],
            "tokens": [t.to_json() for t in self._tokens.values()],
            "store": self.store.dump(),
        }

    def _load(self, saved: dict[str, Any]) -> None:
        if saved.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported sandbox state version {saved.get('version')!r}")
        self._balance = Decimal(saved["balance"])
        self._currency = saved["currency"]
        self._counters.update({k: int(v) for k, v in saved["counters"].items()})
        txs = [PointsTransaction.from_json(t) for t in saved["transactions"]]
        self._transactions = {t.unique_id: t for t in txs}
        orders = [Order.from_json(o) for o in saved["orders"]]
        self._orders = {o.order_id: o for o in orders}
        self._po_index = {o.po_number: o.order_id for o in orders}
        self._ledger_json = list(saved["ledger"])
        self._ledger = [LedgerEntry.from_json(e) for e in self._ledger_json]
        self._batches = [LinkBatch.from_json(b) for b in saved["link_batches"]]
        tokens = [TokenRecord.from_json(t) for t in saved["tokens"]]
        self._tokens = {t.digest: t for t in tokens}
        self.store.load(saved.get("store", {}))

    def reset(self, *, balance: Decimal | None = None) -> None:
        """Back to a fresh account (ids keep counting up, issued tokens stay valid)."""
        with self._changing():
            if balance is not None:
                self._initial_balance = Decimal(balance)
            self._clear_business(self._initial_balance)

    # ----- balance --------------------------------------------------------------------------
    @property
    def account_balance(self) -> Decimal:
        with self._lock:
            return self._balance

    @property
    def currency(self) -> str:
        return self._currency

    def set_balance(self, amount: Decimal) -> None:
        """Set the balance, recorded as an adjustment row in the payment history."""
        with self._changing():
            delta = Decimal(amount) - self._balance
            self._post("FUND", "Balance adjusted in the sandbox", delta, "Complete")

    def add_payment(
        self,
        *,
        amount: Decimal,
        reference_id: str,
        reason: str = "Manual debit in the Xoxoday dashboard",
        status: str = "Complete",
    ) -> LedgerEntry:
        """A debit of `amount` that no API call made (a dashboard order, a fee): a payment
        history row the bot's ledger doesn't know, for reconciliation tests. A negative
        `amount` is a credit."""
        if reference_id == "FUND":
            raise StateError("pick another reference: FUND marks balance top-ups")
        with self._changing():
            return self._post(reference_id, reason, -Decimal(amount), status)

    def ledger(self) -> list[LedgerEntry]:
        with self._lock:
            return list(self._ledger)

    def _debit(self, amount: Decimal, what: str) -> None:
        if amount > self._balance:
            raise InsufficientBalance(
                f"Insufficient balance: {what} needs {amount} {self._currency} but the "
                f"account holds {self._balance} {self._currency}."
            )

    # ----- points ---------------------------------------------------------------------------
    def points_of(self, email: str) -> int:
        """Unredeemed, unexpired, uncancelled points of a recipient."""
        key = email.strip().lower()
        with self._lock:
            now = self.now()
            return sum(t.available(now) for t in self._transactions.values() if t.email == key)

    def has_recipient(self, email: str) -> bool:
        key = email.strip().lower()
        with self._lock:
            return any(t.email == key for t in self._transactions.values())

    def transactions(self, email: str | None = None) -> list[PointsTransaction]:
        key = email.strip().lower() if email else None
        with self._lock:
            return [t for t in self._transactions.values() if key is None or t.email == key]

    def transaction(self, unique_id: int) -> PointsTransaction | None:
        with self._lock:
            return self._transactions.get(unique_id)

    def send_points(
        self, *, sender_email: str, expiry_months: int, recipients: Sequence[Recipient]
    ) -> list[PointsTransaction]:
        """Credit every recipient or none; the account pays one currency unit per point."""
        with self._changing():
            total = Decimal(sum(r.points for r in recipients))
            self._debit(total, f"sending {total} points")
            now = self.now()
            made = []
            for r in recipients:
                tx = PointsTransaction(
                    unique_id=self._next("unique_id"),
                    email=r.email.strip().lower(),
                    name=r.name,
                    points=r.points,
                    sent_at=now,
                    expires_at=add_months(now, expiry_months),
                    citation=r.citation,
                    sender_email=sender_email,
                )
                self._transactions[tx.unique_id] = tx
                self._post(
                    str(tx.unique_id),
                    f"Points sent (unique_id {tx.unique_id})",
                    -Decimal(r.points),
                    "Complete",
                )
                made.append(tx)
            return made

    def cancel_points(self, unique_id: int) -> CancelOutcome:
        """Cancel a whole transaction: within 90 days of sending and only if unredeemed."""
        with self._changing():
            tx = self._transactions.get(unique_id)
            if tx is None:
                return CancelOutcome(unique_id, False, "Transaction not found")
            if tx.cancelled:
                return CancelOutcome(unique_id, False, "Transaction already cancelled")
            now = self.now()
            if now - tx.sent_at > CANCEL_WINDOW:
                return CancelOutcome(
                    unique_id, False, "Points can only be cancelled within 90 days of sending"
                )
            if tx.redeemed:
                return CancelOutcome(
                    unique_id, False, "Points already redeemed (fully or partly); cannot cancel"
                )
            tx.cancelled, tx.cancelled_at = True, now
            self._post(
                str(unique_id),
                f"Points cancelled (unique_id {unique_id})",
                Decimal(tx.points),
                "Cancelled",
            )
            return CancelOutcome(unique_id, True, "Points cancelled successfully")

    def redeem(self, email: str, points: int) -> None:
        """A recipient spends points (soonest-expiring first), as they would in the store."""
        if points <= 0:
            raise StateError("points to redeem must be a positive whole number")
        with self._changing():
            if self.points_of(email) < points:
                raise StateError(f"{email} has only {self.points_of(email)} points")
            now = self.now()
            left = points
            for tx in sorted(self.transactions(email), key=lambda t: (t.expires_at, t.unique_id)):
                take = min(tx.available(now), left)
                tx.redeemed_points += take
                left -= take
                if not left:
                    break

    def redeem_transaction(self, unique_id: int) -> None:
        """Redeem everything that is left of one transaction."""
        with self._changing():
            tx = self._transactions.get(unique_id)
            if tx is None:
                raise StateError(f"no points transaction {unique_id}")
            left = tx.available(self.now())
            if left <= 0:
                raise StateError(f"transaction {unique_id} has nothing left to redeem")
            tx.redeemed_points += left

    # ----- orders ---------------------------------------------------------------------------
    def place_order(
        self,
        *,
        product: Product,
        quantity: int,
        denomination: Decimal,
        po_number: str,
        email: str = "",
        contact: str = "",
        tag: str = "",
        deliver_after: timedelta | None = None,
    ) -> Order:
        """The order, delivered now; with `deliver_after`, pending until `deliver` is called
        (by the webhook sender, that long after)."""
        with self._changing():
            if po_number in self._po_index:
                raise DuplicatePoNumber(f"poNumber {po_number!r} was already used for an order.")
            total = denomination * quantity
            discount = (total * product.discount / 100).quantize(Decimal("0.01"))
            charged = convert_whole(
                total - discount + product.fee * quantity, product.currency, self._currency
            )
            self._debit(charged, f"this order ({quantity} x {denomination} {product.currency})")
            now = self.now()
            order = Order(
                order_id=self._next("order_id"),
                po_number=po_number,
                product_id=product.product_id,
                product_name=product.name,
                quantity=quantity,
                denomination=denomination,
                currency=product.currency,
                country=product.country_code,
                order_total=total,
                discount_percent=product.discount,
                order_discount=discount,
                amount_charged=charged,
                exchange_rate=exchange_rate(product.currency, self._currency),
                created_at=now,
                email=email,
                contact=contact,
                tag=tag,
                vouchers=[self._voucher(product, denomination, now) for _ in range(quantity)],
                delivery_status="pending" if deliver_after is not None else "delivered",
                deliver_at=now + deliver_after if deliver_after is not None else None,
                delivered_at=None if deliver_after is not None else now,
            )
            self._orders[order.order_id] = order
            self._po_index[po_number] = order.order_id
            self._post(
                str(order.order_id),
                f"Order {order.order_id} ({quantity} x {product.name})",
                -charged,
                "Complete",
            )
            return order

    def _voucher(self, product: Product, denomination: Decimal, now: datetime) -> Voucher:
        suffix = "".join(self._rng.choices(string.ascii_lowercase + string.digits, k=6))
        code = f"DEMO-{epoch_ms(now)}-{suffix}"
        if product.voucher_type in ("url", "urlPin"):
            code = f"https://vouchers.sandbox.invalid/v/{code}"
        days = product.validity_days or 3650
        return Voucher(
            code=code,
            pin="DEMO-PIN",
            valid_from=now.date(),
            valid_to=now.date() + timedelta(days=days),
            amount=denomination,
            currency=product.currency,
            country=product.country_code,
            type=product.voucher_type,
        )

    def order(self, *, order_id: int | None = None, po_number: str | None = None) -> Order | None:
        with self._lock:
            if order_id is not None:
                return self._orders.get(order_id)
            if po_number is not None and po_number in self._po_index:
                return self._orders[self._po_index[po_number]]
            return None

    def orders(self) -> list[Order]:
        with self._lock:
            return list(self._orders.values())

    def deliver(self, order_id: int, *, status: str = "delivered") -> Order | None:
        """A pending order delivered or canceled (a canceled order's charge is given back to
        the account); None when it is not pending (already delivered, canceled or gone)."""
        if status not in ("delivered", "canceled"):
            raise StateError(f"an order is delivered or canceled, not {status!r}")
        with self._changing():
            order = self._orders.get(order_id)
            if order is None or order.delivery_status != "pending":
                return None
            order.delivery_status = status
            order.delivered_at = self.now()
            if status == "canceled":
                self._post(
                    str(order.order_id),
                    f"Order {order.order_id} canceled: refunded",
                    order.amount_charged,
                    "Cancelled",
                )
            return order

    # ----- reward links ---------------------------------------------------------------------
    def create_link_batch(
        self, *, campaign: Campaign, quantity: int, link_expiry: date, emailed_to: int = 0
    ) -> tuple[LinkBatch, list[str]]:
        """Charge the account for `quantity` links and return the batch and the links."""
        with self._changing():
            charged = convert_whole(
                Decimal(campaign.denomination) * quantity, campaign.currency, self._currency
            )
            self._debit(charged, f"{quantity} links of campaign {campaign.campaign_id}")
            batch = LinkBatch(
                batch_id=str(700000 + self._next("batch")),
                campaign_id=campaign.campaign_id,
                quantity=quantity,
                link_expiry=link_expiry,
                created_at=self.now(),
                amount_charged=charged,
                emailed_to=emailed_to,
            )
            self._batches.append(batch)
            alphabet = string.ascii_letters + string.digits
            links = [
                "https://links.sandbox.invalid/r/" + "".join(self._rng.choices(alphabet, k=20))
                for _ in range(quantity)
            ]
            self._post(
                batch.batch_id,
                f"Reward links: {quantity} x {campaign.name}",
                -charged,
                "Complete",
            )
            return batch, links

    def link_batches(self) -> list[LinkBatch]:
        with self._lock:
            return list(self._batches)

    # ----- tokens (digests only) ------------------------------------------------------------
    def add_token(self, record: TokenRecord) -> None:
        with self._changing():
            now = self.now()
            self._tokens = {d: t for d, t in self._tokens.items() if t.expires_at > now}
            self._tokens[record.digest] = record

    def token(self, digest: str) -> TokenRecord | None:
        with self._lock:
            return self._tokens.get(digest)

    def end_token(self, digest: str, at: datetime) -> None:
        """Make a token expire at `at` (now = revoked)."""
        with self._changing():
            record = self._tokens.get(digest)
            if record is not None:
                record.expires_at = min(record.expires_at, at)

    # ----- views ----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A JSON view for the admin endpoint: no voucher codes, links or tokens."""
        with self._lock:
            now = self.now()
            emails = sorted({t.email for t in self._transactions.values()})
            return {
                "balance": str(self._balance),
                "currency": self._currency,
                "points": {e: self.points_of(e) for e in emails},
                "transactions": [
                    {
                        "unique_id": t.unique_id,
                        "email": t.email,
                        "points": t.points,
                        "available": t.available(now),
                        "redeemed_points": t.redeemed_points,
                        "cancelled": t.cancelled,
                        "sent_at": t.sent_at.isoformat(),
                        "expires_at": t.expires_at.isoformat(),
                    }
                    for t in self._transactions.values()
                ],
                "orders": len(self._orders),
                "link_batches": [
                    {
                        "batchId": b.batch_id,
                        "campaignId": b.campaign_id,
                        "quantity": b.quantity,
                        "link_expiry": b.link_expiry.isoformat(),
                        "created_at": b.created_at.isoformat(),
                    }
                    for b in self._batches
                ],
            }
