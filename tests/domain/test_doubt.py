"""Rewards in doubt settled from Xoxoday's own records (`bot.rewards.doubt`), on the real Plum
client against the sandbox: a lost answer whose points the payment report shows is settled as
sent with its unique id; a send the report proves never happened is sent again, once; what the
report can't pin to one reward stays for the admins, who are asked once the bound has passed,
and nobody is asked before. And the 5xx that proves Xoxoday refused before doing anything keeps
the reward queued instead of in doubt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.rewards.cards import SETTLED_BY_RECORDS
from bot.rewards.delivery import DeliveryWorker
from bot.rewards.doubt import DoubtSettler
from bot.rewards.events import (
    RewardDelayed,
    RewardInDoubt,
    RewardSettled,
    RewardsFoundInDoubt,
)
from bot.rewards.redelivery import RetryPlan
from storage import rewards as reward_repo
from storage.states import RecipientOutcome, RewardStatus
from tests.domain.conftest import Domain
from tests.domain.support import BOB, CHEN, MARIA

S = RewardStatus
ASK_AFTER = timedelta(minutes=30)


class Later:
    """The settler's clock: now, plus however far a test moves it."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture
def later() -> Later:
    return Later()


@pytest.fixture
def settler(domain: Domain, later: Later) -> DoubtSettler:
    """The settler as the runtime builds it, its worker the domain's delivery worker."""
    doubts = DoubtSettler(
        store=domain.store, plum=domain.plum, teller=domain.teller, ask_after=ASK_AFTER, now=later
    )
    domain.worker = DeliveryWorker(  # type: ignore[misc]
        store=domain.store,
        plum=domain.plum,
        teller=domain.teller,
        sender_email=domain.settings.sender_email,
        names=domain.people.names,
        threads=1,
        retry=RetryPlan(),
        doubts=doubts,
    )
    return doubts


def past_first_check(later: Later, settler: DoubtSettler) -> None:
    later.ahead = settler.first_check + timedelta(seconds=1)


def in_doubt(domain: Domain, fault: dict[str, object], amount: int, citation: str) -> str:
    domain.xoxoday.faults.set("sendBalance", count=1, **fault)
    given = domain.give(BOB, MARIA, amount, citation)
    domain.deliver()
    assert domain.reward(given.short_id).status == S.IN_DOUBT
    return given.short_id


def test_a_lost_answer_the_payment_report_shows_is_settled_as_sent(
    domain: Domain, settler: DoubtSettler, later: Later
) -> None:
    short = in_doubt(domain, {"drop_after_apply": True}, 120, "lost on the way back")
    [told] = domain.teller.of(RewardInDoubt)
    assert not told.ask_admins  # the giver hears it is being checked; the admins, not yet
    assert told.reason == "The connection to Xoxoday broke after the request was sent."

    assert settler.check().sent == ()  # too soon: Xoxoday may still be working on it
    past_first_check(later, settler)
    assert settler.check().sent == (short,)

    reward = domain.reward(short)
    assert reward.status == S.SENT and reward.reward.settled_by == SETTLED_BY_RECORDS
    [tx] = domain.xoxoday.state.transactions("maria@acme.test")
    [line] = reward.recipients
    assert line.outcome == RecipientOutcome.SENT
    assert line.recipient.plum_unique_id == str(tx.unique_id)  # it can be cancelled later
    [settled] = domain.teller.of(RewardSettled)
    assert settled.settlement.outcome == "sent"
    assert settled.settlement.settled_by == SETTLED_BY_RECORDS
    assert not [e for e in domain.teller.of(RewardInDoubt) if e.ask_admins]  # nobody asked
    assert len(domain.sends()) == 1  # never sent again
    assert domain.xoxoday.state.points_of("maria@acme.test") == 120
    assert domain.worker.retell(quiet_for=timedelta(0)) == 0  # told once, not by the sweep too


def test_a_server_error_the_report_proves_unapplied_is_sent_again_once(
    domain: Domain, settler: DoubtSettler, later: Later
) -> None:
    short = in_doubt(domain, {"error": "502"}, 70, "a 502 that did nothing")
    past_first_check(later, settler)
    # Nothing in the report, but nothing after it either: the report may be behind.
    checked = settler.check()
    assert checked.requeued == () and checked.unproven == 1
    assert domain.reward(short).status == S.IN_DOUBT

    domain.given_and_sent(CHEN, MARIA, 5, "sent after the 502")  # answered, with its id
    assert settler.check().requeued == (short,)
    assert domain.reward(short).status == S.QUEUED
    assert domain.deliver() == 1
    assert domain.reward(short).status == S.SENT
    citations = [r["citation"] for send in domain.sends() for r in send["variables"]["recipients"]]
    assert citations.count("a 502 that did nothing") == 2  # the 502, then the one that paid
    assert domain.xoxoday.state.points_of("maria@acme.test") == 75  # paid once
    assert not [e for e in domain.teller.of(RewardInDoubt) if e.ask_admins]


