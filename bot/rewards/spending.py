"""What the Xoxoday account paid in a period, from the ledger, in the account's currency: what
the weekly summary shows admins as spend.

It is the ledger's side of the reconciliation (`storage.reconcile`), so the two agree and the
daily reconciliation checks it against Xoxoday's payment report day by day:
- points: with points at Xoxoday, every recipient whose points sendBalance delivered in the
  period (one point is one unit of the account's currency, what sendBalance debits), those
  cancelled since included: the debit happened, the refund is a later credit, not spending.
  With points in the bot a reward costs nothing at Xoxoday: only what is bought with the points
  (a gift card or donation) is paid;
- gift cards and donations: every order placed in the period (its placeOrder call), at what
  Xoxoday said it charged (`amountCharged`), else the order's value. Orders whose outcome is
  still unknown are counted apart (`orders_in_doubt`), not in the spend.

What came back in the period is apart too (`refunded`): points a cancel withdrew, and orders
Xoxoday canceled, at what they were charged. Spend is what the payment report shows as debits;
`refunded` its credits for the bot's rewards and orders (top-ups are neither).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from storage import reconcile as ledger
from storage.states import OrderKind, OrderStatus

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Spend:
    """What the account paid in a period, in its currency."""

    points_at_xoxoday: bool = True  # False: points live in the bot and cost nothing at Xoxoday
    points: Decimal = ZERO  # sendBalance
    gift_cards: Decimal = ZERO
    donations: Decimal = ZERO
    orders_in_doubt: int = 0  # placeOrder called, outcome unknown: not counted
    refunded: Decimal = ZERO  # given back: points withdrawn, orders Xoxoday canceled

    @property
    def total(self) -> Decimal:
        return self.points + self.gift_cards + self.donations


def spend_between(
    session: Session, *, since: datetime, until: datetime, points_at_xoxoday: bool
) -> Spend:
    """What the account paid in [since, until), as the ledger records it."""
    period = {"since": since, "until": until}
    gift_cards = donations = ZERO
    in_doubt = 0
    for order in ledger.orders_paid_between(session, **period):
        if order.status != OrderStatus.PLACED:
            in_doubt += 1
            continue
        charged = order.expected_charge or ZERO
        if order.kind == OrderKind.DONATION:
            donations += charged
        else:
            gift_cards += charged
    refunded = sum(
        (o.expected_charge or ZERO for o in ledger.orders_refunded_between(session, **period)),
        ZERO,
    )
    points = ZERO
    if points_at_xoxoday:
        sent = ledger.points_sent_between(session, **period)
        points = Decimal(sum(p.points for p in sent))
        refunded += ledger.points_refunded_between(session, **period)
    return Spend(
        points_at_xoxoday=points_at_xoxoday,
        points=points,
        gift_cards=gift_cards,
        donations=donations,
        orders_in_doubt=in_doubt,
        refunded=refunded,
    )
