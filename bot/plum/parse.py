"""Tolerant readers: Xoxoday's answers (every documented variant) into `bot.plum.models`.

Types are loose upstream: numbers arrive as numbers, strings or null; an operation's payload
sits under `data.<operation>.data`, `data.<operation>` or `data`. Readers accept all of them
and raise PlumResponseError only when nothing usable is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from bot.plum.errors import PlumResponseError
from bot.plum.models import (
    AnsweredRow,
    Balance,
    Campaign,
    CancelBalanceResult,
    CancelledPoints,
    FilterGroup,
    FilterValue,
    IssuedVoucher,
    Order,
    OrderHistory,
    PaymentRecord,
    Recipient,
    RewardLinks,
    SendBalanceResult,
    SendLinksResult,
    SentPoints,
    TokenInfo,
    UserBalance,
    Voucher,
)

# --- scalars ----------------------------------------------------------------------------------


def dec(value: Any) -> Decimal | None:
    """A Decimal from a number or a numeric string; None for null, "" or junk."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    text = str(value).strip().replace(",", "") if isinstance(value, str) else str(value)
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def integer(value: Any) -> int | None:
    number = dec(value)
    return int(number.to_integral_value(ROUND_FLOOR)) if number is not None else None


def text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    out = str(value).strip()
    return out or None


def flag(value: Any) -> bool | None:
    """1/0, true/false, "1"/"0", "true"/"false" → bool."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "success"):
        return True
    if lowered in ("0", "false", "no", ""):
        return False
    return None


def epoch(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds (number or string) → aware UTC datetime."""
    number = dec(value)
    if number is None or number <= 0:
        return None
    seconds = float(number) / 1000 if number > 10**11 else float(number)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


# --- envelopes --------------------------------------------------------------------------------


def payload(body: Any, *keys: str) -> Any:
    """The operation's payload: `data.<key>.data`, `data.<key>`, or `data` itself."""
    if not isinstance(body, dict):
        raise PlumResponseError("Xoxoday's answer is not a JSON object.")
    node: Any = body.get("data", body)
    for key in keys:
        if isinstance(node, dict) and key in node:
            node = node[key]
            break
    if isinstance(node, dict) and "data" in node and ("status" in node or len(node) == 1):
        node = node["data"]
    return node


