"""What an admin reads after `/reward adjust`, and a person's adjustments in their history."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.rewards.adjustments import Adjusted
from bot.rewards.cards import AdjustmentLine
from bot.slack.blocks.common import (
    LIST_CITATION_MAX,
    clip,
    format_date,
    mention,
    message,
    one_line,
    points,
    safe_mrkdwn,
)
from bot.slack.blocks.kit import section

Payload = dict[str, Any]


def adjusted_text(done: Adjusted) -> str:
    """`✅ Deducted 50 points from @maria's points (reason). Balance now: 120 points.`"""
    who = mention(done.member)
    why = safe_mrkdwn(one_line(done.reason))
    balance = points(done.balance)
    if done.points > 0:
        return f"✅ Added {points(done.points)} to {who}'s points: “{why}”. Balance now: {balance}."
    return (
        f"✅ Deducted {points(-done.points)} from {who}'s points: “{why}”. Balance now: {balance}."
    )


def person_told(*, amount: int, reason: str, admin_id: str, balance: int | Decimal) -> Payload:
    """The person's DM: who added or deducted how many of their points, why, and what they
    have now."""
    why = safe_mrkdwn(one_line(reason))
    if amount > 0:
        head = f"➕ {mention(admin_id)} added {points(amount)} to your points"
    else:
        head = f"➖ {mention(admin_id)} deducted {points(-amount)} from your points"
    text = f"{head}: “{why}”. You have {points(balance)} now."
    return message(text, [section(text)])


def adjustment_row(line: AdjustmentLine, tz: str | None) -> str:
    """One adjustment in a history: `➕ 5 March 2026 · *+20 points* by @ada · “why”`."""
    sign, emoji = ("+", "➕") if line.points > 0 else ("−", "➖")
    amount = points(-line.points if line.points < 0 else line.points)
    why = clip(one_line(safe_mrkdwn(line.reason)), LIST_CITATION_MAX)
    return (
        f"{emoji} {format_date(line.at, tz)} · *{sign}{amount}* by {mention(line.by)}\n"
        f"      “{why}”"
    )


def adjustment_rows(lines: Sequence[AdjustmentLine], tz: str | None) -> list[str]:
    return [adjustment_row(line, tz) for line in lines]
