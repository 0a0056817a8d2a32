"""What the store sells: a handful of gift cards from the sandbox catalogue, priced in points.

One point is one unit of the account's base currency; a card in another currency costs its
value at the catalogue's fixed rate, to the hundredth of a point.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.simulators.plum_sandbox.catalogue import PRODUCTS_BY_ID, Product, exchange_rate

# (productId, value in the product's currency): 348.5 shows a price with a fractional part.
STORE_CARDS: tuple[tuple[int, str], ...] = (
    (10001, "348.5"),
    (1234, "500"),
    (10003, "250"),
    (10007, "1000"),
    (10015, "100"),
    (10004, "10"),
)
CATEGORY = "giftcard"  # the newer guide's orderData category: merchandise | giftcard


@dataclass(frozen=True, slots=True)
class Offer:
    offer_id: str
    product: Product
    value: Decimal  # in the product's currency
    points: Decimal  # in the account's currency, to the hundredth

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def label(self) -> str:
        return f"{self.product.name}, {points_text(self.value)} {self.product.currency}"


def offers(currency: str) -> list[Offer]:
    out = []
    for product_id, value in STORE_CARDS:
        product = PRODUCTS_BY_ID[product_id]
        amount = Decimal(value)
        points = (amount * exchange_rate(product.currency, currency)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        out.append(Offer(f"{product_id}-{value}", product, amount, points))
    return out


def offer(currency: str, offer_id: str) -> Offer | None:
    return next((o for o in offers(currency) if o.offer_id == offer_id), None)


def points_text(value: Decimal) -> str:
    """348.50 → "348.5", 500.00 → "500": how points are written on the page and on the wire."""
    text = format(value.quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
