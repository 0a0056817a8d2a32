"""The admins' view of gift cards and donations: `/reward orders` (the latest orders in the
ledger, with where each one is) and `/reward orders report <from> <to>` (two CSV files: the
orders Xoxoday has for the period, from getOrderHistory, and the account's payment report, from
paymentHistory; both read page by page).

Every CSV cell goes through `storage.csv_cells.csv_cell`. A report is built whole before
anything is sent: when Xoxoday can't be reached for any page, the admin gets a refusal and no
file. Nothing here posts to Slack; the listeners deliver.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from bot.plum import NotFoundError, Order, PaymentRecord, PlumClient, PlumError
from bot.rewards.admin import only_admins, plum_unreachable
from bot.rewards.commands import OrdersReport
from bot.rewards.directory import Directory
from bot.rewards.events import OrdersReportMade, Teller
from bot.rewards.refusal import Refusal
from bot.rewards.wording import format_date
from bot.settings import Settings
from storage import clock
from storage import orders as order_repo
from storage import reconcile as ledger
from storage.csv_cells import csv_cell
from storage.db import Store
from storage.reconcile import OrderSpend
from storage.states import DeliveryStatus, OrderStatus

log = logging.getLogger(__name__)

RECENT_ORDERS = 15  # rows in `/reward orders`
PAGE_SIZE = 100  # rows asked for per getOrderHistory / paymentHistory page
MAX_PAGES = 200  # a report stops there (20,000 rows) and says it is cut short
DOING = "see the gift card and donation orders"

# Where an order is, as the admins read it.
Shown = Literal[
    "pending approval",
    "being placed",
    "placed",
    "delivered",
    "canceled",
    "failed",
    "in doubt",
    "rejected",
]

ORDER_COLUMNS = (
    "order_date",
    "xoxoday_order_id",
    "po_number",
    "kind",
    "product",
    "quantity",
    "denomination",
    "currency",
    "order_total",
    "discount",
    "amount_charged",
    "order_status",
    "delivery_status",
    "tag",
    "sent_by",
    "sent_by_slack_id",
    "for",
    "for_slack_id",
)
PAYMENT_COLUMNS = (
    "date",
    "invoice_number",
    "reference_id",
    "reason",
    "amount",
    "transaction_status",
    "closing_balance",
)


def shown_status(status: str, delivery_status: str | None) -> Shown:
    """An order's ledger status and Xoxoday's delivery status, in one word or two."""
    if status == OrderStatus.PLACED and delivery_status == DeliveryStatus.DELIVERED:
        return "delivered"
    if delivery_status == DeliveryStatus.CANCELED and status in (
        OrderStatus.PLACED,
        OrderStatus.UNKNOWN,
    ):
        return "canceled"
    return {
        OrderStatus.PENDING_APPROVAL: "pending approval",
        OrderStatus.QUEUED: "being placed",
        OrderStatus.REQUESTED: "being placed",
        OrderStatus.PLACED: "placed",
        OrderStatus.FAILED: "failed",
        OrderStatus.UNKNOWN: "in doubt",
        OrderStatus.REJECTED: "rejected",
    }.get(OrderStatus(status), "in doubt")  # type: ignore[return-value]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    """One order in `/reward orders`."""

    po_number: str
    kind: str  # gift | donation
    status: Shown
    product: str | None
    value: Decimal | None
    currency: str | None
    giver_id: str | None
    recipient_id: str | None  # None: a donation in the team's name
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrdersList:
    lines: tuple[OrderLine, ...]
    tz: str
    counts: dict[str, int]  # every order in the ledger, by ledger status


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReportFiles:
    """The two CSV files of a period (`since`, `until` both included)."""

    since: date
    until: date
    orders_csv: str
    payments_csv: str
    order_rows: int
    payment_rows: int
    cut_short: bool  # MAX_PAGES reached in either report

    @property
    def period(self) -> str:
        return f"{self.since.isoformat()}_{self.until.isoformat()}"

    @property
    def orders_filename(self) -> str:
        return f"xoxoday-orders-{self.period}.csv"

    @property
    def payments_filename(self) -> str:
        return f"xoxoday-payments-{self.period}.csv"


# ── reading Xoxoday page by page ─────────────────────────────────────────────────────────


def all_orders(plum: PlumClient, *, since: date, until: date) -> tuple[list[Order], bool]:
    """Every order getOrderHistory has in [since, until]; True when cut short at MAX_PAGES.
    A "no orders found" answer (PLE10022/PLE10027) ends the list. PlumError otherwise."""
    found: list[Order] = []
    seen: set[tuple[object, ...]] = set()
    for page in range(1, MAX_PAGES + 1):
        try:
            history = plum.get_order_history(
                start_date=since, end_date=until, limit=PAGE_SIZE, page=page
            )
        except NotFoundError:
            return found, False
        for order in history.orders:
            key = (order.order_id, order.po_number)
            if key not in seen:
                seen.add(key)
                found.append(order)
        if len(history.orders) < PAGE_SIZE:
            return found, False
    return found, True


def all_payments(plum: PlumClient, *, since: date, until: date) -> tuple[list[PaymentRecord], bool]:
    """Every row of the payment report in [since, until]; True when cut short at MAX_PAGES.
    PlumError when Xoxoday can't be read."""
    found: list[PaymentRecord] = []
    seen: set[PaymentRecord] = set()
    for page in range(1, MAX_PAGES + 1):
        try:
            rows = plum.payment_history(
                start_date=since, end_date=until, limit=PAGE_SIZE, page=page
            )
        except NotFoundError:
            return found, False
        for row in rows:
            if row not in seen:
                seen.add(row)
                found.append(row)
        if len(rows) < PAGE_SIZE:
            return found, False
    return found, True


