"""The sandbox's built-in catalogue: products, countries, fixed exchange rates, link campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

D = Decimal
ZERO = Decimal(0)

COUNTRIES: dict[str, str] = {
    "IN": "India",
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "AE": "United Arab Emirates",
    "SG": "Singapore",
}

# Value of one unit of each currency in INR, fixed (staging fixes its rates once a day).
INR_PER_UNIT: dict[str, Decimal] = {
    "INR": D("1"),
    "USD": D("83.00"),
    "GBP": D("105.00"),
    "EUR": D("90.00"),
    "AED": D("22.60"),
    "SGD": D("61.50"),
}


def exchange_rate(from_currency: str, to_currency: str) -> Decimal:
    """Units of `to_currency` per unit of `from_currency`."""
    return INR_PER_UNIT[from_currency] / INR_PER_UNIT[to_currency]


def convert_whole(amount: Decimal, from_currency: str, to_currency: str) -> Decimal:
    """`amount` converted and rounded half-up to whole units (the account ledger is whole)."""
    value = amount * exchange_rate(from_currency, to_currency)
    return value.quantize(D("1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Product:
    product_id: int
    name: str
    country_code: str
    currency: str
    voucher_category: str
    product_category: str
    denominations: tuple[Decimal, ...] = ()  # empty = open value
    min_value: Decimal = ZERO
    max_value: Decimal = ZERO
    voucher_type: str = "code"  # code | codePin | url | urlPin
    delivery_type: str = "realtime"
    tat_days: int = 0
    fee: Decimal = ZERO
    discount: Decimal = ZERO  # percent
    validity_days: int = 365
    usage_type: str = "online"
    in_stock: bool = True
    activated: bool = True
    order_quantity_limit: int = 10

    @property
    def open_value(self) -> bool:
        return not self.denominations

    @property
    def value_type(self) -> str:
        return "open_value" if self.open_value else "fixed_denomination"

    @property
    def lowest(self) -> Decimal:
        return self.min_value if self.open_value else min(self.denominations)

    @property
    def highest(self) -> Decimal:
        return self.max_value if self.open_value else max(self.denominations)

    @property
    def country_name(self) -> str:
        return COUNTRIES[self.country_code]

    def accepts(self, denomination: Decimal) -> bool:
        if self.open_value:
            return self.min_value <= denomination <= self.max_value
        return denomination in self.denominations


def _fixed(*values: int) -> tuple[Decimal, ...]:
    return tuple(D(v) for v in values)


PRODUCTS: tuple[Product, ...] = (
    Product(1234, "Myntra Gift Card", "IN", "INR", "Gift Card", "Fashion", _fixed(500, 1000, 2000)),
    Product(
        10001,
        "Amazon Pay e-Gift Card (Amazon.in)",
        "IN",
        "INR",
        "Gift Card",
        "E-commerce",
        min_value=D(10),
        max_value=D(10000),
    ),
    Product(
        10002,
        "Amazon.com Gift Card",
        "US",
        "USD",
        "Gift Card",
        "E-commerce",
        min_value=D(1),
        max_value=D(2000),
    ),
    Product(
        10003,
        "Flipkart Gift Card",
        "IN",
        "INR",
        "Gift Card",
        "E-commerce",
        _fixed(100, 250, 500, 1000, 2000, 5000),
        voucher_type="codePin",
        discount=D("2.5"),
    ),
    Product(
        10004,
        "Starbucks US eGift",
        "US",
        "USD",
        "Gift Card",
        "Food & Beverages",
        _fixed(10, 25, 50),
        usage_type="both",
    ),
    Product(
        10005,
        "Starbucks UK eGift",
        "GB",
        "GBP",
        "Gift Card",
        "Food & Beverages",
        _fixed(5, 10, 25),
        usage_type="both",
    ),
    Product(10006, "Uber Gift Card", "US", "USD", "Gift Card", "Travel", _fixed(15, 25, 50, 100)),
    Product(
        10007,
        "Zomato Gift Card",
        "IN",
        "INR",
        "Gift Card",
        "Food & Beverages",
        _fixed(250, 500, 1000),
        voucher_type="codePin",
    ),
    Product(
        10008,
        "Swiggy Money Gift Card",
        "IN",
        "INR",
        "Gift Card",
        "Food & Beverages",
        min_value=D(100),
        max_value=D(10000),
        voucher_type="codePin",
    ),
    Product(
        10009,
        "Target GiftCard",
        "US",
        "USD",
        "Gift Card",
        "Retail",
        min_value=D(5),
        max_value=D(500),
        voucher_type="codePin",
        usage_type="both",
    ),
    Product(
        10010,
        "Walmart eGift Card",
        "US",
        "USD",
        "Gift Card",
        "Retail",
        _fixed(25, 50, 100),
        voucher_type="codePin",
        in_stock=False,
    ),
    Product(
        10011,
        "IKEA Gift Card (Germany)",
        "DE",
        "EUR",
        "Gift Card",
        "Home & Living",
        _fixed(25, 50, 100),
        voucher_type="codePin",
        usage_type="both",
    ),
    Product(
        10012,
        "Zalando Gift Card",
        "DE",
        "EUR",
        "Gift Card",
        "Fashion",
        min_value=D(5),
        max_value=D(500),
    ),
    Product(
        10013,
        "Decathlon France e-Carte Cadeau",
        "FR",
        "EUR",
        "Gift Card",
        "Sports",
        _fixed(20, 50, 100),
        voucher_type="codePin",
        usage_type="both",
    ),
    Product(
        10014,
        "Apple Gift Card (US)",
        "US",
        "USD",
        "Gift Card",
        "Electronics",
        min_value=D(2),
        max_value=D(500),
    ),
    Product(
        10015,
        "Google Play Gift Code (India)",
        "IN",
        "INR",
        "Gift Card",
        "Entertainment",
        _fixed(100, 300, 500, 1000),
    ),
    Product(
        10016,
        "Netflix Gift Card (US)",
        "US",
        "USD",
        "Gift Card",
        "Entertainment",
        _fixed(30, 60, 100),
        voucher_type="url",
    ),
    Product(
        10017,
        "Spotify Premium (UK)",
        "GB",
        "GBP",
        "Gift Card",
        "Entertainment",
        _fixed(10, 30, 60),
    ),
    Product(
        10018,
        "Airbnb Gift Card",
        "US",
        "USD",
        "Gift Card",
        "Travel",
        min_value=D(25),
        max_value=D(500),
        voucher_type="url",
    ),
    Product(
        10019,
        "Marriott Bonvoy Gift Card",
        "US",
        "USD",
        "Gift Card",
        "Travel",
        _fixed(50, 100, 250),
        activated=False,
        delivery_type="delayed",
        tat_days=2,
    ),
    Product(
        10020,
        "Visa Virtual Prepaid Card (US)",
        "US",
        "USD",
        "Prepaid Card",
        "Prepaid",
        _fixed(25, 50, 100),
        voucher_type="urlPin",
        fee=D("2.95"),
    ),
    Product(
        10021,
        "Noon Gift Card (UAE)",
        "AE",
        "AED",
        "Gift Card",
        "E-commerce",
        _fixed(100, 200, 500),
        voucher_type="codePin",
    ),
    Product(
        10022,
        "Carrefour UAE Gift Card",
        "AE",
        "AED",
        "Gift Card",
        "Retail",
        min_value=D(50),
        max_value=D(1000),
        usage_type="both",
    ),
    Product(
        10023,
        "Grab Gift Card (Singapore)",
        "SG",
        "SGD",
        "Gift Card",
        "Travel",
        _fixed(10, 20, 50),
    ),
    Product(
        10024,
        "Amazon.co.uk Gift Card",
        "GB",
        "GBP",
        "Gift Card",
        "E-commerce",
        min_value=D(1),
        max_value=D(1000),
    ),
    Product(
        15365,
        "Charity Donation: GiveDirectly (US)",
        "US",
        "USD",
        "Donation",
        "Charity",
        min_value=D(1),
        max_value=D(1000),
        validity_days=0,
        usage_type="online",
    ),
)

PRODUCTS_BY_ID: dict[int, Product] = {p.product_id: p for p in PRODUCTS}


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: int
    name: str
    denomination: int
    currency: str
    country_code: str
    enabled: bool = True

    @property
    def country_name(self) -> str:
        return COUNTRIES[self.country_code]


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(7890, "Thank You Link (India)", 500, "INR", "IN"),
    Campaign(7891, "Spot Award Link (US)", 25, "USD", "US"),
    Campaign(7892, "Team Lunch Link (UK)", 20, "GBP", "GB"),
    Campaign(7893, "Festive Gift Link (UAE)", 100, "AED", "AE"),
    Campaign(7894, "Retired Campaign (US)", 50, "USD", "US", enabled=False),
)

CAMPAIGNS_BY_ID: dict[int, Campaign] = {c.campaign_id: c for c in CAMPAIGNS}

PRICE_RANGES: tuple[tuple[str, int, int], ...] = (
    ("0 - 500", 0, 500),
    ("500 - 2000", 500, 2000),
    ("2000 - 10000", 2000, 10000),
)
