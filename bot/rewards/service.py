"""Giving a reward: people → rules → ledger, once per idempotency key.

Nothing here talks to Plum: a reward that passes the rules is committed as `queued` (or
`pending_approval`) and the delivery worker sends it. The caller (a Slack listener) acknowledges
Slack first and reports the outcome afterwards.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict as vars_of
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.rewards import policy
from bot.rewards.budgets import Budgets, GiverBudget
from bot.rewards.cards import failure_kind_of
from bot.rewards.directory import Directory, DirectoryUnavailable, Profile, UnknownSlackUser
from bot.rewards.events import AllowanceReached, Teller
from bot.rewards.flags import RULE_TITLES, Flag, FlagRule, FlagRules, Gift, Hold, holding
from bot.rewards.kinds import OnceKind
from bot.rewards.policy import Decision, Field, Rules
from bot.rewards.refusal import Refusal
from bot.rewards.wording import status_label
from bot.settings import Settings
from storage import audit, clock, once
from storage import flags as flag_repo
from storage import rewards as reward_repo
from storage.db import Store
from storage.models import Member
from storage.rewards import RewardDetails
from storage.states import RewardSource, RewardStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GiveRequest:
    giver_id: str
    team_id: str
    recipient_ids: tuple[str, ...]
    amount: int
    citation: str
    values: tuple[str, ...]
    channel_id: str | None
    source: RewardSource
    idempotency_key: str
    public: bool = True
    hold: timedelta | None = None  # not sent before this long has passed (the undo window)


@dataclass(frozen=True, slots=True)
class Given:
    reward: RewardDetails
    created: bool  # False: this request was seen before (a retry or double submit)

    @property
    def needs_approval(self) -> bool:
        return self.reward.status == RewardStatus.PENDING_APPROVAL


GiveOutcome = Given | Refusal

UNDO_WHY = "undone by its giver within the undo window"


@dataclass(frozen=True, slots=True)
class UndoneByGiver:
    """ "Undo" clicked inside the window: the reward is cancelled before anything was sent or
    announced. `first`: this click undid it (a second click of a double click finds it undone)."""

    reward: RewardDetails
    first: bool


@dataclass(frozen=True, slots=True)
class UndoTooLate:
    """ "Undo" clicked after the window: the reward is on its way or sent and stands (an admin
    can cancel it). `first`: the giver hears it once, however often they click."""

    reward: RewardDetails
    first: bool


UndoOutcome = UndoneByGiver | UndoTooLate | Refusal


class RewardService:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        settings: Settings,
        on_queued: Callable[[], None] = lambda: None,
        on_pending: Callable[[RewardDetails], object] = lambda reward: None,
        now: Callable[[], datetime] = clock.now,
        budgets: Budgets | None = None,
        teller: Teller | None = None,
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._budgets = budgets or Budgets(store=store, settings=settings, now=now)
        self._teller = teller
        self._rules = Rules.from_settings(settings)
        self._flag_rules = FlagRules.from_settings(settings)
        self._on_queued = on_queued
        self._on_pending = on_pending
        self._now = now

    @property
    def rules(self) -> Rules:
        return self._rules

    @property
    def budgets(self) -> Budgets:
        return self._budgets

    def allowance_left(self, user_id: str) -> int | None:
        """What `user_id` may still give this month, from the ledger (and who is in which user
        group, cached), for the reward form: None when unlimited, or when it can't say now."""
        try:
            return self._budgets.read(user_id, now=self._now()).left
        except (SQLAlchemyError, DirectoryUnavailable):
            log.warning("could not read %s's allowance for the reward form", user_id, exc_info=True)
            return None

    def check(
        self,
        session: Session,
        *,
        giver: Profile,
        giver_member: Member,
        recipients: Sequence[Profile],
        amount: int,
        values: Sequence[str],
        now: datetime,
    ) -> tuple[Decision, GiverBudget]:
        """The rules on one reward (`policy.evaluate`), with the giver's month: giving, and a
        group reward's preview, ask the same."""
        budget = self._budgets.of(
            session, user_id=giver.person.user_id, member=giver_member, now=now
        )
        decision = policy.evaluate(
            rules=self._rules,
            giver=giver.person,
            recipients=[p.person for p in recipients],
            amount=amount,
            values=values,
            given_this_month=budget.given,
            now=now,
            tz=self._rules.timezone,  # the company's month, for everyone
            allowance=budget.allowance,
        )
        return decision, budget

    def give(self, request: GiveRequest) -> GiveOutcome:
        given = self.give_if(request, still_wanted=lambda session: True)
        assert given is not None
        return given

    def give_if(
        self,
        request: GiveRequest,
        *,
        still_wanted: Callable[[Session], bool],
        on_created: Callable[[Session, RewardDetails], object] = lambda session, reward: None,
    ) -> GiveOutcome | None:
        """`give`, unless `still_wanted(session)` says otherwise when the ledger is locked for
        it (a reaction removed meanwhile): then None, and nothing is recorded. `on_created`
        records what goes with a new reward, in its transaction."""
        try:
            giver = self._people.profile(request.giver_id)
            recipients = self._people.profiles(dict.fromkeys(request.recipient_ids))
        except UnknownSlackUser as err:
            text = (
                f"I can't find <@{err.user_id}> in this workspace. "
                "Mention someone from the list Slack suggests."
            )
            return Refusal(text, fields={str(Field.RECIPIENTS): text})
        now = self._now()
        with self._store.session() as session:
            audit.lock_chain(session)  # one giver's allowance is checked and spent atomically
            earlier = reward_repo.get_reward_by_idempotency_key(
                session, idempotency_key=request.idempotency_key
            )
            if earlier is not None:  # a retry or double submit: the first outcome stands
                return Given(reward=earlier, created=False)
            if not still_wanted(session):
                return None
            giver_member = self._people.member(session, giver, team_id=request.team_id)
            locked = policy.may_give(locked=giver_member.locked)
            if locked is not None:
                return locked
            recipient_members = [
                self._people.member(session, p, team_id=request.team_id) for p in recipients
            ]
            decision, budget = self.check(
                session,
                giver=giver,
                giver_member=giver_member,
                recipients=recipients,
                amount=request.amount,
                values=request.values,
                now=now,
            )
            if not decision.ok:
                return decision.refusal()
            held = self._held_by(session, request, now=now)
            created = reward_repo.create_reward(
                session,
                giver=giver_member,
                recipients=[(m, request.amount) for m in recipient_members],
                citation=request.citation,
                idempotency_key=request.idempotency_key,
                source=request.source,
                channel_id=request.channel_id,
                values=request.values,
                public=request.public,
                status=(
                    RewardStatus.PENDING_APPROVAL
                    if decision.needs_approval or held is not None
                    else RewardStatus.QUEUED
                ),
                expiry_months=self._settings.REWARD_EXPIRY_MONTHS,
                held_until=now + request.hold if request.hold else None,
            )
            if created.created:
                on_created(session, created.reward)
            if created.created and held is not None:
                flag_repo.mark_held(
                    session,
                    reward=created.reward.reward,
                    rule=held.rule.value,
                    reason=f"{RULE_TITLES[held.rule]}: {', '.join(held.people)}",
                )
            reached = (
                created.created
                and policy.reached_limit(
                    budget.allowance,
                    given_this_month=budget.given + decision.total,
                    is_admin=giver.person.is_admin,
                )
                and once.claim_once(  # once a month, across processes, with the reward
                    session,
                    kind=OnceKind.ALLOWANCE_REACHED,
                    key=f"{request.giver_id}:{policy.month_start(now, self._rules.timezone):%Y-%m}",
                )
            )
        if created.created:
            log.info(
                "reward %s created by %s: %s points to %d people (%s)",
                created.reward.short_id,
                request.giver_id,
                created.reward.total_points,
                len(recipient_members),
                created.reward.status,
                extra={"reward_id": created.reward.short_id},
            )
            if created.reward.status == RewardStatus.QUEUED:
                self._on_queued()
            elif created.reward.status == RewardStatus.PENDING_APPROVAL:
                self._on_pending(created.reward)  # asks for approval (committed by now)
        if reached and self._teller is not None:
            self._tell_reached(request.giver_id, budget, now=now)
        return Given(reward=created.reward, created=created.created)

    def _tell_reached(self, user_id: str, budget: GiverBudget, *, now: datetime) -> None:
        resets = policy.next_month_start(now, self._rules.timezone).date()
        event = AllowanceReached(user_id=user_id, allowance=budget.allowance, resets_on=resets)
        try:
            assert self._teller is not None
            self._teller.tell(event)
        except Exception:  # the reward stands; the note is only news
            log.warning("could not tell %s they reached their allowance", user_id, exc_info=True)

    def _held_by(self, session: Session, request: GiveRequest, *, now: datetime) -> Flag | None:
        """The flag that holds this new reward for an admin (REWARD_FLAG_HOLD, or an admin's
        "Hold future ones" for these people), or None."""
        rules = self._flag_rules
        people = [request.giver_id, *request.recipient_ids]
        holds = [
            Hold(rule=FlagRule(h.rule), people=tuple(h.people.split(",")))
            for h in flag_repo.holds_involving(session, user_ids=people)
        ]
        if not rules.hold and not holds:
            return None
        since = now - timedelta(days=rules.history_days())
        history = [
            Gift(**vars_of(row))
            for row in flag_repo.gifts_since(session, since=since, involving=people)
        ]
        total = request.amount * len(request.recipient_ids)
        new = [
            Gift(
                reward_id="(new)",
                giver=request.giver_id,
                recipient=uid,
                points=request.amount,
                total=total,
                reason=request.citation,
                at=now,
            )
            for uid in request.recipient_ids
        ]
        return holding(
            history, new, rules, holds=holds, now=now, allowance_of=self._budgets.allowance_of()
        )

    def giving_hold(self) -> timedelta | None:
        """How long a reward given with `/reward` or the form waits before it is sent, so that
        its giver can undo it (REWARD_UNDO_SECONDS); None: sent at once (0, or
        REWARD_UNDO_COMMANDS=false)."""
        undo = self._settings.REWARD_UNDO_SECONDS
        return timedelta(seconds=undo) if undo and self._settings.REWARD_UNDO_COMMANDS else None

    def undo_left(self, reward: RewardDetails) -> int | None:
        """Whole seconds left of `reward`'s undo window, for "Undo" on its giver's confirmation;
        None when it can't be undone now (not queued, not held, or the window is over)."""
        held = reward.reward.held_until
        if reward.status != RewardStatus.QUEUED or held is None:
            return None
        left = math.ceil((held - self._now()).total_seconds())
        return left if left > 0 else None

    def undo(self, *, giver_id: str, short_id: str) -> UndoOutcome:
        """The giver's "Undo" on their confirmation: inside the window the reward is cancelled
        (audited, nothing was sent or announced); after it, it stands and the giver hears so
        once. Only its giver may undo it. A reward waiting for approval has no Undo: an approver
        must act on it anyway, and rejecting it sends nothing."""
        with self._store.session() as session:
            audit.lock_chain(session)  # the lock the delivery worker takes before sending
            reward = reward_repo.get_reward_by_short_id(session, short_id=short_id)
            if reward is None:
                return Refusal("I can't find that reward any more.")
            if reward.giver.slack_user_id != giver_id:
                return Refusal(f"Only <@{reward.giver.slack_user_id}>, who gave it, can undo it.")
            status = reward.status
            if status == RewardStatus.CANCELLED:
                if reward.reward.cancel_reason == UNDO_WHY:
                    return UndoneByGiver(reward, first=False)  # a double click
                return Refusal(f"Reward `{reward.short_id}` was already cancelled.")
            held = reward.reward.held_until
            if status == RewardStatus.QUEUED and held is not None and held > self._now():
                reward = reward_repo.cancel_reward(
                    session, reward_id=reward.id, actor=giver_id, reason=UNDO_WHY
                )
                undone = UndoneByGiver(reward, first=True)
            elif status == RewardStatus.PENDING_APPROVAL:
                return Refusal(
                    f"Reward `{reward.short_id}` is waiting for approval, so nothing is sent "
                    "until an approver says yes. If it shouldn't go, ask them to reject it."
                )
            elif status in (RewardStatus.REJECTED, RewardStatus.EXPIRED, RewardStatus.FAILED):
                return Refusal(
                    f"Reward `{reward.short_id}` wasn't sent (it's {status_label(status)}), "
                    "so there's nothing to undo."
                )
            else:
                first = once.claim_once(session, kind=OnceKind.UNDO_TOO_LATE, key=reward.short_id)
                return UndoTooLate(reward, first=first)
        log.info("reward %s undone by its giver", reward.short_id)
        return undone

    def send_again(self, *, giver_id: str, team_id: str, short_id: str) -> GiveOutcome:
        """A failed reward given again by its giver ("Send again" on the message saying it
        failed): a new reward with the same recipients, amount, reason and values, from the
        same place, through every rule again (the people looked up afresh, so a deactivated
        account or a lost email shows), never the failed one re-sent. Keyed by the failed
        reward, so however often the button is clicked, it is given again once."""
        key = f"again:{reward_repo.normalize_short_id(short_id)}"
        with self._store.read_session() as session:
            old = reward_repo.get_reward_by_short_id(session, short_id=short_id)
            earlier = reward_repo.get_reward_by_idempotency_key(session, idempotency_key=key)
        if old is None:
            return Refusal("I can't find that reward any more.")
        if old.giver.slack_user_id != giver_id:
            return Refusal(f"Only <@{old.giver.slack_user_id}>, who gave it, can send it again.")
        if earlier is not None:  # a second click: the first one's reward stands
            return Given(reward=earlier, created=False)
        if old.status != "failed":
            return Refusal(
                f"It didn't fail (it's {status_label(old.status)}), so there's nothing to send "
                "again."
            )
        kind = failure_kind_of(old.reward.delivery_response)
        if not policy.may_send_again(old.status, kind):
            todo = policy.NOT_AGAIN_TODO.get(policy.FailureKind(kind or ""), "")
            return Refusal(todo.format(id=f"`{old.short_id}`"))
        amounts = {r.points for r in old.recipients}
        if len(amounts) != 1:
            return Refusal(
                "It gave people different amounts, so I can't send it again as it was. Send a "
                "new one with `/reward`."
            )
        recipients = tuple(r.member.slack_user_id for r in old.recipients)
        for user_id in recipients:
            self._people.forget(user_id)  # deactivated since? no email any more?
        row = old.reward
        return self.give(
            GiveRequest(
                giver_id=giver_id,
                team_id=team_id or old.giver.team_id,
                recipient_ids=recipients,
                amount=amounts.pop(),
                citation=row.citation,
                values=old.values,
                channel_id=row.channel_id,
                source=RewardSource(row.source),
                idempotency_key=key,
                public=row.public,
            )
        )

    def first_answer(self, reward: RewardDetails) -> bool:
        """True once per reward: the one answer to a form that gave it (several submissions of
        one form, or Slack's repeats of one, give one reward; whichever comes first tells)."""
        with self._store.session() as session:
            return once.claim_once(session, kind=OnceKind.FORM_ANSWERED, key=reward.short_id)

    def first_again_answer(self, reward: RewardDetails) -> bool:
        """True once per reward sent again: the one answer to the clicks of "Send again" (a
        double click, or a click resumed after a restart, gives it once; whichever click comes
        first tells)."""
        with self._store.session() as session:
            return once.claim_once(session, kind=OnceKind.AGAIN_ANSWERED, key=reward.short_id)

    def names(self, user_ids: Sequence[str]) -> dict[str, str]:
        """Display names for turning mentions into plain text (unknown people left out)."""
        return self._people.names(user_ids)
