""" "Undo" on the giver's confirmation of a reward given with `/reward` or the form, while it
waits its undo window (REWARD_UNDO_SECONDS): the reward is cancelled before anything was sent or
announced (`RewardService.undo`, audited), and the confirmation becomes "Undone: nothing was
sent". After the window the giver hears once, privately, that it was already on its way.

The click is journaled (`JOURNALED_ACTIONS`), so a restart finishes it. A double click undoes
once: the second click finds it undone and shows the same confirmation. Only the giver's click
counts (the confirmation is theirs alone, but a click is checked all the same).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond

from bot.rewards.events import PeopleChanged
from bot.rewards.refusal import Refusal
from bot.rewards.service import UndoneByGiver
from bot.slack.blocks import reward_messages
from bot.slack.ids import ActionId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import action_value, tell, user_of

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App) -> None:
    app.action(ActionId.UNDO)(ack=ack_at_once, lazy=[undo])


@after_ack
def undo(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    short_id = action_value(body)
    user_id = user_of(body)
    outcome = runtime.rewards.undo(giver_id=user_id, short_id=short_id)
    if isinstance(outcome, Refusal):
        tell(runtime, body, respond, f"Nothing was undone. {outcome.text}")
        return
    card = runtime.notifier.card(outcome.reward)
    if isinstance(outcome, UndoneByGiver):
        payload = reward_messages.undone(card)
        if body.get("response_url"):
            respond(response_type="ephemeral", replace_original=True, **payload)
        elif outcome.first:
            runtime.notifier.answer(user_id, payload)
        if outcome.first:
            runtime.notifier.tell(PeopleChanged.of([card.giver_id]))
        return
    if outcome.first:  # too late: said once, however often the button is clicked
        late = reward_messages.undo_too_late(card)
        if body.get("response_url"):
            respond(response_type="ephemeral", replace_original=False, **late)
        else:
            runtime.notifier.answer(user_id, late)
