"""Stand-ins for the domain's ports, for testing `bot.rewards` services without Slack.

- `RecordingTeller`: the `Teller` port (`bot.rewards.events`): keeps every event it is told and
  answers True; `fail_next(n)` makes the next `n` tells raise a passing failure, as the notifier
  does when Slack is down. Told an `ApprovalAsked`, it records each ask's copy in the ledger, as
  the notifier does after posting it (so the first decision finds every copy).
- `MemoryGroups`: the `GroupDirectory` port: user groups and their members in memory, with a
  count of look-ups; the demo's `@design-team` (`DESIGN`).
- `MemoryDirectory`: the `Directory` port (`bot.rewards.directory`): people kept in memory (ids,
  emails, time zones, bots, deactivated), roles from the settings, members written to the ledger
  exactly as `bot.slack.people.People` writes them; `set_manager` records a manager in the
  ledger, where the domain reads it.

The people are the demo workspace's (`bot.simulators.fakeslack.Workspace.demo`), so a test moved
here from the end-to-end suite reads the same.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlmodel import Session

from bot.rewards.directory import (
    DirectoryUnavailable,
    Profile,
    UnknownGroup,
    UnknownSlackUser,
    role_for,
    write_member,
)
from bot.rewards.events import ApprovalAsked, Event
from bot.rewards.kinds import MessageKind
from bot.rewards.policy import Person
from bot.settings import Settings
from storage import members as member_repo
from storage import messages as message_repo
from storage.db import Store
from storage.models import Member
from storage.states import Role

TEAM = "T0001"
ADMIN = "UADMIN01"
APPROVER = "UAPPR001"
MARIA = "UMARIA01"
BOB = "UBOB0001"
CHEN = "UCHEN001"
NOMAIL = "UNOMAIL1"
GONE = "UGONE001"
HELPERBOT = "UBOT0001"
BOT_SELF = "UREWARDB"  # the bot's own Slack user
DESIGN = "S0DESIGN"  # @design-team: Maria, Chen, Bob, No Mail, Gone and the helper bot
DESIGN_MEMBERS = (MARIA, CHEN, BOB, NOMAIL, GONE, HELPERBOT)
SENDER_EMAIL = "people-ops@acme.test"

E = TypeVar("E")


class SlackHiccup(Exception):
    """A passing failure while telling (what the notifier raises when Slack is down)."""


class RecordingTeller:
    """The `Teller` port, recording. Thread-safe (the delivery worker tells from its threads)."""

    def __init__(self, store: Store | None = None) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._failures = 0
        self.events: list[Event] = []
        self.failed: list[Event] = []  # told while failing: not told

    def tell(self, event: Event) -> bool:
        with self._lock:
            if self._failures:
                self._failures -= 1
                self.failed.append(event)
                raise SlackHiccup("Slack could not be reached")
            self.events.append(event)
        if isinstance(event, ApprovalAsked) and self._store is not None:
            self._record_copies(event)
        return True

    def fail_next(self, count: int = 1) -> None:
        """The next `count` tells raise `SlackHiccup` (and are not kept as told)."""
        with self._lock:
            self._failures = count

    def of(self, kind: type[E]) -> list[E]:
        """The events of this type, in the order told."""
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def kinds(self) -> list[str]:
        """The names of the events told, in order (for assertions on what was told at all)."""
        with self._lock:
            return [type(e).__name__ for e in self.events]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()
            self.failed.clear()

    def _record_copies(self, event: ApprovalAsked) -> None:
        """Each ask's copy is DM'd and recorded (`Notifier.post_request_copy`)."""
        assert self._store is not None
        with self._store.session() as session:
            for ask in event.asks:
                message_repo.record_reward_message(
                    session,
                    reward_id=event.reward.id,
                    kind=MessageKind.APPROVAL_REQUEST,
                    channel_id=f"D{ask.member.slack_user_id}",
                    message_ts=f"{next(self._ts)}.000100",
                    member=ask.member,
                )


@dataclass(frozen=True, slots=True)
class Someone:
    user_id: str
    name: str
    real_name: str = ""
    email: str | None = None
    tz: str | None = "UTC"
    is_bot: bool = False
    deleted: bool = False


DEMO = (
    Someone(ADMIN, "ada", "Ada Lovelace", "ada@acme.test", "Europe/London"),
    Someone(APPROVER, "arthur", "Arthur Approver", "arthur@acme.test", "America/New_York"),
    Someone(MARIA, "maria", "Maria Garcia", "maria@acme.test", "Europe/Madrid"),
    Someone(BOB, "bob", "Bob Brown", "bob@acme.test", "America/Los_Angeles"),
    Someone(CHEN, "chen", "Chen Wei", "chen@acme.test", "Asia/Tokyo"),
    Someone(NOMAIL, "nomail", "No Mail"),
    Someone(GONE, "gone", "Gone Person", "gone@acme.test", deleted=True),
    Someone(HELPERBOT, "helperbot", "Helper Bot", is_bot=True),
)


class MemoryDirectory:
    """The `Directory` port over people kept in memory."""

    def __init__(
        self, settings: Settings, people: Iterable[Someone] = DEMO, *, team_id: str = TEAM
    ) -> None:
        self._settings = settings
        self._team_id = team_id
        self._people = {p.user_id: p for p in people}
        self._people.setdefault(BOT_SELF, Someone(BOT_SELF, "rewardbot", "Reward Bot", is_bot=True))
        self.lookups: list[str] = []  # the emails looked up (`by_email`)
        self.fields: dict[str, dict[str, str]] = {}  # custom profile fields, by user id
        self.unavailable = False  # True: every look-up raises DirectoryUnavailable

    def add(self, someone: Someone) -> None:
        self._people[someone.user_id] = someone

    def change(self, user_id: str, **fields: object) -> None:
        """Change what Slack says of someone (deactivated, a new email, ...)."""
        self._people[user_id] = replace(self._people[user_id], **fields)  # type: ignore[arg-type]

    def profile(self, user_id: str) -> Profile:
        if self.unavailable:
            raise DirectoryUnavailable("Slack could not be reached")
        someone = self._people.get(user_id)
        if someone is None:
            raise UnknownSlackUser(user_id)
        return Profile(
            person=Person(
                user_id=someone.user_id,
                name=someone.name or someone.real_name or someone.user_id,
                email=someone.email,
                is_bot=someone.is_bot,
                deleted=someone.deleted,
                is_admin=role_for(self._settings, user_id) == Role.ADMIN,
                tz=someone.tz,
            ),
            team_id=self._team_id,
            display_name=someone.name,
            real_name=someone.real_name,
        )

    def by_email(self, email: str) -> Profile | None:
        """As `People.by_email`: the profile with this email (any case), or None."""
        if self.unavailable:
            raise DirectoryUnavailable("Slack could not be reached")
        self.lookups.append(email)
        found = [p for p in self._people.values() if (p.email or "").lower() == email.lower()]
        return self.profile(found[0].user_id) if found else None

    def bot_profile(self) -> Profile:
        """As `People.bot_profile`: the bot's own user (`BOT_SELF`)."""
        return self.profile(BOT_SELF)

    def people_ids(self) -> list[str]:
        if self.unavailable:
            raise DirectoryUnavailable("Slack could not be reached")
        return [p.user_id for p in self._people.values() if not (p.is_bot or p.deleted)]

    def profile_fields(self, user_id: str) -> dict[str, str]:
        """Custom profile fields set with `fields` (none unless set)."""
        if self.unavailable:
            raise DirectoryUnavailable("Slack could not be reached")
        if user_id not in self._people:
            raise UnknownSlackUser(user_id)
        return dict(self.fields.get(user_id, {}))

    def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for uid in user_ids:
            try:
                out[uid] = self.profile(uid).person.name
            except (UnknownSlackUser, DirectoryUnavailable):
                continue
        return out

    def profiles(self, user_ids: Iterable[str]) -> list[Profile]:
        return [self.profile(uid) for uid in user_ids]

    def everyone(self) -> list[Profile]:
        return [self.profile(uid) for uid in list(self._people)]

    def forget(self, user_id: str) -> None:
        return None  # nothing is cached

    def member(self, session: Session, profile: Profile, *, team_id: str) -> Member:
        """As `People.member`: the member refreshed from the profile, with its configured role."""
        return write_member(session, profile, team_id=team_id, settings=self._settings)

    def member_of(self, store: Store, user_id: str) -> Member:
        """`user_id`'s member in the ledger (written now if they have none yet)."""
        with store.session() as session:
            return self.member(session, self.profile(user_id), team_id=self._team_id)

    def set_manager(self, store: Store, report: str, manager: str) -> None:
        """Record `manager` as `report`'s manager (what `/reward manager` does)."""
        with store.session() as session:
            them = self.member(session, self.profile(report), team_id=self._team_id)
            boss = self.member(session, self.profile(manager), team_id=self._team_id)
            member_repo.set_manager(session, member=them, manager=boss, actor=ADMIN)


class MemoryGroups:
    """The `GroupDirectory` port over user groups kept in memory."""

    def __init__(self, groups: dict[str, tuple[str, ...]] | None = None) -> None:
        self.groups: dict[str, tuple[str, ...]] = dict(
            groups if groups is not None else {DESIGN: DESIGN_MEMBERS}
        )
        self.unavailable = False
        self.lookups = 0

    def members(self, group_id: str) -> tuple[str, ...]:
        self.lookups += 1
        if self.unavailable:
            raise DirectoryUnavailable("Slack could not be reached")
        if group_id not in self.groups:
            raise UnknownGroup(group_id)
        return self.groups[group_id]
