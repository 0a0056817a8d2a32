"""Delivery in batches (`bot.rewards.delivery` with `bot.rewards.batching`), against the Plum
sandbox: rewards waiting go out in one sendBalance carrying all their recipients, each reward
ends as Xoxoday's answer shows it, a batch whose outcome is unknown is in doubt as a whole and
settled together from the payment report, a refusal lands on the reward it is about, and
Xoxoday's "slow down" holds the whole batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.rewards.doubt import DoubtSettler
from bot.rewards.events import RewardDelayed, RewardFailed, RewardInDoubt, RewardSent
from storage import rewards as reward_repo
from storage.rewards import RewardDetails
from storage.states import RecipientOutcome, RewardStatus
from tests.domain.conftest import Domain, batching
from tests.domain.support import BOB, CHEN, MARIA, Someone

S = RewardStatus


class Later:
    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def people(domain: Domain, count: int, *, email: str = "p{i}@acme.test") -> list[str]:
    ids = []
    for i in range(count):
        uid = f"UP{i:07d}"
        domain.people.add(Someone(uid, f"p{i}", f"Person {i}", email.format(i=i)))
        ids.append(uid)
    return ids


def sent_in(domain: Domain, send: int) -> list[dict[str, Any]]:
    variables = domain.sends()[send]["variables"]
    return variables.get("recipients") or variables["recipients_data"]["recipients"]


def unique_ids(reward: RewardDetails) -> list[str | None]:
    return [r.recipient.plum_unique_id for r in reward.recipients]


def test_rewards_waiting_go_out_in_one_call_and_each_ends_with_its_own_ids(
    domain: Domain,
) -> None:
    batching(domain)
    to = people(domain, 4)
    given = [domain.give(BOB, uid, 10 + i, f"thanks {i}") for i, uid in enumerate(to)]
    both = domain.give(CHEN, [MARIA, to[0]], 7, "pair work")
    assert domain.deliver() == 1  # one claim, one call

    assert len(domain.sends()) == 1
    assert sorted((r["to_email"], r["amount"], r["citation"]) for r in sent_in(domain, 0)) == [
        ("maria@acme.test", "7", "pair work"),
        ("p0@acme.test", "10", "thanks 0"),
        ("p0@acme.test", "7", "pair work"),
        ("p1@acme.test", "11", "thanks 1"),
        ("p2@acme.test", "12", "thanks 2"),
        ("p3@acme.test", "13", "thanks 3"),
    ]
    state = domain.xoxoday.state
    assert state.points_of("p0@acme.test") == 17 and state.points_of("maria@acme.test") == 7
    rewards = [domain.reward(g.short_id) for g in [*given, both]]
    assert {r.status for r in rewards} == {S.SENT}
    assert len({r.reward.send_batch for r in rewards}) == 1 and rewards[0].reward.send_batch
    ids = [uid for r in rewards for uid in unique_ids(r)]
    assert all(uid and uid.isdigit() for uid in ids) and len(set(ids)) == 6
    # Each id is the transaction Xoxoday made for that recipient and amount.
    for reward in rewards:
        for line in reward.recipients:
            tx = state.transaction(int(line.recipient.plum_unique_id or 0))
            assert tx is not None and (tx.email, tx.points) == (line.member.email, line.points)
    sent = domain.teller.of(RewardSent)
    assert sorted(e.reward.short_id for e in sent) == sorted(r.short_id for r in rewards)


def test_a_call_carries_at_most_the_batch_limit_of_recipients(domain: Domain) -> None:
    batching(domain, batch_max=3)
    to = people(domain, 7)
    pair = domain.give(CHEN, [to[0], to[1]], 5, "pair")
    for uid in to[2:]:
        domain.give(BOB, uid, 5, "solo")
    assert domain.deliver() == 3
    assert [len(sent_in(domain, i)) for i in range(3)] == [3, 3, 1]
    assert set(domain.statuses()) == {S.SENT}
    assert domain.reward(pair.short_id).status == S.SENT


def test_one_person_given_the_same_points_twice_waits_for_the_next_call(
    domain: Domain,
) -> None:
    """Xoxoday's rows are matched by email and points: a call never holds two lines alike."""
    batching(domain)
    first = domain.give(BOB, MARIA, 10, "once")
    second = domain.give(CHEN, MARIA, 10, "twice")
    other = domain.give(BOB, CHEN, 10, "other")
    assert domain.deliver() == 2
    assert [len(sent_in(domain, i)) for i in range(2)] == [2, 1]
    assert [r["citation"] for r in sent_in(domain, 1)] == ["twice"]
    for g in (first, second, other):
        assert domain.reward(g.short_id).status == S.SENT
    assert domain.xoxoday.state.points_of("maria@acme.test") == 20


