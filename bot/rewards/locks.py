"""Locking a giver (`/reward lock @person [reason]`, `/reward unlock @person`, `/reward locks`,
and "Lock the giver" on a flag): admins only.

A locked person can still receive, but gives nothing by any way: the rule is
`policy.may_give`, which giving (`RewardService.give`, so the command, the form, shortcuts and
"Send again"), gift cards and donations (`GiftService`) and approvals of their pending rewards
(`ApprovalService.decide`) all ask. The person is told once, by DM, when they are locked (and
once when unlocked); each later attempt gets the one refusal. The lock's reason is the admins'
note: it is in the audit trail and in `/reward locks`, never in the locked person's DM.
Locking and unlocking are compare-and-sets, audited with who, when and why
(`storage.locks`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.rewards import policy
from bot.rewards.admin import only_admins
from bot.rewards.commands import LockGiver, UnlockGiver
from bot.rewards.directory import Directory, DirectoryUnavailable, Profile, UnknownSlackUser
from bot.rewards.events import LockChanged, PeopleChanged, Teller
from bot.rewards.kinds import OnceKind
from bot.rewards.refusal import Refusal
from bot.rewards.wording import mention, one_line, safe_mrkdwn
from bot.settings import Settings
from storage import locks as lock_repo
from storage import members as member_repo
from storage import once
from storage.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LockLine:
    """One locked person, for `/reward locks`."""

    user_id: str
    locked_at: datetime
    locked_by: str | None
    reason: str | None


class LockService:
    def __init__(
        self, *, store: Store, people: Directory, settings: Settings, teller: Teller
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._teller = teller

    def is_locked(self, user_id: str) -> bool:
        with self._store.read_session() as session:
            return lock_repo.is_locked(session, slack_user_id=user_id)

    def may_give(self, user_id: str) -> Refusal | None:
        """`policy.may_give` for someone by Slack id (None: they may give)."""
        return policy.may_give(locked=self.is_locked(user_id))

    def _profile(self, user_id: str) -> Profile | Refusal:
        try:
            return self._people.profile(user_id)
        except UnknownSlackUser:
            return Refusal(
                f"I can't find {mention(user_id)} in this workspace. Mention someone from the "
                "list Slack suggests."
            )
        except DirectoryUnavailable:
            return Refusal("Slack isn't answering right now. Try again in a minute.")

    def lock(self, parsed: LockGiver, *, admin_id: str, team_id: str) -> str | Refusal:
        """`/reward lock @person [reason]`: the sentence saying what changed, or why nothing
        did."""
        refused = only_admins(self._settings, admin_id, doing="lock givers")
        if refused is not None:
            return refused
        profile = self._profile(parsed.member)
        if isinstance(profile, Refusal):
            return profile
        with self._store.session() as session:
            member = self._people.member(session, profile, team_id=team_id)
            problem = policy.lock_problem(
                admin_id=admin_id, target=profile.person, already_locked=member.locked
            )
            earlier = member.locked_at if member.locked_by == admin_id else None
        if problem is not None:
            if earlier is not None:  # this admin's own lock again (their command resumed
                # after a crash, or typed again): the person is told if they never were
                self.tell_locked(parsed.member, earlier, locked=True, resumed=True)
            return Refusal(problem, code="lock")
        with self._store.session() as session:
            done = self.lock_member(session, profile, admin_id=admin_id, reason=parsed.reason)
        if done is None:
            return Refusal(
                policy.lock_problem(admin_id=admin_id, target=profile.person, already_locked=True)
                or "Nothing changed."
            )
        self.tell_locked(parsed.member, done, locked=True)
        return locked_text(parsed.member)

    def lock_member(
        self, session: Session, profile: Profile, *, admin_id: str, reason: str | None
    ) -> datetime | None:
        """Lock in the caller's transaction: when the lock began, or None when they were
        locked already."""
        member = self._people.member(session, profile, team_id=profile.team_id)
        row = lock_repo.lock_member(session, member=member, actor=admin_id, reason=reason)
        return None if row is None else row.locked_at

    def tell_locked(
        self, user_id: str, since: datetime, *, locked: bool, resumed: bool = False
    ) -> None:
        """Tell the person of this lock (or unlock), unless they were told of it already. Noted
        once told, as delivery notes an outcome told: a crash while the DM was posted leaves it
        untold, and the request resumed after the restart tells it (`resumed`: several
        requests resumed together claim the telling first, so one of them tells). Only the
        request that made the change, or those resumed after a crash, call this."""
        key = f"{'lock' if locked else 'unlock'}:{user_id}:{since.isoformat()}"
        with self._store.session() as session:
            if once.was_claimed(session, kind=OnceKind.LOCK_TOLD, key=key):
                return
            if resumed and not once.claim_once(
                session, kind=OnceKind.LOCK_TOLD, key=f"resumed:{key}"
            ):
                return
        try:
            self._teller.tell(LockChanged(user_id=user_id, locked=locked))
        except Exception:
            log.warning("could not tell %s about their lock", user_id, exc_info=True)
            return
        with self._store.session() as session:
            once.claim_once(session, kind=OnceKind.LOCK_TOLD, key=key)
        self._teller.tell(PeopleChanged.of([user_id]))

    def unlock(self, parsed: UnlockGiver, *, admin_id: str, team_id: str) -> str | Refusal:
        refused = only_admins(self._settings, admin_id, doing="unlock givers")
        if refused is not None:
            return refused
        profile = self._profile(parsed.member)
        if isinstance(profile, Refusal):
            return profile
        with self._store.session() as session:
            member = self._people.member(session, profile, team_id=team_id)
            mine = policy.unlock_problem(
                target=profile.person, locked=member.locked, admin_id=admin_id
            )
            if member.locked and mine is not None:
                return Refusal(mine, code="unlock")
            was = lock_repo.unlock_member(session, member=member, actor=admin_id)
        if was is None:
            problem = policy.unlock_problem(target=profile.person, locked=False)
            return Refusal(problem or "Nothing changed.", code="unlock")
        self.tell_locked(parsed.member, was, locked=False)
        who = mention(parsed.member)
        return f"🔓 {who} is unlocked: they can give rewards again. I've told them."

    def locks(self, admin_id: str) -> list[LockLine] | Refusal:
        refused = only_admins(self._settings, admin_id, doing="see who is locked")
        if refused is not None:
            return refused
        with self._store.read_session() as session:
            return [
                LockLine(
                    user_id=m.slack_user_id,
                    locked_at=m.locked_at,
                    locked_by=m.locked_by,
                    reason=m.lock_reason,
                )
                for m in lock_repo.locked_members(session)
                if m.locked_at is not None
            ]

    def member_name(self, user_id: str) -> str:
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            return member.name if member else user_id


def locked_text(user_id: str) -> str:
    who = mention(user_id)
    return (
        f"🔒 {who} is locked: they can't give rewards (by command, form, shortcut, gift card "
        "or donation) until an admin unlocks them, and their rewards waiting for approval "
        f"can't be approved meanwhile. They can still receive. I've told them. "
        f"`/reward unlock {who}` undoes it."
    )


def reason_shown(reason: str | None) -> str:
    """A lock's reason as admins read it in a list (one line, mrkdwn made safe)."""
    return safe_mrkdwn(one_line(reason or "")) or "no reason given"