def _dict(node: Any, what: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise PlumResponseError(f"Xoxoday's {what} answer has no readable data.")
    return node


def _list(node: Any, *keys: str) -> list[Any]:
    if isinstance(node, list):
        return node
    if isinstance(node, dict):
        for key in keys:
            found = node.get(key)
            if isinstance(found, list):
                return found
    return []


# --- tokens -----------------------------------------------------------------------------------


def expiry(obj: dict[str, Any], *, now: datetime) -> datetime | None:
    """Access-token expiry from `access_token_expiry` (epoch) or `expires_in` (seconds or epoch)."""
    at = epoch(obj.get("access_token_expiry"))
    if at:
        return at
    seconds = dec(obj.get("expires_in"))
    if seconds is None or seconds <= 0:
        return None
    if seconds > 10**9:  # an epoch timestamp, as the seed spec allows
        return epoch(seconds)
    return datetime.fromtimestamp(now.timestamp() + float(seconds), tz=UTC)


def token_info(body: Any, *, now: datetime) -> TokenInfo:
    obj = _dict(body, "token validation")
    expires_at = expiry(obj, now=now)
    expires_in = integer(obj.get("expires_in"))
    if expires_in is not None and expires_in > 10**9:
        expires_in = int(expires_at.timestamp() - now.timestamp()) if expires_at else None
    return TokenInfo(
        expires_in=expires_in, expires_at=expires_at, token_type=text(obj.get("token_type"))
    )


# --- catalogue and account ------------------------------------------------------------------


def filters(body: Any) -> list[FilterGroup]:
    groups = []
    for item in _list(payload(body, "getFilters"), "data", "filters"):
        if not isinstance(item, dict):
            continue
        values = tuple(
            FilterValue(
                value=text(f.get("filterValue")) or "",
                code=text(f.get("filterValueCode")),
                iso_code=text(f.get("isoCode")),
            )
            for f in _list(item.get("filters"))
            if isinstance(f, dict)
        )
        groups.append(
            FilterGroup(
                name=text(item.get("filterGroupName")),
                code=text(item.get("filterGroupCode")),
                description=text(item.get("filterGroupDescription")),
                filters=values,
            )
        )
    return groups


def voucher(item: dict[str, Any]) -> Voucher:
    denominations = tuple(
        d for d in (dec(p) for p in str(item.get("valueDenominations") or "").split(",")) if d
    )
    return Voucher(
        product_id=integer(item.get("productId")),
        name=text(item.get("name")) or "",
        value_type=text(item.get("valueType")),
        min_value=dec(item.get("minValue")),
        max_value=dec(item.get("maxValue")),
        denominations=denominations,
        fee=dec(item.get("fee")),
        discount=dec(item.get("discount")),
        currency_code=text(item.get("currencyCode")),
        country_code=text(item.get("countryCode")),
        country_name=text(item.get("countryName")),
        order_quantity_limit=integer(item.get("orderQuantityLimit")),
        delivery_type=text(item.get("deliveryType")),
        tat_in_days=integer(item.get("tatInDays")),
        usage_type=text(item.get("usageType")),
        description=text(item.get("description")),
        image_url=text(item.get("imageUrl")),
        raw=item,
    )


def vouchers(body: Any) -> list[Voucher]:
    items = _list(payload(body, "getVouchers"), "data", "vouchers", "products")
    return [voucher(i) for i in items if isinstance(i, dict)]


def balance(body: Any) -> Balance:
    obj = _dict(payload(body, "getBalance"), "getBalance")
    value = dec(obj.get("value", obj.get("balance")))
    if value is None:
        raise PlumResponseError("Xoxoday's getBalance answer carries no balance value.")
    return Balance(
        value=value, currency=text(obj.get("currency")), points=integer(obj.get("points"))
    )


# --- orders -----------------------------------------------------------------------------------


def issued_voucher(item: dict[str, Any]) -> IssuedVoucher:
    return IssuedVoucher(
        code=text(item.get("voucherCode", item.get("code"))),
        pin=text(item.get("pin")),
        type=text(item.get("type")),
        amount=dec(item.get("amount")),
        currency=text(item.get("currency")),
        country=text(item.get("country")),
        valid_from=text(item.get("validFrom")),
        valid_to=text(item.get("validTo")),
        validity=text(item.get("validity")),
    )


def order(obj: dict[str, Any], *, po_number: str | None = None) -> Order:
    return Order(
        order_id=integer(obj.get("orderId")),
        po_number=text(obj.get("poNumber")) or po_number,
        order_status=text(obj.get("orderStatus")),
        delivery_status=text(obj.get("deliveryStatus")),
        order_total=dec(obj.get("orderTotal")),
        order_discount=dec(obj.get("orderDiscount")),
        discount_percent=dec(obj.get("discountPercent")),
        amount_charged=dec(obj.get("amountCharged")),
        currency_code=text(obj.get("currencyCode")),
        quantity=integer(obj.get("quantity")),
        tag=text(obj.get("tag")),
        order_date=text(obj.get("orderDate")),
        delivery_date=text(obj.get("deliveryDate")),
        vouchers=tuple(
            issued_voucher(v) for v in _list(obj.get("vouchers")) if isinstance(v, dict)
        ),
        raw=obj,
    )


def placed_order(body: Any, *, po_number: str) -> Order:
    return order(_dict(payload(body, "placeOrder"), "placeOrder"), po_number=po_number)


def order_details(body: Any, *, po_number: str | None = None) -> Order:
    node = payload(body, "getOrderDetails")
    if isinstance(node, list) and node and isinstance(node[0], dict):
        node = node[0]
    return order(_dict(node, "getOrderDetails"), po_number=po_number)


def order_history(body: Any) -> OrderHistory:
    node = payload(body, "getOrderHistory")
    items = _list(node, "data", "orders")
    return OrderHistory(
        orders=tuple(order(i) for i in items if isinstance(i, dict)),
        raw=body if isinstance(body, dict) else {},
    )


def payment_history(body: Any) -> list[PaymentRecord]:
    node = payload(body, "paymentHistory", "getPaymentReport")
    rows = _list(node, "data", "transactions", "rows")
    return [
        PaymentRecord(
            invoice_number=text(r.get("invoice_number")),
            reference_id=text(r.get("reference_id")),
            date=text(r.get("date")),
            reason=text(r.get("reason")),
            adjusted_amount=dec(r.get("adjusted_amount")),
            transaction_status=text(r.get("transaction_status")),
            closing_balance=dec(r.get("closing_balance")),
        )
        for r in rows
        if isinstance(r, dict)
    ]


# --- points -----------------------------------------------------------------------------------


def send_balance(body: Any, sent: Sequence[Recipient]) -> tuple[SendBalanceResult, str | None]:
    """The result and, when Xoxoday flagged `error: true`, its message (else None).

    Shapes: `data.sendBalance{error, message, recipients[…]}` (seed spec), flat
    `data{unique_id, email, points, …}` (seed 000), `data.sendBalance{error, message}` without
    ids (quick-start).

    The answer must say that the points were sent: a wrapper with `error` false, a flat
    recipient with its `unique_id`, or a list of recipients. Anything else (`{}`, an `errors`
    list, a bare `code`) is not understood and raises PlumResponseError, which leaves the reward
    in doubt; `error: true` or `success: 0` is Xoxoday saying no.
    """
    if not isinstance(body, dict):
        raise PlumResponseError("Xoxoday's sendBalance answer is not a JSON object.")
    if flag(body.get("success")) is False or flag(body.get("error")) is True:
        said = text(body.get("message")) or text(body.get("error_message")) or "error"
        return SendBalanceResult((), ids_known=False, message=said, raw=body), said
    data = body.get("data")
    data = data if isinstance(data, dict) else {}
    wrapper = data.get("sendBalance")
    rows: list[dict[str, Any]]
    message: str | None = None
    if isinstance(wrapper, dict):
        message = text(wrapper.get("message"))
        failed = flag(wrapper.get("error"))
        if failed:
            return SendBalanceResult((), ids_known=False, message=message, raw=body), (
                message or "error"
            )
        if failed is None and not isinstance(wrapper.get("recipients"), list):
            raise PlumResponseError("Xoxoday's sendBalance answer does not say it was sent.")
        rows = [r for r in _list(wrapper.get("recipients")) if isinstance(r, dict)]
    elif data.get("unique_id") not in (None, ""):
        rows = [data]
    elif isinstance(data.get("recipients"), list) and data["recipients"]:
        rows = [r for r in data["recipients"] if isinstance(r, dict)]
        message = text(data.get("message"))
    else:
        raise PlumResponseError("Xoxoday's sendBalance answer does not say it was sent.")
    matched = _match(rows, sent)
    result = SendBalanceResult(
        recipients=tuple(matched),
        ids_known=bool(matched) and all(r.unique_id is not None for r in matched),
        message=message,
        raw=body,
        rows=tuple(_answered(r) for r in rows),
        listed=bool(rows),
    )
    return result, None


def _answered(row: dict[str, Any]) -> AnsweredRow:
    email = text(row.get("email")) or text(row.get("to_email"))
    return AnsweredRow(
        email=email.strip() if email else None,
        name=text(row.get("name")) or text(row.get("to_name")),
        points=integer(row.get("points")) or integer(row.get("amount")),
        unique_id=integer(row.get("unique_id")),
    )


def _match(rows: list[dict[str, Any]], sent: Sequence[Recipient]) -> list[SentPoints]:
    by_email = {
        str(r.get("email") or r.get("to_email")).strip().lower(): r
        for r in rows
        if r.get("email") or r.get("to_email")
    }
    by_index = len(rows) == len(sent) and not by_email
    out = []
    for i, recipient in enumerate(sent):
        row = by_email.get(recipient.email.lower()) or (rows[i] if by_index else None)
        out.append(
            SentPoints(
                email=recipient.email,
                points=(integer(row.get("points")) if row else None) or recipient.points,
                unique_id=integer(row.get("unique_id")) if row else None,
                name=(text(row.get("name")) if row else None) or recipient.name or None,
            )
        )
    return out


def user_balance(body: Any) -> UserBalance:
    node = body.get("data", body) if isinstance(body, dict) else None
    if isinstance(node, dict) and isinstance(node.get("user_balance"), dict):
        node = node["user_balance"]
    obj = _dict(node, "user_balance")
    inner = obj.get("data")
    total = integer(inner.get("total")) if isinstance(inner, dict) else integer(obj.get("total"))
    found = flag(obj.get("success"))
    if found is None:
        found = total is not None
    return UserBalance(
        total=total if found else None,
        found=bool(found and total is not None),
        message=text(obj.get("message")),
    )


def cancel_balance(body: Any) -> CancelBalanceResult:
    node = body.get("data", body) if isinstance(body, dict) else None
    if isinstance(node, dict) and isinstance(node.get("cancelBalance"), dict):
        node = node["cancelBalance"]
    obj = _dict(node, "cancelBalance")
    rows = tuple(
        CancelledPoints(
            unique_id=integer(r.get("unique_id")),
            success=bool(flag(r.get("success"))),
            message=text(r.get("message")),
        )
        for r in _list(obj.get("recipients"))
        if isinstance(r, dict)
    )
    error = flag(obj.get("error"))
    ok = not error if error is not None else all(r.success for r in rows)
    return CancelBalanceResult(ok=ok, message=text(obj.get("message")), recipients=rows, raw=body)


# --- links ------------------------------------------------------------------------------------


def reward_links(body: Any) -> tuple[RewardLinks, bool]:
    """The links and whether Xoxoday reported success."""
    node = body.get("data", body) if isinstance(body, dict) else None
    if isinstance(node, dict) and isinstance(node.get("generateLink"), dict):
        node = node["generateLink"]
    obj = _dict(node, "generateLink")
    links = tuple(str(x) for x in _list(obj.get("links")) if x)
    success = flag(obj.get("success"))
    result = RewardLinks(
        links=links,
        batch_id=text(obj.get("batchId")),
        campaign_id=text(obj.get("campaignId")),
        campaign_name=text(obj.get("campaignName")),
        denomination=dec(obj.get("denomination_value")),
        country_name=text(obj.get("countryName")),
        currency_code=text(obj.get("currencyCode")),
        message=text(obj.get("message")),
    )
    return result, bool(success) if success is not None else bool(links)


def campaigns(body: Any) -> list[Campaign]:
    node = body.get("data", body) if isinstance(body, dict) else None
    if isinstance(node, dict) and "campaignList" in node:
        node = node["campaignList"]
    items = _list(node, "data", "campaigns", "campaignList", "list")
    return [
        Campaign(
            campaign_id=text(c.get("campaignId", c.get("id"))),
            name=text(c.get("campaignName", c.get("name"))),
            denomination=dec(c.get("denomination_value", c.get("denomination"))),
            currency_code=text(c.get("currencyCode")),
            country_name=text(c.get("countryName")),
            enabled=flag(c.get("enabled")),
            raw=c,
        )
        for c in items
        if isinstance(c, dict)
    ]


def send_links(body: Any) -> SendLinksResult:
    node = body.get("data", body) if isinstance(body, dict) else None
    if isinstance(node, dict):
        for key in ("generateLinkEmail", "sendLinks"):
            if isinstance(node.get(key), dict):
                node = node[key]
                break
    obj = _dict(node, "sendLinks")
    success = flag(obj.get("success"))
    if success is None:
        error = flag(obj.get("error"))
        success = not error if error is not None else True
    return SendLinksResult(success=success, message=text(obj.get("message")), raw=body)


# --- StoreFront -------------------------------------------------------------------------------

_SSO_KEYS = frozenset({"ssotoken"})


def sso_token(body: Any) -> str:
    """The ssoToken of a store sign-in: `data.ssoToken` (documented), or at the top level,
    or under `data.data`; spelled `ssoToken`, `sso_token` or `SSOToken`."""
    if not isinstance(body, dict):
        raise PlumResponseError("Xoxoday's store sign-in answer is not a JSON object.")
    nodes: list[Any] = [body.get("data"), body]
    if isinstance(body.get("data"), dict):
        nodes.insert(1, body["data"].get("data"))
    for node in nodes:
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key.replace("_", "").lower() in _SSO_KEYS:
                token = text(value)
                if token:
                    return token
    raise PlumResponseError(
        "Xoxoday's store sign-in answer carries no ssoToken; the person can't be sent to the "
        "store. Try again, or ask Xoxoday whether StoreFront is enabled for this account."
    )
