"""Sending a failed reward again (`RewardService.send_again`, the giver's "Send again"): a new
reward with the same recipients, amount, reason and values, through every rule again, given once
however often it is asked for; the failed reward is never sent."""

from __future__ import annotations

import threading
from decimal import Decimal

from bot.rewards.events import ApprovalAsked
from bot.rewards.refusal import Refusal
from bot.rewards.service import Given, GiveRequest
from storage.rewards import RewardDetails
from storage.states import RewardSource, RewardStatus
from tests.domain.conftest import Domain
from tests.domain.support import APPROVER, BOB, CHEN, MARIA, TEAM

S = RewardStatus


def recipients_of(domain: Domain, send: int) -> list[dict[str, object]]:
    variables = domain.sends()[send]["variables"]
    return variables.get("recipients") or variables["recipients_data"]["recipients"]


def failed(
    domain: Domain, to: list[str], amount: int, citation: str = "fixed the build #craft"
) -> RewardDetails:
    """A reward Xoxoday refused (the account was short), as the giver's message shows it."""
    domain.xoxoday.state.set_balance(Decimal("10"))
    reward = domain.rewards.give(
        GiveRequest(
            giver_id=BOB,
            team_id=TEAM,
            recipient_ids=tuple(to),
            amount=amount,
            citation=citation,
            values=("craft",),
            channel_id="C0KUDOS",
            source=RewardSource.MODAL,
            idempotency_key="view:V1",
            public=False,
        )
    )
    assert isinstance(reward, Given)
    domain.deliver()
    found = domain.reward(reward.reward.short_id)
    assert found.status == S.FAILED
    domain.xoxoday.state.set_balance(Decimal("100000"))
    domain.teller.clear()
    return found


def again(domain: Domain, short: str, *, by: str = BOB) -> Given | Refusal:
    return domain.rewards.send_again(giver_id=by, team_id=TEAM, short_id=short)


def test_a_failed_reward_is_given_again_as_a_new_reward_and_the_old_one_stays_failed(
    domain: Domain,
) -> None:
    old = failed(domain, [MARIA, CHEN], 100)
    outcome = again(domain, old.short_id)
    assert isinstance(outcome, Given) and outcome.created
    new = outcome.reward
    assert new.short_id != old.short_id and new.status == S.QUEUED
    assert [(r.member.slack_user_id, r.points) for r in new.recipients] == [
        (MARIA, 100),
        (CHEN, 100),
    ]
    row = new.reward
    assert (row.citation, row.channel_id, row.public, row.source) == (
        "fixed the build #craft",
        "C0KUDOS",
        False,
        "modal",
    )
    assert new.values == ("craft",)

    assert domain.deliver() == 1  # the new one only: the failed one is never claimed again
    assert domain.reward(new.short_id).status == S.SENT
    assert domain.reward(old.short_id).status == S.FAILED
    assert len(domain.sends()) == 2  # the refused one, then the new one
    assert [r["to_email"] for r in recipients_of(domain, 1)] == [
        "maria@acme.test",
        "chen@acme.test",
    ]
    assert domain.xoxoday.state.points_of("maria@acme.test") == 100


