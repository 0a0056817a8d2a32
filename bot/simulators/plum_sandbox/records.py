"""The records the sandbox keeps, each with a JSON round trip for the state file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(slots=True)
class PointsTransaction:
    """One recipient's share of a sendBalance call."""

    unique_id: int
    email: str
    name: str
    points: int
    sent_at: datetime
    expires_at: datetime
    citation: str = ""
    sender_email: str = ""
    redeemed_points: int = 0
    cancelled: bool = False
    cancelled_at: datetime | None = None

    @property
    def redeemed(self) -> bool:
        return self.redeemed_points > 0

    def available(self, now: datetime) -> int:
        if self.cancelled or now >= self.expires_at:
            return 0
        return self.points - self.redeemed_points

    def to_json(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id,
            "email": self.email,
            "name": self.name,
            "points": self.points,
            "sent_at": self.sent_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "citation": self.citation,
            "sender_email": self.sender_email,
            "redeemed_points": self.redeemed_points,
            "cancelled": self.cancelled,
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PointsTransaction:
        return cls(
            unique_id=int(raw["unique_id"]),
            email=raw["email"],
            name=raw["name"],
            points=int(raw["points"]),
            sent_at=datetime.fromisoformat(raw["sent_at"]),
            expires_at=datetime.fromisoformat(raw["expires_at"]),
            citation=raw.get("citation", ""),
            sender_email=raw.get("sender_email", ""),
            redeemed_points=int(raw.get("redeemed_points", 0)),
            cancelled=bool(raw.get("cancelled", False)),
            cancelled_at=_dt(raw.get("cancelled_at")),
        )


@dataclass(slots=True)
class Voucher:
    """A demo voucher. `code` and `pin` are bearer secrets in the real API."""

    code: str
    pin: str
    valid_from: date
    valid_to: date
    amount: Decimal
    currency: str
    country: str
    type: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "pin": self.pin,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "amount": str(self.amount),
            "currency": self.currency,
            "country": self.country,
            "type": self.type,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Voucher:
        return cls(
            code=raw["code"],
            pin=raw["pin"],
            valid_from=date.fromisoformat(raw["valid_from"]),
            valid_to=date.fromisoformat(raw["valid_to"]),
            amount=Decimal(raw["amount"]),
            currency=raw["currency"],
            country=raw["country"],
            type=raw["type"],
        )


@dataclass(slots=True)
class Order:
    order_id: int
    po_number: str
    product_id: int
    product_name: str
    quantity: int
    denomination: Decimal
    currency: str
    country: str
    order_total: Decimal  # product currency, before discount
    discount_percent: Decimal
    order_discount: Decimal  # product currency
    amount_charged: Decimal  # account currency, whole units
    exchange_rate: Decimal  # account currency per product currency unit
    created_at: datetime
    email: str = ""
    contact: str = ""
    tag: str = ""
    vouchers: list[Voucher] = field(default_factory=list)
    # pending (a delayed delivery, or one that will be canceled) -> delivered | canceled; the
    # vouchers are shown once delivered.
    delivery_status: str = "delivered"
    deliver_at: datetime | None = None  # when a pending delivery is due
    delivered_at: datetime | None = None  # when it was delivered or canceled

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "po_number": self.po_number,
            "product_id": self.product_id,
            "product_name": self.product_name,
            "quantity": self.quantity,
            "denomination": str(self.denomination),
            "currency": self.currency,
            "country": self.country,
            "order_total": str(self.order_total),
            "discount_percent": str(self.discount_percent),
            "order_discount": str(self.order_discount),
            "amount_charged": str(self.amount_charged),
            "exchange_rate": str(self.exchange_rate),
            "created_at": self.created_at.isoformat(),
            "email": self.email,
            "contact": self.contact,
            "tag": self.tag,
            "vouchers": [v.to_json() for v in self.vouchers],
            "delivery_status": self.delivery_status,
            "deliver_at": self.deliver_at.isoformat() if self.deliver_at else None,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Order:
        return cls(
            order_id=int(raw["order_id"]),
            po_number=raw["po_number"],
            product_id=int(raw["product_id"]),
            product_name=raw["product_name"],
            quantity=int(raw["quantity"]),
            denomination=Decimal(raw["denomination"]),
            currency=raw["currency"],
            country=raw["country"],
            order_total=Decimal(raw["order_total"]),
            discount_percent=Decimal(raw["discount_percent"]),
            order_discount=Decimal(raw["order_discount"]),
            amount_charged=Decimal(raw["amount_charged"]),
            exchange_rate=Decimal(raw["exchange_rate"]),
            created_at=datetime.fromisoformat(raw["created_at"]),
            email=raw.get("email", ""),
            contact=raw.get("contact", ""),
            tag=raw.get("tag", ""),
            vouchers=[Voucher.from_json(v) for v in raw.get("vouchers", [])],
            delivery_status=raw.get("delivery_status", "delivered"),
            deliver_at=_dt(raw.get("deliver_at")),
            delivered_at=_dt(raw.get("delivered_at", raw["created_at"])),
        )


@dataclass(slots=True)
class LedgerEntry:
    """One row of the account's payment history."""

    invoice_number: str
    reference_id: str
    at: datetime
    reason: str
    amount: Decimal  # signed, account currency
    status: str  # Complete | Cancelled
    closing_balance: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice_number": self.invoice_number,
            "reference_id": self.reference_id,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "amount": str(self.amount),
            "status": self.status,
            "closing_balance": str(self.closing_balance),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LedgerEntry:
        return cls(
            invoice_number=raw["invoice_number"],
            reference_id=raw["reference_id"],
            at=datetime.fromisoformat(raw["at"]),
            reason=raw["reason"],
            amount=Decimal(raw["amount"]),
            status=raw["status"],
            closing_balance=Decimal(raw["closing_balance"]),
        )


@dataclass(slots=True)
class LinkBatch:
    """Reward links generated (or emailed) for a campaign. The links themselves are not kept."""

    batch_id: str
    campaign_id: int
    quantity: int
    link_expiry: date
    created_at: datetime
    amount_charged: Decimal
    emailed_to: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "campaign_id": self.campaign_id,
            "quantity": self.quantity,
            "link_expiry": self.link_expiry.isoformat(),
            "created_at": self.created_at.isoformat(),
            "amount_charged": str(self.amount_charged),
            "emailed_to": self.emailed_to,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LinkBatch:
        return cls(
            batch_id=raw["batch_id"],
            campaign_id=int(raw["campaign_id"]),
            quantity=int(raw["quantity"]),
            link_expiry=date.fromisoformat(raw["link_expiry"]),
            created_at=datetime.fromisoformat(raw["created_at"]),
            amount_charged=Decimal(raw["amount_charged"]),
            emailed_to=int(raw.get("emailed_to", 0)),
        )


@dataclass(slots=True)
class TokenRecord:
    """An issued token, kept by its SHA-256 digest only (the state file holds no tokens)."""

    digest: str
    kind: str  # access | refresh
    flow: str  # client_credentials | user | company
    issued_at: datetime
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "kind": self.kind,
            "flow": self.flow,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TokenRecord:
        return cls(
            digest=raw["digest"],
            kind=raw["kind"],
            flow=raw["flow"],
            issued_at=datetime.fromisoformat(raw["issued_at"]),
            expires_at=datetime.fromisoformat(raw["expires_at"]),
        )
