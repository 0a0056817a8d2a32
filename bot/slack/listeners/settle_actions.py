""" "It was sent" / "It failed" on a reward in doubt: admins settle it (`bot.rewards.settle`).

The first admin's answer wins; a second click, or another admin, is told who settled it and
when. Afterwards every admin's alert shows
who settled it and how, without the buttons; on "sent" the recipients get their DM (and the
announcement and the giver's confirmation) exactly as for a delivered reward; on "failed" the
giver is told nothing arrived and they may send it again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond
from slack_sdk.errors import SlackApiError

from bot.rewards.cards import MessageRef, Settlement, card_for, people_of
from bot.rewards.refusal import Refusal
from bot.rewards.settle import settlement_of
from bot.rewards.states import RewardDetails, RewardStatus
from bot.slack.blocks import reward_messages
from bot.slack.blocks.kit import keyed
from bot.slack.ids import ActionId, BlockId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import action_value, clicked_message, tell, user_of

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

LATE_ALERTS_SECONDS = 2.0
NEVER_ARRIVED = (
    "An admin checked with Xoxoday: the points never arrived, so nothing was sent. It doesn't "
    "count against your monthly allowance."
)


def register(app: App) -> None:
    app.action(ActionId.SETTLE_SENT)(ack=ack_at_once, lazy=[settle_sent])
    app.action(ActionId.SETTLE_FAILED)(ack=ack_at_once, lazy=[settle_failed])


@after_ack
def settle_sent(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    settle(runtime, body, respond, RewardStatus.SENT)


@after_ack
def settle_failed(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    settle(runtime, body, respond, RewardStatus.FAILED)


def settle(runtime: Runtime, body: dict[str, Any], respond: Respond, outcome: RewardStatus) -> None:
    done = runtime.settle.settle(admin_id=user_of(body), short=action_value(body), outcome=outcome)
    if isinstance(done, Refusal):
        tell(runtime, body, respond, done.text)
        found = settlement_of(done.reward) if done.reward is not None else None
        if done.reward is not None and found is not None:
            update_alerts(runtime, body, done.reward, found, recorded=False)
        return
    reward = done.reward
    if done.settlement is not None:
        update_alerts(runtime, body, reward, done.settlement, recorded=True)
    if outcome == RewardStatus.SENT:
        runtime.notifier.delivered(reward)  # recipients' DMs, announcement, giver's "Sent!"
    else:
        tell_giver_failed(runtime, reward)
    # App Homes: the giver's and recipients' rewards, every admin's "rewards in doubt"
    runtime.notifier.on_change([*people_of(reward), *runtime.settings.REWARD_ADMINS])


def update_alerts(
    runtime: Runtime,
    body: dict[str, Any],
    reward: RewardDetails,
    settlement: Settlement,
    *,
    recorded: bool,
) -> None:
    """Every recorded admin alert (when `recorded`), and the clicked message when it is not one
    of them (the after-restart alert lists several rewards), show the settlement."""
    clicked = clicked_message(body)
    refs = runtime.settle.alerts(reward)
    done = {clicked} if clicked is not None else set()
    if recorded:
        done |= _update_recorded(runtime, reward, settlement, refs)
        # An alert posted just before the click may be recorded a moment after it: look again.
        timer = threading.Timer(
            LATE_ALERTS_SECONDS,
            _update_late,
            args=(runtime, reward, settlement, done | refs),
        )
        timer.daemon = True
        timer.start()
    if clicked is not None and clicked not in refs:
        message = body.get("message") or {}
        blocks = settled_blocks(message.get("blocks") or [], reward.short_id, settlement, runtime)
        if blocks is not None:
            _update(runtime, clicked, {"text": message.get("text") or "", "blocks": blocks})


def _update_recorded(
    runtime: Runtime,
    reward: RewardDetails,
    settlement: Settlement,
    refs: set[MessageRef],
) -> set[MessageRef]:
    payload = reward_messages.admin_in_doubt_alert(
        reward=card_for(reward),
        tz=runtime.settings.REWARD_TIMEZONE,
        settlement=settlement,
    )
    for ref in sorted(refs, key=lambda r: (r.channel_id, r.ts)):
        _update(runtime, ref, payload)
    return refs


def _update_late(
    runtime: Runtime,
    reward: RewardDetails,
    settlement: Settlement,
    done: set[MessageRef],
) -> None:
    try:
        late = runtime.settle.alerts(reward) - done
        if late:
            _update_recorded(runtime, reward, settlement, late)
    except Exception:  # the bot may be stopping; the alert keeps its buttons, which answer
        log.warning("could not update late in-doubt alerts of %s", reward.short_id)


def settled_blocks(
    blocks: list[dict[str, Any]], short: str, settlement: Settlement, runtime: Runtime
) -> list[dict[str, Any]] | None:
    """`blocks` with this reward's settle buttons replaced by who settled it (None: no such
    buttons, nothing to change)."""
    wanted = keyed(BlockId.SETTLE_ACTIONS, short)
    if not any(b.get("block_id") == wanted for b in blocks):
        return None
    line = reward_messages.settlement_context(settlement, runtime.settings.REWARD_TIMEZONE)
    return [line if b.get("block_id") == wanted else b for b in blocks]


def _update(runtime: Runtime, ref: MessageRef, payload: dict[str, Any]) -> None:
    try:
        runtime.slack.chat_update(channel=ref.channel_id, ts=ref.ts, **payload)
    except SlackApiError as err:
        log.warning("could not update an in-doubt alert: %s", err.response.get("error"))


def tell_giver_failed(runtime: Runtime, reward: RewardDetails) -> None:
    card = replace(card_for(reward), failure_reason=NEVER_ARRIVED)
    giver = reward.giver
    runtime.notifier.dm(
        giver.slack_user_id,
        reward_messages.giver_failed(reward=card, tz=giver.tz),
    )
