"""The daily reconciliation: what the ledger says the Xoxoday account paid on a day, against
Xoxoday's payment report (paymentHistory) for that day.

The ledger's side (`storage.reconcile`): the gift card and donation orders whose placeOrder was
called that day (placed, or whose outcome is still unknown), at what Xoxoday said it charged
(`amountCharged`, else the order's value); with points at Xoxoday also every recipient whose
points sendBalance delivered that day (one point costs one unit of the account's currency).
With points in the bot (REWARD_POINT_SYSTEM=storefront) a reward costs nothing at Xoxoday until
it is spent in the store, so only orders count.

Xoxoday's side: the report's debits (negative amounts, not cancelled). A debit is matched to
the ledger by its reference (Xoxoday's order id or the poNumber; sendBalance's unique id); an
order's id in the reason will also do; a recipient Xoxoday gave no id is matched by amount.

The differences, order by order and reward by reward: a ledger item Xoxoday's report doesn't
show, an amount that differs, and a debit the ledger doesn't know at all (a debit for a ledger
item of another day, a time-zone edge, is not one). Days are REWARD_TIMEZONE's.

Which days: every day after the last one reconciled, one by one, oldest first (`days_to_check`),
so downtime or a clock that jumped ahead leaves no day out. A day counts as reconciled once it
was compared (`mark_reconciled`, a do-once key per day); a day whose report could not be read is
not, so the next run starts from it again.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from bot.plum import PaymentRecord, PlumClient
from bot.rewards.kinds import OnceKind
from bot.rewards.order_reports import all_payments, day_bounds
from bot.settings import Settings
from storage import once
from storage import reconcile as ledger
from storage.db import Store
from storage.reconcile import OrderSpend, PointsSpend
from storage.states import OrderStatus

log = logging.getLogger(__name__)

TOLERANCE = Decimal("0.01")
MAX_DAYS_PER_RUN = 31  # days one run compares; the rest wait for the next run, oldest first


def days_to_check(
    *, last_done: date | None, yesterday: date, limit: int = MAX_DAYS_PER_RUN
) -> tuple[list[date], int]:
    """The days after `last_done` up to `yesterday`, oldest first, at most `limit` of them, and
    how many more wait after those. Never reconciled: yesterday alone. A clock that went back
    (`yesterday` not after `last_done`): none."""
    first = yesterday if last_done is None else last_done + timedelta(days=1)
    count = (yesterday - first).days + 1
    if count <= 0:
        return [], 0
    shown = min(count, max(1, limit))
    return [first + timedelta(days=n) for n in range(shown)], count - shown


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderGap:
    """An order of the day that Xoxoday's report doesn't show (`paid` None) or shows at
    another amount."""

    order: OrderSpend
    expected: Decimal | None
    paid: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientGap:
    recipient_id: str  # Slack user id
    points: int
    paid: Decimal | None  # None: not in Xoxoday's report
    unique_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RewardGap:
    short_id: str
    giver_id: str
    recipients: tuple[RecipientGap, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownPayment:
    """A debit in Xoxoday's report that no ledger item of the day accounts for; `ledger_says`
    what the ledger knows of its reference (e.g. an order it has as failed), if anything."""

    row: PaymentRecord
    ledger_says: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciliation:
    day: date
    points_at_xoxoday: bool
    orders_checked: int
    recipients_checked: int
    ledger_total: Decimal
    plum_total: Decimal
    orders: tuple[OrderGap, ...] = ()
    rewards: tuple[RewardGap, ...] = ()
    unknown: tuple[UnknownPayment, ...] = ()
    rewards_in_doubt: int = 0
    orders_in_doubt: int = 0
    cut_short: bool = False

    @property
    def differences(self) -> int:
        return len(self.orders) + sum(len(r.recipients) for r in self.rewards) + len(self.unknown)

    @property
    def matches(self) -> bool:
        return self.differences == 0 and not self.cut_short


@dataclass
class _Debits:
    """Xoxoday's debits of the day, by reference, and which have been matched."""

    rows: list[PaymentRecord]
    by_ref: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    used: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if row.reference_id:
                self.by_ref[row.reference_id.strip()].append(i)

    def take(self, *refs: str | None) -> Decimal | None:
        """What the rows with one of `refs` paid (None: no such row); they are matched."""
        for ref in refs:
            if ref and ref in self.by_ref:
                found = [i for i in self.by_ref[ref] if i not in self.used]
                if found:
                    self.used.update(found)
                    return sum((paid(self.rows[i]) for i in found), Decimal(0))
        return None

    def take_in_reason(self, ref: str | None) -> Decimal | None:
        if not ref:
            return None
        word = re.compile(rf"(?<![0-9A-Za-z]){re.escape(ref)}(?![0-9A-Za-z])")
        for i, row in enumerate(self.rows):
            if i not in self.used and not row.reference_id and word.search(row.reason or ""):
                self.used.add(i)
                return paid(row)
        return None

    def take_amount(self, amount: Decimal, known: set[str]) -> Decimal | None:
        """An unmatched row of exactly `amount` whose reference the ledger doesn't know."""
        for i, row in enumerate(self.rows):
            if (
                i not in self.used
                and (row.reference_id or "") not in known
                and abs(paid(row) - amount) < TOLERANCE
            ):
                self.used.add(i)
                return paid(row)
        return None

    def left(self) -> list[PaymentRecord]:
        return [row for i, row in enumerate(self.rows) if i not in self.used]


