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
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond

from bot.rewards.cards import RewardCard, card_for
from bot.rewards.commands import CancelReward
from bot.rewards.refusal import Refusal
from bot.slack.blocks import cancel as cancel_blocks
from bot.slack.blocks.common import (
    BUTTON_VALUE_MAX,
    short_id,
    text_only,
)
from bot.slack.blocks.reward_messages import reward_note
from bot.slack.ids import ActionId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import action_value, user_of
from bot.slack.listeners.command_replies import reply
from bot.slack.listeners.in_time import slow_note, soon

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
    reply(respond, question(runtime, card_for(checked), parsed.reason, value=value))


def question(
    runtime: Runtime, reward: RewardCard, reason: str, *, value: str | None = None
) -> dict[str, Any]:
    """What will be withdrawn from whom, and the "Cancel reward" button (with Slack's confirm
    dialog) whose click cancels: `/reward cancel`'s, and a reported reward's Cancel."""
    return cancel_blocks.confirmation(
        reward=reward,
        reason=reason,
        value=value or _button_value(CancelReward(reward_id=reward.short_id, reason=reason)),
        in_ledger=runtime.settings.storefront,
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
    outcome = soon(  # the question gives way at once when Xoxoday is slow to withdraw
        lambda: runtime.cancels.cancel(admin_id=admin_id, short_id=short, reason=reason),
        meanwhile=lambda: _answer(respond, slow_note(f"Cancelling {short_id(short)}")),
    )
    if isinstance(outcome, Refusal):
        _answer(respond, text_only(outcome.text))
        return
    summary = cancel_blocks.admin_summary(
        reward=card_for(outcome.reward),
        outcome=outcome,
        admin_id=admin_id,
        kept=cancel_blocks.kept_lines(outcome),
    )
    _answer(respond, summary)  # the recipients and the giver were told (`RewardCancelled`)


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
