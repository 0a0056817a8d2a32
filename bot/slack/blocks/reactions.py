"""What someone who gave with an emoji reaction or in a message is told: a reaction or a message
that gave nothing (privately, in the channel or the message's thread) and a reaction removed
after its undo window (a DM, once).

Every function returns `{"text": fallback, "blocks": [...]}`.
"""

from __future__ import annotations

from typing import Any

from bot.rewards.cards import RewardCard
from bot.slack.blocks.common import message, people, points, short_id
from bot.slack.blocks.kit import section


def _said(text: str) -> dict[str, Any]:
    return message(text, [section(text)])


def refused(text: str) -> dict[str, Any]:
    """Why a reward emoji gave nothing (the rule's own words: what to do)."""
    return _said(f"Your reaction didn't give any points. {text}")


def message_refused(text: str) -> dict[str, Any]:
    """Why a message asking to give (`@maria ++ 20 for …`) gave nothing, and what to write."""
    return _said(f"Your message didn't give any points. {text}")


def too_late(reward: RewardCard) -> dict[str, Any]:
    """The giver took their reaction back after the undo window."""
    return _said(
        f"You removed your reaction, but the {points(reward.total)} it gave "
        f"{people(reward.recipient_ids, limit=600)} ({short_id(reward.short_id)}) were already "
        "on their way, so they stand. If they shouldn't, ask an admin to cancel the reward."
    )
