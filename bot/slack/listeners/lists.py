"""`/reward history` (your last 10 rewards given and received, with status) and
`/reward leaderboard [week|month]` (top recipients and givers, in REWARD_TIMEZONE periods).
The service is `bot.rewards.lists.ListsService`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.rewards.commands import ShowHistory, ShowLeaderboard
from bot.slack.blocks.lists import history_message, leaderboard_message
from bot.slack.listeners.command_replies import reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


def show_history(
    runtime: Runtime, parsed: ShowHistory, command: dict[str, Any], respond: Respond
) -> None:
    history = runtime.lists.history(command["user_id"])
    payload = history_message(
        viewer_id=history.viewer_id,
        given=history.given,
        received=history.received,
        tz=history.tz,
        adjustments=history.adjustments,
    )
    reply(respond, payload)


def show_leaderboard(
    runtime: Runtime, parsed: ShowLeaderboard, command: dict[str, Any], respond: Respond
) -> None:
    payload = leaderboard_message(board=runtime.lists.leaderboard(parsed.period))
    reply(respond, payload)
