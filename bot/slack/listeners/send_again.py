""" "Send again" on the message telling a giver their reward failed: a new reward with the same
recipients, amount and reason (`RewardService.send_again`), through every rule again, never the
failed one re-sent.

The click is journaled (`JOURNALED_ACTIONS`), so a restart finishes it. The new reward is keyed
by the failed one, so a double click (two clicks, two journal entries) gives once, and its giver
hears once how it went (`first_again_answer`), as for a first reward: on its way, or waiting for
approval. The message clicked then names the new reward in place of the button.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond

from bot.rewards.events import PeopleChanged
from bot.rewards.refusal import Refusal
from bot.slack.ids import ActionId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import (
    action_value,
    clicked_message,
    team_of,
    tell,
    user_of,
)
from bot.slack.listeners.give_modal import giver_payload

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App) -> None:
    app.action(ActionId.SEND_AGAIN)(ack=ack_at_once, lazy=[send_again])


@after_ack
def send_again(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    failed = action_value(body)
    user_id = user_of(body)
    outcome = runtime.rewards.send_again(giver_id=user_id, team_id=team_of(body), short_id=failed)
    if isinstance(outcome, Refusal):
        tell(runtime, body, respond, f"I didn't send reward `{failed}` again.\n{outcome.text}")
        return
    clicked = clicked_message(body)
    if clicked is not None:
        runtime.notifier.show_sent_again(
            clicked, body.get("message") or {}, failed_short_id=failed, new=outcome.reward
        )
    if not runtime.rewards.first_again_answer(outcome.reward):
        return  # another click of the same button told the giver
    payload, changed = giver_payload(runtime, outcome)
    if body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, **payload)
    else:
        runtime.notifier.answer(user_id, payload)
    runtime.notifier.tell(PeopleChanged.of(changed))
