"""Gift cards and donations as the admins see them: `/reward orders` (the latest orders, one
line each), the comment on the two CSV reports of a period, and the daily reconciliation's DM
when the ledger and Xoxoday's payment report disagree.

Every function returns `{"text": fallback, "blocks": [...]}` (the comment: `{"text"}` only).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.rewards.order_reports import OrderLine, OrderReportFiles, OrdersList, Shown
from bot.rewards.reconcile import OrderGap, Reconciliation, RewardGap, UnknownPayment
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
    points,
    safe_mrkdwn,
    text_only,
    zone_name,
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
    """`🎁 Amazon Pay e-Gift Card · 500.00 INR · <@giver> → <@maria> · ✅ delivered ·
    5 March 2026 at 14:05 · PO-…` (the time in the admin's own zone, named under the list)."""
    icon = "💝" if line.kind == "donation" else "🎁"
    giver = mention(line.giver_id) if line.giver_id else "someone"
    if line.recipient_id:
        to = mention(line.recipient_id)
    else:
        to = "the team" if line.kind == "donation" else "nobody named"
    when = f"{format_date(line.created_at, tz)} at {local(line.created_at, tz):%H:%M}"
    return (
        f"{icon} {_product(line.product)} · {_amount(line.value, line.currency)} · "
        f"{giver} → {to} · {STATUS[line.status]} · {when} · "
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
    named = zone_name(orders.tz, orders.lines[0].created_at)
    blocks.append(
        context(
            f"{more}Times in {named}. A CSV of Xoxoday's orders and payments for a period: "
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


# ── the daily reconciliation ─────────────────────────────────────────────────────────────


def _order_gap(gap: OrderGap) -> str:
    o = gap.order
    who = mention(o.giver_slack_id) if o.giver_slack_id else "someone"
    to = mention(o.recipient_slack_id) if o.recipient_slack_id else "the team"
    what = f"{_product(o.product_name)} from {who} for {to} (`{safe_mrkdwn(o.po_number)}`"
    what += f", Xoxoday order {safe_mrkdwn(o.plum_order_id)})" if o.plum_order_id else ")"
    expected = _money(gap.expected)
    if gap.paid is None:
        return f"• {what}: in the ledger at {expected}, not in Xoxoday's payment report"
    return f"• {what}: the ledger expects {expected}, Xoxoday charged *{_number(gap.paid)}*"


def _number(value: Decimal) -> str:
    return f"{value:,.2f}"


def _money(value: Decimal | None) -> str:
    return f"*{_number(value)}*" if value is not None else "an unknown amount"


def _reward_gap(gap: RewardGap) -> str:
    parts = []
    for r in gap.recipients:
        if r.paid is None:
            parts.append(
                f"{points(r.points)} to {mention(r.recipient_id)} not in Xoxoday's report"
                + (f" (unique id {safe_mrkdwn(r.unique_id)})" if r.unique_id else "")
            )
        else:
            parts.append(
                f"{points(r.points)} to {mention(r.recipient_id)}, Xoxoday charged "
                f"*{_number(r.paid)}*"
            )
    return f"• Reward `{safe_mrkdwn(gap.short_id)}` from {mention(gap.giver_id)}: " + "; ".join(
        parts
    )


def _unknown(item: UnknownPayment) -> str:
    row = item.row
    ref = f"reference `{safe_mrkdwn(row.reference_id)}`" if row.reference_id else "no reference"
    invoice = f", invoice {safe_mrkdwn(row.invoice_number)}" if row.invoice_number else ""
    reason = clip(safe_mrkdwn(one_line(row.reason or "")), REASON_MAX)
    said = f" — {reason}" if reason else ""
    note = f" (the ledger: {safe_mrkdwn(item.ledger_says)})" if item.ledger_says else ""
    amount = -(row.adjusted_amount or Decimal(0))
    return f"• *{_number(amount)}*, {ref}{invoice}{said}{note}"


def _listed(title: str, rows: Sequence[str], blocks: list[Block]) -> None:
    """`title` and as many of `rows` as fit, counting the rest."""
    if not rows:
        return
    room = MESSAGE_MAX_BLOCKS - len(blocks) - 3
    chunks = _chunked(rows, LINES_PER_BLOCK)
    used = 0
    blocks.append(section(f"*{title}*"))
    budget = MESSAGE_TEXT_BUDGET - sum(text_size(b) for b in blocks) - 1000
    for chunk in chunks[: max(room, 0)]:
        block = section(chunk)
        if text_size(block) > budget:
            break
        budget -= text_size(block)
        blocks.append(block)
        used += chunk.count("\n") + 1
    if used < len(rows):
        blocks.append(context(f"…and {len(rows) - used:,} more."))


def reconciliation_report(*, result: Reconciliation, currency: str | None = None) -> Payload:
    """The admins' DM: the day's differences between the ledger and Xoxoday's payment report,
    order by order and reward by reward (only sent when there are any)."""
    day = format_date(result.day)
    n = result.differences
    blocks: list[Block] = [header(f"Xoxoday spending on {day} doesn't match the ledger")]
    kinds = "orders and rewards" if result.points_at_xoxoday else "orders"
    unit = f" {safe_mrkdwn(currency)}" if currency else ""
    intro = (
        f"I compared the {kinds} the ledger paid for on {day} with Xoxoday's payment report "
        f"for that day: the ledger has *{_number(result.ledger_total)}{unit}*, Xoxoday's "
        f"report debits *{_number(result.plum_total)}{unit}*. "
        f"{n:,} difference{'s' if n != 1 else ''}:"
    )
    if result.cut_short:
        intro += " (Xoxoday's report had more rows than I read, so this is only part of it.)"
    blocks.append(section(intro))
    _listed("Orders", [_order_gap(g) for g in result.orders], blocks)
    _listed("Rewards", [_reward_gap(g) for g in result.rewards], blocks)
    _listed("Payments the ledger doesn't know", [_unknown(u) for u in result.unknown], blocks)
    hints = []
    if result.rewards_in_doubt or result.orders_in_doubt:
        hints.append(
            f"In doubt right now: {result.rewards_in_doubt:,} reward(s) and "
            f"{result.orders_in_doubt:,} order(s); a payment the ledger doesn't know may be one "
            "of them (`/reward orders`, App Home)."
        )
    if not result.points_at_xoxoday:
        hints.append(
            "Points are in the bot, so rewards cost nothing at Xoxoday: only orders count."
        )
    hints.append("Check these in Xoxoday's dashboard (Reports → Payment history).")
    blocks.append(context(*hints))
    text = f"Xoxoday spending on {day}: {n:,} difference{'s' if n != 1 else ''} with the ledger."
    return message(text, blocks)
