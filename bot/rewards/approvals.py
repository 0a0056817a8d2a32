"""Approvals: who is asked about a reward over the threshold, who may decide, and the decision.

A reward created as `pending_approval` is DM'd (`request`) to the giver's manager when one is
recorded (and active), otherwise to every approver (REWARD_APPROVERS, else REWARD_ADMINS), never
to the giver. Each copy is recorded (`kind="approval_request"`) so that once someone decides,
every copy is edited to show who decided and when, without the buttons.

`decide` is the one way a decision is made: the giver's manager (for their reports only),
approvers and admins may decide; nobody decides on their own reward; the ledger's compare-and-set
(`storage.approvals.decide_approval`) lets the first decision win and everyone else gets a plain
answer saying who decided and when. The caller acknowledges Slack first, calls `decide`, tells the
clicker the `Refusal`'s text when it lost, or calls `after_decision(decided)` to update the copies
and tell the giver (a modal submission acks in between).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.rewards import policy
from bot.rewards.budgets import Budgets
from bot.rewards.cards import ApprovalCard, ApprovalDecision, GiverMonth, card_for
from bot.rewards.directory import Directory, DirectoryUnavailable, UnknownSlackUser, role_for
from bot.rewards.events import (
    ApprovalAsk,
    ApprovalAsked,
    ApprovalCopy,
    ApprovalEnded,
    GiverDecided,
    PeopleChanged,
    Teller,
)
from bot.rewards.kinds import MessageKind, OnceKind
from bot.rewards.refusal import Refusal
from bot.rewards.wording import format_datetime, mention, one_line, safe_mrkdwn, short_id
from bot.settings import Settings
from storage import approvals as approval_repo
from storage import clock, locks, once, queries
from storage import members as member_repo
from storage import messages as message_repo
from storage import rewards as reward_repo
from storage.db import Store
from storage.errors import AlreadyDecided, NotPermitted
from storage.models import Member
from storage.rewards import RewardDetails
from storage.states import COUNTS_TOWARDS_ALLOWANCE, RewardStatus, Role

log = logging.getLogger(__name__)

S = RewardStatus
REQUEST_KIND = MessageKind.APPROVAL_REQUEST
# Giver's month so far: rewards counted from their recent history (a cap, not a limit).


@dataclass(frozen=True, slots=True)
class Asked:
    """Who was asked to approve a reward (Slack user ids); `via_manager`: the giver's manager."""

    user_ids: tuple[str, ...]
    via_manager: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    member: Member
    as_manager: bool


@dataclass(frozen=True, slots=True)
class Decided:
    """This decision was recorded; `text` confirms it to the person who decided. (When nothing
    changed, `decide` answers with a `Refusal` saying why, with the reward as it now is.)"""

    text: str
    reward: RewardDetails
    decision: ApprovalDecision | None  # None only if the ledger could not say how it ended


def _refused(text: str, reward: RewardDetails | None = None) -> Refusal:
    return Refusal(text, reward=reward)