# ── the CSV files ────────────────────────────────────────────────────────────────────────


def _csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _for(mine: OrderSpend | None) -> str | None:
    if mine is None:
        return None
    if mine.recipient_name is None and mine.kind == "donation":
        return "the team"
    return mine.recipient_name


def orders_csv(orders: Sequence[Order], known: dict[str, OrderSpend]) -> str:
    """One row per Xoxoday order, with who sent it and for whom when this bot placed it."""

    def row(o: Order) -> tuple[object, ...]:
        mine = known.get(o.po_number or "") or known.get(str(o.order_id or ""))
        raw = o.raw
        product = _text(raw.get("productName")) or (mine.product_name if mine else None)
        denomination = raw.get("denomination")
        return (
            o.order_date,
            o.order_id,
            o.po_number,
            mine.kind if mine else None,
            product,
            o.quantity,
            Decimal(str(denomination)) if isinstance(denomination, int | float | str) else None,
            o.currency_code,
            o.order_total,
            o.order_discount,
            o.amount_charged,
            o.order_status,
            o.delivery_status,
            o.tag,
            mine.giver_name if mine else None,
            mine.giver_slack_id if mine else None,
            _for(mine),
            mine.recipient_slack_id if mine else None,
        )

    return _csv(ORDER_COLUMNS, (row(o) for o in orders))


def payments_csv(rows: Sequence[PaymentRecord]) -> str:
    return _csv(
        PAYMENT_COLUMNS,
        (
            (
                r.date,
                r.invoice_number,
                r.reference_id,
                r.reason,
                r.adjusted_amount,
                r.transaction_status,
                r.closing_balance,
            )
            for r in rows
        ),
    )


def month_of(which: Literal["this", "last"], *, today: date) -> tuple[date, date]:
    """The first and last day of this month or the one before (last: up to its last day)."""
    first = today.replace(day=1)
    if which == "last":
        last = first - timedelta(days=1)
        return last.replace(day=1), last
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of `day` in `tz`, in UTC."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


# ── the service ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class SentReport:
    """A period's reports; `delivered`: the two files are in the admin's DM."""

    files: OrderReportFiles
    delivered: bool


class OrderReportService:
    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        people: Directory,
        settings: Settings,
        teller: Teller,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._plum = plum
        self._people = people
        self._settings = settings
        self._teller = teller
        self._now = now

    def _tz(self, user_id: str) -> str:
        try:
            return self._people.profile(user_id).person.tz or self._settings.REWARD_TIMEZONE
        except Exception:  # unknown user or Slack unreachable: the team's zone will do
            return self._settings.REWARD_TIMEZONE

    def recent(self, admin_id: str, *, limit: int = RECENT_ORDERS) -> OrdersList | Refusal:
        """The latest orders in the ledger, newest first (admins only)."""
        refused = only_admins(self._settings, admin_id, doing=DOING)
        if refused:
            return refused
        with self._store.read_session() as session:
            orders = order_repo.recent_orders(session, limit=limit)
            spends = ledger.order_spends(session, orders)
            counts = order_repo.count_by_status(session)
        lines = tuple(
            OrderLine(
                po_number=s.po_number,
                kind=s.kind,
                status=shown_status(s.status, s.delivery_status),
                product=s.product_name,
                value=s.face_value,
                currency=s.currency_code,
                giver_id=s.giver_slack_id,
                recipient_id=s.recipient_slack_id,
                created_at=s.created_at,
            )
            for s in spends
        )
        return OrdersList(lines=lines, tz=self._tz(admin_id), counts=counts)

    def period(self, asked: OrdersReport) -> tuple[date, date]:
        if asked.month is not None or asked.since is None:
            today = self._now().astimezone(ZoneInfo(self._settings.REWARD_TIMEZONE)).date()
            return month_of(asked.month or "this", today=today)
        return asked.since, asked.until or asked.since

    def send_report(self, admin_id: str, asked: OrdersReport) -> SentReport | Refusal:
        """Both CSV files of the period, to the admin's DM (`OrdersReportMade`)."""
        made = self.report(admin_id, asked)
        if isinstance(made, Refusal):
            return made
        return SentReport(files=made, delivered=self._teller.tell(OrdersReportMade(admin_id, made)))

    def report(self, admin_id: str, asked: OrdersReport) -> OrderReportFiles | Refusal:
        """Both CSV files of the period, read whole from Xoxoday (admins only)."""
        refused = only_admins(self._settings, admin_id, doing=DOING)
        if refused:
            return refused
        since, until = self.period(asked)
        try:
            orders, orders_cut = all_orders(self._plum, since=since, until=until)
            payments, payments_cut = all_payments(self._plum, since=since, until=until)
        except PlumError as err:
            log.warning(
                "orders report %s..%s: Xoxoday unreachable (%s)", since, until, type(err).__name__
            )
            return plum_unreachable(
                f"No report was sent: I need both of Xoxoday's reports for {format_date(since)} "
                f"to {format_date(until)} and couldn't read them."
            )
        refs = [o.po_number for o in orders if o.po_number] + [
            str(o.order_id) for o in orders if o.order_id is not None
        ]
        with self._store.read_session() as session:
            known = ledger.orders_by_reference(session, refs)
        log.info(
            "orders report %s..%s for %s: %d order(s), %d payment row(s)",
            since,
            until,
            admin_id,
            len(orders),
            len(payments),
        )
        return OrderReportFiles(
            since=since,
            until=until,
            orders_csv=orders_csv(orders, known),
            payments_csv=payments_csv(payments),
            order_rows=len(orders),
            payment_rows=len(payments),
            cut_short=orders_cut or payments_cut,
        )
