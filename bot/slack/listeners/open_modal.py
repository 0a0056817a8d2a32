"""Opening the reward modal: `/reward` with no text and the App Home's "Send a reward" button
(the two shortcuts are in `shortcuts.py` and use `open_reward_modal` too).

A trigger_id works for three seconds, so every opener acknowledges Slack and calls `views.open`
straight away; the only work before it is one small ledger query (the allowance left, for the
amount's hint). When Slack refuses (the trigger expired), the person is told to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond
from slack_sdk.errors import SlackApiError

from bot.rewards.announcing import announce_channel
from bot.rewards.commands import EXAMPLE, OpenModal
from bot.rewards.states import RewardSource
from bot.slack.blocks.common import text_only
from bot.slack.blocks.give_modal import RewardModalMetadata, reward_modal
from bot.slack.ids import ActionId
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.action_replies import notice_modal

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

COULD_NOT_OPEN = (
    "I couldn't open the reward form: Slack gives me only a few seconds and they ran out. "
    f"Please try again, or type it out: `{EXAMPLE}`"
)


def register(app: App) -> None:
    app.action(ActionId.OPEN_REWARD_MODAL)(ack=ack_at_once, lazy=[open_from_home])


@after_ack
def open_from_home(body: dict[str, Any], runtime: Runtime) -> None:
    """App Home's "Send a reward"."""
    user_id = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id")
    opened = open_reward_modal(
        runtime,
        trigger_id=body.get("trigger_id") or "",
        user_id=user_id,
        metadata=RewardModalMetadata(source=RewardSource.MODAL, channel_id=channel),
    )
    if not opened:
        runtime.notifier.answer(user_id, text_only(COULD_NOT_OPEN))


def on_empty_command(
    runtime: Runtime, parsed: OpenModal, command: dict[str, Any], respond: Respond
) -> None:
    """`/reward` on its own: an empty ack (nothing shown), then the form."""
    opened = open_reward_modal(
        runtime,
        trigger_id=command.get("trigger_id") or "",
        user_id=command["user_id"],
        metadata=RewardModalMetadata(
            source=RewardSource.MODAL, channel_id=command.get("channel_id") or None
        ),
    )
    if not opened:
        respond(response_type="ephemeral", **text_only(COULD_NOT_OPEN))


def open_reward_modal(
    runtime: Runtime,
    *,
    trigger_id: str,
    user_id: str,
    metadata: RewardModalMetadata,
    initial_users: Sequence[str] = (),
    initial_citation: str = "",
) -> bool:
    """`views.open` the reward modal for `user_id` (for someone locked from giving, a form
    that only says so); False when Slack refused."""
    settings = runtime.settings
    locked = runtime.locks.may_give(user_id)
    view = (
        notice_modal("Send a reward", locked.text)
        if locked is not None
        else reward_modal(
            metadata=metadata,
            values=settings.REWARD_VALUES,
            initial_users=initial_users,
            initial_citation=initial_citation,
            announce_in=announce_channel(settings, metadata.channel_id),
            max_per_reward=settings.REWARD_MAX_PER_REWARD,
            allowance_left=runtime.rewards.allowance_left(user_id),
            gifts=runtime.gifts.may_open(user_id),
        )
    )
    try:
        runtime.slack.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as err:
        log.warning("could not open the reward form for %s: %s", user_id, err.response.get("error"))
        return False
    return True
