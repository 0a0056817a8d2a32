"""Read models of rewards (a reward with its giver, recipients and values) and lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from storage.errors import RewardNotFound
from storage.models import Member, Reward, RewardRecipient, RewardValue
from storage.states import RecipientOutcome, RewardStatus

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class RecipientDetails:
    recipient: RewardRecipient
    member: Member

    @property
    def points(self) -> int:
        return self.recipient.points

    @property
    def outcome(self) -> RecipientOutcome:
        return RecipientOutcome(self.recipient.outcome)


@dataclass(frozen=True, slots=True)
class RewardDetails:
    """A reward with its giver, recipients (with their members) and values."""

    reward: Reward
    giver: Member
    recipients: tuple[RecipientDetails, ...]
    values: tuple[str, ...]

    @property
    def id(self) -> int:
        assert self.reward.id is not None
        return self.reward.id

    @property
    def short_id(self) -> str:
        return self.reward.short_id

    @property
    def status(self) -> RewardStatus:
        return RewardStatus(self.reward.status)

    @property
    def total_points(self) -> int:
        return self.reward.total_points


@dataclass(frozen=True, slots=True)
class CreatedReward:
    reward: RewardDetails
    created: bool  # False: the idempotency key was seen before; this is the earlier reward


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """What Plum answered for one recipient."""

    member: Member | int
    outcome: RecipientOutcome | str | None = None  # None: same as the reward's outcome
    unique_id: str | None = None
    message: str | None = None


def load_details(session: Session, rewards: Sequence[Reward]) -> list[RewardDetails]:
    """Details for many rewards in a few queries, in the order given."""
    if not rewards:
        return []
    ids = [r.id for r in rewards]
    recipients: dict[int, list[RecipientDetails]] = {i: [] for i in ids}  # type: ignore[misc]
    values: dict[int, list[str]] = {i: [] for i in ids}  # type: ignore[misc]
    members: dict[int, Member] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = session.exec(
            select(RewardRecipient, Member)
            .join(Member, Member.id == RewardRecipient.member_id)  # type: ignore[arg-type]
            .where(RewardRecipient.reward_id.in_(chunk))  # type: ignore[attr-defined]
            .order_by(RewardRecipient.id)  # type: ignore[arg-type]
        ).all()
        for recipient, member in rows:
            recipients[recipient.reward_id].append(RecipientDetails(recipient, member))
        for value in session.exec(
            select(RewardValue)
            .where(RewardValue.reward_id.in_(chunk))  # type: ignore[attr-defined]
            .order_by(RewardValue.value)
        ).all():
            values[value.reward_id].append(value.value)
    giver_ids = sorted({r.giver_id for r in rewards})
    for start in range(0, len(giver_ids), _CHUNK):
        for member in session.exec(
            select(Member).where(Member.id.in_(giver_ids[start : start + _CHUNK]))  # type: ignore[union-attr]
        ).all():
            members[member.id] = member  # type: ignore[index]
    return [
        RewardDetails(
            reward=r,
            giver=members[r.giver_id],
            recipients=tuple(recipients[r.id]),  # type: ignore[index]
            values=tuple(values[r.id]),  # type: ignore[index]
        )
        for r in rewards
    ]


def details_by_id(session: Session, reward_id: int) -> RewardDetails:
    reward = session.get(Reward, reward_id, populate_existing=True)
    if reward is None:
        raise RewardNotFound(reward_id)
    return load_details(session, [reward])[0]


def get_reward(session: Session, *, reward_id: int) -> RewardDetails | None:
    reward = session.get(Reward, reward_id, populate_existing=True)
    return None if reward is None else load_details(session, [reward])[0]


def normalize_short_id(short_id: str) -> str:
    return short_id.strip().lstrip("#").upper()


def get_reward_by_short_id(session: Session, *, short_id: str) -> RewardDetails | None:
    reward = session.exec(
        select(Reward)
        .where(Reward.short_id == normalize_short_id(short_id))
        .execution_options(populate_existing=True)
    ).first()
    return None if reward is None else load_details(session, [reward])[0]


def get_reward_by_idempotency_key(
    session: Session, *, idempotency_key: str
) -> RewardDetails | None:
    reward = session.exec(
        select(Reward)
        .where(Reward.idempotency_key == idempotency_key)
        .execution_options(populate_existing=True)
    ).first()
    return None if reward is None else load_details(session, [reward])[0]
