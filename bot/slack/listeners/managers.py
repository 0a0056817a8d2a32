"""`/reward manager <@member> <@manager>` (or `none`) and `/reward managers`: admins only. The
service is `bot.rewards.managers.ManagersService`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.rewards.commands import ListManagers, SetManager
from bot.rewards.refusal import Refusal
from bot.slack.blocks.common import text_only
from bot.slack.blocks.lists import managers_message
from bot.slack.listeners.command_replies import reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


def set_manager(
    runtime: Runtime, parsed: SetManager, command: dict[str, Any], respond: Respond
) -> None:
    admin = command["user_id"]
    said = runtime.managers.record(parsed, admin_id=admin, team_id=command.get("team_id") or "")
    text = said.text if isinstance(said, Refusal) else said
    reply(respond, text_only(text))


def list_managers(
    runtime: Runtime, parsed: ListManagers, command: dict[str, Any]
) -> dict[str, Any]:
    """Answered in the ack: a quick read of the ledger."""
    lines = runtime.managers.managers(command["user_id"])
    if isinstance(lines, Refusal):
        return text_only(lines.text)
    return managers_message(managers=lines)
