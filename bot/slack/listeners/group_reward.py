"""Send and Cancel on a group reward's preview (`/reward @design-team 10 …`; the preview itself
is `reward_command.preview_group`).

Both clicks are journaled (`JOURNALED_ACTIONS`), so a restart finishes them. Send gives the
previewed reward keyed on the preview (`GroupRewards.send`): a double click, or a click resumed
after a crash, gives it once, and each click's answer says where that one reward is. Cancel
and Send are compare-and-sets on the preview: whichever comes first decides. The answer
replaces the preview, so the buttons go once used; a refusal (someone else's click, a forged or
stale id) is answered beside it, so the giver's buttons stay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond

from bot.rewards.group_rewards import OUT_OF_DATE, Cancelled
from bot.rewards.refusal import Refusal
from bot.slack.blocks import groups as group_blocks
from bot.slack.blocks.common import text_only
from bot.slack.ids import ActionId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import action_value, id_value, user_of
from bot.slack.listeners.reward_command import given_reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App) -> None:
    app.action(ActionId.GROUP_SEND)(ack=ack_at_once, lazy=[send])
    app.action(ActionId.GROUP_CANCEL)(ack=ack_at_once, lazy=[cancel])


@after_ack
def send(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    preview_id = id_value(action_value(body))
    if preview_id is None:
        _beside(respond, text_only(OUT_OF_DATE))
        return
    runtime.foreground.yield_to_requests()
    outcome = runtime.group_rewards.send(preview_id=preview_id, user_id=user_of(body))
    if isinstance(outcome, Refusal):
        _beside(respond, text_only(outcome.text))
    else:
        _answer(respond, given_reply(runtime, outcome))


@after_ack
def cancel(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    preview_id = id_value(action_value(body))
    if preview_id is None:
        _beside(respond, text_only(OUT_OF_DATE))
        return
    outcome = runtime.group_rewards.cancel(preview_id=preview_id, user_id=user_of(body))
    if isinstance(outcome, Cancelled):
        _answer(respond, group_blocks.cancelled(outcome.preview))
    elif isinstance(outcome, Refusal):
        _beside(respond, text_only(outcome.text))
    else:  # pressed Send first: where that reward is
        _answer(respond, given_reply(runtime, outcome))


def _answer(respond: Respond, payload: dict[str, Any]) -> None:
    """Replace the preview (an ephemeral the bot posted, which Slack lets it replace)."""
    respond(response_type="ephemeral", replace_original=True, **payload)


def _beside(respond: Respond, payload: dict[str, Any]) -> None:
    """A refusal, beside the preview: a forged or stale click never takes its buttons away."""
    respond(response_type="ephemeral", replace_original=False, **payload)
