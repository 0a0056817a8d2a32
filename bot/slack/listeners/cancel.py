"""`/reward cancel <reward-id> <reason>` (admins only).

A sent reward's points are withdrawn through cancelBalance (whole transactions; Xoxoday refuses
after 90 days or once redeemed, and the admin is told so plainly); a reward not yet sent is
cancelled in the ledger alone. Recipients whose points were withdrawn are told why by DM, the
giver is told, and the admin gets a summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, Respond

from bot.rewards.admin import only_admins
from bot.rewards.cancel_service import Cancelled
from bot.rewards.cards import RewardCard, card_for
from bot.rewards.commands import CancelReward
from bot.rewards.refusal import Refusal
from bot.rewards.states import RewardStatus
from bot.slack.blocks.common import (
    mention,
    message,
    one_line,
    people,
    points,
    safe_mrkdwn,
    short_id,
    text_only,
)
from bot.slack.blocks.kit import context, section
from bot.slack.blocks.reward_messages import citation_block, recipient_cancelled
from bot.slack.listeners.command_replies import later, reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


def cancel(
    runtime: Runtime, parsed: CancelReward, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    admin_id = command["user_id"]
    refused = only_admins(runtime.settings, admin_id, doing="cancel rewards")
    if refused:
        ack(**text_only(refused.text))
        return
    later(ack)
    outcome = runtime.cancels.cancel(
        admin_id=admin_id, short_id=parsed.reward_id, reason=parsed.reason
    )
    if isinstance(outcome, Refusal):
        reply(respond, text_only(outcome.text))
        return
    card = card_for(outcome.reward)
    if outcome.was == RewardStatus.PENDING_APPROVAL:
        runtime.approvals.refresh_copies(outcome.reward)  # approvers' copies lose their buttons
    runtime.notifier.on_change([card.giver_id, *card.recipient_ids])  # their App Homes
    for line in outcome.withdrawn:
        uid = line.member.slack_user_id
        runtime.notifier.dm(
            uid,
            recipient_cancelled(
                reward=card,
                recipient_id=uid,
                reason=parsed.reason,
                tz=line.member.tz,
                cancelled_by=admin_id,
            ),
        )
    kept = [(line.member.slack_user_id, line.points, why) for line, why in outcome.kept]
    if card.giver_id != admin_id:
        runtime.notifier.dm(
            card.giver_id,
            giver_cancelled(
                reward=card,
                outcome=outcome,
                admin_id=admin_id,
                reason=parsed.reason,
                kept=kept,
            ),
        )
    summary = admin_summary(reward=card, outcome=outcome, admin_id=admin_id, kept=kept)
    reply(respond, summary)


def _withdrawn_ids(outcome: Cancelled) -> list[str]:
    return [line.member.slack_user_id for line in outcome.withdrawn]


def _kept_lines(kept: Sequence[tuple[str, int, str]]) -> str:
    return "\n".join(
        f"• {mention(uid)} keeps {points(n)}: {safe_mrkdwn(one_line(why))}." for uid, n, why in kept
    )


def giver_cancelled(
    *,
    reward: RewardCard,
    outcome: Cancelled,
    admin_id: str,
    reason: str,
    kept: Sequence[tuple[str, int, str]],
) -> dict[str, Any]:
    """The giver's notice that an admin cancelled their reward, and why."""
    who = people(reward.recipient_ids, limit=600)
    lead = f"↩️ {mention(admin_id)} cancelled your reward {short_id(reward.short_id)} to {who}."
    if outcome.was == RewardStatus.SENT:
        taken = _withdrawn_ids(outcome)
        lead += f" The points were withdrawn from {people(taken, limit=600)}."
    else:
        lead += " It hadn't been sent, so no points left Xoxoday."
    why = safe_mrkdwn(one_line(reason))
    blocks = [section(f"{lead}\n*Reason:* {why}"), citation_block(reward)]
    if kept:
        blocks.append(section("Xoxoday kept some points:\n" + _kept_lines(kept)))
    blocks.append(context(f"Questions? Ask {mention(admin_id)}."))
    text = f"{mention(admin_id)} cancelled your reward {reward.short_id}: {why}"
    return message(text, blocks)


def admin_summary(
    *,
    reward: RewardCard,
    outcome: Cancelled,
    admin_id: str,
    kept: Sequence[tuple[str, int, str]],
) -> dict[str, Any]:
    """What the admin sees once the reward is cancelled."""
    rid = short_id(reward.short_id)
    if outcome.was == RewardStatus.SENT:
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
    return text_only(text)