def test_asked_twice_or_at_once_it_is_given_once(domain: Domain) -> None:
    old = failed(domain, [MARIA], 100)
    outcomes: list[Given | Refusal] = []
    clicks = [
        threading.Thread(target=lambda: outcomes.append(again(domain, old.short_id)))
        for _ in range(4)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    outcomes.append(again(domain, old.short_id))  # a click later still
    assert all(isinstance(o, Given) for o in outcomes)
    assert len({o.reward.short_id for o in outcomes if isinstance(o, Given)}) == 1
    assert sum(1 for o in outcomes if isinstance(o, Given) and o.created) == 1
    assert domain.statuses() == [S.FAILED, S.QUEUED]
    assert domain.deliver() == 1
    assert domain.xoxoday.state.points_of("maria@acme.test") == 100


def test_the_new_reward_needs_approval_again(domain: Domain) -> None:
    """Approved once, failed: sent again, it waits for an approver like any reward its size."""
    domain.xoxoday.state.set_balance(Decimal("10"))
    first = domain.give(BOB, MARIA, 600, "carried the quarter")
    assert first.status == S.PENDING_APPROVAL
    decided = domain.approvals.decide(
        short=first.short_id, user_id=APPROVER, team_id=TEAM, approve=True
    )
    assert not isinstance(decided, Refusal)
    domain.deliver()
    assert domain.reward(first.short_id).status == S.FAILED
    domain.teller.clear()

    outcome = again(domain, first.short_id)
    assert isinstance(outcome, Given) and outcome.needs_approval
    [asked] = domain.teller.of(ApprovalAsked)
    assert asked.reward.short_id == outcome.reward.short_id
    assert domain.deliver() == 0  # nothing is sent before an approver decides
    assert len(domain.sends()) == 1


def test_a_recipient_deactivated_since_is_refused_and_nothing_is_made(domain: Domain) -> None:
    old = failed(domain, [MARIA], 100)
    domain.people.change(MARIA, deleted=True)
    outcome = again(domain, old.short_id)
    assert isinstance(outcome, Refusal)
    assert (
        outcome.text == "<@UMARIA01>'s Slack account is deactivated, so they can't receive points."
    )
    assert domain.statuses() == [S.FAILED]
    # once they are back, the button works: a refusal used nothing up
    domain.people.change(MARIA, deleted=False)
    assert isinstance(again(domain, old.short_id), Given)


def test_the_allowance_counts_the_new_reward(domain: Domain) -> None:
    """The failed reward counted nothing; given again, it counts like any other."""
    old = failed(domain, [MARIA], 300)
    domain.give(BOB, CHEN, 400, "one")
    domain.give(BOB, CHEN, 400, "two")  # 800 of the 1,000
    outcome = again(domain, old.short_id)
    assert isinstance(outcome, Refusal)
    assert "That's 300 points, but you have 200 points of your 1,000 left" in outcome.text
    assert domain.statuses() == [S.FAILED, S.QUEUED, S.QUEUED]


def test_only_its_giver_sends_again_and_only_a_failed_reward(domain: Domain) -> None:
    old = failed(domain, [MARIA], 100)
    not_theirs = again(domain, old.short_id, by=CHEN)
    assert isinstance(not_theirs, Refusal)
    assert not_theirs.text == "Only <@UBOB0001>, who gave it, can send it again."

    sent = domain.given_and_sent(BOB, MARIA, 50, "tidied the wiki")
    assert sent.status == S.SENT
    refused = again(domain, sent.short_id)
    assert isinstance(refused, Refusal)
    assert refused.text == "It didn't fail (it's sent), so there's nothing to send again."
    unknown = again(domain, "ZZZZZZ")
    assert isinstance(unknown, Refusal) and "can't find" in unknown.text
    assert domain.statuses() == [S.FAILED, S.SENT]


def test_what_xoxoday_refused_keeps_its_kind_and_is_not_given_again(domain: Domain) -> None:
    """A short account is kept as such (Send again works once it is topped up); a request
    Xoxoday refused itself is kept as refused, and sending it again is refused with what to do,
    giving nothing."""
    short = failed(domain, [MARIA], 50)
    assert short.reward.delivery_response["kind"] == "low_balance"

    domain.xoxoday.faults.set("sendBalance", error="PLE10001")
    reward = domain.rewards.give(
        GiveRequest(
            giver_id=BOB,
            team_id=TEAM,
            recipient_ids=(MARIA,),
            amount=20,
            citation="refused as asked",
            values=(),
            channel_id="C0KUDOS",
            source=RewardSource.MODAL,
            idempotency_key="view:V2",
        )
    )
    assert isinstance(reward, Given)
    domain.deliver()
    refused = domain.reward(reward.reward.short_id)
    assert refused.status == S.FAILED
    assert refused.reward.delivery_response["kind"] == "refused"
    domain.xoxoday.faults.clear()
    outcome = again(domain, refused.short_id)
    assert isinstance(outcome, Refusal)
    assert "would be refused the same way" in outcome.text
    assert f"`{refused.short_id}`" in outcome.text
    assert domain.deliver() == 0  # nothing new was given
