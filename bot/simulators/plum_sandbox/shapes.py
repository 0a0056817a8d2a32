"""Response bodies, in the seed spec's shape by default and in each documented variant."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.simulators.plum_sandbox.auth import IssuedTokens
from bot.simulators.plum_sandbox.catalogue import Product
from bot.simulators.plum_sandbox.clock import epoch_ms, iso_date, iso_z
from bot.simulators.plum_sandbox.records import LedgerEntry, Order, PointsTransaction, Voucher


def number(value: Decimal) -> int | float:
    """A JSON number: whole values as int, others as float."""
    return int(value) if value == value.to_integral_value() else float(value)


# ----- tokens ----------------------------------------------------------------------------------
def token_body(issued: IssuedTokens, *, now: datetime, variant: str) -> dict[str, Any]:
    expires_in = max(0, int((issued.access_expires_at - now).total_seconds()))
    docs = variant == "docs"
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": str(expires_in) if docs else expires_in,
    }
    if issued.refresh_token is not None or docs:
        access_ms = epoch_ms(issued.access_expires_at)
        body["access_token_expiry"] = str(access_ms) if docs else access_ms
    if issued.refresh_token is not None and issued.refresh_expires_at is not None:
        refresh_ms = epoch_ms(issued.refresh_expires_at)
        body["refresh_token"] = issued.refresh_token
        body["refresh_token_expiry"] = str(refresh_ms) if docs else refresh_ms
    return body


def validation_body(
    token: str, expires_at: datetime, *, now: datetime, variant: str
) -> dict[str, Any]:
    expires_in = max(0, int((expires_at - now).total_seconds()))
    ms = epoch_ms(expires_at)
    docs = variant == "docs"
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": str(expires_in) if docs else expires_in,
        "access_token_expiry": str(ms) if docs else ms,
    }


# ----- catalogue -------------------------------------------------------------------------------
def product_item(product: Product, *, loose: bool, rate: Decimal | None = None) -> dict[str, Any]:
    def num(value: Decimal | int) -> int | float | str:
        return str(value) if loose else number(Decimal(value))

    item: dict[str, Any] = {
        "productId": product.product_id,
        "name": product.name,
        "description": f"{product.name}: a demo product of the Plum sandbox.",
        "valueType": product.value_type,
        "minValue": num(product.lowest),
        "maxValue": num(product.highest),
        "valueDenominations": ",".join(str(d) for d in product.denominations),
        "fee": num(product.fee),
        "discount": num(product.discount),
        "countryCode": product.country_code,
        "countryName": product.country_name,
        "currencyCode": product.currency,
        "termsAndConditionsInstructions": "Demo voucher: it cannot be redeemed anywhere.",
        "redemptionInstructions": "This is a sandbox voucher; nothing to redeem.",
        "expiryAndValidity": (
            f"Valid for {product.validity_days} days from issue."
            if product.validity_days
            else "Does not expire."
        ),
        "deliveryType": product.delivery_type,
        "tatInDays": str(product.tat_days) if loose else product.tat_days,
        "usageType": product.usage_type,
        "imageUrl": f"https://images.sandbox.invalid/products/{product.product_id}.png",
        "loyaltyName": "",
        "productMeta": json.dumps({"voucherType": product.voucher_type}),
        "orderQuantityLimit": None if loose else product.order_quantity_limit,
        "categories": product.product_category,
        "voucherCategory": product.voucher_category,
    }
    if rate is not None:
        item["exchangeRate"] = num(rate.quantize(Decimal("0.000001")))
    return item


# ----- orders ----------------------------------------------------------------------------------
def voucher_item(voucher: Voucher, order: Order) -> dict[str, Any]:
    """Both documented spellings: the seed spec's and seed 004's / the docs'."""
    return {
        "code": voucher.code,
        "pin": voucher.pin,
        "validFrom": voucher.valid_from.isoformat(),
        "validTo": voucher.valid_to.isoformat(),
        "voucherCode": voucher.code,
        "validity": voucher.valid_to.isoformat(),
        "amount": number(voucher.amount),
        "currency": voucher.currency,
        "country": voucher.country,
        "type": voucher.type,
        "productId": order.product_id,
        "orderId": order.order_id,
    }


