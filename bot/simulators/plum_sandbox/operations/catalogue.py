"""getFilters, getVouchers and getBalance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.simulators.plum_sandbox.catalogue import (
    COUNTRIES,
    PRICE_RANGES,
    PRODUCTS,
    Product,
    exchange_rate,
)
from bot.simulators.plum_sandbox.errors import AppError
from bot.simulators.plum_sandbox.operations.base import Body, OpContext
from bot.simulators.plum_sandbox.operations.params import (
    ParamError,
    bool_param,
    data_of,
    decimal_param,
    int_param,
    list_param,
    page_slice,
    str_param,
)
from bot.simulators.plum_sandbox.shapes import number, product_item


def _code(text: str) -> str:
    return text.lower().replace(" & ", "_").replace(" - ", "-").replace(" ", "_")


def filter_groups() -> list[dict[str, Any]]:
    countries = sorted({p.country_code for p in PRODUCTS})
    currencies = sorted({p.currency for p in PRODUCTS})

    def plain(values: list[str]) -> list[dict[str, str]]:
        return [{"filterValue": v, "isoCode": "", "filterValueCode": _code(v)} for v in values]

    return [
        {
            "filterGroupName": "Country",
            "filterGroupDescription": "Country where the voucher can be redeemed",
            "filterGroupCode": "country",
            "filters": [
                {
                    "filterValue": COUNTRIES[c],
                    "isoCode": c,
                    "filterValueCode": _code(COUNTRIES[c]),
                }
                for c in countries
            ],
        },
        {
            "filterGroupName": "Price",
            "filterGroupDescription": "Face value range, in the product's currency",
            "filterGroupCode": "price",
            "filters": plain([label for label, _, _ in PRICE_RANGES]),
        },
        {
            "filterGroupName": "Voucher Category",
            "filterGroupDescription": "Kind of reward",
            "filterGroupCode": "voucher_category",
            "filters": plain(sorted({p.voucher_category for p in PRODUCTS})),
        },
        {
            "filterGroupName": "Product Category",
            "filterGroupDescription": "What the reward is spent on",
            "filterGroupCode": "product_category",
            "filters": plain(sorted({p.product_category for p in PRODUCTS})),
        },
        {
            "filterGroupName": "Currency",
            "filterGroupDescription": "Currency of the voucher's face value",
            "filterGroupCode": "currency",
            "filters": [
                {"filterValue": c, "isoCode": c, "filterValueCode": c.lower()} for c in currencies
            ],
        },
    ]


def get_filters(ctx: OpContext, body: Body) -> Body:
    try:
        data = data_of(body)
        code = str_param(data.get("filterGroupCode"), "filterGroupCode")
        include = {v.lower() for v in list_param(data.get("includeFilters"), "includeFilters")}
        exclude = {v.lower() for v in list_param(data.get("excludeFilters"), "excludeFilters")}
    except ParamError as err:
        raise AppError("PLE10003", str(err)) from None
    groups = filter_groups()
    if code:
        groups = [g for g in groups if g["filterGroupCode"] == code]
        if not groups:
            known = ", ".join(g["filterGroupCode"] for g in filter_groups())
            raise AppError("PLE10029", f"Unknown filterGroupCode {code!r}; use one of {known}.")

    def keep(item: dict[str, str]) -> bool:
        names = {item["filterValue"].lower(), item["filterValueCode"], item["isoCode"].lower()}
        return (not include or bool(names & include)) and not (names & exclude)

    for group in groups:
        group["filters"] = [f for f in group["filters"] if keep(f)]
    return {"data": {"getFilters": {"status": 1, "data": groups}}}


def _price_range(text: str) -> tuple[Decimal, Decimal]:
    low, sep, high = text.replace(" ", "").partition("-")
    if not sep:
        value = decimal_param(low, "price")
        return value, value
    return decimal_param(low, "price"), decimal_param(high, "price")


def _matches(product: Product, key: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if key == "productName":
        return text in product.name.lower()
    if key == "country":
        return text in (
            product.country_code.lower(),
            product.country_name.lower(),
            _code(product.country_name),
        )
    if key in ("currencyCode", "currency"):
        return text == product.currency.lower()
    if key == "deliveryType":
        return text == product.delivery_type.lower()
    if key in ("voucher_category", "voucherCategory"):
        return text in (product.voucher_category.lower(), _code(product.voucher_category))
    if key in ("product_category", "productCategory"):
        return text in (product.product_category.lower(), _code(product.product_category))
    if key == "price":
        low, high = _price_range(str(value))
        return product.lowest <= high and product.highest >= low
    if key == "minPrice":
        return product.highest >= decimal_param(value, "minPrice")
    if key == "maxPrice":
        return product.lowest <= decimal_param(value, "maxPrice")
    raise KeyError(key)


FILTER_KEYS = (
    "productName",
    "country",
    "price",
    "minPrice",
    "maxPrice",
    "currencyCode",
    "deliveryType",
    "voucher_category",
    "product_category",
)
SORT_FIELDS = {
    "name": lambda p: p.name.lower(),
    "productId": lambda p: p.product_id,
    "price": lambda p: p.lowest,
    "minValue": lambda p: p.lowest,
    "maxValue": lambda p: p.highest,
    "country": lambda p: p.country_name,
}


def get_vouchers(ctx: OpContext, body: Body) -> Body:
    try:
        data = data_of(body)
        limit = int_param(data.get("limit"), "limit", default=10, minimum=1, maximum=500)
        page = int_param(data.get("page"), "page", default=1, minimum=1)
        include = [
            int_param(v, "includeProducts")
            for v in list_param(data.get("includeProducts"), "includeProducts")
        ]
        exclude = [
            int_param(v, "excludeProducts")
            for v in list_param(data.get("excludeProducts"), "excludeProducts")
        ]
        with_rate = bool(bool_param(data.get("exchangeRate"), "exchangeRate"))
        filters = data.get("filters") or []
        if not isinstance(filters, list) or not all(
            isinstance(f, dict) and "key" in f for f in filters
        ):
            raise ParamError("filters must be a list of {key, value} objects")
        sort = data.get("sort") or {}
        if not isinstance(sort, dict):
            raise ParamError("sort must be an object {field, order}")
        sort_field = str_param(sort.get("field"), "sort.field") or "productId"
        order = (str_param(sort.get("order"), "sort.order") or "ASC").upper()
        if sort_field not in SORT_FIELDS or order not in ("ASC", "DESC"):
            raise ParamError(f"sort needs field in {', '.join(SORT_FIELDS)} and order ASC or DESC")
    except ParamError as err:
        raise AppError("PLE10033", str(err)) from None

    products = [p for p in PRODUCTS if (not include or p.product_id in include)]
    products = [p for p in products if p.product_id not in exclude]
    for f in filters:
        key = str(f["key"])
        if key not in FILTER_KEYS:
            raise AppError(
                "PLE10033", f"Unknown filter key {key!r}; use one of {', '.join(FILTER_KEYS)}."
            )
        try:
            products = [p for p in products if _matches(p, key, f.get("value"))]
        except ParamError as err:
            raise AppError("PLE10031", f"Bad value for filter {key}: {err}") from None
    products.sort(key=SORT_FIELDS[sort_field], reverse=order == "DESC")
    products = page_slice(products, limit=limit, page=page)
    if not products:
        raise AppError("PLE10030", "Failed to find vouchers.")
    loose = ctx.variant("vouchers") == "loose"
    currency = ctx.state.currency
    items = [
        product_item(
            p, loose=loose, rate=exchange_rate(p.currency, currency) if with_rate else None
        )
        for p in products
    ]
    return {"data": {"getVouchers": {"status": 1, "data": items}}}


def get_balance(ctx: OpContext, body: Body) -> Body:
    value = ctx.state.account_balance
    return {
        "data": {
            "getBalance": {
                "status": 1,
                "data": {"value": number(value), "currency": ctx.state.currency},
            }
        }
    }
