"""Slack messages posted about a reward, so later changes can update every copy.

E.g. each approver's copy of an approval request (`kind="approval_request"`): when the first
decision lands, the bot edits all of them to show who decided and remove the buttons.
"""

from __future__ import annotations

from sqlmodel import Session, select

from storage._sql import insert_for, member_id
from storage.models import Member, RewardMessage
from storage.types import utcnow


def record_reward_message(
    session: Session,
    *,
    reward_id: int,
    kind: str,
    channel_id: str,
    message_ts: str,
    member: Member | int | None = None,
) -> RewardMessage:
    """Remember a posted message (recording the same channel+ts twice keeps the first)."""
    stmt = (
        insert_for(session, RewardMessage)
        .values(
            reward_id=reward_id,
            kind=kind,
            channel_id=channel_id,
            message_ts=message_ts,
            member_id=None if member is None else member_id(member),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )
    session.exec(stmt)
    found = session.exec(
        select(RewardMessage)
        .where(RewardMessage.channel_id == channel_id)
        .where(RewardMessage.message_ts == message_ts)
    ).one()
    return found


def list_reward_messages(
    session: Session, *, reward_id: int, kind: str | None = None
) -> list[RewardMessage]:
    query = select(RewardMessage).where(RewardMessage.reward_id == reward_id)
    if kind is not None:
        query = query.where(RewardMessage.kind == kind)
    return list(session.exec(query.order_by(RewardMessage.id)).all())  # type: ignore[arg-type]
