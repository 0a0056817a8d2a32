""" "It was sent" / "It failed" on a reward in doubt: admins settle it (`bot.rewards.settle`).

The first admin's answer wins; a second click, or another admin, is told who settled it and
when. Afterwards every admin's alert shows who settled it and how, without the buttons; on
"sent" the recipients get their DM (and the announcement and the giver's confirmation) exactly as
for a delivered reward; on "failed" the giver is told nothing arrived and they may send it again
(`RewardSettled`, told by the service).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond

from bot.rewards.refusal import Refusal
from bot.rewards.settle import Settled, settlement_of
from bot.rewards.states import RewardStatus
from bot.slack.ids import ActionId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import action_value, clicked_message, tell, user_of

if TYPE_CHECKING:
    from bot.runtime import Runtime


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
    """The settlement is told by the service (`RewardSettled`: every recorded alert, the
    people concerned); the message clicked shows it too when it is not one of those alerts (the
    after-restart alert lists several rewards), and a click that lost hears why."""
    done = runtime.settle.settle(admin_id=user_of(body), short=action_value(body), outcome=outcome)
    if isinstance(done, Refusal):
        tell(runtime, body, respond, done.text)
    reward = done.reward
    settlement = done.settlement if isinstance(done, Settled) else None
    if settlement is None and reward is not None:
        settlement = settlement_of(reward)
    clicked = clicked_message(body)
    if reward is not None and settlement is not None and clicked is not None:
        runtime.notifier.show_settlement(
            clicked, body.get("message") or {}, reward=reward, settlement=settlement
        )
