"""Gift cards and donations as the admins see them: `/reward orders` (the latest orders, one
line each) and the comment on the two CSV reports of a period.

Every function returns `{"text": fallback, "blocks": [...]}` (the comment: `{"text"}` only).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.rewards.order_reports import OrderLine, OrderReportFiles, OrdersList, Shown
from bot.slack.blocks.common import (
    MESSAGE_MAX_BLOCKS,
    MESSAGE_TEXT_BUDGET,
    SECTION_TEXT_MAX,
    clip,
    format_date,
    local,
    mention,
    message,
    money,
    one_line,
    safe_mrkdwn,
    text_only,
)
from bot.slack.blocks.kit import Block, context, header, section, text_size

Payload = dict[str, Any]
PRODUCT_MAX = 80  # a product's name in a line
REASON_MAX = 120  # Xoxoday's reason for a payment, in a line
LINES_PER_BLOCK = 10

STATUS: dict[Shown, str] = {
    "pending approval": "⏳ pending approval",
    "being placed": "📤 being placed",
    "placed": "🟢 placed",
    "delivered": "✅ delivered",
    "canceled": "🚫 canceled",
    "failed": "❌ failed",
    "in doubt": "🔎 in doubt",
    "rejected": "✋ rejected",
}


def _amount(value: Decimal | None, currency: str | None) -> str:
    return f"*{money(value, currency)}*" if value is not None else "*value not recorded*"


def _product(name: str | None) -> str:
    text = safe_mrkdwn(one_line(name or "")) if name and name.strip() else ""
    return clip(text, PRODUCT_MAX) if text else "a product"


def order_line(line: OrderLine, *, tz: str) -> str:
    """`🎁 Amazon Pay e-Gift Card · 500.00 INR · <@giver> → <@maria> · ✅ delivered · 5 Mar
    14:05 · PO-…`"""
    icon = "💝" if line.kind == "donation" else "🎁"
    giver = mention(line.giver_id) if line.giver_id else "someone"
    if line.recipient_id:
        to = mention(line.recipient_id)
    else:
        to = "the team" if line.kind == "donation" else "nobody named"
    when = local(line.created_at, tz)
    return (
        f"{icon} {_product(line.product)} · {_amount(line.value, line.currency)} · "
        f"{giver} → {to} · {STATUS[line.status]} · {when.day} {when:%b %H:%M} · "
        f"`{safe_mrkdwn(line.po_number)}`"
    )


def _chunked(rows: Sequence[str], size: int) -> list[str]:
    return ["\n".join(rows[i : i + size]) for i in range(0, len(rows), size)]


def orders_message(*, orders: OrdersList) -> Payload:
    """`/reward orders`: the latest gift cards and donations, newest first, in one reply."""
    total = sum(orders.counts.values())
    if not orders.lines:
        text = (
            "No gift cards or donations have been sent from Slack yet. "
            "For Xoxoday's own records of a period: `/reward orders report last month`."
        )
        return message(text, [section(text)])
    lines = [order_line(line, tz=orders.tz) for line in orders.lines]
    blocks: list[Block] = [header("Gift cards and donations")]
    budget = MESSAGE_TEXT_BUDGET - 1500
    shown = 0
    for chunk_start in range(0, len(lines), LINES_PER_BLOCK):
        chunk = lines[chunk_start : chunk_start + LINES_PER_BLOCK]
        block = section("\n".join(chunk))
        if len(blocks) + 2 > MESSAGE_MAX_BLOCKS or text_size(block) > budget:
            break
        budget -= text_size(block)
        blocks.append(block)
        shown += len(chunk)
    more = f"The latest {shown} of {total:,}. " if total > shown else ""
    blocks.append(
        context(
            f"{more}Times in {orders.tz}. A CSV of Xoxoday's orders and payments for a period: "
            "`/reward orders report 2026-11-01 2026-11-30` or `/reward orders report last month`."
        )
    )
    return message(f"The latest {shown} gift card and donation orders.", blocks)


def report_comment(*, report: OrderReportFiles) -> Payload:
    """The comment on the two CSV files in the admin's DM."""
    span = (
        format_date(report.since)
        if report.since == report.until
        else f"{format_date(report.since)} to {format_date(report.until)}"
    )
    orders = f"{report.order_rows:,} order{'s' if report.order_rows != 1 else ''}"
    rows = f"{report.payment_rows:,} payment row{'s' if report.payment_rows != 1 else ''}"
    cut = (
        " Xoxoday had more rows than one report holds, so both files stop there: ask for a "
        "shorter period for the rest."
        if report.cut_short
        else ""
    )
    text = (
        f"📊 Xoxoday's records for {span}: {orders} (getOrderHistory) in "
        f"`{report.orders_filename}` and the account's payment report, {rows} (paymentHistory), "
        f"in `{report.payments_filename}`. Who sent each order and for whom is from the bot's "
        f"ledger; voucher codes are never in these files.{cut}"
    )
    return text_only(clip(text, SECTION_TEXT_MAX))
