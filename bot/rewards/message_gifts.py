"""Giving in a message (REWARD_MESSAGE_GIVING): `@maria ++ 20 for the release` in a channel the
bot is in gives as `/reward @maria 20 for the release` does, through the one give path (every
rule), once per message however often Slack delivers it.

The grammar is the slash command's with `++` after the mentions (`bot.rewards.parse`); a message
that merely mentions people and a number never gives. The reward is held REWARD_UNDO_SECONDS
like a reaction's: deleting the message meanwhile cancels it with no trace. Its announcement is
the group of the message (`storage.reactions`), in the message's thread by default
(REWARD_ANNOUNCE). When the words don't make a reward, or a rule refuses, only the author hears
why, privately, in the thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.rewards.directory import Directory, UnknownSlackUser
from bot.rewards.events import MessageGiftRefused, Teller
from bot.rewards.parse import looks_like_a_gift, parse_message_gift
from bot.rewards.reactions import Undone
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given, GiveRequest, RewardService
from bot.settings import Settings
from storage import audit, clock
from storage import reactions as marks
from storage import rewards as reward_repo
from storage.db import Store
from storage.rewards import RewardDetails
from storage.states import RewardSource, RewardStatus

log = logging.getLogger(__name__)

DELETED_WHY = "the message that gave it was deleted within the undo window"


def worth_a_look(event: dict[str, object]) -> bool:
    """Whether a Slack `message` event may give or take back: a person's new message that
    asks to give (`@maria ++ 20 for …`), or a deleted message. Every other message (most of
    them) is acknowledged and forgotten: not journaled, no work after the ack."""
    subtype = event.get("subtype")
    if subtype == "message_deleted":
        return True
    text = event.get("text")
    return (
        subtype is None
        and not event.get("bot_id")
        and isinstance(text, str)
        and looks_like_a_gift(text)
    )


@dataclass(frozen=True, slots=True)
class GiftMessage:
    team_id: str
    channel_id: str
    ts: str  # the message's own ts (orders it before its deletion)
    author_id: str
    text: str

    @property
    def key(self) -> str:
        return f"message:{self.channel_id}:{self.ts}"


class MessageGiving:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        settings: Settings,
        rewards: RewardService,
        teller: Teller,
        requests_withdrawn: Callable[[RewardDetails], object] = lambda reward: None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._rewards = rewards
        self._teller = teller
        self._requests_withdrawn = requests_withdrawn
        self._now = now

    def posted(self, message: GiftMessage) -> Given | Refusal | None:
        """A message posted: the reward it gives (held for the window), the refusal its author
        hears, or None when it isn't a gift (or it gave before, or was deleted since)."""
        if not self._settings.REWARD_MESSAGE_GIVING:
            return None
        parsed = parse_message_gift(message.text)
        if parsed is None or not self._of_the_team(message):
            return None
        if isinstance(parsed, Refusal):
            self._refused(message, parsed)
            return parsed
        key = message.key
        with self._store.session() as session:
            audit.lock_chain(session)
            mark = marks.record(session, key=key, state=marks.ADDED, event_ts=message.ts)
        if mark is None:
            return None  # deleted since (its deletion was handled first)
        undo = self._settings.REWARD_UNDO_SECONDS
        request = GiveRequest(
            giver_id=message.author_id,
            team_id=message.team_id,
            recipient_ids=parsed.recipients,
            amount=parsed.amount,
            citation=parsed.citation,
            values=parsed.values_for(self._settings.REWARD_VALUES),
            channel_id=message.channel_id,
            source=RewardSource.MESSAGE,
            idempotency_key=f"{key}#{mark.generation}",
            hold=timedelta(seconds=undo) if undo else None,
        )
        group = marks.Group(message.channel_id, message.ts)

        def still_posted(session: Session) -> bool:
            return marks.latest(session, key=key) == mark

        def grouped(session: Session, reward: RewardDetails) -> None:
            marks.join_group(session, reward_id=reward.id, group=group)

        outcome = self._rewards.give_if(request, still_wanted=still_posted, on_created=grouped)
        if isinstance(outcome, Refusal):
            self._refused(message, outcome)
        elif isinstance(outcome, Given) and not outcome.created:
            return None  # Slack's repeat
        return outcome

    def _of_the_team(self, message: GiftMessage) -> bool:
        """The author is of the workspace the event came from (not a guest from another
        company in a shared channel)."""
        try:
            return self._people.profile(message.author_id).team_id in ("", message.team_id)
        except UnknownSlackUser:
            return False

    def deleted(self, *, channel_id: str, ts: str, event_ts: str) -> Undone | None:
        """The message was deleted: inside the window its reward is cancelled (nothing said);
        after it, the reward stands (an admin can cancel it)."""
        key = f"message:{channel_id}:{ts}"
        with self._store.session() as session:
            audit.lock_chain(session)
            mark = marks.record(session, key=key, state=marks.REMOVED, event_ts=event_ts)
            if mark is None:
                return None
            reward = reward_repo.get_reward_by_idempotency_key(
                session, idempotency_key=f"{key}#{mark.generation}"
            )
            if reward is None or not self._undoable(reward):
                return None
            was = reward.status
            reward = reward_repo.cancel_reward(
                session, reward_id=reward.id, actor=reward.giver.slack_user_id, reason=DELETED_WHY
            )
        log.info("reward %s undone: its message was deleted", reward.short_id)
        if was == RewardStatus.PENDING_APPROVAL:
            self._requests_withdrawn(reward)
        return Undone(reward)

    def _undoable(self, reward: RewardDetails) -> bool:
        if reward.status == RewardStatus.PENDING_APPROVAL:
            return True
        held = reward.reward.held_until
        return reward.status == RewardStatus.QUEUED and held is not None and held > self._now()

    def _refused(self, message: GiftMessage, refusal: Refusal) -> None:
        self._teller.tell(
            MessageGiftRefused(
                user_id=message.author_id,
                channel_id=message.channel_id,
                thread_ts=message.ts,
                text=refusal.text,
            )
        )
