"""Typed results of the Plum client. Money is Decimal, points are int, times are aware UTC.

Voucher codes, pins and reward links are bearer secrets: reprs show how many there are, never
what they are. `raw` fields keep Xoxoday's answer for the caller to store (Xoxoday asks that
placeOrder requests and responses be kept) and are left out of reprs and comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

HIDDEN = "<hidden>"

Raw = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What `GET /v1/oauth/token` says about the current access token."""

    expires_in: int | None
    expires_at: datetime | None
    token_type: str | None = None


@dataclass(frozen=True, slots=True)
class FilterValue:
    value: str
    code: str | None = None
    iso_code: str | None = None


@dataclass(frozen=True, slots=True)
class FilterGroup:
    name: str | None
    code: str | None
    description: str | None
    filters: tuple[FilterValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Voucher:
    """A catalogue product from getVouchers (not an issued code: see IssuedVoucher)."""

    product_id: int | None
    name: str
    value_type: str | None = None  # fixed_denomination | open_value
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    denominations: tuple[Decimal, ...] = ()
    fee: Decimal | None = None
    discount: Decimal | None = None
    currency_code: str | None = None
    country_code: str | None = None
    country_name: str | None = None
    order_quantity_limit: int | None = None
    delivery_type: str | None = None
    tat_in_days: int | None = None
    usage_type: str | None = None
    description: str | None = None
    image_url: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Balance:
    value: Decimal
    currency: str | None
    points: int | None = None


@dataclass(frozen=True, slots=True)
class IssuedVoucher:
    """A delivered voucher. `code` and `pin` are secrets and never shown in reprs."""

    code: str | None = field(default=None, repr=False)
    pin: str | None = field(default=None, repr=False)
    type: str | None = None  # code | codePin | url | urlPin
    amount: Decimal | None = None
    currency: str | None = None
    country: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    validity: str | None = None

    def __repr__(self) -> str:
        return (
            f"IssuedVoucher(type={self.type!r}, amount={self.amount!r}, "
            f"currency={self.currency!r}, valid_to={self.valid_to or self.validity!r}, "
            f"code={HIDDEN if self.code else None}, pin={HIDDEN if self.pin else None})"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Order:
    order_id: int | None
    po_number: str | None = None
    order_status: str | None = None
    delivery_status: str | None = None
    order_total: Decimal | None = None
    order_discount: Decimal | None = None
    discount_percent: Decimal | None = None
    amount_charged: Decimal | None = None
    currency_code: str | None = None
    quantity: int | None = None
    tag: str | None = None
    order_date: str | None = None
    delivery_date: str | None = None
    vouchers: tuple[IssuedVoucher, ...] = ()
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """placeOrder's result plus the exact request and raw response, for the caller to store.

    `recovered` is True when the order was found by poNumber after an ambiguous failure
    (then `response` is the getOrderDetails answer).
    """

    order: Order
    po_number: str
    request: Raw = field(repr=False, compare=False)
    response: Raw = field(repr=False, compare=False)
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class OrderHistory:
    orders: tuple[Order, ...]
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    invoice_number: str | None
    reference_id: str | None
    date: str | None
    reason: str | None
    adjusted_amount: Decimal | None
    transaction_status: str | None  # Complete | Cancelled
    closing_balance: Decimal | None


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person to send points to (an input of send_balance)."""

    email: str
    points: int
    name: str = ""
    citation: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points <= 0:
            raise ValueError(f"points must be a positive int, got {self.points!r}")
        if "@" not in self.email:
            raise ValueError(f"not an email address: {self.email!r}")


@dataclass(frozen=True, slots=True)
class SentPoints:
    email: str
    points: int
    unique_id: int | None  # None when Xoxoday's answer did not carry it
    name: str | None = None


@dataclass(frozen=True, slots=True)
class AnsweredRow:
    """One recipient row of a sendBalance answer, as Xoxoday wrote it (any field may be
    missing: the seed spec's rows carry no email, the quick-start's answer no rows at all)."""

    email: str | None
    name: str | None
    points: int | None
    unique_id: int | None


@dataclass(frozen=True, slots=True)
class SendBalanceResult:
    """sendBalance succeeded. `ids_known` is False when Xoxoday did not return every
    recipient's unique_id (the quick-start answer carries none); find them in the dashboard.

    `recipients` is one entry per recipient sent, matched to the answer's rows by email (or by
    position when no row has an email and the counts agree); `rows` is the answer's rows as
    they came, and `listed` says whether the answer carried rows at all (a call carrying
    several rewards matches them itself: `bot.rewards.batching`)."""

    recipients: tuple[SentPoints, ...]
    ids_known: bool
    message: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)
    rows: tuple[AnsweredRow, ...] = ()
    listed: bool = False

    @property
    def unique_ids(self) -> tuple[int, ...]:
        return tuple(r.unique_id for r in self.recipients if r.unique_id is not None)


@dataclass(frozen=True, slots=True)
class UserBalance:
    """A member's points. `found` is False when Xoxoday has no such user (total is None)."""

    total: int | None
    found: bool
    message: str | None = None


@dataclass(frozen=True, slots=True)
class CancelledPoints:
    unique_id: int | None
    success: bool
    message: str | None = None


@dataclass(frozen=True, slots=True)
class CancelBalanceResult:
    ok: bool
    message: str | None
    recipients: tuple[CancelledPoints, ...] = ()
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RewardLinks:
    """generateLink's result. `links` are secrets and never shown in reprs."""

    links: tuple[str, ...] = field(repr=False)
    batch_id: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    denomination: Decimal | None = None
    country_name: str | None = None
    currency_code: str | None = None
    message: str | None = None

    def __repr__(self) -> str:
        return (
            f"RewardLinks(links=<{len(self.links)} hidden>, batch_id={self.batch_id!r}, "
            f"campaign_id={self.campaign_id!r}, campaign_name={self.campaign_name!r}, "
            f"denomination={self.denomination!r}, currency_code={self.currency_code!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str | None
    name: str | None
    denomination: Decimal | None = None
    currency_code: str | None = None
    country_name: str | None = None
    enabled: bool | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class SendLinksResult:
    success: bool
    message: str | None = None
    raw: Raw = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class StoreSso:
    """A sign-in to Xoxoday's hosted store for one person. `sso_token` and `url` (which
    carries it) are bearer secrets for `expires_at`: send the person to `url`, show neither
    in a log or a channel; reprs hide them."""

    sso_token: str = field(repr=False)
    url: str = field(repr=False)
    store_url: str  # the store's root, e.g. https://stores.xoxoday.com
    expires_at: datetime | None = None

    def __repr__(self) -> str:
        return (
            f"StoreSso(sso_token={HIDDEN}, url={self.store_url}/…/{HIDDEN}, "
            f"expires_at={self.expires_at!r})"
        )

    __str__ = __repr__
