"""placeOrder, getOrderDetails, getOrderHistory and paymentHistory."""

from __future__ import annotations

from bot.simulators.plum_sandbox.catalogue import PRODUCTS_BY_ID
from bot.simulators.plum_sandbox.errors import AppError
from bot.simulators.plum_sandbox.operations.base import Body, OpContext
from bot.simulators.plum_sandbox.operations.params import (
    ParamError,
    data_of,
    date_param,
    decimal_param,
    email_param,
    int_param,
    page_slice,
    str_param,
)
from bot.simulators.plum_sandbox.shapes import order_body, order_summary, payment_history_body
from bot.simulators.plum_sandbox.state import DuplicatePoNumber, InsufficientBalance


def place_order(ctx: OpContext, body: Body) -> Body:
    try:
        data = data_of(body)
        product_id = int_param(data.get("productId"), "productId")
    except ParamError as err:
        raise AppError("PLE10001", str(err)) from None
    product = PRODUCTS_BY_ID.get(product_id)
    if product is None:
        raise AppError("PLE10001", f"No product with productId {product_id}; see getVouchers.")
    if not product.activated:
        raise AppError(
            "PLE10042",
            f"Product {product_id} is not activated for this account.",
            error="Product not activated",
        )
    try:
        quantity = int_param(data.get("quantity"), "quantity", default=1, minimum=1)
        denomination = decimal_param(data.get("denomination"), "denomination")
        email = email_param(data.get("email"), "email", required=False)
        contact = str_param(data.get("contact"), "contact")
        tag = str_param(data.get("tag"), "tag")
    except ParamError as err:
        raise AppError("PLE10001", str(err)) from None
    if quantity > product.order_quantity_limit:
        raise AppError(
            "PLE10041",
            f"At most {product.order_quantity_limit} units per order; got {quantity}.",
        )
    if not product.accepts(denomination):
        allowed = (
            f"between {product.min_value} and {product.max_value}"
            if product.open_value
            else "one of " + ", ".join(str(d) for d in product.denominations)
        )
        raise AppError(
            "PLE10018",
            f"Denomination {denomination} is not valid for product {product_id}; use {allowed} "
            f"({product.currency}).",
        )
    try:
        po_number = str_param(data.get("poNumber"), "poNumber", required=True)
    except ParamError as err:
        raise AppError("PLE10004", f"{err}: send a unique poNumber with every order.") from None
    if ctx.state.order(po_number=po_number) is not None:
        raise AppError("PLE10004", f"poNumber {po_number!r} was already used for an order.")
    if not product.in_stock:
        raise AppError("PLE10024", f"Product {product_id} is out of stock.")
    hooks = ctx.webhooks
    plan = hooks.plan(product) if hooks is not None else None
    try:
        order = ctx.state.place_order(
            product=product,
            quantity=quantity,
            denomination=denomination,
            po_number=po_number,
            email=email,
            contact=contact,
            tag=tag,
            deliver_after=hooks.deliver_after(plan) if hooks and plan else None,
        )
    except DuplicatePoNumber as err:
        raise AppError("PLE10004", str(err)) from None
    except InsufficientBalance as err:
        raise AppError("PLE10007", str(err), error="Insufficient balance") from None
    if hooks is not None and plan is not None:
        hooks.order_placed(order, plan)
    strings = ctx.variant("orderDetails") == "strings"
    return {
        "data": {
            "placeOrder": {"status": 1, "data": order_body(order, discounts_as_strings=strings)}
        }
    }


def get_order_details(ctx: OpContext, body: Body) -> Body:
    try:
        data = data_of(body)
        raw_id = data.get("orderId")
        po_number = str_param(data.get("poNumber"), "poNumber")
        order_id = int_param(raw_id, "orderId") if raw_id not in (None, "") else None
    except ParamError as err:
        raise AppError("PLE10002", str(err)) from None
    if order_id is None and not po_number:
        raise AppError("PLE10002", "Send orderId or poNumber.")
    order = ctx.state.order(order_id=order_id, po_number=po_number or None)
    if order is None:
        which = f"orderId {order_id}" if order_id is not None else f"poNumber {po_number!r}"
        raise AppError("PLE10016", f"No order with {which}.")
    strings = ctx.variant("orderDetails") == "strings"
    return {
        "data": {
            "getOrderDetails": {
                "status": 1,
                "data": order_body(order, discounts_as_strings=strings),
            }
        }
    }


def get_order_history(ctx: OpContext, body: Body) -> Body:
    try:
        data = data_of(body)
        start = date_param(data.get("startDate"), "startDate")
        end = date_param(data.get("endDate"), "endDate")
        limit = int_param(data.get("limit"), "limit", default=10, minimum=1, maximum=500)
        page = int_param(data.get("page"), "page", default=1, minimum=1)
        tag = str_param(data.get("tag"), "tag")
        if start and end and start > end:
            raise ParamError("startDate must not be after endDate")
    except ParamError as err:
        raise AppError("PLE10032", str(err)) from None
    orders = [
        o
        for o in ctx.state.orders()
        if (start is None or o.created_at.date() >= start)
        and (end is None or o.created_at.date() <= end)
        and (not tag or o.tag == tag)
    ]
    orders.sort(key=lambda o: (o.created_at, o.order_id), reverse=True)
    page_items = page_slice(orders, limit=limit, page=page)
    if not page_items:
        raise AppError("PLE10022", "No orders found for these dates.")
    return {
        "data": {"getOrderHistory": {"status": 1, "data": [order_summary(o) for o in page_items]}}
    }


def payment_history(ctx: OpContext, body: Body) -> Body:
    """Rows from the account ledger; parameters under `variables.data` or a top-level `data`."""
    try:
        data = data_of(body)
        if not data and isinstance(body.get("data"), dict):
            data = body["data"]
        start = date_param(data.get("startDate"), "startDate")
        end = date_param(data.get("endDate"), "endDate")
        limit = int_param(data.get("limit"), "limit", default=10, minimum=1, maximum=500)
        page = int_param(data.get("page"), "page", default=1, minimum=1)
    except ParamError as err:
        raise AppError(None, str(err), error="Invalid paymentHistory request") from None
    rows = [
        e
        for e in ctx.state.ledger()
        if (start is None or e.at.date() >= start) and (end is None or e.at.date() <= end)
    ]
    rows.reverse()
    return payment_history_body(
        page_slice(rows, limit=limit, page=page), variant=ctx.variant("paymentHistory")
    )