ORDER_STATUS = {"delivered": "complete", "pending": "processing", "canceled": "canceled"}


def order_body(order: Order, *, discounts_as_strings: bool) -> dict[str, Any]:
    """An order as placeOrder and getOrderDetails answer: its delivery status as the sandbox
    last told it (the webhook), its vouchers once delivered."""

    def discount(value: Decimal) -> int | float | str:
        return str(value) if discounts_as_strings else number(value)

    delivered = order.delivery_status == "delivered"
    when = order.delivered_at if order.delivered_at and order.delivery_status != "pending" else None

    return {
        "orderId": order.order_id,
        "poNumber": order.po_number,
        "orderTotal": number(order.order_total),
        "orderDiscount": discount(order.order_discount),
        "discountPercent": discount(order.discount_percent),
        "currencyCode": order.currency,
        "currencyValue": number(order.exchange_rate.quantize(Decimal("0.000001"))),
        "amountCharged": number(order.amount_charged),
        "orderStatus": ORDER_STATUS.get(order.delivery_status, "processing"),
        "deliveryStatus": order.delivery_status,
        "orderDate": iso_z(order.created_at),
        "deliveryDate": iso_z(when) if when else None,
        "tag": order.tag,
        "quantity": order.quantity,
        "vouchers": [voucher_item(v, order) for v in order.vouchers] if delivered else [],
        "voucherDetails": [
            {
                "orderId": order.order_id,
                "productId": order.product_id,
                "productName": order.product_name,
                "currencyCode": order.currency,
                "productStatus": order.delivery_status,
                "denomination": number(order.denomination),
            }
        ],
    }


def order_summary(order: Order) -> dict[str, Any]:
    """An order in the history list: no voucher codes."""
    return {
        "orderId": order.order_id,
        "poNumber": order.po_number,
        "orderDate": iso_z(order.created_at),
        "productId": order.product_id,
        "productName": order.product_name,
        "quantity": order.quantity,
        "denomination": number(order.denomination),
        "orderTotal": number(order.order_total),
        "amountCharged": number(order.amount_charged),
        "currencyCode": order.currency,
        "orderStatus": ORDER_STATUS.get(order.delivery_status, "processing"),
        "deliveryStatus": order.delivery_status,
        "tag": order.tag,
    }


def payment_row(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "invoice_number": entry.invoice_number,
        "reference_id": entry.reference_id,
        "date": iso_date(entry.at),
        "reason": entry.reason,
        "adjusted_amount": int(entry.amount),
        "transaction_status": entry.status,
        "closing_balance": int(entry.closing_balance),
    }


def payment_history_body(rows: list[LedgerEntry], *, variant: str) -> dict[str, Any]:
    key = "getPaymentReport" if variant == "guide" else "paymentHistory"
    return {"data": {key: {"status": 1, "data": [payment_row(r) for r in rows]}}}


# ----- points ----------------------------------------------------------------------------------
def recipient_item(tx: PointsTransaction) -> dict[str, Any]:
    return {
        "unique_id": tx.unique_id,
        "points": tx.points,
        "name": tx.name,
        "email": tx.email,
        "phone_code": "",
        "phone_number": "",
    }


def send_balance_body(txs: list[PointsTransaction], *, variant: str) -> dict[str, Any]:
    message = f"Points sent to {len(txs)} recipient(s)"
    if variant == "flat":
        return {"data": recipient_item(txs[0])}
    if variant == "quickstart":
        return {"data": {"sendBalance": {"error": False, "message": message}}}
    return {
        "data": {
            "sendBalance": {
                "error": False,
                "message": message,
                "recipients": [recipient_item(t) for t in txs],
            }
        }
    }