class ApprovalService:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        teller: Teller,
        settings: Settings,
        on_queued: Callable[[], None] = lambda: None,
        now: Callable[[], datetime] = clock.now,
        budgets: Budgets | None = None,
    ) -> None:
        self._store = store
        self._people = people
        self._teller = teller
        self._settings = settings
        self._on_queued = on_queued
        self._now = now
        self._budgets = budgets

    # ── who ───────────────────────────────────────────────────────────────────────────────

    def is_admin(self, user_id: str) -> bool:
        return role_for(self._settings, user_id) == Role.ADMIN

    def is_approver(self, user_id: str) -> bool:
        """Approvers and admins decide for anyone (but never on their own rewards)."""
        return role_for(self._settings, user_id) in (Role.ADMIN, Role.APPROVER)

    def approver_ids(self, reward: RewardDetails) -> list[str]:
        """REWARD_APPROVERS other than the people the reward concerns (its giver and
        recipients); when that leaves nobody, REWARD_ADMINS other than them."""
        settings = self._settings
        concerned = concerned_ids(reward)
        if reward.reward.held_for:  # held by a flag: it waits for an admin's review
            return [u for u in dict.fromkeys(settings.REWARD_ADMINS) if u not in concerned]
        return policy.approvers_for(
            approvers=settings.REWARD_APPROVERS, admins=settings.REWARD_ADMINS, concerned=concerned
        )

    def targets(self, session: Session, reward: RewardDetails) -> list[Target]:
        """Whom to ask: the giver's manager when recorded, active and not paid by the reward,
        otherwise every approver (REWARD_APPROVERS, else REWARD_ADMINS) who is a person still in
        Slack. Never the giver, never a recipient."""
        giver = reward.giver
        if giver.manager_id is not None and not reward.reward.held_for:
            manager = member_repo.get_member(session, member_id=giver.manager_id)
            if (
                manager is not None
                and manager.active
                and not manager.is_bot
                and manager.slack_user_id not in concerned_ids(reward)
            ):
                return [Target(member=manager, as_manager=True)]
        found: list[Target] = []
        for uid in self.approver_ids(reward):
            try:
                profile = self._people.profile(uid)
            except UnknownSlackUser:
                log.warning("approver %s is not in this Slack workspace", uid)
                continue
            if profile.person.deleted or profile.person.is_bot:
                continue
            member = self._people.member(session, profile, team_id=giver.team_id)
            found.append(Target(member=member, as_manager=False))
        if not found:
            log.warning("reward %s needs approval but nobody can be asked", reward.short_id)
        return found

    def asked(self, reward: RewardDetails) -> Asked:
        """Who actually got the request (the recorded copies), in the order they were asked."""
        with self._store.read_session() as session:
            copies = message_repo.list_reward_messages(
                session, reward_id=reward.id, kind=REQUEST_KIND
            )
            ids: list[str] = []
            via_manager = False
            for copy in copies:
                if copy.member_id is None:
                    continue
                member = member_repo.get_member(session, member_id=copy.member_id)
                if member is None:
                    continue
                ids.append(member.slack_user_id)
                via_manager = via_manager or member.id == reward.giver.manager_id
        unique = tuple(dict.fromkeys(ids))
        return Asked(user_ids=unique, via_manager=via_manager and len(unique) == 1)

    def manages_anyone(self, user_id: str) -> bool:
        with self._store.read_session() as session:
            me = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            return me is not None and bool(member_repo.list_reports(session, manager=me))

    def refusal(self, session: Session, reward: RewardDetails, user_id: str) -> str | None:
        """Why `user_id` may not decide on `reward` (None: they may)."""
        giver = reward.giver
        if user_id == giver.slack_user_id:
            return (
                "You can't approve or reject your own reward: someone else has to decide on it. "
                "You'll hear from me when they do."
            )
        if user_id in concerned_ids(reward):
            return (
                "You can't approve or reject a reward that pays you: another approver or an "
                "admin decides on it. Nothing was changed."
            )
        if reward.reward.held_for and not self.is_admin(user_id):
            return (
                "This reward waits for an admin's review (it matched a pattern an admin asked "
                "to check), so only an admin can approve or reject it. Nothing was changed."
            )
        if self.is_approver(user_id):
            return None
        me = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        if me is not None and giver.manager_id is not None and giver.manager_id == me.id:
            return None
        if me is not None and member_repo.list_reports(session, manager=me):
            return (
                f"You can decide only for your own reports, and {mention(giver.slack_user_id)} "
                "isn't one of them. Their manager, the approvers or an admin will decide."
            )
        return (
            f"Only {mention(giver.slack_user_id)}'s manager, the approvers and admins can approve "
            "or reject this reward. Nothing was changed."
        )

    # ── asking ────────────────────────────────────────────────────────────────────────────

    def on_pending(self, reward: RewardDetails) -> Asked:
        """`request`, for `RewardService(on_pending=…)`: a Slack or lookup failure is logged,
        never raised into giving (the reward is committed either way)."""
        try:
            return self.request(reward)
        except Exception:
            log.exception("reward %s: could not ask for approval", reward.short_id)
            return Asked(user_ids=())

    def request(self, reward: RewardDetails) -> Asked:
        """Ask whoever should decide (each copy is recorded by whoever posts it, so the first
        decision updates it too); who was asked, as recorded."""
        with self._store.session() as session:
            targets = self.targets(session, reward)
            month = self.giver_month(session, reward)
        card = card_for(reward)
        asks = tuple(
            ApprovalAsk(
                member=target.member,
                card=ApprovalCard(
                    reward=card,
                    month=month,
                    threshold=self._settings.REWARD_APPROVAL_THRESHOLD,
                    as_manager=target.as_manager,
                ),
            )
            for target in targets
        )
        self._teller.tell(ApprovalAsked(reward, asks))
        asked = self.asked(reward)
        log.info(
            "reward %s: approval asked of %d people",
            reward.short_id,
            len(asked.user_ids),
            extra={"reward_id": reward.short_id},
        )
        if asked.user_ids:
            self._catch_up(reward)
        self._teller.tell(PeopleChanged.of([reward.giver.slack_user_id, *asked.user_ids]))
        return asked

    def _catch_up(self, reward: RewardDetails) -> None:
        """Someone may have decided while the copies were still being posted: bring every copy
        up to date (the decider's update may have missed the new ones)."""
        with self._store.read_session() as session:
            latest = reward_repo.get_reward(session, reward_id=reward.id)
            decision = None if latest is None else self.decision_for(session, latest)
        if latest is not None and decision is not None:
            self._show_end(latest, decision)

    # ── reading ───────────────────────────────────────────────────────────────────────────

    def find(self, short: str) -> RewardDetails | None:
        with self._store.read_session() as session:
            return reward_repo.get_reward_by_short_id(session, short_id=short)

    def giver_month(self, session: Session, reward: RewardDetails) -> GiverMonth:
        """The giver's calendar month so far (in REWARD_TIMEZONE), not counting `reward`."""
        giver = reward.giver
        tz = self._settings.REWARD_TIMEZONE
        now = self._now()
        start, end = queries.month_bounds(tz, now=now)
        total, count = queries.month_so_far(session, giver=giver, tz=tz, now=now)
        row = reward.reward
        if (
            row.status in {s.value for s in COUNTS_TOWARDS_ALLOWANCE}
            and start <= row.created_at < end
        ):
            total -= reward.total_points  # "before this one"
            count -= 1
        allowance = self._settings.REWARD_ALLOWANCE
        if self._budgets is not None:
            try:
                allowance = self._budgets.of(
                    session, user_id=giver.slack_user_id, member=giver, now=now
                ).allowance
            except DirectoryUnavailable:  # who is in which group: Slack can't say now
                log.warning("could not read %s's allowance", giver.slack_user_id)
        return GiverMonth(
            given_before=max(total, 0),
            rewards_before=max(count, 0),
            allowance=allowance,
            is_admin=self.is_admin(giver.slack_user_id),
        )

    def decision_for(self, session: Session, reward: RewardDetails) -> ApprovalDecision | None:
        """How the request ended (None while it waits): the approval when there is one, else
        its cancellation or expiry."""
        found = approval_repo.get_approval(session, reward_id=reward.id)
        if found is not None:
            approval, approver = found
            return ApprovalDecision(
                outcome="approved" if approval.decision == "approved" else "rejected",
                decided_at=approval.decided_at,
                decided_by=approver.slack_user_id,
                reason=approval.reason,
            )
        row = reward.reward
        if reward.status == S.CANCELLED and row.cancelled_at is not None:
            by = row.cancelled_by if (row.cancelled_by or "")[:1] in ("U", "W") else None
            return ApprovalDecision(
                outcome="cancelled",
                decided_at=row.cancelled_at,
                decided_by=by,
                reason=row.cancel_reason,
            )
        if reward.status == S.EXPIRED and row.expired_at is not None:
            return ApprovalDecision(outcome="expired", decided_at=row.expired_at)
        return None

    def pending_for(self, user_id: str) -> list[ApprovalCard]:
        """What waits for `user_id`'s decision: everything for approvers and admins, their
        reports' rewards for a manager; never their own."""
        with self._store.read_session() as session:
            me = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            if self.is_approver(user_id):
                rewards = approval_repo.list_pending_approvals(session, exclude_member=me)
            elif me is not None:
                rewards = approval_repo.list_pending_approvals(
                    session, manager=me, exclude_member=me
                )
            else:
                rewards = []
            if not self.is_admin(user_id):  # held by a flag: for an admin's review only
                rewards = [r for r in rewards if not r.reward.held_for]
            months: dict[int, GiverMonth] = {}
            cards = []
            for reward in rewards:
                giver_id = reward.giver.id or 0
                if giver_id not in months:
                    months[giver_id] = self.giver_month(session, reward)
                cards.append(
                    ApprovalCard(
                        reward=card_for(reward),
                        month=months[giver_id],
                        threshold=self._settings.REWARD_APPROVAL_THRESHOLD,
                        as_manager=me is not None and reward.giver.manager_id == me.id,
                    )
                )
        return cards

    # ── deciding ──────────────────────────────────────────────────────────────────────────

    def check(self, short: str, user_id: str) -> RewardDetails | Refusal:
        """Before opening the reject modal: the reward when `user_id` may decide on it now,
        else the refusal to show them."""
        reward = self.find(short)
        if reward is None:
            return _refused(unknown_reward_text(short))
        with self._store.read_session() as session:
            why = self.refusal(session, reward, user_id)
            if why is not None:
                return _refused(why, reward)
            if reward.status != S.PENDING_APPROVAL:
                text = self._settled_text(session, reward, user_id)
            else:
                return reward
        if reward.status in (S.CANCELLED, S.EXPIRED):
            self.refresh_copies(reward)  # the requests still show buttons: end them, once
        return _refused(text, reward)

    def decide(
        self,
        *,
        short: str,
        user_id: str,
        team_id: str,
        approve: bool,
        reason: str | None = None,
    ) -> Decided | Refusal:
        """Approve or reject; the first decision wins. Commits before returning."""
        checked = self.check(short, user_id)
        if isinstance(checked, Refusal):
            return checked
        reward = checked
        try:
            profile = self._people.profile(user_id)
        except UnknownSlackUser:
            return _refused("I can't find you in this workspace, so I can't record a decision.")
        try:
            with self._store.session() as session:
                locked = locks.is_locked(session, slack_user_id=reward.giver.slack_user_id)
                if approve and policy.may_give(locked=locked) is not None:
                    who = mention(reward.giver.slack_user_id)
                    return _refused(
                        f"{who} is locked from giving, so their reward {short_id(short)} can't "
                        "be approved now. Reject it, or ask an admin to unlock them first "
                        f"(`/reward unlock {who}`). Nothing was changed.",
                        reward,
                    )
                me = self._people.member(session, profile, team_id=team_id)
                done = approval_repo.decide_approval(
                    session, reward_id=reward.id, approver=me, approve=approve, reason=reason
                )
                decision = self.decision_for(session, done)
        except AlreadyDecided:
            latest = self.find(short) or reward
            with self._store.read_session() as session:
                return _refused(self._settled_text(session, latest, user_id), latest)
        except NotPermitted:
            with self._store.read_session() as session:
                return _refused(self.refusal(session, reward, user_id) or "Not allowed.", reward)
        log.info(
            "reward %s %s by %s",
            done.short_id,
            "approved" if approve else "rejected",
            user_id,
            extra={"reward_id": done.short_id},
        )
        if approve:
            self._on_queued()
        word = "approved" if approve else "rejected"
        text = f"You {word} reward {short_id(done.short_id)}."
        if approve:
            text += " It's on its way."
        return Decided(text=text, reward=done, decision=decision)

    def after_decision(self, result: Decided) -> None:
        """Once a decision is recorded: every copy of the request shows it (no buttons), and
        the giver is told, at most once (the claim comes before the DM: a restart between the
        two leaves the giver untold, never told twice; the request's copies show it)."""
        reward, decision = result.reward, result.decision
        if decision is None:
            return
        asked = self._show_end(reward, decision)
        giver = reward.giver
        with self._store.session() as session:  # the giver hears of a decision once
            key = f"{reward.short_id}:{decision.outcome}"
            if not once.claim_once(session, kind=OnceKind.DECISION_TOLD, key=key):
                return
        self._teller.tell(GiverDecided(reward, decision))
        self._teller.tell(
            PeopleChanged.of([giver.slack_user_id, decision.decided_by or "", *asked])
        )

    def own_decision(self, reward: RewardDetails | None, user_id: str) -> ApprovalDecision | None:
        """`user_id`'s own approval or rejection of `reward` (None: none, or someone else's)."""
        if reward is None:
            return None
        with self._store.read_session() as session:
            decision = self.decision_for(session, reward)
        if decision is None or decision.decided_by != user_id:
            return None
        return decision if decision.outcome in ("approved", "rejected") else None

    def finish_own_decision(self, reward: RewardDetails, user_id: str) -> bool:
        """`user_id` already decided on `reward` (their click was delivered again, or recorded
        before the bot restarted): finish what the decision left undone (the copies, the
        giver). False when the decision was somebody else's, or there is none."""
        decision = self.own_decision(reward, user_id)
        if decision is None:
            return False
        self.after_decision(Decided(text="", reward=reward, decision=decision))
        return True

    def refresh_copies(self, reward: RewardDetails) -> bool:
        """Show a request's end (decided, cancelled, expired) on every copy, once per outcome
        (the first caller does it). False when there is nothing to show or it was done."""
        with self._store.session() as session:
            decision = self.decision_for(session, reward)
            if decision is None:
                return False
            key = f"{reward.short_id}:{decision.outcome}"
            if not once.claim_once(session, kind=OnceKind.APPROVAL_COPIES, key=key):
                return False
        asked = self._show_end(reward, decision)
        self._teller.tell(PeopleChanged.of(asked))
        return True

    def _show_end(self, reward: RewardDetails, decision: ApprovalDecision) -> list[str]:
        """Every recorded copy shows how the request ended; returns whose copies they were
        (Slack user ids)."""
        with self._store.read_session() as session:
            copies = message_repo.list_reward_messages(
                session, reward_id=reward.id, kind=REQUEST_KIND
            )
            members = {
                c.member_id: member_repo.get_member(session, member_id=c.member_id)
                for c in copies
                if c.member_id is not None
            }
            month = self.giver_month(session, reward)
        card = card_for(reward)
        shown = []
        for copy in copies:
            member = members.get(copy.member_id) if copy.member_id is not None else None
            request = ApprovalCard(
                reward=card,
                month=month,
                threshold=self._settings.REWARD_APPROVAL_THRESHOLD,
                as_manager=member is not None and member.id == reward.giver.manager_id,
            )
            tz = (member.tz if member else None) or self._settings.REWARD_TIMEZONE
            shown.append(ApprovalCopy(copy.channel_id, copy.message_ts, request, tz))
        self._teller.tell(ApprovalEnded(reward, decision, tuple(shown)))
        return [m.slack_user_id for m in members.values() if m is not None]

    # ── answers ───────────────────────────────────────────────────────────────────────────

    def _settled_text(self, session: Session, reward: RewardDetails, user_id: str) -> str:
        """Why there is nothing to decide any more, in the clicker's time zone."""
        tz = self._tz_of(user_id)
        ref = short_id(reward.short_id)
        decision = self.decision_for(session, reward)
        if decision is None:
            if reward.status == S.PENDING_APPROVAL:
                return f"Reward {ref} is still waiting for a decision. Please try again."
            return f"Reward {ref} doesn't need approval, so there's nothing to decide."
        when = format_datetime(decision.decided_at, tz)
        if decision.outcome in ("approved", "rejected"):
            who = decision.decided_by or ""
            by = "You" if who == user_id else mention(who)
            lead = (
                f"You already {decision.outcome} reward {ref} on {when}."
                if who == user_id
                else f"Already {decision.outcome} by {by} on {when}."
            )
            if decision.outcome == "rejected" and decision.reason:
                lead += f" Reason: {safe_mrkdwn(one_line(decision.reason))}"
            return lead + " Nothing was changed."
        if decision.outcome == "cancelled":
            by = f" by {mention(decision.decided_by)}" if decision.decided_by else ""
            return (
                f"Reward {ref} was cancelled{by} on {when}, so there's nothing to decide. "
                "Nothing was sent."
            )
        return (
            f"Reward {ref} expired on {when} before anyone decided, so there's nothing to "
            "decide. Nothing was sent; the giver can send it again."
        )

    def _tz_of(self, user_id: str) -> str:
        try:
            return self._people.profile(user_id).person.tz or self._settings.REWARD_TIMEZONE
        except UnknownSlackUser:
            return self._settings.REWARD_TIMEZONE


def concerned_ids(reward: RewardDetails) -> set[str]:
    """The Slack ids of the people a reward concerns (its giver and recipients): none of them
    is ever asked to decide on it, nor may decide."""
    return {reward.giver.slack_user_id, *(r.member.slack_user_id for r in reward.recipients)}


def unknown_reward_text(short: str) -> str:
    shown = one_line(short)[:20] or "(none)"
    return (
        f"I can't find a reward `{shown}`. It may have been removed; check the id in "
        "`/reward approvals` or `/reward history`."
    )