@pytest.mark.parametrize(
    "fault, applied",
    [
        pytest.param({"drop_after_apply": True}, True, id="answer-lost"),
        pytest.param({"hang": True}, False, id="timeout"),
        pytest.param({"error": "502"}, False, id="server-error"),
    ],
)
def test_a_batch_whose_outcome_is_unknown_is_in_doubt_whole_and_never_sent_again(
    domain: Domain, fault: dict[str, Any], applied: bool
) -> None:
    batching(domain)
    to = people(domain, 3)
    given = [domain.give(BOB, uid, 10, "same amount") for uid in to]
    domain.xoxoday.faults.set("sendBalance", count=1, **fault)
    domain.deliver()
    rewards = [domain.reward(g.short_id) for g in given]
    assert {r.status for r in rewards} == {S.IN_DOUBT}
    assert len({r.reward.send_batch for r in rewards}) == 1
    assert len(domain.teller.of(RewardInDoubt)) == 3  # each giver hears of their own
    assert domain.deliver() == 0 and domain.worker.retell(quiet_for=timedelta(0)) == 0
    assert len(domain.sends()) == 1
    paid = [domain.xoxoday.state.points_of(f"p{i}@acme.test") for i in range(3)]
    assert paid == ([10, 10, 10] if applied else [0, 0, 0])


def settled_batch(domain: Domain, fault: dict[str, Any]) -> tuple[list[str], DoubtSettler, Later]:
    later = Later()
    doubts = DoubtSettler(
        store=domain.store,
        plum=domain.plum,
        teller=domain.teller,
        ask_after=timedelta(minutes=30),
        now=later,
    )
    batching(domain, doubts=doubts)
    to = people(domain, 3)
    # Equal amounts: read one by one, each row could be any of the three's.
    given = [domain.give(BOB, uid, 10, f"batch {i}") for i, uid in enumerate(to)]
    domain.xoxoday.faults.set("sendBalance", count=1, **fault)
    domain.deliver()
    assert {domain.reward(g.short_id).status for g in given} == {S.IN_DOUBT}
    later.ahead = doubts.first_check + timedelta(seconds=1)
    return [g.short_id for g in given], doubts, later


def test_a_lost_answer_settles_the_whole_batch_as_sent_from_the_payment_report(
    domain: Domain,
) -> None:
    shorts, doubts, _ = settled_batch(domain, {"drop_after_apply": True})
    checked = doubts.check()
    assert sorted(checked.sent) == sorted(shorts) and checked.unproven == 0
    rewards = [domain.reward(s) for s in shorts]
    assert {r.status for r in rewards} == {S.SENT}
    # Three rows of 10 and three recipients of 10: who got which row is not proven.
    assert [unique_ids(r) for r in rewards] == [[None]] * 3
    assert len(domain.sends()) == 1
    assert [domain.xoxoday.state.points_of(f"p{i}@acme.test") for i in range(3)] == [10] * 3


def test_a_batch_the_report_proves_unapplied_is_sent_again_whole_once(domain: Domain) -> None:
    shorts, doubts, _ = settled_batch(domain, {"error": "502"})
    first_call = domain.reward(shorts[0]).reward.send_batch
    assert doubts.check().unproven == 3  # nothing after it in the report yet
    domain.given_and_sent(CHEN, MARIA, 5, "a later send")
    assert sorted(doubts.check().requeued) == sorted(shorts)
    assert {domain.reward(s).status for s in shorts} == {S.QUEUED}
    assert domain.deliver() == 1  # together again, in one call
    assert {domain.reward(s).status for s in shorts} == {S.SENT}
    assert [domain.xoxoday.state.points_of(f"p{i}@acme.test") for i in range(3)] == [10] * 3
    assert len(sent_in(domain, -1)) == 3
    again = {domain.reward(s).reward.send_batch for s in shorts}
    assert len(again) == 1 and again != {first_call}  # the call that paid, not the 502's


