"""A reward to a Slack user group: `/reward @design-team 10 for the launch`.

Each member gets the amount, leaving out the giver, bots, deactivated accounts and people
without an email (`policy.split_group`); people mentioned beside the group are recipients as in
any reward. A group is a list of recipients: the rules are giving's own (`RewardService.check`:
the allowance counts every recipient, approval from the threshold of the total, at most
`policy.MAX_RECIPIENTS` people), checked when the preview is made and again when it is given.

Before anything is given the giver sees a preview (how many people, the total, who was left
out and why) with Send and Cancel. The preview is kept (`storage.group_previews`, keyed on the
command), so what is sent is who was previewed; Send gives it through `RewardService.give` keyed
on the preview, so a double click, two processes or a click resumed after a crash give it once;
Cancel and Send are compare-and-sets on the preview, so a cancelled preview is never given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.rewards import policy
from bot.rewards.commands import GroupRef
from bot.rewards.directory import (
    Directory,
    DirectoryUnavailable,
    GroupDirectory,
    GroupsNotAllowed,
    Profile,
    UnknownGroup,
    UnknownSlackUser,
)
from bot.rewards.policy import ProblemCode
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given, GiveOutcome, GiveRequest, RewardService
from bot.rewards.wording import mention, safe_mrkdwn
from storage import clock
from storage import group_previews as preview_repo
from storage import locks as lock_repo
from storage.db import Store
from storage.models import GroupPreview
from storage.states import RewardSource

log = logging.getLogger(__name__)

LOOKUPS_AT_ONCE = 8  # members' profiles asked of Slack at once (users.info is Tier 4)
MAX_GROUPS = 5  # user groups named in one reward (each costs a Slack call)
PREVIEW_LIFETIME = timedelta(hours=24)  # an older preview's Send asks for the command again
NOT_FOUND = "not_found"  # left out: Slack no longer knows them

OUT_OF_DATE = "That button is out of date. Nothing was sent. Type the command again."
NOT_ALLOWED = (
    "Slack doesn't let me see who is in user groups yet: an admin needs to update the app's "
    "permissions in Slack. Meanwhile, mention people one by one."
)
SLACK_DOWN = (
    "Slack isn't answering right now, so I can't see who is in the group. Try again in a minute."
)


@dataclass(frozen=True, slots=True)
class GroupGiveRequest:
    giver_id: str
    team_id: str
    groups: tuple[GroupRef, ...]
    people: tuple[str, ...]  # mentioned beside the groups
    amount: int
    citation: str
    values: tuple[str, ...]
    channel_id: str | None
    request_key: str  # the command's, given once by Slack


@dataclass(frozen=True, slots=True)
class Preview:
    """What the giver confirms: `recipients` each get `amount`; `left_out` (user id, why: a
    `ProblemCode` value or `NOT_FOUND`) get nothing."""

    preview_id: int
    giver_id: str
    groups: str  # as shown: `@design-team`
    recipients: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...]
    amount: int
    citation: str
    status: str
    needs_approval: bool = False
    allowance_left: int | None = None  # after this reward; None = no limit

    @property
    def total(self) -> int:
        return self.amount * len(self.recipients)

    @property
    def sent(self) -> bool:
        """Send was pressed (the reward was given, or why not is said again on asking)."""
        return self.status == preview_repo.CONFIRMED

    @property
    def cancelled(self) -> bool:
        return self.status == preview_repo.CANCELLED


@dataclass(frozen=True, slots=True)
class Cancelled:
    preview: Preview


class GroupRewards:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        groups: GroupDirectory,
        rewards: RewardService,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._people = people
        self._groups = groups
        self._rewards = rewards
        self._now = now

    # ── the preview ───────────────────────────────────────────────────────────────────────

    def preview(self, request: GroupGiveRequest) -> Preview | Refusal:
        """Who would get what (kept, for Send), or why it can't be given. A request seen before
        (Slack's retry, a command resumed after a crash) shows the same preview."""
        with self._store.read_session() as session:
            earlier = preview_repo.get_by_key(session, request_key=request.request_key)
            locked = lock_repo.is_locked(session, slack_user_id=request.giver_id)
        if earlier is not None:
            return self._shown(earlier)
        refused = policy.may_give(locked=locked)
        if refused is not None:
            return refused
        members = self._members(request)
        if isinstance(members, Refusal):
            return members
        try:
            giver = self._people.profile(request.giver_id)
            mentioned = self._people.profiles(dict.fromkeys(request.people))
        except UnknownSlackUser as err:
            return Refusal(
                f"I can't find {mention(err.user_id)} in this workspace. Mention someone from the "
                "list Slack suggests."
            )
        except DirectoryUnavailable:
            return Refusal(SLACK_DOWN)
        mentioned_ids = {p.person.user_id for p in mentioned}
        found, not_found = self._profiles([m for m in members if m not in mentioned_ids])
        if isinstance(found, Refusal):
            return found
        given, left_out = policy.split_group(giver.person, [p.person for p in found])
        shown = ", ".join(safe_mrkdwn(g.shown) for g in request.groups)
        everyone = [*mentioned, *(p for p in found if p.person in given)]
        why = [(p.user_id, code.value) for p, code in left_out] + [
            (uid, NOT_FOUND) for uid in not_found
        ]
        if not everyone:
            return Refusal(_nobody(shown, members=members, giver_id=request.giver_id, why=why))
        now = self._now()
        with self._store.session() as session:
            giver_member = self._people.member(session, giver, team_id=request.team_id)
            decision, _ = self._rewards.check(
                session,
                giver=giver,
                giver_member=giver_member,
                recipients=everyone,
                amount=request.amount,
                values=request.values,
                now=now,
            )
            if not decision.ok:
                return decision.refusal()
            row = preview_repo.create_preview(
                session,
                request_key=request.request_key,
                giver=request.giver_id,
                team_id=request.team_id,
                groups=shown,
                recipients=[p.person.user_id for p in everyone],
                left_out=why,
                amount=request.amount,
                citation=request.citation,
                values=request.values,
                channel_id=request.channel_id,
            )
            return self._shown(
                row,
                needs_approval=decision.needs_approval,
                allowance_left=decision.allowance_left,
            )

    def _members(self, request: GroupGiveRequest) -> list[str] | Refusal:
        """Every member of the groups named, each once, at most `policy.MAX_RECIPIENTS` with
        the people mentioned (counted before any profile is looked up: a group of 500 is
        refused at once)."""
        if len(request.groups) > MAX_GROUPS:
            return Refusal(
                f"Name at most {MAX_GROUPS} user groups in one reward. Split it into smaller "
                "rewards."
            )
        members: dict[str, None] = {}
        for group in request.groups:
            try:
                ids = self._groups.members(group.group_id)
            except UnknownGroup:
                return Refusal(
                    f"I can't find the user group {safe_mrkdwn(group.shown)}. Pick it from the "
                    "list Slack suggests as you type `@`."
                )
            except GroupsNotAllowed:
                return Refusal(NOT_ALLOWED)
            except DirectoryUnavailable:
                return Refusal(SLACK_DOWN)
            members.update(dict.fromkeys(ids))
        count = len(members.keys() | set(request.people))
        if count > policy.MAX_RECIPIENTS:
            shown = ", ".join(safe_mrkdwn(g.shown) for g in request.groups)
            return Refusal(
                f"{shown} has {count:,} people, and one reward goes to at most "
                f"{policy.MAX_RECIPIENTS}. Reward a smaller group, or mention people one by one.",
                code=ProblemCode.TOO_MANY.value,
            )
        return list(members)

    def _profiles(self, user_ids: Sequence[str]) -> tuple[list[Profile] | Refusal, list[str]]:
        """The members' profiles, in the group's order (those Slack no longer knows apart),
        looked up `LOOKUPS_AT_ONCE` at a time: 100 members not cached are 100 users.info
        calls, which one after another would take seconds."""

        def one(uid: str) -> Profile | str:
            try:
                return self._people.profile(uid)
            except UnknownSlackUser:
                return uid

        if not user_ids:
            return [], []
        try:
            with ThreadPoolExecutor(
                max_workers=min(LOOKUPS_AT_ONCE, len(user_ids)), thread_name_prefix="group"
            ) as pool:
                answers = list(pool.map(one, user_ids))
        except DirectoryUnavailable:
            return Refusal(SLACK_DOWN), []
        found = [a for a in answers if isinstance(a, Profile)]
        return found, [a for a in answers if isinstance(a, str)]

    def _shown(
        self,
        row: GroupPreview,
        *,
        needs_approval: bool | None = None,
        allowance_left: int | None = None,
    ) -> Preview:
        total = row.amount * len(row.recipients)
        if needs_approval is None:
            needs_approval = policy.needs_approval(total, self._rewards.rules)
        assert row.id is not None
        return Preview(
            preview_id=row.id,
            giver_id=row.giver,
            groups=row.groups,
            recipients=tuple(row.recipients),
            left_out=tuple((str(p[0]), str(p[1])) for p in row.left_out),
            amount=row.amount,
            citation=row.citation,
            status=row.status,
            needs_approval=needs_approval,
            allowance_left=allowance_left,
        )

    # ── Send, Cancel ──────────────────────────────────────────────────────────────────────

    def send(self, *, preview_id: int, user_id: str) -> GiveOutcome:
        """Send pressed: give the previewed reward, once however often it is pressed."""
        row = self._decidable(preview_id, user_id)
        if isinstance(row, Refusal):
            return row
        if row.status == preview_repo.CANCELLED:
            return Refusal("You cancelled this reward, so nothing was sent.")
        if row.status == preview_repo.OPEN:
            if self._now() - row.created_at > PREVIEW_LIFETIME:
                return Refusal(
                    "This preview is more than a day old, and the group may have changed. "
                    "Nothing was sent: type the command again."
                )
            with self._store.session() as session:
                decided = preview_repo.decide(
                    session, preview_id=preview_id, to=preview_repo.CONFIRMED, actor=user_id
                )
            if not decided:  # the other button won meanwhile
                return self.send(preview_id=preview_id, user_id=user_id)
        return self._rewards.give(  # confirmed: given once, keyed on the preview
            GiveRequest(
                giver_id=row.giver,
                team_id=row.team_id,
                recipient_ids=tuple(row.recipients),
                amount=row.amount,
                citation=row.citation,
                values=tuple(row.reward_values),
                channel_id=row.channel_id,
                source=RewardSource.COMMAND,
                idempotency_key=f"group:{preview_id}",
            )
        )

    def cancel(self, *, preview_id: int, user_id: str) -> Cancelled | Refusal | Given:
        """Cancel pressed: nothing is given (a preview already sent answers where it is)."""
        row = self._decidable(preview_id, user_id)
        if isinstance(row, Refusal):
            return row
        if row.status == preview_repo.OPEN:
            with self._store.session() as session:
                if preview_repo.decide(
                    session, preview_id=preview_id, to=preview_repo.CANCELLED, actor=user_id
                ):
                    return Cancelled(self._shown(row))
            return self.cancel(preview_id=preview_id, user_id=user_id)
        if row.status == preview_repo.CANCELLED:
            return Cancelled(self._shown(row))
        return self.send(preview_id=preview_id, user_id=user_id)  # sent: say where it is

    def _decidable(self, preview_id: int, user_id: str) -> GroupPreview | Refusal:
        with self._store.read_session() as session:
            row = preview_repo.get_preview(session, preview_id=preview_id)
        if row is None:
            return Refusal(OUT_OF_DATE)
        if row.giver != user_id:
            return Refusal(f"Only {mention(row.giver)}, who asked for this reward, can send it.")
        return row


def _nobody(
    shown: str, *, members: Sequence[str], giver_id: str, why: Sequence[tuple[str, str]]
) -> str:
    """Why a group reward has nobody to go to."""
    if not members:
        return f"{shown} has no members, so there's nobody to reward. Mention people instead."
    if list(members) == [giver_id]:
        return (
            f"You're the only member of {shown}, and you can't reward yourself. Mention "
            "someone else."
        )
    return (
        f"Nobody in {shown} can receive points: {left_out_text(why, limit=10)}. Mention "
        "people instead."
    )


LEFT_OUT_WHY = {
    ProblemCode.SELF.value: "you",
    ProblemCode.BOT.value: "a bot",
    ProblemCode.DEACTIVATED.value: "deactivated",
    ProblemCode.NO_EMAIL.value: "no email in Slack",
    NOT_FOUND: "not found in Slack",
}


def _why(code: str) -> str:
    return LEFT_OUT_WHY.get(code, code)


def left_out_text(why: Sequence[tuple[str, str]], *, limit: int = 20) -> str:
    """`<@U1> (a bot), <@U2> (no email in Slack)`; the giver as "you"; past `limit`, counted."""
    parts = [
        "you"
        if code == ProblemCode.SELF.value
        else f"{mention(uid)} ({LEFT_OUT_WHY.get(code, code)})"
        for uid, code in why
    ]
    shown = parts[:limit]
    more = len(parts) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")
