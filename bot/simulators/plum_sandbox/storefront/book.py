"""The store's records: sign-ins (ssoToken → the person and their auth_token) and orders.

Sign-ins are found by the SHA-256 digest of their ssoToken, so the state file holds no usable
ssoToken; the company's `auth_token` is kept as given, because the store must send it back
with every call (as Xoxoday does). Runs under the sandbox state's lock; every change saves.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

SSO_LIFETIME = timedelta(days=14)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class StoreSession:
    """One sign-in: who the person is for the company, and the token to call it with."""

    digest: str
    email: str
    unique_id: str
    auth_token: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "email": self.email,
            "unique_id": self.unique_id,
            "auth_token": self.auth_token,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "name": self.name,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StoreSession:
        return cls(
            digest=raw["digest"],
            email=raw["email"],
            unique_id=raw["unique_id"],
            auth_token=raw["auth_token"],
            issued_at=datetime.fromisoformat(raw["issued_at"]),
            expires_at=datetime.fromisoformat(raw["expires_at"]),
            name=raw.get("name", ""),
        )


@dataclass(slots=True)
class StoreRefund:
    amount: Decimal
    at: datetime
    status: str  # refunded | refused | no answer
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "amount": str(self.amount),
            "at": self.at.isoformat(),
            "status": self.status,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StoreRefund:
        return cls(
            amount=Decimal(raw["amount"]),
            at=datetime.fromisoformat(raw["at"]),
            status=raw["status"],
            message=raw.get("message", ""),
        )


@dataclass(slots=True)
class StoreOrder:
    """A purchase in the store, paid with the company's points."""

    order_id: str
    unique_id: str
    product_id: int
    product_name: str
    points: Decimal
    at: datetime
    status: str  # placed | refused | no answer
    message: str = ""
    balance_after: str | None = None
    refunds: list[StoreRefund] = field(default_factory=list)

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds if r.status == "refunded"), Decimal(0))

    @property
    def refundable(self) -> Decimal:
        return self.points - self.refunded if self.status == "placed" else Decimal(0)

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "unique_id": self.unique_id,
            "product_id": self.product_id,
            "product_name": self.product_name,
            "points": str(self.points),
            "at": self.at.isoformat(),
            "status": self.status,
            "message": self.message,
            "balance_after": self.balance_after,
            "refunds": [r.to_json() for r in self.refunds],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StoreOrder:
        return cls(
            order_id=raw["order_id"],
            unique_id=raw["unique_id"],
            product_id=int(raw["product_id"]),
            product_name=raw["product_name"],
            points=Decimal(raw["points"]),
            at=datetime.fromisoformat(raw["at"]),
            status=raw["status"],
            message=raw.get("message", ""),
            balance_after=raw.get("balance_after"),
            refunds=[StoreRefund.from_json(r) for r in raw.get("refunds", [])],
        )


class StoreBook:
    def __init__(
        self,
        *,
        lock: threading.RLock,
        now: Callable[[], datetime],
        changed: Callable[[], None],
    ) -> None:
        self._lock = lock
        self._now = now
        self._changed = changed
        self._sessions: dict[str, StoreSession] = {}
        self._orders: dict[str, StoreOrder] = {}

    # ----- sign-ins -------------------------------------------------------------------------
    def sign_in(
        self, *, token: str, email: str, unique_id: str, auth_token: str, name: str = ""
    ) -> StoreSession:
        """Keep a new sign-in for 14 days (expired ones are dropped meanwhile)."""
        with self._lock:
            now = self._now()
            self._sessions = {d: s for d, s in self._sessions.items() if s.expires_at > now}
            session = StoreSession(
                digest=digest(token),
                email=email,
                unique_id=unique_id,
                auth_token=auth_token,
                issued_at=now,
                expires_at=now + SSO_LIFETIME,
                name=name,
            )
            self._sessions[session.digest] = session
            self._changed()
            return session

    def session(self, token: str) -> StoreSession | None:
        """The sign-in of `token`, expired ones included (the caller tells them apart)."""
        with self._lock:
            return self._sessions.get(digest(token))

    def sessions(self) -> list[StoreSession]:
        with self._lock:
            return list(self._sessions.values())

    # ----- orders ---------------------------------------------------------------------------
    def add_order(self, order: StoreOrder) -> None:
        with self._lock:
            self._orders[order.order_id] = order
            self._changed()

    def add_refund(self, order_id: str, refund: StoreRefund) -> None:
        with self._lock:
            self._orders[order_id].refunds.append(refund)
            self._changed()

    def order(self, order_id: str) -> StoreOrder | None:
        with self._lock:
            return self._orders.get(order_id)

    def orders(self, unique_id: str | None = None) -> list[StoreOrder]:
        with self._lock:
            return [o for o in self._orders.values() if unique_id in (None, o.unique_id)]

    def clear_orders(self) -> None:
        with self._lock:
            self._orders.clear()

    # ----- persistence ----------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self._lock:
            return {
                "sessions": [s.to_json() for s in self._sessions.values()],
                "orders": [o.to_json() for o in self._orders.values()],
            }

    def load(self, saved: dict[str, Any]) -> None:
        with self._lock:
            sessions = [StoreSession.from_json(s) for s in saved.get("sessions", [])]
            self._sessions = {s.digest: s for s in sessions}
            orders = [StoreOrder.from_json(o) for o in saved.get("orders", [])]
            self._orders = {o.order_id: o for o in orders}

    def snapshot(self) -> dict[str, Any]:
        """For the admin view: no ssoTokens, no auth_tokens."""
        with self._lock:
            now = self._now()
            return {
                "sign_ins": [
                    {
                        "email": s.email,
                        "unique_id": s.unique_id,
                        "expires_at": s.expires_at.isoformat(),
                        "expired": s.expires_at <= now,
                    }
                    for s in self._sessions.values()
                ],
                "orders": [
                    {
                        "order_id": o.order_id,
                        "unique_id": o.unique_id,
                        "product_name": o.product_name,
                        "points": str(o.points),
                        "status": o.status,
                        "refunded": str(o.refunded),
                    }
                    for o in self._orders.values()
                ],
            }
