"""The delivery worker (`bot.rewards.delivery`) on its ports: every claim ends sent, failed, in
doubt or back in the queue, in the ledger and in one event each; one sendBalance per reward with
all its recipients; a reward whose outcome is unknown is never sent again by itself; sends a
crash left mid-way are found in doubt; outcomes nobody heard of are told again; Xoxoday's outage
is told once each way; points in the bot are credited in the claim's own transaction."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.rewards.events import (
    RewardDelayed,
    RewardFailed,
    RewardInDoubt,
    RewardSent,
    RewardSettled,
    RewardsFoundInDoubt,
    XoxodayBack,
    XoxodayDown,
)
from bot.rewards.refusal import Refusal
from storage import members as member_repo
from storage import once
from storage import points as points_repo
from storage import rewards as reward_repo
from storage.rewards import RewardDetails
from storage.states import RecipientOutcome, RewardStatus
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, BOB, CHEN, MARIA, TEAM

S = RewardStatus


def recipients_sent(domain: Domain, send: int = 0) -> list[dict[str, Any]]:
    variables = domain.sends()[send]["variables"]
    return variables.get("recipients") or variables["recipients_data"]["recipients"]


def citations(domain: Domain) -> list[str]:
    """The citations of the points Xoxoday sent (requests it took, not those refused)."""
    return [
        r["citation"]
        for i, send in enumerate(domain.sends())
        if send["status"] == 200
        for r in recipients_sent(domain, i)
    ]


def told(domain: Domain, reward: RewardDetails) -> bool:
    """The outcome is noted told (`ToldOutcomes`), so no sweep tells it again."""
    with domain.store.read_session() as session:
        return once.was_claimed(
            session, kind=reward_repo.TOLD_KIND, key=reward_repo.told_key(reward)
        )


# ── sent ─────────────────────────────────────────────────────────────────────────────────


def test_a_queued_reward_is_sent_once_with_all_its_recipients(domain: Domain) -> None:
    given = domain.give(BOB, [MARIA, CHEN], 50, "great teamwork with <@UCHEN001>")
    assert given.status == S.QUEUED and domain.wakes["delivery"] == 1
    assert domain.deliver() == 1
    assert domain.deliver() == 0  # nothing more to send

    assert len(domain.sends()) == 1
    sent = recipients_sent(domain)
    assert sorted(r["to_email"] for r in sent) == ["chen@acme.test", "maria@acme.test"]
    assert {r["amount"] for r in sent} == {"50"}
    assert {r["citation"] for r in sent} == {"great teamwork with @chen"}  # mentions as names
    assert domain.xoxoday.state.points_of("maria@acme.test") == 50
    assert domain.xoxoday.state.points_of("chen@acme.test") == 50

    reward = domain.reward(given.short_id)
    assert reward.status == S.SENT
    assert [r.outcome for r in reward.recipients] == [RecipientOutcome.SENT] * 2
    assert all((r.recipient.plum_unique_id or "").isdigit() for r in reward.recipients)
    [event] = domain.teller.events
    assert isinstance(event, RewardSent) and not event.again
    assert event.reward.short_id == given.short_id and event.reward.status == S.SENT
    assert told(domain, reward)


def test_a_recipient_without_an_email_fails_the_reward_before_anything_is_sent(
    domain: Domain,
) -> None:
    given = domain.give(BOB, MARIA, 100, "thanks")
    with domain.store.session() as session:  # Slack lost Maria's email since
        member_repo.upsert_member(session, team_id=TEAM, slack_user_id=MARIA, email=None)
    domain.deliver()
    assert domain.sends() == []
    [event] = domain.teller.of(RewardFailed)
    assert event.reason == (
        f"<@{MARIA}> has no email address in Slack any more, so nothing was sent."
    )
    assert domain.reward(given.short_id).status == S.FAILED


# ── failed ───────────────────────────────────────────────────────────────────────────────


def test_a_refusal_fails_the_reward_and_says_why(domain: Domain) -> None:
    domain.xoxoday.state.set_balance(Decimal("10"))
    given = domain.give(BOB, MARIA, 100, "thanks")
    domain.deliver()
    reward = domain.reward(given.short_id)
    assert reward.status == S.FAILED
    [event] = domain.teller.events
    assert isinstance(event, RewardFailed) and event.reward.status == S.FAILED
    assert event.reason and event.reason == reward.reward.delivery_message
    assert domain.xoxoday.state.points_of("maria@acme.test") == 0
    assert len(domain.sends()) == 1 and domain.deliver() == 0


# ── in doubt ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "fault, said",
    [
        pytest.param(
            {"drop_after_apply": True},
            "The connection to Xoxoday broke after the request was sent.",
            id="dropped-after-applying",
        ),
        pytest.param({"hang": True}, "Xoxoday didn't answer in time.", id="timeout"),
        pytest.param(
            {"error": "502"},
            "Xoxoday answered with a server error (HTTP 502) that doesn't say what it did.",
            id="server-error",
        ),
    ],
)
def test_an_unknown_outcome_is_in_doubt_and_never_sent_again(
    domain: Domain, fault: dict[str, Any], said: str
) -> None:
    """The timeout and server-error cases moved from tests/e2e/test_failures.py (which keeps
    the dropped answer end to end, with the admins' alert and the giver's DM it is drawn as)."""
    domain.xoxoday.faults.set("sendBalance", count=1, **fault)
    given = domain.give(BOB, MARIA, 100, "thanks")
    domain.deliver()
    reward = domain.reward(given.short_id)
    assert reward.status == S.IN_DOUBT
    [event] = domain.teller.events
    assert isinstance(event, RewardInDoubt) and event.reward.status == S.IN_DOUBT
    assert event.reason == said  # which kind of failure it was, for the giver and the admins
    assert event.ask_admins  # no settler: the admins are asked at once
    assert told(domain, reward)
    # Never sent again by itself, even by a worker of the next process.
    assert domain.deliver() == 0
    assert domain.worker.retell(quiet_for=timedelta(0)) == 0
    assert len(domain.sends()) == 1
    applied = 100 if fault.get("drop_after_apply") else 0
    assert domain.xoxoday.state.points_of("maria@acme.test") == applied


def test_a_settled_reward_is_told_by_its_settling_not_again(domain: Domain) -> None:
    """Moved from tests/e2e/test_telling.py: an in-doubt outcome told, then settled as failed
    by an admin, is not taken for an untold outcome by the sweep."""
    domain.xoxoday.faults.set("sendBalance", drop_after_apply=True, count=1)
    given = domain.give(BOB, MARIA, 10, "settled later")
    domain.deliver()
    reward = domain.reward(given.short_id)
    assert reward.status == S.IN_DOUBT and told(domain, reward)
    settled = domain.settle.settle(admin_id=ADMIN, short=given.short_id, outcome=S.FAILED)
    assert not isinstance(settled, Refusal)
    assert [type(e) for e in domain.teller.events][-1] is RewardSettled
    assert domain.worker.retell(quiet_for=timedelta(0)) == 0


def test_a_settlement_recorded_but_never_told_is_told_again(domain: Domain) -> None:
    """Settled in the ledger, then the process stopped before anyone was told: the sweep
    tells the settlement (again: what was posted before is not repeated), once."""
    domain.xoxoday.faults.set("sendBalance", drop_after_apply=True, count=1)
    given = domain.give(BOB, MARIA, 10, "settled as it died")
    domain.deliver()
    reward = domain.reward(given.short_id)
    with domain.store.session() as session:
        reward_repo.settle_in_doubt(
            session,
            reward_id=reward.id,
            outcome=RewardStatus.SENT,
            actor=ADMIN,
            reason="checked with Xoxoday",
        )
    before = len(domain.teller.events)
    assert domain.worker.retell(quiet_for=timedelta(0)) == 1
    [event] = domain.teller.events[before:]
    assert isinstance(event, RewardSettled) and event.again
    assert event.settlement.outcome == "sent" and event.settlement.settled_by == ADMIN
    assert domain.worker.retell(quiet_for=timedelta(0)) == 0


def test_sends_a_crash_left_mid_way_are_found_in_doubt_and_told_once(
    make_domain, domain: Domain
) -> None:
    first = domain.give(BOB, MARIA, 100, "thanks")
    second = domain.give(BOB, CHEN, 100, "thanks too")
    with domain.store.session() as session:  # a process claimed both, then died
        for _ in range(2):
            assert reward_repo.claim_next_queued(session, claimed_by="crashed-worker")
    found = domain.worker.recover()
    assert sorted(r.short_id for r in found) == sorted([first.short_id, second.short_id])
    [event] = domain.teller.events
    assert isinstance(event, RewardsFoundInDoubt)
    assert sorted(r.short_id for r in event.rewards) == sorted([first.short_id, second.short_id])
    assert all(r.status == S.IN_DOUBT for r in event.rewards)
    assert domain.statuses() == [S.IN_DOUBT, S.IN_DOUBT]
    # Told by the alert: no sweep tells them again; nothing is sent.
    assert all(told(domain, domain.reward(r.short_id)) for r in found)
    assert domain.worker.retell(quiet_for=timedelta(0)) == 0
    assert domain.deliver() == 0 and domain.sends() == []
    assert domain.worker.recover() == [] and len(domain.teller.events) == 1


# ── told again ───────────────────────────────────────────────────────────────────────────


def test_an_outcome_slack_failed_to_tell_is_told_again_by_the_next_process(
    make_domain, domain: Domain
) -> None:
    domain.teller.fail_next(1)
    given = domain.give(BOB, MARIA, 10, "slack hiccup")
    domain.deliver()
    reward = domain.reward(given.short_id)
    assert reward.status == S.SENT
    assert [type(e) for e in domain.teller.failed] == [RewardSent]
    assert domain.teller.events == [] and not told(domain, reward)
    # This process waits before trying again; the next one (a restart) tells it at once.
    assert domain.worker.retell(quiet_for=timedelta(0)) == 0
    restarted = make_domain()
    assert restarted.worker.retell(quiet_for=timedelta(0)) == 1
    [event] = restarted.teller.events
    assert isinstance(event, RewardSent) and event.again
    assert event.reward.short_id == given.short_id
    assert told(domain, reward)
    assert restarted.worker.retell(quiet_for=timedelta(0)) == 0
    assert len(domain.sends()) == 1


def test_an_outcome_recorded_moments_ago_is_left_to_whoever_is_telling_it(
    make_domain, domain: Domain
) -> None:
    domain.teller.fail_next(1)
    domain.give(BOB, MARIA, 10, "still being told")
    domain.deliver()
    other = make_domain()  # another process sharing the ledger
    assert other.worker.retell() == 0  # quiet for two minutes first: it may be in hand
    assert other.teller.events == []
    assert other.worker.retell(quiet_for=timedelta(0)) == 1


# ── back in the queue ────────────────────────────────────────────────────────────────────


def test_a_send_that_never_reached_xoxoday_waits_and_the_giver_hears_once(
    domain: Domain,
) -> None:
    domain.xoxoday.faults.set("sendBalance", error="rate_limit", count=1)
    given = domain.give(BOB, MARIA, 4, "patience")
    domain.deliver()
    reward = domain.reward(given.short_id)
    assert reward.status == S.QUEUED and reward.reward.attempts == 1
    assert reward.reward.next_attempt_at is not None and reward.reward.retry_until is not None
    [event] = domain.teller.events
    assert isinstance(event, RewardDelayed) and event.reason == "Xoxoday asked us to slow down"
    assert domain.deliver() == 0  # not due yet: nobody is told again
    assert len(domain.teller.events) == 1
    assert domain.xoxoday.state.points_of("maria@acme.test") == 0


def test_xoxoday_down_and_back_are_told_once_each_and_the_waiting_rewards_go_once(
    make_domain,
) -> None:
    domain = make_domain(REWARD_PLUM_OUTAGE_ALERT_MINUTES=0.005)  # 0.3 s
    domain.xoxoday.faults.set("sendBalance", error="rate_limit", count=3)
    first = domain.give(BOB, MARIA, 3, "outage reward 1")
    domain.deliver()
    assert domain.teller.of(XoxodayDown) == []  # not for long yet
    waiting = [first]
    for n in (2, 3):
        time.sleep(0.35)
        waiting.append(domain.give(BOB if n % 2 else CHEN, MARIA, 3, f"outage reward {n}"))
        domain.deliver()
    [down] = domain.teller.of(XoxodayDown)  # told once, though it failed again after
    assert down.reason == "Xoxoday asked us to slow down" and not down.setup_problem
    assert down.waiting == 2  # the rewards waiting when it was told
    assert len(domain.teller.of(RewardDelayed)) == 3  # one per reward
    assert domain.statuses() == [S.QUEUED] * 3

    # Xoxoday answers the next reward: every waiting one is released and sent, once.
    last = domain.give(CHEN, MARIA, 3, "after the outage")
    domain.deliver()
    [back] = domain.teller.of(XoxodayBack)
    assert back.since == down.since and back.waiting == 3
    assert domain.statuses() == [S.SENT] * 4
    assert sorted(citations(domain)) == sorted(r.reward.citation for r in [*waiting, last])
    assert len(domain.teller.of(RewardSent)) == 4
    assert len(domain.teller.of(RewardDelayed)) == 3 and len(domain.teller.of(XoxodayDown)) == 1


def test_credentials_refused_are_the_admins_problem_told_at_once(domain: Domain) -> None:
    domain.xoxoday.faults.set("sendBalance", error="PIPE10017", count=1)  # IP not allow-listed
    given = domain.give(BOB, MARIA, 4, "network work")
    domain.deliver()
    [down] = domain.teller.of(XoxodayDown)
    assert down.setup_problem and "allow-list" in down.reason and down.waiting == 1
    [delayed] = domain.teller.of(RewardDelayed)
    assert delayed.reward.short_id == given.short_id
    assert domain.reward(given.short_id).status == S.QUEUED


def test_a_lone_waiting_reward_sent_by_its_own_retry_is_counted_as_the_one_that_waited(
    domain: Domain,
) -> None:
    domain.xoxoday.faults.set("sendBalance", error="PIPE10017", count=1)  # told at once
    given = domain.give(BOB, MARIA, 4, "the only one waiting")
    domain.deliver()
    [down] = domain.teller.of(XoxodayDown)
    assert down.waiting == 1
    with domain.store.session() as session:  # its retry is due (the worker waits for it)
        reward_repo.release_deferred(session)
    domain.deliver()
    assert domain.reward(given.short_id).status == S.SENT
    [back] = domain.teller.of(XoxodayBack)
    assert back.waiting == 1  # the one the admins were told about, not 0


def test_after_the_retry_window_the_reward_fails(make_domain) -> None:
    domain = make_domain(REWARD_DELIVERY_RETRY_HOURS=0.0001)  # 0.36 s
    domain.xoxoday.faults.set("sendBalance", error="PIPE10017", count=2)
    given = domain.give(BOB, MARIA, 4, "never reached xoxoday")
    domain.deliver()
    assert domain.reward(given.short_id).status == S.QUEUED
    time.sleep(0.4)
    with domain.store.session() as session:  # due now (as a wait in the worker would make it)
        reward_repo.release_deferred(session)
    domain.deliver()
    reward = domain.reward(given.short_id)
    assert reward.status == S.FAILED
    [failed] = domain.teller.of(RewardFailed)
    assert failed.reason == (  # the giver's words: no credential hint, no setting (PLUM_*)
        "Xoxoday didn't take the bot's requests for 0.0001 hours, so nothing was sent."
    )
    assert domain.xoxoday.state.points_of("maria@acme.test") == 0


# ── points in the bot ────────────────────────────────────────────────────────────────────


def storefront(make_domain) -> Domain:
    return make_domain(REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY="k")


def available(domain: Domain, user_id: str) -> int:
    with domain.store.read_session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        assert member is not None and member.id is not None
        return points_repo.balance(session, member_id=member.id, today=date.today()).available


def test_points_in_the_bot_are_credited_in_the_ledger_not_sent(make_domain) -> None:
    domain = storefront(make_domain)
    given = domain.give(BOB, [MARIA, CHEN], 40, "points at home")
    assert domain.deliver() == 1
    reward = domain.reward(given.short_id)
    assert reward.status == S.SENT
    assert available(domain, MARIA) == available(domain, CHEN) == 40 * 100  # in cents
    assert domain.sends() == []
    [event] = domain.teller.events
    assert isinstance(event, RewardSent) and event.reward.short_id == given.short_id
    assert told(domain, reward)


def test_a_credit_the_ledger_refuses_leaves_the_reward_queued_not_sending(
    make_domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = storefront(make_domain)
    given = domain.give(BOB, MARIA, 40, "points at home")

    def refused(session: object, *, reward_id: int) -> RewardDetails:
        raise OSError("disk full")

    monkeypatch.setattr(points_repo, "credit_reward", refused)
    assert domain.worker.run_once() is False
    assert domain.reward(given.short_id).status == S.QUEUED  # the claim was rolled back with it
    assert domain.teller.events == []
    monkeypatch.undo()
    assert domain.deliver() == 1
    assert domain.reward(given.short_id).status == S.SENT and available(domain, MARIA) == 4000
