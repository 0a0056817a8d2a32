"""Approvals: the first decision wins; nobody approves their own reward."""

from __future__ import annotations

import pytest

from storage import approvals, audit, members, rewards
from storage.errors import AlreadyDecided, NotPermitted
from storage.states import RecipientOutcome, RewardStatus
from tests.storage.conftest import People

S = RewardStatus


def _pending(store, people: People, key: str = "k", giver=None):  # type: ignore[no-untyped-def]
    with store.session() as s:
        return rewards.create_reward(
            s,
            giver=giver or people.giver,
            recipients=[(people.alice, 600)],
            citation="big win",
            idempotency_key=key,
            status=S.PENDING_APPROVAL,
        ).reward


def test_approve_queues_the_reward(store, people: People) -> None:
    r = _pending(store, people)
    with store.session() as s:
        done = approvals.decide_approval(s, reward_id=r.id, approver=people.approver, approve=True)
    assert done.status == S.QUEUED
    assert done.reward.decided_at is not None and done.reward.queued_at == done.reward.decided_at
    with store.read_session() as s:
        approval, approver = approvals.get_approval(s, reward_id=r.id)  # type: ignore[misc]
        [*_, event] = audit.events_for(s, subject_type="reward", subject_id=r.short_id)
    assert (approval.decision, approver.slack_user_id, approval.reason) == (
        "approved",
        "UAPPROVER",
        None,
    )
    assert event.action == "approval.decided"
    assert event.actor == "UAPPROVER"
    assert event.before == {"status": "pending_approval"}
    assert event.after == {"status": "queued", "decision": "approved", "approver": "UAPPROVER"}


def test_reject_needs_a_reason(store, people: People) -> None:
    r = _pending(store, people)
    with pytest.raises(ValueError, match="reason"), store.session() as s:
        approvals.decide_approval(s, reward_id=r.id, approver=people.approver, approve=False)
    with store.session() as s:
        done = approvals.decide_approval(
            s, reward_id=r.id, approver=people.approver, approve=False, reason="over budget"
        )
    assert done.status == S.REJECTED
    assert done.reward.decided_at is not None and done.reward.queued_at is None
    assert {x.outcome for x in done.recipients} == {RecipientOutcome.NOT_SENT}
    with store.read_session() as s:
        approval, _ = approvals.get_approval(s, reward_id=r.id)  # type: ignore[misc]
    assert (approval.decision, approval.reason) == ("rejected", "over budget")


def test_the_second_decision_is_told_it_was_already_decided(store, people: People) -> None:
    r = _pending(store, people)
    with store.session() as s:
        approvals.decide_approval(s, reward_id=r.id, approver=people.approver, approve=True)
    with pytest.raises(AlreadyDecided) as caught, store.session() as s:
        approvals.decide_approval(
            s, reward_id=r.id, approver=people.admin, approve=False, reason="no"
        )
    assert caught.value.current == S.QUEUED
    assert r.short_id in str(caught.value)


def test_nobody_approves_their_own_reward(store, people: People) -> None:
    r = _pending(store, people, giver=people.approver)
    with pytest.raises(NotPermitted, match="own reward"), store.session() as s:
        approvals.decide_approval(s, reward_id=r.id, approver=people.approver, approve=True)


def test_pending_lists_for_managers_and_approvers(store, people: People) -> None:
    with store.session() as s:
        members.set_manager(s, member=people.giver, manager=people.admin, actor="UADMIN")
    mine = _pending(store, people, key="a")
    theirs = _pending(store, people, key="b", giver=people.bob)
    decided = _pending(store, people, key="c")
    with store.session() as s:
        approvals.decide_approval(s, reward_id=decided.id, approver=people.admin, approve=True)
    with store.read_session() as s:
        everything = approvals.list_pending_approvals(s)
        for_manager = approvals.list_pending_approvals(s, manager=people.admin)
        not_bobs = approvals.list_pending_approvals(s, exclude_member=people.bob)
    assert [r.id for r in everything] == [mine.id, theirs.id]
    assert [r.id for r in for_manager] == [mine.id]
    assert [r.id for r in not_bobs] == [mine.id]
    assert everything[0].recipients[0].member.slack_user_id == "UALICE"
