"""`/reward allowance @person|@user-group N|default` and `/reward allowances` (admins only; the
role is checked by the subcommand registry, and again by the service)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.rewards.budgets import allowances_text
from bot.rewards.commands import ListAllowances, SetAllowance
from bot.rewards.refusal import Refusal
from bot.slack.blocks.common import text_only
from bot.slack.listeners.command_replies import reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


def set_allowance(
    runtime: Runtime, parsed: SetAllowance, command: dict[str, Any], respond: Respond
) -> None:
    outcome = runtime.rewards.budgets.set(parsed, admin_id=command["user_id"])
    reply(respond, text_only(outcome.text if isinstance(outcome, Refusal) else outcome))


def list_allowances(
    runtime: Runtime, parsed: ListAllowances, command: dict[str, Any]
) -> dict[str, Any]:
    """Answered in the ack: a quick ledger read."""
    listed = runtime.rewards.budgets.list(admin_id=command["user_id"])
    if isinstance(listed, Refusal):
        return text_only(listed.text)
    return text_only(allowances_text(listed))
