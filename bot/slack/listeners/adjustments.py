"""`/reward adjust @person -50 reason` (or `+50`): admins add or deduct points by hand. The
service is `bot.rewards.adjustments.AdjustmentsService`; the key of the adjustment is the
command's trigger_id, so a command Slack delivers again, or resumed after a crash, adjusts
once (and answers as the first time)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.rewards.commands import AdjustPoints
from bot.rewards.refusal import Refusal
from bot.slack.blocks.adjustments import adjusted_text
from bot.slack.blocks.common import text_only
from bot.slack.listeners.command_replies import reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


def adjust(
    runtime: Runtime, parsed: AdjustPoints, command: dict[str, Any], respond: Respond
) -> None:
    key = f"adjust:{command.get('trigger_id') or command.get('response_url')}"
    done = runtime.adjustments.adjust(
        parsed,
        admin_id=command["user_id"],
        team_id=command.get("team_id") or "",
        request_key=key,
    )
    reply(respond, text_only(done.text if isinstance(done, Refusal) else adjusted_text(done)))
