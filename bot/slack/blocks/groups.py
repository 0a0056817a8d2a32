"""A group reward's preview (`/reward @design-team 10 …`): how many people, the total, who was
left out and why, with Send and Cancel; and what replaces it when Cancel is pressed."""

from __future__ import annotations

from typing import Any

from bot.rewards.group_rewards import Preview, left_out_text
from bot.slack.blocks.common import message, people, points, quote, safe_mrkdwn
from bot.slack.blocks.kit import actions, button, confirm_dialog, context, keyed, section
from bot.slack.ids import ActionId, BlockId


def _count(n: int) -> str:
    return "1 person" if n == 1 else f"{n:,} people"


def preview(p: Preview, *, threshold: int) -> dict[str, Any]:
    """The question before a group reward: nothing is given until Send."""
    n = len(p.recipients)
    total = f"*{points(p.total)}* in all" if n > 1 else f"*{points(p.total)}*"
    head = (
        f"Reward {p.groups}: that's *{_count(n)}* × {points(p.amount)} = {total}. "
        "Nothing is sent until you press Send."
    )
    lines = [head, f"To: {people(p.recipients, limit=1200)}"]
    if p.left_out:
        lines.append(f"Left out: {left_out_text(p.left_out, limit=20)}.")
    notes = []
    if p.needs_approval:
        notes.append(
            f"From {points(threshold)} a reward waits for an approver, so this one will too."
        )
    if p.allowance_left is not None:
        notes.append(f"You'll have {points(p.allowance_left)} left to give this month.")
    value = str(p.preview_id)
    blocks = [
        section(lines[0]),
        section("\n".join(lines[1:])),
        section(quote(safe_mrkdwn(p.citation.strip()) or "(no message)")),
        *([context(" ".join(notes))] if notes else []),
        actions(
            keyed(BlockId.GROUP_ACTIONS, value),
            button(
                f"Send {points(p.total)}",
                action_id=ActionId.GROUP_SEND,
                value=value,
                style="primary",
                confirm=confirm_dialog(
                    title="Send this reward?",
                    text=f"{points(p.total)} to {_count(n)}, on their way as soon as you confirm.",
                    confirm="Send",
                    deny="Not yet",
                ),
            ),
            button("Cancel", action_id=ActionId.GROUP_CANCEL, value=value),
        ),
    ]
    return message(
        f"Reward {p.groups}: {_count(n)}, {points(p.total)} in all. Send or cancel?", blocks
    )


def cancelled(p: Preview) -> dict[str, Any]:
    text = f"OK, I didn't send the reward to {p.groups}. Nothing was given."
    return message(text, [section(text)])
