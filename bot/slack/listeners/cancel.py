"""`/reward cancel <reward-id> <reason>` (admins only).

A sent reward's points are withdrawn through cancelBalance (whole transactions; Xoxoday refuses
after 90 days or once redeemed, and the admin is told so plainly); a reward not yet sent is
cancelled in the ledger alone. Real points leave people's accounts, so the command first says
what it will do and asks (a button with Slack's confirm dialog); only the confirmed click
cancels. Recipients whose points were withdrawn are told why by DM, the giver is told, and the
admin's question is replaced by a summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond

from bot.rewards.cancel_service import Cancelled
from bot.rewards.cards import RewardCard, card_for
from bot.rewards.commands import CancelReward
from bot.rewards.refusal import Refusal
from bot.rewards.states import RewardStatus
from bot.slack.blocks.common import (
    BUTTON_VALUE_MAX,
    mention,
    message,
    one_line,
    people,
    points,
    safe_mrkdwn,
    short_id,
    text_only,
)
from bot.slack.blocks.kit import (
    actions,
    button,
    confirm_dialog,
    context,
    keyed,
    section,
)
from bot.slack.blocks.reward_messages import citation_block, recipient_cancelled, reward_note
from bot.slack.ids import ActionId, BlockId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import action_value, user_of
from bot.slack.listeners.command_replies import reply

if TYPE_CHECKING:
    from bot.runtime import Runtime

TOO_LONG = (
    "Your reason is too long for me to keep while you confirm. Please shorten it and try again."
)


def register(app: App) -> None:
    app.action(ActionId.CANCEL_CONFIRM)(ack=ack_at_once, lazy=[confirmed])
    app.action(ActionId.CANCEL_KEEP)(ack=ack_at_once, lazy=[kept])


def _button_value(parsed: CancelReward) -> str:
    return json.dumps({"id": parsed.reward_id, "why": parsed.reason}, ensure_ascii=False)


def too_long(
    runtime: Runtime, parsed: CancelReward, command: dict[str, Any]
) -> dict[str, Any] | None:
    """In the ack: a reason too long to carry in the confirmation's button."""
    return text_only(TOO_LONG) if len(_button_value(parsed)) > BUTTON_VALUE_MAX else None


def ask(runtime: Runtime, parsed: CancelReward, command: dict[str, Any], respond: Respond) -> None:
    """Real points are withdrawn: first say what will happen and ask (a button with Slack's
    confirm dialog); nothing changes until the admin confirms."""
    admin_id = command["user_id"]
    value = _button_value(parsed)
    checked = runtime.cancels.check(admin_id=admin_id, short_id=parsed.reward_id)
    if isinstance(checked, Refusal):
        reply(respond, text_only(checked.text))
        return
    reply(
        respond,
        confirmation(
            reward=card_for(checked),
            reason=parsed.reason,
            value=value,
            in_ledger=runtime.settings.storefront,
        ),
    )


@after_ack
def confirmed(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    """The admin pressed "Cancel reward" (and confirmed): withdraw, tell everyone, and show
    the outcome in place of the question."""
    asked = _asked(body)
    if asked is None:
        _answer(respond, text_only("That button is out of date. Type `/reward cancel` again."))
        return
    short, reason = asked
    admin_id = user_of(body)
    outcome = runtime.cancels.cancel(admin_id=admin_id, short_id=short, reason=reason)
    if isinstance(outcome, Refusal):
        _answer(respond, text_only(outcome.text))
        return
    _answer(respond, tell_cancelled(runtime, outcome, admin_id=admin_id, reason=reason))


@after_ack
def kept(body: dict[str, Any], respond: Respond) -> None:
    asked = _asked(body)
    shown = short_id(asked[0]) if asked else "the reward"
    _answer(respond, reward_note(f"OK, I kept {shown} as it is. Nothing was withdrawn."))


def _asked(body: dict[str, Any]) -> tuple[str, str] | None:
    """The reward id and reason a confirmation's button carries (None: not one of ours)."""
    try:
        value = json.loads(action_value(body))
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    short, why = value.get("id"), value.get("why")
    if not isinstance(short, str) or not isinstance(why, str) or not short or not why:
        return None
    return short, why


def _answer(respond: Respond, payload: dict[str, Any]) -> None:
    """Replace the question (an ephemeral the bot posted, which Slack lets it replace)."""
    respond(response_type="ephemeral", replace_original=True, **payload)


def tell_cancelled(
    runtime: Runtime, outcome: Cancelled, *, admin_id: str, reason: str
) -> dict[str, Any]:
    """Tell the recipients whose points were withdrawn and the giver; the admin's summary."""
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
                reason=reason,
                tz=line.member.tz,
                cancelled_by=admin_id,
            ),
        )
    kept = [
        (uid, outcome.kept_points.get(uid, line.points), why)
        for line, why in outcome.kept
        for uid in (line.member.slack_user_id,)
    ]
    if card.giver_id != admin_id:
        runtime.notifier.dm(
            card.giver_id,
            giver_cancelled(
                reward=card, outcome=outcome, admin_id=admin_id, reason=reason, kept=kept
            ),
        )
    return admin_summary(reward=card, outcome=outcome, admin_id=admin_id, kept=kept)


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
