"""`/reward celebrations [on|off]`: a member sees whether the company celebrates them, and turns
it off or on; an admin's bare `/reward celebrations` lists the next 30 days
(`bot.rewards.celebrations`, drawn by `bot.slack.blocks.celebrations`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.rewards.celebrations import UPCOMING_DAYS
from bot.rewards.commands import Celebrations
from bot.rewards.directory import role_for
from bot.rewards.refusal import Refusal
from bot.rewards.states import Role
from bot.slack.blocks import celebrations as celebration_blocks
from bot.slack.blocks.common import text_only
from bot.slack.listeners.command_replies import reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


def run(runtime: Runtime, parsed: Celebrations, command: dict[str, Any], respond: Respond) -> None:
    user_id = command["user_id"]
    service = runtime.celebrations
    if parsed.celebrate is not None:
        reply(
            respond,
            text_only(celebration_blocks.mine(service.choose(user_id, celebrate=parsed.celebrate))),
        )
        return
    if role_for(runtime.settings, user_id) == Role.ADMIN:
        rows = service.upcoming(admin_id=user_id)
        if isinstance(rows, Refusal):
            reply(respond, text_only(rows.text))
            return
        active = service.amounts.any
        reply(respond, celebration_blocks.upcoming(rows, days=UPCOMING_DAYS, active=active))
        return
    reply(respond, text_only(celebration_blocks.mine(service.mine(user_id))))
