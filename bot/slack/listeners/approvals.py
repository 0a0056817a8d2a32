"""`/reward approvals`: what waits for the caller's decision, each with Approve / Reject.

Only what the caller may decide is listed (everything for approvers and admins, their reports'
rewards for a manager, never their own). The buttons are the same as in the DM'd request and are
handled by `approval_actions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.rewards.commands import ListApprovals
from bot.slack.blocks import lists
from bot.slack.blocks.common import points, text_only
from bot.slack.blocks.kit import section
from bot.slack.listeners.command_replies import reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


def approvals_payload(runtime: Runtime, user_id: str, *, note: str | None = None) -> dict[str, Any]:
    """The list for `user_id` (in their time zone), with `note` on top when given."""
    requests = runtime.approvals.pending_for(user_id)
    tz = runtime.people.profile(user_id).person.tz or runtime.settings.REWARD_TIMEZONE
    payload = lists.approvals_list(requests=requests, tz=tz)
    if note:
        payload["blocks"] = [section(note), *payload["blocks"]]
        payload["text"] = f"{note} {payload['text']}"
    return payload


def nothing_waits(
    runtime: Runtime, parsed: ListApprovals, command: dict[str, Any]
) -> dict[str, Any] | None:
    """The answer in the ack for someone who decides on nothing; None for everybody else."""
    user_id = command["user_id"]
    if runtime.approvals.is_approver(user_id) or runtime.approvals.manages_anyone(user_id):
        return None
    return text_only(
        "Nothing waits for you: only approvers, admins and managers decide on rewards "
        f"of {points(runtime.settings.REWARD_APPROVAL_THRESHOLD)} or more.",
    )


def list_approvals(
    runtime: Runtime, parsed: ListApprovals, command: dict[str, Any], respond: Respond
) -> None:
    reply(respond, approvals_payload(runtime, command["user_id"]))
