"""What the Plum sandbox received, for the page: the account, the points per person (by name),
the last requests and the faults set now, and (points in the bot, `--storefront`) the orders
placed in its store. Built from `SandboxServer.state.snapshot()`, its request log and its
faults, which hold no tokens, voucher codes or links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.simulators.playground.sandbox_control import ActiveFault, describe
from bot.simulators.plum_sandbox import SandboxServer
from bot.simulators.plum_sandbox.storefront.offers import points_text

LAST_REQUESTS = 15


@dataclass(frozen=True, slots=True)
class PersonPoints:
    name: str
    email: str
    points: int  # available now (sent, not expired, cancelled or redeemed)


@dataclass(frozen=True, slots=True)
class StoreOrderRow:
    order_id: str
    name: str
    item: str
    points: str
    refunded: str
    status: str  # placed | refused | no answer


@dataclass(frozen=True, slots=True)
class SandboxView:
    balance: str
    currency: str
    people: list[PersonPoints]
    transactions: list[dict[str, Any]]
    requests: list[dict[str, str]]  # {at, operation}
    request_count: int
    faults: list[ActiveFault]
    storefront: bool = False  # its store spends from the bot's ledger
    orders: list[StoreOrderRow] = field(default_factory=list)  # newest first

    def as_json(self) -> dict[str, Any]:
        return {
            "balance": self.balance,
            "currency": self.currency,
            "people": [{"name": p.name, "email": p.email, "points": p.points} for p in self.people],
            "transactions": self.transactions,
            "requests": self.requests,
            "request_count": self.request_count,
            "faults": [
                {
                    "calls": f.calls,
                    "operations": list(f.operations),
                    "what": f.what,
                    "until": f.until,
                }
                for f in self.faults
            ],
            "storefront": self.storefront,
            "orders": [asdict(o) for o in self.orders],
        }


def sandbox_view(sandbox: SandboxServer, *, users: Sequence[Mapping[str, Any]]) -> SandboxView:
    names = {
        str(u["profile"]["email"]).lower(): str(u.get("real_name") or u["name"])
        for u in users
        if u.get("profile", {}).get("email")
    }
    by_id = {str(u["id"]): str(u.get("real_name") or u["name"]) for u in users}
    orders = [
        StoreOrderRow(
            order_id=o.order_id,
            name=by_id.get(o.unique_id, o.unique_id),
            item=o.product_name,
            points=points_text(o.points),
            refunded=points_text(o.refunded),
            status=o.status,
        )
        for o in reversed(sandbox.state.store.orders())  # as placed, newest first
    ]
    snap = sandbox.state.snapshot()
    people = [
        PersonPoints(name=names.get(email.lower(), email), email=email, points=int(points))
        for email, points in sorted(snap["points"].items())
    ]
    transactions = [
        {**t, "name": names.get(str(t["email"]).lower(), t["email"])}
        for t in reversed(snap["transactions"])
    ]
    log = list(sandbox.requests)
    requests = [
        {"at": str(e.get("at", "")), "operation": str(e.get("operation", ""))}
        for e in reversed(log[-LAST_REQUESTS:])
    ]
    return SandboxView(
        balance=str(snap["balance"]),
        currency=str(snap["currency"]),
        people=people,
        transactions=transactions,
        requests=requests,
        request_count=len(log),
        faults=describe(sandbox.faults),
        storefront=sandbox.context.storefront.connection is not None,
        orders=orders,
    )