def test_a_refused_email_fails_its_reward_only_and_the_rest_are_sent(domain: Domain) -> None:
    batching(domain)
    good = people(domain, 2)
    domain.people.add(Someone("UBADMAIL", "bad", "Bad Mail", "bad@localhost"))
    before = domain.give(BOB, good[0], 10, "good one")
    bad = domain.give(BOB, "UBADMAIL", 10, "bad one")
    after = domain.give(BOB, good[1], 10, "good two")
    domain.deliver()
    assert domain.reward(bad.short_id).status == S.FAILED
    assert domain.reward(before.short_id).status == S.SENT
    assert domain.reward(after.short_id).status == S.SENT
    [failed] = domain.teller.of(RewardFailed)
    assert failed.reward.short_id == bad.short_id
    assert failed.reason == "Xoxoday rejected the request's parameters."
    # The refused call, then each reward alone; the good ones paid once.
    statuses = [send["status"] for send in domain.sends()]
    assert statuses == [400, 200, 400, 200]
    assert [domain.xoxoday.state.points_of(f"p{i}@acme.test") for i in range(2)] == [10, 10]


def test_too_little_balance_fails_each_reward_of_the_call(domain: Domain) -> None:
    batching(domain)
    to = people(domain, 3)
    domain.xoxoday.state.set_balance(Decimal("25"))
    given = [domain.give(BOB, uid, 10, "more than the account has") for uid in to]
    domain.deliver()
    assert {domain.reward(g.short_id).status for g in given} == {S.FAILED}
    assert len(domain.sends()) == 1
    assert len(domain.teller.of(RewardFailed)) == 3


def test_slow_down_holds_the_whole_batch_and_it_goes_once_when_xoxoday_answers(
    domain: Domain,
) -> None:
    worker = batching(domain)
    to = people(domain, 3)
    given = [domain.give(BOB, uid, 10, "rate limited") for uid in to]
    domain.xoxoday.faults.set("sendBalance", count=1, error="rate_limit")
    domain.deliver()
    rewards = [domain.reward(g.short_id) for g in given]
    assert {r.status for r in rewards} == {S.QUEUED}
    assert all(r.reward.next_attempt_at is not None for r in rewards)
    assert len(domain.teller.of(RewardDelayed)) == 3
    assert worker.unreachable_since is not None  # the outbox pauses as Xoxoday asked
    with domain.store.session() as session:  # the wait is over
        reward_repo.release_deferred(session)
    domain.deliver()
    assert {domain.reward(g.short_id).status for g in given} == {S.SENT}
    assert [send["status"] for send in domain.sends()] == [429, 200]
    assert len(sent_in(domain, 1)) == 3


def test_an_answer_without_rows_sends_each_reward_with_ids_unknown(domain: Domain) -> None:
    batching(domain)
    domain.xoxoday.faults.set_variant("sendBalance", "quickstart")
    to = people(domain, 2)
    given = [domain.give(BOB, uid, 10 + i, "quick") for i, uid in enumerate(to)]
    domain.deliver()
    rewards = [domain.reward(g.short_id) for g in given]
    assert {r.status for r in rewards} == {S.SENT}
    assert [unique_ids(r) for r in rewards] == [[None], [None]]
    assert [r.recipients[0].outcome for r in rewards] == [RecipientOutcome.SENT] * 2


def test_an_account_answering_one_recipient_per_call_gets_each_reward_alone(
    domain: Domain,
) -> None:
    batching(domain)
    domain.xoxoday.faults.set_variant("sendBalance", "flat")
    to = people(domain, 3)
    given = [domain.give(BOB, uid, 10 + i, "flat") for i, uid in enumerate(to)]
    domain.deliver()
    assert {domain.reward(g.short_id).status for g in given} == {S.SENT}
    assert [send["status"] for send in domain.sends()] == [400, 200, 200, 200]
    assert [domain.xoxoday.state.points_of(f"p{i}@acme.test") for i in range(3)] == [10, 11, 12]


def test_a_reward_claimed_alone_names_no_call(domain: Domain) -> None:
    batching(domain)
    to = people(domain, 2)
    pair = [domain.give(BOB, uid, 10, "together") for uid in to]
    domain.deliver()
    assert domain.reward(pair[0].short_id).reward.send_batch is not None
    alone = domain.give(BOB, MARIA, 10, "alone")
    domain.deliver()
    assert domain.reward(alone.short_id).reward.send_batch is None
