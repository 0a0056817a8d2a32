"""Who is who, as the domain needs it: a person's profile, their role, and the `Directory` port
the Slack layer implements (`bot.slack.people.People`: Slack profiles, cached, and their
members in the ledger)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from bot.rewards.policy import Person
from bot.settings import Settings
from storage import members as member_repo
from storage.models import Member
from storage.states import Role


class UnknownSlackUser(Exception):
    """Slack does not know this user id (user_not_found)."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        super().__init__(f"Slack has no user {user_id}")


class DirectoryUnavailable(Exception):
    """The directory could not answer (Slack refused or could not be reached)."""


@dataclass(frozen=True, slots=True)
class Profile:
    person: Person
    team_id: str
    display_name: str
    real_name: str


def role_for(settings: Settings, user_id: str) -> Role:
    """The one rule for roles: REWARD_ADMINS are admins, REWARD_APPROVERS approvers, everyone
    else a member."""
    if user_id in settings.REWARD_ADMINS:
        return Role.ADMIN
    if user_id in settings.REWARD_APPROVERS:
        return Role.APPROVER
    return Role.MEMBER


def write_member(session: Session, profile: Profile, *, team_id: str, settings: Settings) -> Member:
    """The ledger's member for this profile: refreshed from it, with the configured role."""
    person = profile.person
    member = member_repo.upsert_member(
        session,
        team_id=profile.team_id or team_id,
        slack_user_id=person.user_id,
        email=person.email,
        display_name=profile.display_name,
        real_name=profile.real_name,
        tz=person.tz,
        is_bot=person.is_bot,
        active=not person.deleted,
    )
    wanted = role_for(settings, person.user_id)
    if member.role != wanted.value:
        member = member_repo.set_role(
            session,
            member=member,
            role=wanted,
            actor="system",
            reason="REWARD_ADMINS / REWARD_APPROVERS",
        )
    return member


class Directory(Protocol):
    def profile(self, user_id: str) -> Profile:
        """Raises UnknownSlackUser, or DirectoryUnavailable when it cannot say."""
        ...

    def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Display names of those it knows; never raises."""
        ...

    def profiles(self, user_ids: Iterable[str]) -> list[Profile]: ...

    def everyone(self) -> list[Profile]:
        """Every person in the workspace (one paged listing, for a bulk file's check);
        raises DirectoryUnavailable when it cannot say."""
        ...

    def forget(self, user_id: str) -> None: ...

    def member(self, session: Session, profile: Profile, *, team_id: str) -> Member:
        """The ledger's member for this profile, refreshed and with its role."""
        ...


class UnknownGroup(Exception):
    """Slack has no such user group (a forged or deleted id)."""

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        super().__init__(f"Slack has no user group {group_id}")


class GroupsNotAllowed(DirectoryUnavailable):
    """Slack won't show user groups' members to the bot (the app was installed without the
    `usergroups:read` scope): an admin must update the app."""


class GroupDirectory(Protocol):
    """Slack user groups' members (the Slack side: `usergroups.users.list`, cached briefly)."""

    def members(self, group_id: str) -> tuple[str, ...]:
        """The user ids in the group, in Slack's order. Raises UnknownGroup, or
        DirectoryUnavailable when Slack cannot say."""
        ...
