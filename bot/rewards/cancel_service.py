"""Cancelling a reward (`/reward cancel`; Xoxoday's cancelBalance when its points were sent).

Recorded in the ledger either way, so the audit trail holds every attempt: a cancel moves the
reward to `cancelled` (compare-and-set) or, when Xoxoday refuses, is recorded as refused and
changes nothing. A refusal comes back as `Refusal(text)`. Nothing here posts to Slack; the
listeners deliver.

Xoxoday keeps points sent more than 90 days ago and points already redeemed. When the ledger
shows that of every recipient of a sent reward (its `sent_at`; Xoxoday's answer to an earlier
cancel), `check` and `cancel` say so at once, before the admin is asked to confirm and without
asking Xoxoday to refuse again.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.plum import (
    NotFoundError,
    PlumAPIError,
    PlumClient,
    PlumError,
    PlumOutcomeUnknownError,
    RequestRejectedError,
)
from bot.plum import ValidationError as PlumValidationError
from bot.rewards.admin import only_admins, plum_unreachable
from bot.rewards.directory import Directory, UnknownSlackUser
from bot.rewards.events import RewardCancelled, Teller
from bot.rewards.policy import past_cancel_window
from bot.rewards.refusal import Refusal
from bot.rewards.wording import format_date, mention, points
from bot.settings import Settings
from storage import clock
from storage import points as points_repo
from storage import rewards as reward_repo
from storage.db import Store
from storage.errors import AlreadyDecided
from storage.points import points_value
from storage.rewards import RecipientDetails, RecipientResult, RewardDetails
from storage.states import RecipientOutcome, RewardStatus

log = logging.getLogger(__name__)

S = RewardStatus
CANCEL_LOCKS = 64  # cancels of one reward run one at a time (`CancelService._lock_for`)


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The reward is now `cancelled`. `withdrawn`: recipients whose points Xoxoday took back
    (empty when it was never sent); `kept`: (recipient, why) whose points Xoxoday kept."""

    reward: RewardDetails
    was: RewardStatus
    withdrawn: tuple[RecipientDetails, ...] = ()
    kept: tuple[tuple[RecipientDetails, str], ...] = ()
    # Points in the bot: the ledger took back what was left; by Slack user id, what each
    # recipient lost and kept (they keep what they already spent in the store).
    in_ledger: bool = False
    taken_points: Mapping[str, int | Decimal] = field(default_factory=dict)
    kept_points: Mapping[str, int | Decimal] = field(default_factory=dict)


def plain_refusal(message: str | None) -> str:
    """Xoxoday's reason for not cancelling, in plain words."""
    text = (message or "").strip()
    lowered = text.lower()
    if "90 days" in lowered:
        return "Xoxoday only withdraws points within 90 days of sending"
    if "redeem" in lowered:
        return "they have already redeemed some or all of them"
    if "not found" in lowered:
        return "Xoxoday has no record of that transaction"
    return f"Xoxoday said: {text}" if text else "Xoxoday gave no reason"


def _already_cancelled(message: str | None) -> bool:
    return "already cancelled" in (message or "").lower()


def status_refusal(reward: RewardDetails, *, tz: str | None) -> Refusal | None:
    """Why a reward in this status can't be cancelled; None when it can."""
    row = reward.reward
    rid = f"`{reward.short_id}`"
    status = reward.status
    if status == S.CANCELLED:
        by = f" by {mention(row.cancelled_by)}" if row.cancelled_by else ""
        when = f" on {format_date(row.cancelled_at, tz)}" if row.cancelled_at else ""
        return Refusal(f"Reward {rid} was already cancelled{by}{when}. Nothing more to do.")
    if status == S.SENDING:
        return Refusal(
            f"Reward {rid} is being sent to Xoxoday right now. Wait a minute, then cancel it "
            "once it's sent."
        )
    if status == S.IN_DOUBT:
        return Refusal(
            f"Reward {rid} is in doubt: nobody knows yet whether Xoxoday sent the points. "
            "Settle it first with *It was sent* or *It failed* (in the admins' alert or the "
            "App Home); if it was sent, cancel it then."
        )
    if status == S.FAILED:
        return Refusal(
            f"Reward {rid} was never sent (Xoxoday didn't take it), so there are no points to "
            "withdraw."
        )
    if status == S.REJECTED:
        return Refusal(f"Reward {rid} was rejected, so no points were sent. Nothing to cancel.")
    if status == S.EXPIRED:
        return Refusal(
            f"Reward {rid} expired before anyone approved it, so no points were sent. "
            "Nothing to cancel."
        )
    return None


