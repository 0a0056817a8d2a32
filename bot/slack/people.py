"""Who is who: Slack profiles turned into policy `Person`s and ledger `Member`s.

Profiles come from `users.info`, cached for a few minutes so a busy channel does not cost one
Slack call per reward. Roles come from the settings (REWARD_ADMINS, REWARD_APPROVERS); when a
member's stored role differs, it is updated through `storage.members.set_role` (audited).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.rewards.directory import (  # re-exported for the Slack layer
    DirectoryUnavailable,
    GroupsNotAllowed,
    Profile,
    UnknownGroup,
    UnknownSlackUser,
    role_for,
    write_member,
)
from bot.rewards.policy import Person
from bot.settings import Settings
from storage.models import Member
from storage.states import Role

PROFILE_TTL_SECONDS = 300.0
LIST_PAGE = 200  # users.list's page (Slack's advice: at most 200)
LIST_PAGES_MAX = 1_000  # 200,000 people: a cursor that never ends stops here


class SlackUnavailable(SlackApiError, DirectoryUnavailable):
    """Slack refused a profile look-up for another reason than an unknown user."""


class People:
    """Slack profile lookups (cached) and their members in the ledger: the domain's
    `Directory`."""

    def __init__(
        self,
        *,
        slack: WebClient,
        settings: Settings,
        ttl_seconds: float = PROFILE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slack = slack
        self._settings = settings
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, Profile]] = {}
        # user id → (the profile last written to the ledger, its member id): an unchanged
        # profile needs no upsert, only a primary-key read.
        self._written: dict[str, tuple[Profile, int]] = {}
        self._lock = threading.Lock()
        self._bot_user_id: str | None = None

    def profile(self, user_id: str) -> Profile:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(user_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        try:
            user: dict[str, Any] = self._slack.users_info(user=user_id)["user"]
        except SlackApiError as err:
            if err.response.get("error") in ("user_not_found", "user_not_visible"):
                raise UnknownSlackUser(user_id) from None
            raise SlackUnavailable(str(err), err.response) from err
        return self._remember(user, now=now)

    def _remember(self, user: dict[str, Any], *, now: float | None = None) -> Profile:
        user_id = str(user.get("id") or "")
        profile = user.get("profile") or {}
        found = Profile(
            person=Person.from_slack_user(
                user, is_admin=role_for(self._settings, user_id) == Role.ADMIN
            ),
            team_id=str(user.get("team_id") or ""),
            display_name=str(profile.get("display_name") or ""),
            real_name=str(profile.get("real_name") or user.get("real_name") or ""),
        )
        with self._lock:
            self._cache[user_id] = (self._clock() if now is None else now, found)
        return found

    def everyone(self) -> list[Profile]:
        """Every member of the workspace, bots and deactivated accounts included, through
        users.list (200 a page; Slack's client waits out a rate limit and tries again); each
        one cached as `profile` caches (a bulk file's check)."""
        found: list[Profile] = []
        cursor = ""
        try:
            for _ in range(LIST_PAGES_MAX):
                page = self._slack.users_list(limit=LIST_PAGE, cursor=cursor or None)
                found.extend(self._remember(u) for u in page.get("members") or [])
                cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
                if not cursor:
                    break
        except SlackApiError as err:
            raise SlackUnavailable(str(err), err.response) from err
        return found

    def by_email(self, email: str) -> Profile | None:
        """The profile Slack has for this email (`users.lookupByEmail`, then cached by id), or
        None when Slack has nobody with it."""
        try:
            user: dict[str, Any] = self._slack.users_lookupByEmail(email=email)["user"]
        except SlackApiError as err:
            if err.response.get("error") in ("users_not_found", "user_not_found"):
                return None
            raise SlackUnavailable(str(err), err.response) from err
        return self._remember(user)

    def people_ids(self) -> list[str]:
        """Everyone in the workspace who is a person (not a bot, not deactivated), from
        `users.list` page by page."""
        found: list[str] = []
        cursor = ""
        while True:
            try:
                page = self._slack.users_list(limit=200, cursor=cursor or None)
            except SlackApiError as err:
                raise SlackUnavailable(str(err), err.response) from err
            for user in page.get("members") or []:
                if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
                    continue
                found.append(str(user["id"]))
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return found

    def profile_fields(self, user_id: str) -> dict[str, str]:
        """A person's custom profile fields (`users.profile.get`): field id → value."""
        try:
            profile: dict[str, Any] = self._slack.users_profile_get(user=user_id)["profile"]
        except SlackApiError as err:
            if err.response.get("error") in ("user_not_found", "user_not_visible"):
                raise UnknownSlackUser(user_id) from None
            raise SlackUnavailable(str(err), err.response) from err
        fields = profile.get("fields") or {}
        return {
            str(k): str((v or {}).get("value") or "")
            for k, v in fields.items()
            if isinstance(v, dict)
        }

    def bot_profile(self) -> Profile:
        """The bot's own Slack user (`auth.test`, once per process), as a profile."""
        with self._lock:
            bot_id = self._bot_user_id
        if bot_id is None:
            try:
                bot_id = str(self._slack.auth_test().get("user_id") or "")
            except SlackApiError as err:
                raise SlackUnavailable(str(err), err.response) from err
            if not bot_id:
                raise DirectoryUnavailable("Slack did not say who the bot is")
            with self._lock:
                self._bot_user_id = bot_id
        try:
            return self.profile(bot_id)
        except UnknownSlackUser:
            raise DirectoryUnavailable("Slack does not know the bot's own user") from None

    def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Display names of the people Slack knows and answers for; never raises (someone
        unknown, or Slack unreachable, is just left out)."""
        out: dict[str, str] = {}
        for uid in user_ids:
            try:
                out[uid] = self.profile(uid).person.name
            except (UnknownSlackUser, SlackApiError, OSError):
                continue
        return out

    def profiles(self, user_ids: Iterable[str]) -> list[Profile]:
        return [self.profile(uid) for uid in user_ids]

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._cache.pop(user_id, None)

    def member(self, session: Session, profile: Profile, *, team_id: str) -> Member:
        """The ledger's member for this profile, refreshed and with the configured role."""
        person = profile.person
        wanted = role_for(self._settings, person.user_id)
        with self._lock:
            written = self._written.get(person.user_id)
        if written is not None and written[0] == profile:
            known = session.get(Member, written[1])
            if known is not None and known.role == wanted.value:
                return known
        member = write_member(session, profile, team_id=team_id, settings=self._settings)
        if member.id is not None:
            with self._lock:
                self._written[person.user_id] = (profile, member.id)
        return member


GROUP_TTL_SECONDS = 300.0


class SlackGroups:
    """User groups' members from `usergroups.users.list` (scope `usergroups:read`), each
    group cached for a few minutes (`GROUP_TTL_SECONDS`): a group reward and the allowance of
    each of its members' rewards cost one Slack call a group every five minutes. The domain's
    `GroupDirectory`."""

    def __init__(
        self,
        *,
        slack: WebClient,
        ttl_seconds: float = GROUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slack = slack
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def members(self, group_id: str) -> tuple[str, ...]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(group_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        try:
            answer = self._slack.usergroups_users_list(usergroup=group_id)
        except SlackApiError as err:
            error = err.response.get("error")
            if error in ("no_such_subteam", "subteam_not_found", "invalid_arguments"):
                raise UnknownGroup(group_id) from None
            if error in ("missing_scope", "not_allowed_token_type", "no_permission"):
                raise GroupsNotAllowed(str(err)) from None
            raise SlackUnavailable(str(err), err.response) from err
        users = answer.get("users") or []
        found = tuple(dict.fromkeys(str(u) for u in users if isinstance(u, str) and u))
        with self._lock:
            self._cache[group_id] = (now, found)
        return found
