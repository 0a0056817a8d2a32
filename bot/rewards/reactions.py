"""Giving with an emoji reaction (REWARD_REACTIONS), and taking it back inside the undo window.

Reacting to a person's message with a reward emoji gives its author that many points, through
the one give path (`RewardService`: every rule, the allowance, approval), with the reason "for
<a link to the message>". The reward waits REWARD_UNDO_SECONDS (`held_until`) before the
delivery worker may send it; removing the reaction meanwhile cancels it with no trace in the
channel, and adding it back gives again (one reward, not two). After the window, removing it
changes nothing: the giver hears once, privately, that it was sent (an admin can cancel it).

A reaction counts once per person, message and emoji, however often Slack delivers its events
and in whatever order they are handled: the ledger keeps the latest event about each reaction
(`storage.reactions`, ordered by Slack's `event_ts`), read and written under the same lock as
the reward it gives. Reactions on a message that isn't a person's (a bot's, a system message,
a file) and emoji that give nothing do nothing and say nothing. The bot never reads the message.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.rewards.directory import Directory, UnknownSlackUser
from bot.rewards.events import ReactionRefused, ReactionTooLate, Teller
from bot.rewards.kinds import OnceKind
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given, GiveRequest, RewardService
from bot.settings import Settings
from storage import audit, clock, once
from storage import reactions as marks
from storage import reports as report_repo
from storage import rewards as reward_repo
from storage.db import Store
from storage.rewards import RewardDetails
from storage.states import RewardSource, RewardStatus

log = logging.getLogger(__name__)

UNDONE_WHY = "the reaction was removed within the undo window"
_KEY_MAX = 240  # room for the generation after it, within the ledger's 255


def emoji_name(reaction: str) -> str:
    """The emoji Slack reports, without a skin tone (`thumbsup::skin-tone-2` → `thumbsup`)
    or colons, lowercased."""
    return reaction.split("::", 1)[0].strip().strip(":").lower()


def worth(table: dict[str, int], reaction: str) -> int | None:
    """What reacting with `reaction` gives (REWARD_REACTIONS), or None: it gives nothing."""
    name = emoji_name(reaction)
    return table.get(name) if name else None


@dataclass(frozen=True, slots=True)
class Reaction:
    """One reaction_added / reaction_removed event, as the domain needs it."""

    team_id: str
    channel_id: str
    message_ts: str
    reactor_id: str
    author_id: str | None  # the message's author (Slack's `item_user`); None: not a person's
    emoji: str  # as Slack sent it (a skin tone included)
    event_ts: str  # Slack's: orders the events about one reaction

    @property
    def key(self) -> str:
        key = (
            f"reaction:{self.channel_id}:{self.message_ts}:{self.reactor_id}:"
            f"{emoji_name(self.emoji)}"
        )
        if len(key) > _KEY_MAX:
            key = f"{key[:160]}#{hashlib.sha256(key.encode()).hexdigest()[:64]}"
        return key


@dataclass(frozen=True, slots=True)
class Undone:
    """Removed inside the window: the reward is cancelled, nobody was told of it."""

    reward: RewardDetails


ReactionGiven = Given | Refusal | None
ReactionRemoved = Undone | ReactionTooLate | None


class ReactionService:
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

    def gives(self, reaction: str) -> bool:
        """Whether this emoji gives anything (before the bot looks further)."""
        return worth(self._settings.REWARD_REACTIONS, reaction) is not None

    def _of_the_team(self, user_id: str, team_id: str) -> bool:
        try:
            return self._people.profile(user_id).team_id in ("", team_id)
        except UnknownSlackUser:
            return False

    def _between_people(self, reaction: Reaction) -> bool:
        """The message's author is a person (not a bot, Slackbot or a system message), and
        they and whoever reacted are of the workspace the event came from (not another
        team's, as in a channel shared with another company)."""
        author = reaction.author_id
        if not author or author == "USLACKBOT":
            return False
        try:
            profiles = [self._people.profile(uid) for uid in (author, reaction.reactor_id)]
        except UnknownSlackUser:  # (Slack not answering is raised: the event is tried again)
            return False
        if profiles[0].person.is_bot:
            return False
        return all(p.team_id in ("", reaction.team_id) for p in profiles)

    def added(self, reaction: Reaction, *, link: Callable[[], str | None]) -> ReactionGiven:
        """Give for a reaction added: the reward (held for the window), a refusal (the giver
        hears it privately), or None when the reaction gives nothing (the wrong emoji, not a
        person's message, a later event already said it was removed, or it gave before).
        On the bot's own announcement of a reward, the reactor joins it (`_pile_on`)."""
        points = worth(self._settings.REWARD_REACTIONS, reaction.emoji)
        if points is None:
            return None
        with self._store.read_session() as session:
            announced = report_repo.announced_reward(
                session, channel_id=reaction.channel_id, message_ts=reaction.message_ts
            )
            group = (
                marks.group_of(session, reward_id=announced.id) if announced is not None else None
            )
        if announced is not None:
            return self._pile_on(reaction, announced, group)
        if not self._between_people(reaction):
            return None
        assert reaction.author_id is not None
        where = link() if self._mark_added(reaction) is not None else None
        return self._give(
            reaction,
            recipients=(reaction.author_id,),
            amount=points,
            citation=f"for {where or f'a message in <#{reaction.channel_id}>'}",
            values=(),  # a #value would need the message's text, which the bot never reads
            channel_id=reaction.channel_id,
            group=marks.Group(reaction.channel_id, reaction.message_ts),
            joins=None,
        )

    def _pile_on(
        self, reaction: Reaction, joined: RewardDetails, group: marks.Group | None
    ) -> ReactionGiven:
        """A reward emoji on the bot's announcement of `joined`: the reactor gives its
        recipients the same amount each, with its reason and values, as a new reward of their
        own (their allowance, every rule), shown on that announcement. Nothing (and nothing
        said) for the giver, a recipient thanking people, or a reward that was cancelled."""
        recipients = tuple(
            r.member.slack_user_id
            for r in joined.recipients
            if r.member.slack_user_id != reaction.reactor_id
        )
        amounts = {r.points for r in joined.recipients}
        if (
            joined.status != RewardStatus.SENT
            or joined.giver.slack_user_id == reaction.reactor_id
            or not recipients
            or len(amounts) != 1
            or not self._of_the_team(reaction.reactor_id, reaction.team_id)
            or self._mark_added(reaction) is None
        ):
            return None
        return self._give(
            reaction,
            recipients=recipients,
            amount=amounts.pop(),
            citation=joined.reward.citation,
            values=tuple(joined.values),
            channel_id=joined.reward.channel_id,
            group=group or marks.Group(reaction.channel_id, reaction.message_ts),
            joins=joined.id,
        )

    def _mark_added(self, reaction: Reaction) -> marks.Mark | None:
        """Record the reaction added; None when a later event said it was removed."""
        with self._store.session() as session:
            audit.lock_chain(session)
            return marks.record(
                session, key=reaction.key, state=marks.ADDED, event_ts=reaction.event_ts
            )

    def _give(
        self,
        reaction: Reaction,
        *,
        recipients: tuple[str, ...],
        amount: int,
        citation: str,
        values: tuple[str, ...],
        channel_id: str | None,
        group: marks.Group,
        joins: int | None,
    ) -> ReactionGiven:
        key = reaction.key
        with self._store.read_session() as session:
            mark = marks.latest(session, key=key)
        if mark is None or mark.state != marks.ADDED:
            return None  # removed since (a later event was handled first)
        undo = self._settings.REWARD_UNDO_SECONDS
        request = GiveRequest(
            giver_id=reaction.reactor_id,
            team_id=reaction.team_id,
            recipient_ids=recipients,
            amount=amount,
            citation=citation,
            values=values,
            channel_id=channel_id,
            source=RewardSource.REACTION,
            idempotency_key=f"{key}#{mark.generation}",
            hold=timedelta(seconds=undo) if undo else None,
        )

        def still_added(session: Session) -> bool:
            return marks.latest(session, key=key) == mark

        def grouped(session: Session, reward: RewardDetails) -> None:
            marks.join_group(session, reward_id=reward.id, group=group, joins_id=joins)

        outcome = self._rewards.give_if(request, still_wanted=still_added, on_created=grouped)
        if isinstance(outcome, Refusal):
            self._teller.tell(
                ReactionRefused(
                    user_id=reaction.reactor_id, channel_id=reaction.channel_id, text=outcome.text
                )
            )
        elif isinstance(outcome, Given) and not outcome.created:
            return None  # Slack's repeat of a reaction that gave before
        return outcome

    def removed(self, reaction: Reaction) -> ReactionRemoved:
        """A reaction removed: inside the window its reward is cancelled (`Undone`, nothing
        said); after it, the giver is told once that it was sent (`ReactionTooLate`)."""
        if not self.gives(reaction.emoji):
            return None
        key = reaction.key
        was: RewardStatus | None = None
        with self._store.session() as session:
            audit.lock_chain(session)  # the same lock the give and the delivery worker take
            mark = marks.record(session, key=key, state=marks.REMOVED, event_ts=reaction.event_ts)
            if mark is None:
                return None  # added again since
            reward = reward_repo.get_reward_by_idempotency_key(
                session, idempotency_key=f"{key}#{mark.generation}"
            )
            if reward is None or reward.giver.slack_user_id != reaction.reactor_id:
                return None  # it gave nothing (refused, or not handled yet: it won't give now)
            if self._undoable(reward):
                was = reward.status
                reward = reward_repo.cancel_reward(
                    session, reward_id=reward.id, actor=reaction.reactor_id, reason=UNDONE_WHY
                )
                marks.next_generation(session, key=key)
            elif reward.status in _GONE or not once.claim_once(
                session, kind=OnceKind.REACTION_TOO_LATE, key=reward.short_id
            ):
                return None
        if was is not None:
            log.info("reward %s undone: its reaction was removed", reward.short_id)
            if was == RewardStatus.PENDING_APPROVAL:
                self._requests_withdrawn(reward)  # the approvers' requests show it
            return Undone(reward)
        late = ReactionTooLate(reward)
        self._teller.tell(late)
        return late

    def _undoable(self, reward: RewardDetails) -> bool:
        """Nothing has left yet: waiting for an approver, or queued inside its window."""
        if reward.status == RewardStatus.PENDING_APPROVAL:
            return True
        held = reward.reward.held_until
        return reward.status == RewardStatus.QUEUED and held is not None and held > self._now()


# Ended without points: un-reacting says nothing about them.
_GONE = frozenset(
    {RewardStatus.CANCELLED, RewardStatus.REJECTED, RewardStatus.EXPIRED, RewardStatus.FAILED}
)