def paid(row: PaymentRecord) -> Decimal:
    """What a debit row took from the account, as a positive amount."""
    return -(row.adjusted_amount or Decimal(0))


def is_debit(row: PaymentRecord) -> bool:
    status = (row.transaction_status or "").strip().lower()
    return (
        row.adjusted_amount is not None
        and row.adjusted_amount < 0
        and status not in ("cancelled", "canceled")
    )


def compare(
    *,
    day: date,
    orders: list[OrderSpend],
    points: list[PointsSpend],
    payments: list[PaymentRecord],
    known_elsewhere: dict[str, str | None],
    points_at_xoxoday: bool,
) -> Reconciliation:
    """The differences between the ledger's spending of `day` and Xoxoday's report of it.
    `known_elsewhere`: references of Xoxoday's rows the ledger knows, with None for an item that
    may have paid (one of another day, not a difference) or what the ledger says of it (failed,
    rejected: a debit the ledger doesn't expect)."""
    paying_elsewhere = {ref for ref, note in known_elsewhere.items() if note is None}
    debits = _Debits([row for row in payments if is_debit(row)])
    order_gaps: list[OrderGap] = []
    for order in orders:
        got = debits.take(order.plum_order_id, order.po_number)
        if got is None:
            got = debits.take_in_reason(order.plum_order_id)
        expected = order.expected_charge
        if got is None:
            if order.status == OrderStatus.PLACED:
                order_gaps.append(OrderGap(order=order, expected=expected, paid=None))
            continue  # in doubt and not charged: it likely never happened (the poll says)
        if expected is not None and abs(got - expected) >= TOLERANCE:
            order_gaps.append(OrderGap(order=order, expected=expected, paid=got))

    by_reward: dict[str, list[RecipientGap]] = defaultdict(list)
    givers: dict[str, str] = {}
    counted = points if points_at_xoxoday else []
    with_ids = [p for p in counted if p.plum_unique_id]
    without_ids = [p for p in counted if not p.plum_unique_id]
    known = {p.plum_unique_id for p in with_ids if p.plum_unique_id} | {
        ref for o in orders for ref in (o.plum_order_id, o.po_number) if ref
    }
    for spend in with_ids + without_ids:
        amount = Decimal(spend.points)
        got = (
            debits.take(spend.plum_unique_id)
            if spend.plum_unique_id
            else debits.take_amount(amount, known | set(known_elsewhere))
        )
        if got is None or abs(got - amount) >= TOLERANCE:
            givers[spend.reward_short_id] = spend.giver_slack_id
            by_reward[spend.reward_short_id].append(
                RecipientGap(
                    recipient_id=spend.recipient_slack_id,
                    points=spend.points,
                    paid=got,
                    unique_id=spend.plum_unique_id,
                )
            )
    unknown = [
        UnknownPayment(row=row, ledger_says=known_elsewhere.get((row.reference_id or "").strip()))
        for row in debits.left()
        if (row.reference_id or "").strip() not in paying_elsewhere
    ]
    ledger_total = sum(
        (o.expected_charge or Decimal(0) for o in orders if o.status == OrderStatus.PLACED),
        Decimal(0),
    ) + sum((Decimal(p.points) for p in counted), Decimal(0))
    return Reconciliation(
        day=day,
        points_at_xoxoday=points_at_xoxoday,
        orders_checked=len(orders),
        recipients_checked=len(counted),
        ledger_total=ledger_total,
        plum_total=sum((paid(row) for row in debits.rows), Decimal(0)),
        orders=tuple(order_gaps),
        rewards=tuple(
            RewardGap(short_id=short, giver_id=givers[short], recipients=tuple(gaps))
            for short, gaps in by_reward.items()
        ),
        unknown=tuple(unknown),
    )


