"""Recording managers (`/reward manager <@member> <@manager>` or `none`) and listing them
(`/reward managers`): admins only.

A recorded manager is asked to approve their reports' rewards instead of the approvers, and may
decide only for them. Changes are audited by the ledger (`storage.members.set_manager`).
"""

from __future__ import annotations

from bot.rewards.admin import only_admins
from bot.rewards.cards import ManagerLine
from bot.rewards.commands import SetManager
from bot.rewards.directory import Directory, UnknownSlackUser
from bot.rewards.refusal import Refusal
from bot.rewards.wording import mention, points
from bot.settings import Settings
from storage import members as member_repo
from storage.db import Store
from storage.errors import NotPermitted


class ManagersService:
    def __init__(self, *, store: Store, people: Directory, settings: Settings) -> None:
        self._store = store
        self._people = people
        self._settings = settings

    def may_record(self, admin_id: str) -> Refusal | None:
        """None when `admin_id` may record managers (an admin)."""
        return only_admins(self._settings, admin_id, doing="record managers")

    def record(self, parsed: SetManager, *, admin_id: str, team_id: str) -> str | Refusal:
        """Record or clear the manager: the sentence (mrkdwn) saying what changed, or why
        nothing did."""
        refused = self.may_record(admin_id)
        if refused is not None:
            return refused
        wanted = [parsed.member] + ([parsed.manager] if parsed.manager else [])
        try:
            profiles = self._people.profiles(wanted)
        except UnknownSlackUser as err:
            return Refusal(
                f"I can't find <@{err.user_id}> in this workspace. Mention someone from the list "
                "Slack suggests."
            )
        for profile in profiles:
            person = profile.person
            if person.is_bot or person.deleted:
                what = "a bot" if person.is_bot else "deactivated"
                return Refusal(
                    f"{mention(person.user_id)} is {what}, so they can't be part of this."
                )
        try:
            with self._store.session() as session:
                member = self._people.member(session, profiles[0], team_id=team_id)
                manager = (
                    self._people.member(session, profiles[1], team_id=team_id)
                    if parsed.manager
                    else None
                )
                before = member.manager_id
                updated = member_repo.set_manager(
                    session,
                    member=member,
                    manager=manager,
                    actor=admin_id,
                    reason="/reward manager",
                )
        except NotPermitted as err:
            return Refusal(f"I can't do that: {err}. Nothing was changed.")
        who = mention(parsed.member)
        threshold = points(self._settings.REWARD_APPROVAL_THRESHOLD)
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
            f"✅ {mention(parsed.manager)} is now {who}'s manager: they approve {who}'s rewards "
            f"of {threshold} or more."
        )

    def managers(self, admin_id: str) -> list[ManagerLine] | Refusal:
        """Every recorded (member, manager) pair, for an admin."""
        refused = only_admins(self._settings, admin_id, doing="list managers")
        if refused is not None:
            return refused
        with self._store.read_session() as session:
            return [
                ManagerLine(member_id=m.slack_user_id, manager_id=boss.slack_user_id)
                for m, boss in member_repo.list_managers(session)
            ]
