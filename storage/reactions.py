"""What the ledger knows of reactions that give (`bot.rewards.reactions`): for each reaction
(a person's emoji on one message), the latest event Slack sent about it and the generation of
the reward it gives.

Slack's events may be handled out of order (retries, several threads): an event older (by its
`event_ts`) than the one recorded changes nothing, so a reaction removed and added back ends as
added whatever order the three events are handled in. Call these inside the transaction that
gives or cancels (after `audit.lock_chain`), so that the mark and the reward agree.

Groups: the rewards one announcement shows. Rewards given with reactions on one message are
one group (keyed by that message), and so are the rewards joining a reward from its
announcement (a pile-on, keyed by the announcement). The first of a group to be delivered is
announced; the others are shown on that announcement, updated in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, col, select

from storage._sql import insert_for
from storage.models import ReactionMark, RewardGroup, RewardMessage
from storage.reward_views import RewardDetails, details_by_id
from storage.types import utcnow

ANNOUNCEMENT = "announcement"  # MessageKind.ANNOUNCEMENT, as stored (storage imports no bot)

ADDED = "added"
REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Mark:
    key: str
    state: str
    event_ts: str
    generation: int


def _order(ts: str) -> Decimal:
    try:
        return Decimal(ts)
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _mark(row: ReactionMark) -> Mark:
    return Mark(key=row.key, state=row.state, event_ts=row.event_ts, generation=row.generation)


def latest(session: Session, *, key: str) -> Mark | None:
    row = session.get(ReactionMark, key, populate_existing=True)
    return None if row is None else _mark(row)


def record(session: Session, *, key: str, state: str, event_ts: str) -> Mark | None:
    """Record that Slack says the reaction was `state` (added, removed) at `event_ts`: the mark
    now, or None when a later event was recorded before (this one changes nothing)."""
    if state not in (ADDED, REMOVED):
        raise ValueError(f"a reaction is added or removed, not {state!r}")
    if not key or len(key) > 255 or len(event_ts) > 32:
        raise ValueError("a reaction key is 1 to 255 characters, its event_ts at most 32")
    row = session.get(ReactionMark, key, populate_existing=True)
    if row is None:
        row = ReactionMark(key=key, state=state, event_ts=event_ts, updated_at=utcnow())
        session.add(row)
    elif _order(event_ts) < _order(row.event_ts):
        return None
    else:
        row.state, row.event_ts, row.updated_at = state, event_ts, utcnow()
    session.flush()
    return _mark(row)


def next_generation(session: Session, *, key: str) -> None:
    """The reaction's reward was undone: adding the reaction again gives a new one."""
    row = session.get(ReactionMark, key, populate_existing=True)
    if row is None:
        raise ValueError(f"no reaction {key!r}")
    row.generation += 1
    row.updated_at = utcnow()
    session.flush()


@dataclass(frozen=True, slots=True)
class Group:
    channel_id: str
    group_ts: str


def join_group(
    session: Session, *, reward_id: int, group: Group, joins_id: int | None = None
) -> None:
    """Put a new reward in a group (once: a second call keeps the first)."""
    session.exec(
        insert_for(session, RewardGroup)
        .values(
            reward_id=reward_id,
            channel_id=group.channel_id,
            group_ts=group.group_ts,
            joins_id=joins_id,
        )
        .on_conflict_do_nothing()
    )


def group_of(session: Session, *, reward_id: int) -> Group | None:
    row = session.get(RewardGroup, reward_id)
    return None if row is None else Group(row.channel_id, row.group_ts)


def group_rewards(session: Session, group: Group) -> list[RewardDetails]:
    """The group's rewards, oldest first."""
    ids = session.exec(
        select(RewardGroup.reward_id)
        .where(RewardGroup.channel_id == group.channel_id)
        .where(RewardGroup.group_ts == group.group_ts)
        .order_by(col(RewardGroup.reward_id))
    ).all()
    return [details_by_id(session, reward_id) for reward_id in ids]


def group_announcement(session: Session, group: Group) -> RewardMessage | None:
    """The message announcing the group: the announcement it is keyed by (a pile-on's), or
    the one posted for its first reward delivered."""
    own = session.exec(
        select(RewardMessage)
        .where(RewardMessage.channel_id == group.channel_id)
        .where(RewardMessage.message_ts == group.group_ts)
        .where(RewardMessage.kind == ANNOUNCEMENT)
    ).first()
    if own is not None:
        return own
    members = (
        select(RewardGroup.reward_id)
        .where(RewardGroup.channel_id == group.channel_id)
        .where(RewardGroup.group_ts == group.group_ts)
    )
    return session.exec(
        select(RewardMessage)
        .where(col(RewardMessage.reward_id).in_(members))
        .where(RewardMessage.kind == ANNOUNCEMENT)
        .order_by(col(RewardMessage.id))
    ).first()