class Reconciler:
    def __init__(self, *, store: Store, plum: PlumClient, settings: Settings) -> None:
        self._store = store
        self._plum = plum
        self._settings = settings

    def last_reconciled(self) -> date | None:
        """The latest day compared with Xoxoday's report (None: none yet)."""
        with self._store.read_session() as session:
            key = once.last_key(session, kind=OnceKind.RECONCILED_DAY)
        return date.fromisoformat(key) if key else None

    def mark_reconciled(self, day: date) -> None:
        """`day` was compared (its differences, if any, told): the next run starts after it."""
        with self._store.session() as session:
            once.claim_once(session, kind=OnceKind.RECONCILED_DAY, key=day.isoformat())

    def reconcile(self, day: date) -> Reconciliation:
        """`day` (REWARD_TIMEZONE) in the ledger against Xoxoday's payment report of it.
        Raises PlumError when the report can't be read in full."""
        payments, cut_short = all_payments(self._plum, since=day, until=day)
        since, until = day_bounds(day, self._settings.REWARD_TIMEZONE)
        points_at_xoxoday = not self._settings.storefront
        refs = [row.reference_id.strip() for row in payments if row.reference_id]
        with self._store.read_session() as session:
            orders = ledger.orders_paid_between(session, since=since, until=until)
            points = (
                ledger.points_sent_between(session, since=since, until=until)
                if points_at_xoxoday
                else []
            )
            elsewhere: dict[str, str | None] = {}
            for ref, order in ledger.orders_by_reference(session, refs).items():
                paying = order.status in ledger.MAY_HAVE_PAID
                elsewhere[ref] = None if paying else f"order {order.po_number} is {order.status}"
            if points_at_xoxoday:
                for ref, spend in ledger.points_by_unique_id(session, refs).items():
                    paying = spend.outcome in ledger.POINTS_PAID
                    elsewhere[ref] = (
                        None if paying else f"reward {spend.reward_short_id} is {spend.outcome}"
                    )
            rewards_in_doubt, orders_in_doubt = ledger.in_doubt_counts(session)
        result = compare(
            day=day,
            orders=orders,
            points=points,
            payments=payments,
            known_elsewhere=elsewhere,
            points_at_xoxoday=points_at_xoxoday,
        )
        log.info(
            "reconciliation of %s: %d order(s), %d recipient(s), %d difference(s)",
            day,
            result.orders_checked,
            result.recipients_checked,
            result.differences,
        )
        return replace(
            result,
            rewards_in_doubt=rewards_in_doubt,
            orders_in_doubt=orders_in_doubt,
            cut_short=cut_short,
        )
