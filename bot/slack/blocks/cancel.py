"""The messages of `/reward cancel`: the question before a cancel, what the giver is told, and
the admin's summary once it is done (the recipients' notice is
`reward_messages.recipient_cancelled`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.rewards.cancel_service import Cancelled
from bot.rewards.cards import RewardCard
from bot.rewards.states import RewardStatus
from bot.slack.blocks.common import (
    mention,
    message,
    one_line,
    people,
    points,
    safe_mrkdwn,
    short_id,
)
from bot.slack.blocks.kit import actions, button, confirm_dialog, context, keyed, section
from bot.slack.blocks.reward_messages import citation_block, reward_note
from bot.slack.ids import ActionId, BlockId

Kept = Sequence[tuple[str, int | Decimal, str]]  # (recipient, points kept, why)


def kept_lines(outcome: Cancelled) -> list[tuple[str, int | Decimal, str]]:
    """Who keeps what of a cancelled reward, and why (Xoxoday kept it, or it was spent)."""
    return [
        (uid, outcome.kept_points.get(uid, line.points), why)
        for line, why in outcome.kept
        for uid in (line.member.slack_user_id,)
    ]


def confirmation(
    *, reward: RewardCard, reason: str, value: str, in_ledger: bool = False
) -> dict[str, Any]:
    """The question before a cancel: what it withdraws from whom, with the reason."""
    rid = short_id(reward.short_id)
    who = people(reward.recipient_ids, limit=600)
    if reward.status == RewardStatus.SENT and in_ledger:
        what = (
            f"Cancel reward {rid}? I'll take back what is left of its {points(reward.total)} "
            f"from {who} (points already spent in Xoxoday's store stay spent), and tell them "
            "why."
        )
        warn = f"Take back the unspent points from {_count(reward)}? This can't be undone."
    elif reward.status == RewardStatus.SENT:
        what = (
            f"Cancel reward {rid}? Xoxoday will withdraw {points(reward.total)} from {who} "
            "(points they have already redeemed stay with them), and I'll tell them why."
        )
        warn = f"Withdraw {points(reward.total)} from {_count(reward)}? This can't be undone."
    else:
        what = f"Cancel reward {rid} of {points(reward.total)} to {who}? It hasn't been sent yet."
        warn = "The reward won't be sent. This can't be undone."
    blocks = [
        section(f"{what}\n*Reason:* {safe_mrkdwn(one_line(reason))}"),
        citation_block(reward),
        actions(
            keyed(BlockId.CANCEL_ACTIONS, reward.short_id),
            button(
                "Cancel reward",
                action_id=ActionId.CANCEL_CONFIRM,
                value=value,
                style="danger",
                confirm=confirm_dialog(
                    title="Cancel this reward?",
                    text=warn,
                    confirm="Cancel reward",
                    deny="Keep it",
                    style="danger",
                ),
            ),
            button("Keep it", action_id=ActionId.CANCEL_KEEP, value=value),
        ),
    ]
    return message(f"Cancel reward {reward.short_id}? Nothing changes until you confirm.", blocks)


def _count(reward: RewardCard) -> str:
    n = len(reward.recipient_ids)
    return "1 person" if n == 1 else f"{n:,} people"


def _withdrawn_ids(outcome: Cancelled) -> list[str]:
    return [line.member.slack_user_id for line in outcome.withdrawn]


def _kept_lines(kept: Sequence[tuple[str, int | Decimal, str]]) -> str:
    return "\n".join(
        f"• {mention(uid)} keeps {points(n)}: {safe_mrkdwn(one_line(why))}." for uid, n, why in kept
    )


def giver_cancelled(
    *,
    reward: RewardCard,
    outcome: Cancelled,
    admin_id: str,
    reason: str,
    kept: Sequence[tuple[str, int | Decimal, str]],
) -> dict[str, Any]:
    """The giver's notice that an admin cancelled their reward, and why."""
    who = people(reward.recipient_ids, limit=600)
    lead = f"↩️ {mention(admin_id)} cancelled your reward {short_id(reward.short_id)} to {who}."
    if outcome.was == RewardStatus.SENT:
        taken = _withdrawn_ids(outcome)
        if taken:
            lead += f" The points were withdrawn from {people(taken, limit=600)}."
    else:
        lead += " It hadn't been sent, so no points left Xoxoday."
    why = safe_mrkdwn(one_line(reason))
    blocks = [section(f"{lead}\n*Reason:* {why}"), citation_block(reward)]
    if kept:
        kept_by = "Some points were already spent" if outcome.in_ledger else "Xoxoday kept some"
        blocks.append(section(f"{kept_by}:\n" + _kept_lines(kept)))
    blocks.append(context(f"Questions? Ask {mention(admin_id)}."))
    text = f"{mention(admin_id)} cancelled your reward {reward.short_id}: {why}"
    return message(text, blocks)


def admin_summary(
    *,
    reward: RewardCard,
    outcome: Cancelled,
    admin_id: str,
    kept: Sequence[tuple[str, int | Decimal, str]],
) -> dict[str, Any]:
    """What the admin sees once the reward is cancelled."""
    rid = short_id(reward.short_id)
    if outcome.in_ledger:
        taken = _withdrawn_ids(outcome)
        total = sum(outcome.taken_points.values())
        if taken:
            text = (
                f"↩️ Reward {rid} is cancelled: I took back the {points(total)} left unspent "
                f"from {people(taken, limit=600)}, and told them why by DM."
            )
        else:
            text = f"↩️ Reward {rid} is cancelled. Nothing was left to take back."
        if kept:
            text += "\nPoints already spent in Xoxoday's store stay spent:\n" + _kept_lines(kept)
    elif outcome.was == RewardStatus.SENT:
        taken = _withdrawn_ids(outcome)
        total = sum(line.points for line in outcome.withdrawn)
        text = (
            f"↩️ Reward {rid} is cancelled: Xoxoday withdrew {points(total)} from "
            f"{people(taken, limit=600)}, and I told them why by DM."
        )
        if kept:
            text += "\nXoxoday kept some points, so those stay with their recipients:\n"
            text += _kept_lines(kept)
    else:
        state = "waiting for approval" if outcome.was == RewardStatus.PENDING_APPROVAL else "queued"
        text = f"↩️ Reward {rid} is cancelled. It was {state}, so no points left Xoxoday."
    if reward.giver_id != admin_id:
        text += f"\nI let {mention(reward.giver_id)} know."
    return reward_note(text)
