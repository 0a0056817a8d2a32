"""Settling a reward in doubt (`bot.rewards.settle`) on its ports: the first admin's answer wins
and is told once (`RewardSettled`), everyone later hears who settled it and when, nobody else
settles, and nothing is sent again."""

from __future__ import annotations

from bot.rewards.events import RewardSettled
from bot.rewards.refusal import Refusal
from bot.rewards.settle import Settled
from storage import audit
from storage.audit import AuditAction
from storage.rewards import RewardDetails
from storage.states import RewardStatus
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, APPROVER, BOB, CHEN, MARIA

S = RewardStatus
TWO_ADMINS = f"{ADMIN},{APPROVER}"


def in_doubt(domain: Domain) -> RewardDetails:
    domain.xoxoday.faults.set("sendBalance", drop_after_apply=True, count=1)
    reward = domain.give(BOB, MARIA, 100, "kept the lights on")
    domain.deliver()
    found = domain.reward(reward.short_id)
    assert found.status == S.IN_DOUBT
    domain.teller.clear()
    return found


def settled_events(domain: Domain, short: str) -> list[object]:
    with domain.store.read_session() as session:
        events = audit.events_for(session, subject_type="reward", subject_id=short)
    return [e for e in events if e.action == AuditAction.REWARD_SETTLED]


def test_the_first_admins_answer_wins(make_domain) -> None:
    domain = make_domain(REWARD_ADMINS=TWO_ADMINS)
    reward = in_doubt(domain)
    done = domain.settle.settle(admin_id=ADMIN, short=reward.short_id, outcome=S.SENT)
    assert isinstance(done, Settled) and done.reward.status == S.SENT
    assert done.settlement is not None
    assert (done.settlement.outcome, done.settlement.settled_by) == ("sent", ADMIN)
    [told] = domain.teller.events
    assert isinstance(told, RewardSettled)
    assert told.settlement == done.settlement and told.reward.short_id == reward.short_id
    [event] = settled_events(domain, reward.short_id)
    assert event.actor == ADMIN  # type: ignore[attr-defined]

    again = domain.settle.settle(admin_id=ADMIN, short=reward.short_id, outcome=S.SENT)
    assert isinstance(again, Refusal)
    assert again.text.startswith(f"You already marked reward `{reward.short_id}` as sent on ")
    other = domain.settle.settle(admin_id=APPROVER, short=reward.short_id, outcome=S.FAILED)
    assert isinstance(other, Refusal)
    assert other.text.startswith(f"Already settled by <@{ADMIN}> on ")
    assert "marked as sent. Nothing was changed." in other.text
    assert other.reward is not None and other.reward.status == S.SENT
    assert domain.reward(reward.short_id).status == S.SENT
    assert len(settled_events(domain, reward.short_id)) == 1
    assert len(domain.teller.events) == 1
    assert len(domain.sends()) == 1 and domain.deliver() == 0  # nothing was sent again


def test_settled_as_failed(domain: Domain) -> None:
    reward = in_doubt(domain)
    done = domain.settle.settle(admin_id=ADMIN, short=reward.short_id, outcome=S.FAILED)
    assert isinstance(done, Settled) and done.reward.status == S.FAILED
    [told] = domain.teller.of(RewardSettled)
    assert told.settlement.outcome == "failed" and told.settlement.settled_by == ADMIN
    assert len(settled_events(domain, reward.short_id)) == 1
    assert len(domain.sends()) == 1


def test_only_admins_settle(domain: Domain) -> None:
    reward = in_doubt(domain)
    for user in (BOB, APPROVER):  # the giver, an approver (not an admin)
        refused = domain.settle.settle(admin_id=user, short=reward.short_id, outcome=S.SENT)
        assert isinstance(refused, Refusal)
        assert refused.text.startswith("Only admins can settle rewards in doubt")
        assert refused.text.endswith("Nothing was changed.")
    assert domain.reward(reward.short_id).status == S.IN_DOUBT
    assert settled_events(domain, reward.short_id) == [] and domain.teller.events == []


def test_unknown_and_not_in_doubt(domain: Domain) -> None:
    """Moved from tests/e2e/test_settle.py."""
    refused = domain.settle.settle(admin_id=ADMIN, short="QQQQQQ", outcome=S.FAILED)
    assert isinstance(refused, Refusal) and "I can't find a reward `QQQQQQ`" in refused.text
    reward = domain.give(BOB, CHEN, 50, "fine work")
    domain.deliver()
    refused = domain.settle.settle(admin_id=ADMIN, short=reward.short_id, outcome=S.FAILED)
    assert isinstance(refused, Refusal) and "isn't in doubt" in refused.text
    assert domain.reward(reward.short_id).status == S.SENT
    assert domain.teller.of(RewardSettled) == []
