"""What people read about allowances: the DM when a giver has given all of this month's, and
`/reward allowances` (the text is `bot.rewards.budgets.allowances_text`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.slack.blocks.common import format_date, message, points
from bot.slack.blocks.kit import section


def limit_reached_dm(*, allowance: int, resets_on: date) -> dict[str, Any]:
    """Once a month, privately: they have given all of it, and when they can give again."""
    text = (
        f"🎉 You've given all *{points(allowance)}* of your allowance this month: thank you for "
        f"recognising your colleagues! You can give again from {format_date(resets_on)}. You "
        "can still receive rewards."
    )
    return message(text, [section(text)])
