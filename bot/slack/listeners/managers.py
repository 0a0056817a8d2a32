"""`/reward manager <@member> <@manager>` (or `none`) and `/reward managers`: admins only.

A recorded manager is asked to approve their reports' rewards instead of the approvers, and may
decide only for them. Changes are audited by the ledger (`storage.members.set_manager`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, Respond

from bot.rewards.cards import ManagerLine
from bot.rewards.commands import ListManagers, SetManager
from bot.slack.blocks.common import mention, points, text_only
from bot.slack.blocks.lists import managers_message
from bot.slack.people import UnknownSlackUser
from storage import members as member_repo
from storage.errors import NotPermitted

if TYPE_CHECKING:
    from bot.runtime import Runtime


def _reply(runtime: Runtime, respond: Respond, text: str) -> None:
    respond(
        replace_original=True,
        response_type="ephemeral",
        **text_only(text),
    )


def set_manager(
    runtime: Runtime, parsed: SetManager, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    admin = command["user_id"]
    if not runtime.approvals.is_admin(admin):
        ack(**text_only("Only admins can record managers."))
        return
    ack(**text_only("⏳ One moment…"))
    _reply(runtime, respond, record_manager(runtime, parsed, admin, command.get("team_id") or ""))


def record_manager(runtime: Runtime, parsed: SetManager, admin: str, team_id: str) -> str:
    """Record or clear the manager; the sentence to show the admin."""
    people = runtime.people
    wanted = [parsed.member] + ([parsed.manager] if parsed.manager else [])
    try:
        profiles = people.profiles(wanted)
    except UnknownSlackUser as err:
        return (
            f"I can't find <@{err.user_id}> in this workspace. Mention someone from the list "
            "Slack suggests."
        )
    for profile in profiles:
        person = profile.person
        if person.is_bot or person.deleted:
            what = "a bot" if person.is_bot else "deactivated"
            return f"{mention(person.user_id)} is {what}, so they can't be part of this."
    try:
        with runtime.store.session() as session:
            member = people.member(session, profiles[0], team_id=team_id)
            manager = (
                people.member(session, profiles[1], team_id=team_id) if parsed.manager else None
            )
            before = member.manager_id
            updated = member_repo.set_manager(
                session, member=member, manager=manager, actor=admin, reason="/reward manager"
            )
    except NotPermitted as err:
        return f"I can't do that: {err}. Nothing was changed."
    who = mention(parsed.member)
    threshold = points(runtime.settings.REWARD_APPROVAL_THRESHOLD)
    if parsed.manager is None:
        if before is None:
            return f"{who} had no manager recorded, so nothing changed."
        return (
            f"✅ {who} has no manager recorded any more: their rewards of {threshold} or more "
            "go to the approvers."
        )
    if before == updated.manager_id:
        return f"{mention(parsed.manager)} was already {who}'s manager, so nothing changed."
    return (
        f"✅ {mention(parsed.manager)} is now {who}'s manager: they approve {who}'s rewards of "
        f"{threshold} or more."
    )


def list_managers(
    runtime: Runtime, parsed: ListManagers, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    if not runtime.approvals.is_admin(command["user_id"]):
        ack(**text_only("Only admins can list managers."))
        return
    with runtime.store.read_session() as session:
        pairs = member_repo.list_managers(session)
        lines = [
            ManagerLine(member_id=m.slack_user_id, manager_id=boss.slack_user_id)
            for m, boss in pairs
        ]
    ack(**managers_message(managers=lines))
