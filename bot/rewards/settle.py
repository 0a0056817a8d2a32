"""Settling a reward in doubt: an admin answers "It was sent" or "It failed" after checking with
Xoxoday (audited by the ledger).

The first admin's answer wins (`storage.rewards.settle_in_doubt` is a compare-and-set); a second
click, or another admin, gets a `Refusal` saying who settled it and when, with the reward as it
now is. A settlement is told (`RewardSettled`): every admin's alert shows it, and the people
concerned hear it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.rewards.admin import only_admins
from bot.rewards.approvals import unknown_reward_text
from bot.rewards.cards import SETTLED_BY_RECORDS, MessageRef, Settlement
from bot.rewards.directory import Directory
from bot.rewards.events import RewardSettled, Teller
from bot.rewards.kinds import MessageKind
from bot.rewards.refusal import Refusal
from bot.rewards.wording import format_datetime, mention, short_id, status_label
from bot.settings import Settings
from storage import messages as message_repo
from storage import once
from storage import rewards as reward_repo
from storage.db import Store
from storage.errors import AlreadyDecided
from storage.rewards import TOLD_KIND, RewardDetails, told_key
from storage.states import RewardStatus

log = logging.getLogger(__name__)

ALERT_KIND = MessageKind.IN_DOUBT_ALERT
OUTCOMES = (RewardStatus.SENT, RewardStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Settled:
    """This admin's answer was recorded: the reward is now `sent` or `failed`."""

    reward: RewardDetails
    settlement: Settlement | None


def settlement_of(reward: RewardDetails) -> Settlement | None:
    """How an admin settled `reward` (None: it was not settled, or has moved on since, e.g.
    sent and then cancelled: its alerts keep the settlement they last showed)."""
    row = reward.reward
    if not row.settled_by or row.settled_at is None:
        return None
    if reward.status not in OUTCOMES:
        return None
    return Settlement(
        outcome="sent" if reward.status == RewardStatus.SENT else "failed",
        settled_by=row.settled_by,
        settled_at=row.settled_at,
    )


class SettleService:
    def __init__(
        self, *, store: Store, people: Directory, settings: Settings, teller: Teller
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._teller = teller

    def settle(self, *, admin_id: str, short: str, outcome: RewardStatus) -> Settled | Refusal:
        if outcome not in OUTCOMES:
            raise ValueError(f"a reward in doubt is settled as sent or failed, not {outcome}")
        refused = only_admins(self._settings, admin_id, doing="settle rewards in doubt")
        if refused is not None:
            return Refusal(f"{refused.text} Nothing was changed.")
        with self._store.read_session() as session:
            reward = reward_repo.get_reward_by_short_id(session, short_id=short)
        if reward is None:
            return Refusal(unknown_reward_text(short))
        try:
            with self._store.session() as session:
                done = reward_repo.settle_in_doubt(
                    session,
                    reward_id=reward.id,
                    outcome=outcome,
                    actor=admin_id,
                    reason=f"an admin marked it as {outcome.value} in Slack",
                )
        except AlreadyDecided:
            with self._store.read_session() as session:
                latest = reward_repo.get_reward_by_short_id(session, short_id=short) or reward
            return Refusal(self._already_settled(latest, admin_id), reward=latest)
        log.info(
            "reward %s settled as %s by %s",
            done.short_id,
            outcome.value,
            admin_id,
            extra={"reward_id": done.short_id},
        )
        settled = Settled(reward=done, settlement=settlement_of(done))
        if settled.settlement is not None:
            self._teller.tell(RewardSettled(done, settled.settlement))
            with self._store.session() as session:  # told: the delivery worker's retelling
                once.claim_once(session, kind=TOLD_KIND, key=told_key(done))  # leaves it be
        return settled

    def alerts(self, reward: RewardDetails) -> set[MessageRef]:
        """The admin alerts recorded for this reward in doubt."""
        with self._store.read_session() as session:
            found = message_repo.list_reward_messages(session, reward_id=reward.id, kind=ALERT_KIND)
        return {MessageRef(channel_id=a.channel_id, ts=a.message_ts) for a in found}

    def _already_settled(self, reward: RewardDetails, user_id: str) -> str:
        row = reward.reward
        ref = short_id(reward.short_id)
        if row.settled_by and row.settled_at is not None:
            tz = self._people.profile(user_id).person.tz or self._settings.REWARD_TIMEZONE
            when = format_datetime(row.settled_at, tz)
            how = "sent" if reward.status == RewardStatus.SENT else "failed"
            if row.settled_by == SETTLED_BY_RECORDS:
                return (
                    f"Already settled on {when}: Xoxoday's payment report shows it was {how}. "
                    "Nothing was changed."
                )
            if row.settled_by == user_id:
                return f"You already marked reward {ref} as {how} on {when}. Nothing was changed."
            return (
                f"Already settled by {mention(row.settled_by)} on {when}: marked as {how}. "
                "Nothing was changed."
            )
        return (
            f"Reward {ref} isn't in doubt: it's {status_label(reward.status)}. "
            "There's nothing to settle, and nothing was changed."
        )
