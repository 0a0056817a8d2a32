"""Approval decisions on rewards over the threshold. The first decision wins (compare-and-set)."""

from __future__ import annotations

from sqlmodel import Session, select

from storage import audit
from storage._sql import member_id
from storage.audit import AuditAction
from storage.errors import NotPermitted, RewardNotFound
from storage.members import require_member
from storage.models import Approval, Member, Reward, RewardRecipient
from storage.reward_views import RewardDetails, details_by_id, load_details
from storage.states import Decision, RecipientOutcome, RewardStatus
from storage.transitions import set_recipient_outcomes, transition

S = RewardStatus


def decide_approval(
    session: Session,
    *,
    reward_id: int,
    approver: Member | int,
    approve: bool,
    reason: str | None = None,
) -> RewardDetails:
    """pending_approval → queued (approve) or rejected (reject, reason required).

    Who may decide (managers, approvers, admins) is the caller's policy; the ledger itself only
    refuses the people the reward concerns: its giver and its recipients. Losers of a race get
    AlreadyDecided.
    """
    if not approve and not (reason and reason.strip()):
        raise ValueError("a rejection needs a reason")
    who = require_member(session, member_id=member_id(approver))
    reward = session.get(Reward, reward_id)
    if reward is None:
        raise RewardNotFound(reward_id)
    if reward.giver_id == who.id:
        raise NotPermitted("nobody approves their own reward")
    paid = session.exec(
        select(RewardRecipient.id)
        .where(RewardRecipient.reward_id == reward_id)
        .where(RewardRecipient.member_id == who.id)
    ).first()
    if paid is not None:
        raise NotPermitted("nobody decides on a reward that pays them")
    decision = Decision.APPROVED if approve else Decision.REJECTED
    new = S.QUEUED if approve else S.REJECTED
    before, old, now = transition(
        session,
        reward_id=reward_id,
        expected={S.PENDING_APPROVAL},
        new=new,
        stamp=("decided_at",),
    )
    session.add(
        Approval(
            reward_id=reward_id,
            approver_id=who.id,  # type: ignore[arg-type]
            decision=decision.value,
            reason=reason,
            decided_at=now,
        )
    )
    if not approve:
        set_recipient_outcomes(
            session,
            reward=before,
            default=RecipientOutcome.NOT_SENT,
            results=(),
            now=now,
            only_from={RecipientOutcome.PENDING},
        )
    session.flush()
    audit.append(
        session,
        actor=who.slack_user_id,
        action=AuditAction.APPROVAL_DECIDED,
        subject_type="reward",
        subject_id=before.short_id,
        before={"status": old},
        after={"status": new, "decision": decision, "approver": who.slack_user_id},
        reason=reason,
    )
    return details_by_id(session, reward_id)


def get_approval(session: Session, *, reward_id: int) -> tuple[Approval, Member] | None:
    """The decision on a reward and who made it (None while undecided)."""
    row = session.exec(
        select(Approval, Member)
        .join(Member, Member.id == Approval.approver_id)  # type: ignore[arg-type]
        .where(Approval.reward_id == reward_id)
    ).first()
    return None if row is None else (row[0], row[1])


def list_pending_approvals(
    session: Session,
    *,
    manager: Member | int | None = None,
    exclude_member: Member | int | None = None,
    limit: int = 100,
) -> list[RewardDetails]:
    """Rewards waiting for a decision, oldest first.

    `manager`: only rewards given by that member's reports. `exclude_member`: leave out the
    rewards that member gives or receives (nobody decides on those).
    """
    query = select(Reward).where(Reward.status == S.PENDING_APPROVAL.value)
    if manager is not None:
        query = query.join(Member, Member.id == Reward.giver_id).where(  # type: ignore[arg-type]
            Member.manager_id == member_id(manager)
        )
    if exclude_member is not None:
        excluded = member_id(exclude_member)
        paid = select(RewardRecipient.reward_id).where(RewardRecipient.member_id == excluded)
        query = query.where(Reward.giver_id != excluded).where(
            Reward.id.not_in(paid)  # type: ignore[union-attr]
        )
    rewards = session.exec(query.order_by(Reward.created_at, Reward.id).limit(limit)).all()  # type: ignore[arg-type]
    return load_details(session, list(rewards))
