"""Xoxoday's catalogue for the gift and donation forms, kept in memory.

getVouchers and getFilters allow 50 calls a minute, and a form asks on every keystroke (Slack's
`block_suggestion`, answered within 3 seconds), so the catalogue is read whole (a page of 100
at a time) at most once every `ttl` seconds, shared by everyone; a search is then a filter over
it in memory. A failed read keeps what was read before (or answers with nothing and says why).
Nobody waits on a refresh: a stale catalogue is answered from while a thread reads the new
one; only a catalogue never read yet is waited for, and only by who asks to (`wait=True`:
placing an order); the forms ask with `wait=False` and say the catalogue is loading.
Charities are the products whose category is charity (seed 004).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.plum import FilterGroup, PlumClient, PlumError, Voucher

log = logging.getLogger(__name__)

CATALOGUE_TTL_SECONDS = 600.0
PAGE_SIZE = 100
MAX_PAGES = 20
OPTIONS_MAX = 100  # Slack shows at most 100 options
FILTER_GROUPS = ("country", "product_category", "currency")


def is_charity(voucher: Voucher) -> bool:
    raw = voucher.raw
    words = " ".join(
        str(raw.get(key) or "")
        for key in ("categories", "categoryType", "voucherCategory", "productCategory")
    ).lower()
    return "charity" in words or "donation" in words


def category_of(voucher: Voucher) -> str:
    return str(voucher.raw.get("categories") or voucher.raw.get("productCategory") or "")


@dataclass(frozen=True, slots=True)
class Filters:
    country: str | None = None
    category: str | None = None
    currency: str | None = None

    def keeps(self, voucher: Voucher) -> bool:
        if self.country and self.country.lower() not in (
            (voucher.country_code or "").lower(),
            (voucher.country_name or "").lower(),
        ):
            return False
        if self.category and self.category.lower() != category_of(voucher).lower():
            return False
        return not (
            self.currency and self.currency.lower() != (voucher.currency_code or "").lower()
        )


@dataclass(frozen=True, slots=True)
class Choice:
    """One filter value a form can offer: what to show and what to match."""

    label: str
    value: str


class Catalogue:
    def __init__(
        self,
        *,
        plum: PlumClient,
        ttl: float = CATALOGUE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._plum = plum
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._products: tuple[Voucher, ...] | None = None
        self._filters: dict[str, tuple[Choice, ...]] | None = None
        self._read_at = float("-inf")
        self._loading: threading.Event | None = None  # a read under way; set when it ends
        self._unread = False  # the last read failed and there is no earlier one to show

    def _fresh(self, *, wait: bool = True) -> bool:
        """Start a read when the catalogue is stale (one at a time); True when there is a
        catalogue to answer from. Only a catalogue never read is waited for, with `wait`."""
        with self._lock:
            stale = self._products is None or self._clock() - self._read_at >= self._ttl
            if not stale:
                return True
            if self._loading is None:
                self._loading = threading.Event()
                threading.Thread(
                    target=self._read, args=(self._loading,), name="catalogue", daemon=True
                ).start()
            loading, have = self._loading, self._products is not None
        if have or not wait:
            return have
        loading.wait()
        return True

    def _read(self, done: threading.Event) -> None:
        try:
            products = self._read_products()
            filters = self._read_filters()
        except Exception as err:
            if isinstance(err, PlumError):
                log.warning("could not read Xoxoday's catalogue (%s)", type(err).__name__)
            else:
                log.exception("could not read Xoxoday's catalogue")
            with self._lock:
                self._read_at = self._clock() - self._ttl + 30  # try again in 30 s
                if self._products is None:
                    self._products, self._filters = (), {}
                self._unread = not self._products
        else:
            with self._lock:
                self._products, self._filters, self._read_at = products, filters, self._clock()
                self._unread = False
        finally:
            with self._lock:
                self._loading = None
            done.set()

    @property
    def reading(self) -> bool:
        """Whether a read of the catalogue is under way."""
        with self._lock:
            return self._loading is not None

    def loaded(self, within: float = 0.0) -> bool:
        """Whether there is a catalogue to answer from, waiting at most `within` seconds for
        a first read (which is started if none is under way)."""
        if self._fresh(wait=False):
            return True
        with self._lock:
            loading = self._loading
        if loading is not None and within > 0:
            loading.wait(within)
        return self._fresh(wait=False)

    def _read_products(self) -> tuple[Voucher, ...]:
        found: list[Voucher] = []
        for page in range(1, MAX_PAGES + 1):
            batch = self._plum.get_vouchers(limit=PAGE_SIZE, page=page, exchange_rate=True)
            found += [v for v in batch if v.product_id is not None]
            if len(batch) < PAGE_SIZE:
                break
        return tuple(found)

    def _read_filters(self) -> dict[str, tuple[Choice, ...]]:
        groups: Sequence[FilterGroup] = self._plum.get_filters()
        out: dict[str, tuple[Choice, ...]] = {}
        for group in groups:
            if group.code not in FILTER_GROUPS:
                continue
            out[group.code] = tuple(
                Choice(label=f.value or f.code or "", value=f.value or f.code or "")
                for f in group.filters
                if f.value or f.code
            )
        return out

    def products(self, *, wait: bool = True) -> tuple[Voucher, ...]:
        self._fresh(wait=wait)
        return self._products or ()

    def unreadable(self) -> bool:
        """True when Xoxoday's catalogue could not be read and none was read before (then
        `products` is empty because nothing is known, not because nothing is offered)."""
        self._fresh()
        return self._unread

    def filter_choices(self, group: str, *, wait: bool = True) -> tuple[Choice, ...]:
        self._fresh(wait=wait)
        return (self._filters or {}).get(group, ())

    def product(self, product_id: int) -> Voucher | None:
        return next((v for v in self.products() if v.product_id == product_id), None)

    def search(
        self,
        query: str,
        *,
        filters: Filters,
        charity: bool,
        limit: int = OPTIONS_MAX,
        wait: bool = True,
    ) -> list[Voucher]:
        """Products whose name holds every word of `query`, within `filters`: charities
        only, or no charities."""
        words = query.lower().split()
        out = []
        for voucher in self.products(wait=wait):
            if is_charity(voucher) != charity or not filters.keeps(voucher):
                continue
            name = voucher.name.lower()
            if all(w in name for w in words):
                out.append(voucher)
            if len(out) >= limit:
                break
        return out


def rate_of(voucher: Voucher) -> Decimal | None:
    """Units of the account's currency per unit of the product's (getVouchers with
    `exchangeRate`), when Xoxoday said."""
    raw = voucher.raw.get("exchangeRate")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        rate = Decimal(str(raw))
    except ArithmeticError:
        return None
    return rate if rate.is_finite() and rate > 0 else None


def amounts_of(voucher: Voucher) -> tuple[Decimal, ...]:
    """The fixed denominations a product is sold in (empty: any amount in its range)."""
    return tuple(voucher.denominations)


def amount_problem(voucher: Voucher, amount: Decimal) -> str | None:
    """Why `amount` can't be ordered of this product (None: it can)."""
    if not amount.is_finite() or amount <= 0:
        return "Enter an amount more than 0."
    fixed = amounts_of(voucher)
    currency = voucher.currency_code or ""
    if fixed:
        if amount not in fixed:
            shown = ", ".join(f"{d:,}" for d in fixed)
            return f"Pick one of the amounts this card comes in: {shown} {currency}."
        return None
    low, high = voucher.min_value, voucher.max_value
    if low is not None and amount < low:
        return f"The smallest amount for this one is {low:,} {currency}."
    if high is not None and amount > high:
        return f"The largest amount for this one is {high:,} {currency}."
    if amount != amount.quantize(Decimal("0.01")):
        return "Use at most two decimals."
    return None