class CancelService:
    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        settings: Settings,
        people: Directory,
        teller: Teller,
        requests_withdrawn: Callable[[RewardDetails], object] = lambda reward: None,
    ) -> None:
        """`requests_withdrawn(reward)`: a reward cancelled while it waited for approval (its
        approval requests show it: `ApprovalService.refresh_copies`)."""
        self._store = store
        self._plum = plum
        self._settings = settings
        self._people = people
        self._teller = teller
        self._requests_withdrawn = requests_withdrawn
        self._locks = tuple(threading.Lock() for _ in range(CANCEL_LOCKS))

    def _lock_for(self, short_id: str) -> threading.Lock:
        """The lock of this reward's id (a fixed set, shared by ids that hash alike)."""
        return self._locks[zlib.crc32(short_id.upper().encode()) % CANCEL_LOCKS]

    def find(self, short_id: str) -> RewardDetails | Refusal:
        with self._store.session() as session:
            reward = reward_repo.get_reward_by_short_id(session, short_id=short_id)
        if reward is None:
            return Refusal(
                f"I can't find a reward `{short_id.upper()[:40]}`. The id is in the reward's "
                "confirmation and in `/reward history` (six letters and digits, like `4F7Q2K`)."
            )
        return reward

    def check(self, *, admin_id: str, short_id: str) -> RewardDetails | Refusal:
        """Before asking the admin to confirm: the reward when it can be cancelled now, else
        why not (the same answers `cancel` gives)."""
        refused = only_admins(self._settings, admin_id, doing="cancel rewards")
        if refused:
            return refused
        reward = self.find(short_id)
        if isinstance(reward, Refusal):
            return reward
        tz = self._tz(admin_id)
        return status_refusal(reward, tz=tz) or self._kept_by_xoxoday(reward, tz=tz) or reward

    def cancel(self, *, admin_id: str, short_id: str, reason: str) -> Cancelled | Refusal:
        """Cancel the reward (withdrawing what was sent); the recipients whose points were
        withdrawn and the giver are told why (`RewardCancelled`)."""
        outcome = self._cancel(admin_id=admin_id, short_id=short_id, reason=reason)
        if isinstance(outcome, Cancelled):
            if outcome.was == S.PENDING_APPROVAL:
                self._requests_withdrawn(outcome.reward)
            self._teller.tell(RewardCancelled(outcome, admin_id=admin_id, reason=reason))
        return outcome

    def _cancel(self, *, admin_id: str, short_id: str, reason: str) -> Cancelled | Refusal:
        refused = only_admins(self._settings, admin_id, doing="cancel rewards")
        if refused:
            return refused
        tz = self._tz(admin_id)
        # One cancel of a reward at a time in this process (a double click sends two): the
        # second reads the reward after the first is done, and hears it is already cancelled,
        # without asking Xoxoday again. Across processes, Xoxoday's own "already cancelled"
        # answer keeps it to one withdrawal, and the ledger's compare-and-set to one record.
        with self._lock_for(short_id):
            reward = self.find(short_id)
            if isinstance(reward, Refusal):
                return reward
            problem = status_refusal(reward, tz=tz) or self._kept_by_xoxoday(reward, tz=tz)
            if problem:
                return problem
            if reward.status == S.SENT and self._settings.storefront:
                return self._take_back(reward, admin_id=admin_id, reason=reason, tz=tz)
            if reward.status == S.SENT:
                return self._withdraw(reward, admin_id=admin_id, reason=reason, tz=tz)
            return self._record(reward, admin_id=admin_id, reason=reason, tz=tz)

    def _kept_by_xoxoday(self, reward: RewardDetails, *, tz: str | None) -> Refusal | None:
        """With points at Xoxoday: why none of a sent reward's points can come back, when the
        ledger already knows (each recipient's points sent more than 90 days ago, or redeemed
        as Xoxoday answered an earlier cancel); None when any might, or it can't tell."""
        if reward.status != S.SENT or self._settings.storefront:
            return None
        sent = [r for r in reward.recipients if r.outcome == RecipientOutcome.SENT]
        if not sent:
            return None
        with self._store.read_session() as session:
            said = reward_repo.cancel_refusals(session, short_id=reward.short_id)
        now = clock.now()
        lines = []
        for line in sent:
            when = line.recipient.sent_at or reward.reward.sent_at
            earlier = said.get(line.recipient.plum_unique_id or "", "")
            if when is not None and past_cancel_window(when, now):
                why = f"{plain_refusal('90 days')} (these were sent on {format_date(when, tz)})"
            elif "redeem" in earlier.lower():
                why = f"{plain_refusal(earlier)} (Xoxoday said so when asked before)"
            else:
                return None
            lines.append(f"• {mention(line.member.slack_user_id)} ({points(line.points)}): {why}.")
        return Refusal(
            f"Reward `{reward.short_id}` can't be cancelled: Xoxoday keeps its points.\n"
            + "\n".join(lines)
            + "\nNothing changed."
        )

    def _tz(self, user_id: str) -> str:
        try:
            return self._people.profile(user_id).person.tz or self._settings.REWARD_TIMEZONE
        except UnknownSlackUser:
            return self._settings.REWARD_TIMEZONE

    def _record(
        self,
        reward: RewardDetails,
        *,
        admin_id: str,
        reason: str,
        tz: str | None,
        results: Sequence[RecipientResult] = (),
        response: dict[str, object] | None = None,
    ) -> Cancelled | Refusal:
        """The ledger's compare-and-set; a lost race is explained from the reward's new state."""
        try:
            with self._store.session() as session:
                done = reward_repo.cancel_reward(
                    session,
                    reward_id=reward.id,
                    actor=admin_id,
                    reason=reason,
                    recipients=results,
                    response=response,
                )
        except AlreadyDecided:
            latest = self.find(reward.short_id)
            if isinstance(latest, Refusal):  # pragma: no cover - rewards are never deleted
                return latest
            return status_refusal(latest, tz=tz) or Refusal(
                f"Reward `{reward.short_id}` changed while I was cancelling it "
                f"(it is now {latest.status.replace('_', ' ')}). Try again."
            )
        log.info(
            "reward %s cancelled by %s (was %s)",
            reward.short_id,
            admin_id,
            reward.status,
            extra={"reward_id": reward.short_id},
        )
        return Cancelled(reward=done, was=reward.status)

    def _take_back(
        self, reward: RewardDetails, *, admin_id: str, reason: str, tz: str | None
    ) -> Cancelled | Refusal:
        """Points in the bot: the cancel and the take-back of what is left unspent are one
        ledger transaction; what a recipient already spent in the store stays spent."""
        try:
            with self._store.session() as session:
                taken = points_repo.take_back_reward(
                    session, reward_id=reward.id, short_id=reward.short_id, actor=admin_id
                )
                done = reward_repo.cancel_reward(
                    session, reward_id=reward.id, actor=admin_id, reason=reason
                )
        except AlreadyDecided:
            return self._record(reward, admin_id=admin_id, reason=reason, tz=tz)
        by_member = {t.member_id: t for t in taken}
        withdrawn: list[RecipientDetails] = []
        kept: list[tuple[RecipientDetails, str]] = []
        taken_points: dict[str, int | Decimal] = {}
        kept_points: dict[str, int | Decimal] = {}
        for line in done.recipients:
            lot = by_member.get(line.recipient.member_id)
            if lot is None:
                continue
            uid = line.member.slack_user_id
            if lot.remaining > 0:
                withdrawn.append(line)
                taken_points[uid] = points_value(lot.remaining)
            if lot.spent > 0:
                kept.append((line, "already spent in Xoxoday's store"))
                kept_points[uid] = points_value(lot.spent)
        log.info(
            "reward %s cancelled by %s; unspent points taken back",
            reward.short_id,
            admin_id,
            extra={"reward_id": reward.short_id},
        )
        return Cancelled(
            reward=done,
            was=S.SENT,
            withdrawn=tuple(withdrawn),
            kept=tuple(kept),
            in_ledger=True,
            taken_points=taken_points,
            kept_points=kept_points,
        )

    def _withdraw(
        self, reward: RewardDetails, *, admin_id: str, reason: str, tz: str | None
    ) -> Cancelled | Refusal:
        sent = [r for r in reward.recipients if r.outcome == RecipientOutcome.SENT]
        missing = [r for r in sent if not (r.recipient.plum_unique_id or "").isdigit()]
        if missing or not sent:
            message = "the transaction ids of these points are unknown"
            self._refused(reward, admin_id=admin_id, reason=reason, message=message)
            emails = ", ".join(r.member.email or mention(r.member.slack_user_id) for r in missing)
            return Refusal(
                f"Xoxoday didn't tell me the transaction ids when reward `{reward.short_id}` "
                "was sent, so I can't withdraw its points from here. Cancel them in the "
                f"Xoxoday dashboard (points sent to {emails or 'its recipients'}). Nothing "
                "changed here; the attempt is in the audit trail."
            )
        by_id = {int(r.recipient.plum_unique_id or 0): r for r in sent}
        try:
            answer = self._plum.cancel_balance(unique_ids=list(by_id))
        except PlumOutcomeUnknownError:
            return Refusal(
                "Xoxoday's answer was lost, so I don't know whether it withdrew the points of "
                f"reward `{reward.short_id}`. Run the same command again in a minute: it's safe "
                "(points already withdrawn are recognised)."
            )
        except (PlumValidationError, NotFoundError, RequestRejectedError) as err:
            said = err.detail or err.message
            self._refused(reward, admin_id=admin_id, reason=reason, message=said)
            return Refusal(
                f"Xoxoday refused to withdraw the points of reward `{reward.short_id}` "
                f"({said}). Nothing changed; the refusal is in the audit trail."
            )
        except PlumAPIError as err:  # credentials, rate limit, server trouble: not a "no"
            log.warning("cancelBalance failed: %s", err)
            return Refusal(
                f"Xoxoday couldn't take the request just now: {err.message} Nothing was "
                "withdrawn; try again in a minute."
            )
        except PlumError as err:
            log.warning("cancelBalance failed: %s", type(err).__name__)
            return plum_unreachable("Nothing was withdrawn.")
        outcomes = {row.unique_id: row for row in answer.recipients}
        withdrawn: list[RecipientDetails] = []
        kept: list[tuple[RecipientDetails, str]] = []
        for unique_id, line in by_id.items():
            row = outcomes.get(unique_id)
            if row is not None and (row.success or _already_cancelled(row.message)):
                withdrawn.append(line)
            else:
                kept.append((line, row.message if row and row.message else "no answer"))
        response: dict[str, object] = {
            "message": answer.message,
            "recipients": [
                {"unique_id": r.unique_id, "success": r.success, "message": r.message}
                for r in answer.recipients
            ],
        }
        if not withdrawn:
            self._refused(
                reward,
                admin_id=admin_id,
                reason=reason,
                message="; ".join(m for _, m in kept),
                response=response,
            )
            return Refusal(self._refusal_text(reward, kept, tz=tz))
        results = [
            RecipientResult(member=r.member, outcome=RecipientOutcome.CANCELLED) for r in withdrawn
        ] + [
            RecipientResult(member=r.member, outcome=RecipientOutcome.SENT, message=m)
            for r, m in kept
        ]
        outcome = self._record(
            reward,
            admin_id=admin_id,
            reason=reason,
            tz=tz,
            results=results,
            response=response,
        )
        if isinstance(outcome, Refusal):
            return outcome
        return Cancelled(
            reward=outcome.reward,
            was=S.SENT,
            withdrawn=tuple(withdrawn),
            kept=tuple((r, plain_refusal(m)) for r, m in kept),
        )

    def _refused(
        self,
        reward: RewardDetails,
        *,
        admin_id: str,
        reason: str,
        message: str,
        response: dict[str, object] | None = None,
    ) -> None:
        with self._store.session() as session:
            reward_repo.record_cancel_refused(
                session,
                reward_id=reward.id,
                actor=admin_id,
                reason=reason,
                message=message,
                response=response,
            )
        log.info(
            "cancel of reward %s refused by Xoxoday: %s",
            reward.short_id,
            message,
            extra={"reward_id": reward.short_id},
        )

    @staticmethod
    def _refusal_text(
        reward: RewardDetails, kept: Sequence[tuple[RecipientDetails, str]], *, tz: str | None
    ) -> str:
        sent_on = reward.reward.sent_at
        lines = []
        for line, message in kept:
            why = plain_refusal(message)
            if "90 days" in why and sent_on is not None:
                why += f" (these were sent on {format_date(sent_on, tz)})"
            lines.append(f"• {mention(line.member.slack_user_id)} ({points(line.points)}): {why}.")
        return (
            f"Xoxoday refused to withdraw the points of reward `{reward.short_id}`, so nothing "
            "changed:\n" + "\n".join(lines) + "\nThe refusal is recorded in the audit trail."
        )