def test_rows_that_could_be_either_reward_settle_neither_and_the_admins_are_asked_later(
    domain: Domain, settler: DoubtSettler, later: Later
) -> None:
    applied = in_doubt(domain, {"drop_after_apply": True}, 40, "applied, answer lost")
    unapplied = in_doubt(domain, {"error": "502"}, 40, "not applied, same amount")
    domain.given_and_sent(CHEN, MARIA, 5, "a later send")
    past_first_check(later, settler)
    checked = settler.check()
    assert checked.sent == checked.requeued == () and checked.unproven == 2
    assert {domain.reward(applied).status, domain.reward(unapplied).status} == {S.IN_DOUBT}

    later.ahead = ASK_AFTER + timedelta(seconds=1)
    assert sorted(settler.check().asked) == sorted([applied, unapplied])
    asked = [e for e in domain.teller.of(RewardInDoubt) if e.ask_admins]
    assert sorted(e.reward.short_id for e in asked) == sorted([applied, unapplied])
    assert all(e.again for e in asked)  # the giver's DM is not posted twice
    assert settler.check().asked == ()  # asked once
    assert len(domain.sends()) == 3  # neither was sent again


def test_a_reward_a_crash_left_mid_send_is_settled_the_same_way(
    domain: Domain, settler: DoubtSettler, later: Later
) -> None:
    given = domain.give(BOB, MARIA, 33, "the bot died mid-send")
    with domain.store.session() as session:
        reward_repo.claim_next_queued(session, claimed_by=domain.worker.worker_id)
    domain.plum.send_balance(  # Xoxoday took it; the bot never heard
        sender_email=domain.settings.sender_email,
        expiry_month=12,
        recipients=domain.worker._recipients(domain.reward(given.short_id)),  # type: ignore[arg-type]
    )
    [found] = domain.worker.recover()
    [event] = domain.teller.of(RewardsFoundInDoubt)
    assert found.short_id == given.short_id and not event.ask_admins
    past_first_check(later, settler)
    assert settler.check().sent == (given.short_id,)
    assert domain.reward(given.short_id).status == S.SENT


def test_a_5xx_that_proves_nothing_was_done_keeps_the_reward_queued(domain: Domain) -> None:
    """PLE10023 (502, balance lookup failed): Xoxoday stopped before paying (bot.plum.retry)."""
    domain.xoxoday.faults.set("sendBalance", error="PLE10023", count=1)
    given = domain.give(BOB, MARIA, 25, "balance lookup failed")
    domain.deliver()
    reward = domain.reward(given.short_id)
    assert reward.status == S.QUEUED
    [delayed] = domain.teller.of(RewardDelayed)
    assert "balance" in delayed.reason
    assert not domain.teller.of(RewardInDoubt)
    with domain.store.session() as session:  # due now, not after the backoff
        reward_repo.release_deferred(session)
    domain.deliver()
    assert domain.reward(given.short_id).status == S.SENT
    assert domain.xoxoday.state.points_of("maria@acme.test") == 25


def test_a_send_settled_from_the_report_does_not_prove_the_report_up_to_date(
    domain: Domain, settler: DoubtSettler, later: Later
) -> None:
    """Only a send Xoxoday answered with its ids, started after the reward went in doubt,
    shows the report is up to date past it: one settled from the report (its row may be older
    than its settling) does not, so the unapplied reward waits rather than being sent again."""
    unapplied = in_doubt(domain, {"error": "502"}, 70, "a 502 first")
    applied = in_doubt(domain, {"drop_after_apply": True}, 30, "then a lost answer")
    past_first_check(later, settler)
    checked = settler.check()
    assert checked.sent == (applied,) and checked.requeued == ()
    assert domain.reward(unapplied).status == S.IN_DOUBT
    assert settler.check().requeued == ()  # still: no answered send after it
    assert domain.xoxoday.state.points_of("maria@acme.test") == 30
