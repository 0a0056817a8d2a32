"""Approvals (`bot.rewards.approvals`) on their ports: who is asked (the giver's manager, else
the approvers, else the admins; never the giver or a recipient), what each ask shows, the first
decision winning, every recorded copy ending, the giver told once, and what everyone else is
told when they may not decide or come too late."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select

from bot.rewards.approvals import Decided
from bot.rewards.events import (
    ApprovalAsked,
    ApprovalEnded,
    GiverDecided,
    PeopleChanged,
)
from bot.rewards.refusal import Refusal
from storage import audit
from storage import rewards as reward_repo
from storage.audit import AuditAction
from storage.models import Approval
from storage.rewards import RewardDetails
from storage.states import RewardStatus
from tests.domain.conftest import Domain
from tests.domain.support import ADMIN, APPROVER, BOB, CHEN, GONE, MARIA, TEAM, Someone

S = RewardStatus
CITATION = "rebuilt the billing pipeline over a weekend"


def give_big(domain: Domain, giver: str = BOB, to: str = MARIA, amount: int = 600) -> RewardDetails:
    reward = domain.give(giver, to, amount, CITATION)
    assert reward.status == S.PENDING_APPROVAL
    return reward


def asked_ids(event: ApprovalAsked) -> list[str]:
    return [ask.member.slack_user_id for ask in event.asks]


def decide(
    domain: Domain, user: str, short: str, *, approve: bool = True, reason: str | None = None
):
    return domain.approvals.decide(
        short=short, user_id=user, team_id=TEAM, approve=approve, reason=reason
    )


def approvals(domain: Domain) -> list[Approval]:
    with domain.store.read_session() as session:
        return list(session.exec(select(Approval)).all())


# ── who is asked ─────────────────────────────────────────────────────────────────────────


def test_the_approvers_are_asked_with_the_givers_month(domain: Domain) -> None:
    domain.give(BOB, CHEN, 100, "first one")
    reward = give_big(domain)
    [asked] = domain.teller.of(ApprovalAsked)
    assert asked.reward.short_id == reward.short_id
    assert asked_ids(asked) == [APPROVER]  # approvers are set: the admins aren't asked
    [ask] = asked.asks
    card = ask.card
    assert not card.as_manager and card.threshold == 500
    assert card.reward.short_id == reward.short_id and card.reward.citation == CITATION
    assert card.reward.giver_id == BOB and card.reward.total == 600
    month = card.month
    assert month is not None
    assert (month.given_before, month.rewards_before, month.allowance) == (100, 1, 1000)
    assert not month.is_admin
    # who was asked, as recorded; their App Homes and the giver's change
    assert domain.approvals.asked(reward).user_ids == (APPROVER,)
    assert domain.teller.of(PeopleChanged)[-1].user_ids == (BOB, APPROVER)
    assert domain.reward(reward.short_id).status == S.PENDING_APPROVAL
    assert domain.wakes["delivery"] == 1  # only the first, small reward was queued


def test_without_approvers_the_admins_are_asked(make_domain) -> None:
    domain = make_domain(REWARD_APPROVERS="", REWARD_ADMINS=f"{ADMIN},{CHEN}")
    reward = give_big(domain)
    [asked] = domain.teller.of(ApprovalAsked)
    assert asked_ids(asked) == [ADMIN, CHEN]
    assert domain.approvals.asked(reward).user_ids == (ADMIN, CHEN)


def test_an_approvers_own_reward_goes_to_the_admins(domain: Domain) -> None:
    give_big(domain, giver=APPROVER)
    [asked] = domain.teller.of(ApprovalAsked)
    assert asked_ids(asked) == [ADMIN]


def test_an_approver_paid_by_the_reward_is_not_asked(domain: Domain) -> None:
    give_big(domain, to=APPROVER, amount=650)
    [asked] = domain.teller.of(ApprovalAsked)
    assert asked_ids(asked) == [ADMIN]


def test_approvers_who_are_gone_bots_or_unknown_are_skipped(make_domain) -> None:
    domain = make_domain(REWARD_APPROVERS=f"{GONE},UBOT0001,UNKNOWN1,{CHEN}")
    give_big(domain)
    [asked] = domain.teller.of(ApprovalAsked)
    assert asked_ids(asked) == [CHEN]


def test_when_nobody_can_be_asked_nobody_is(make_domain) -> None:
    domain = make_domain(REWARD_APPROVERS="", REWARD_ADMINS=BOB)
    reward = give_big(domain)
    [asked] = domain.teller.of(ApprovalAsked)
    assert asked.asks == ()
    assert domain.approvals.asked(reward).user_ids == ()


def test_the_givers_manager_is_asked_instead_of_the_approvers(domain: Domain) -> None:
    domain.people.set_manager(domain.store, BOB, CHEN)
    reward = give_big(domain)
    [asked] = domain.teller.of(ApprovalAsked)
    assert asked_ids(asked) == [CHEN] and asked.asks[0].card.as_manager
    found = domain.approvals.asked(reward)
    assert found.user_ids == (CHEN,) and found.via_manager

    done = decide(domain, CHEN, reward.short_id)
    assert isinstance(done, Decided)
    assert domain.reward(reward.short_id).status == S.QUEUED
    assert [a.decision for a in approvals(domain)] == ["approved"]


def test_a_manager_who_is_paid_by_the_reward_or_gone_is_not_asked(domain: Domain) -> None:
    domain.people.set_manager(domain.store, BOB, CHEN)
    give_big(domain, to=CHEN)
    domain.people.set_manager(domain.store, MARIA, GONE)
    domain.people.member_of(domain.store, GONE)  # deactivated, as the ledger knows
    give_big(domain, giver=MARIA, to=BOB)
    assert [asked_ids(a) for a in domain.teller.of(ApprovalAsked)] == [[APPROVER], [APPROVER]]


# ── deciding ─────────────────────────────────────────────────────────────────────────────


def test_the_first_decision_wins_and_every_copy_shows_it(make_domain) -> None:
    domain = make_domain(REWARD_APPROVERS=f"{APPROVER},{CHEN}")
    reward = give_big(domain)
    wakes = domain.wakes["delivery"]
    done = decide(domain, APPROVER, reward.short_id)
    assert isinstance(done, Decided)
    assert done.text == f"You approved reward `{reward.short_id}`. It's on its way."
    assert done.reward.status == S.QUEUED and domain.wakes["delivery"] == wakes + 1
    assert done.decision is not None and done.decision.outcome == "approved"
    assert done.decision.decided_by == APPROVER

    domain.teller.clear()
    domain.approvals.after_decision(done)
    [ended] = domain.teller.of(ApprovalEnded)
    assert ended.decision == done.decision and ended.reward.short_id == reward.short_id
    # both recorded copies, each in its reader's time zone
    assert sorted(c.channel_id for c in ended.copies) == [f"D{APPROVER}", f"D{CHEN}"]
    assert sorted(c.tz for c in ended.copies) == ["America/New_York", "Asia/Tokyo"]
    [giver] = domain.teller.of(GiverDecided)
    assert giver.decision == done.decision and giver.reward.giver.slack_user_id == BOB
    assert set(domain.teller.of(PeopleChanged)[-1].user_ids) == {BOB, APPROVER, CHEN}

    # A double click and a late click from the other approver change nothing.
    again = decide(domain, APPROVER, reward.short_id)
    assert isinstance(again, Refusal)
    assert again.text.startswith(f"You already approved reward `{reward.short_id}` on ")
    late = decide(domain, CHEN, reward.short_id, approve=False, reason="too much")
    assert isinstance(late, Refusal)
    assert late.text.startswith(f"Already approved by <@{APPROVER}> on ")
    assert late.text.endswith("Nothing was changed.")
    assert late.reward is not None and late.reward.status == S.QUEUED
    assert len(approvals(domain)) == 1
    with domain.store.read_session() as session:
        events = audit.events_for(session, subject_type="reward", subject_id=reward.short_id)
    assert [e.action for e in events].count(AuditAction.APPROVAL_DECIDED) == 1

    # The giver hears of the decision once, however often it is finished.
    domain.approvals.after_decision(done)
    assert domain.approvals.finish_own_decision(domain.reward(reward.short_id), APPROVER)
    assert len(domain.teller.of(GiverDecided)) == 1


def test_many_approvers_deciding_at_once_decide_once(make_domain) -> None:
    team = [f"UAPPX{n:03d}" for n in range(8)]
    domain = make_domain(REWARD_APPROVERS=",".join(team))
    for n, uid in enumerate(team):
        domain.people.add(Someone(uid, f"appr{n}", email=f"appr{n}@acme.test"))
    reward = give_big(domain)
    start = threading.Barrier(len(team))
    outcomes: dict[str, object] = {}

    def press(uid: str) -> None:
        start.wait()
        outcomes[uid] = decide(domain, uid, reward.short_id)

    threads = [threading.Thread(target=press, args=(uid,)) for uid in team]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    won = [uid for uid, o in outcomes.items() if isinstance(o, Decided)]
    assert len(won) == 1 and len(outcomes) == len(team)
    for uid, outcome in outcomes.items():
        if uid != won[0]:
            assert isinstance(outcome, Refusal)
            assert outcome.text.startswith(f"Already approved by <@{won[0]}>")
    [row] = approvals(domain)
    assert row.decision == "approved"
    assert domain.reward(reward.short_id).status == S.QUEUED


def test_a_rejection_keeps_its_reason_and_tells_the_giver(domain: Domain) -> None:
    reward = give_big(domain)
    done = decide(domain, APPROVER, reward.short_id, approve=False, reason="Over budget")
    assert isinstance(done, Decided)
    assert done.text == f"You rejected reward `{reward.short_id}`."
    assert done.reward.status == S.REJECTED
    assert done.decision is not None and done.decision.reason == "Over budget"
    domain.approvals.after_decision(done)
    [giver] = domain.teller.of(GiverDecided)
    assert giver.decision.outcome == "rejected" and giver.decision.reason == "Over budget"
    [row] = approvals(domain)
    assert row.decision == "rejected" and row.reason == "Over budget"
    late = decide(domain, ADMIN, reward.short_id)
    assert isinstance(late, Refusal)
    assert late.text.startswith(f"Already rejected by <@{APPROVER}> on ")
    assert "Reason: Over budget" in late.text
    assert domain.wakes["delivery"] == 0


# ── who may not ──────────────────────────────────────────────────────────────────────────


def test_who_may_not_decide_is_told_why_and_nothing_changes(domain: Domain) -> None:
    domain.people.set_manager(domain.store, BOB, ADMIN)  # a manager of someone else
    domain.people.set_manager(domain.store, APPROVER, CHEN)  # Chen manages Arthur
    reward = give_big(domain, giver=MARIA, to=BOB)
    for user, approve, text in [
        (MARIA, True, "You can't approve or reject your own reward"),
        (BOB, True, "You can't approve or reject a reward that pays you"),
        (CHEN, True, f"You can decide only for your own reports, and <@{MARIA}> isn't one"),
        (CHEN, False, f"You can decide only for your own reports, and <@{MARIA}> isn't one"),
        ("UNOMAIL1", True, f"Only <@{MARIA}>'s manager, the approvers and admins can approve"),
    ]:
        refused = decide(domain, user, reward.short_id, approve=approve)
        assert isinstance(refused, Refusal) and refused.text.startswith(text), (user, refused)
        assert isinstance(domain.approvals.check(reward.short_id, user), Refusal)
    assert domain.reward(reward.short_id).status == S.PENDING_APPROVAL
    assert approvals(domain) == [] and domain.sends() == []
    assert domain.teller.of(GiverDecided) == []


def test_an_unknown_reward_is_said_so(domain: Domain) -> None:
    for short in ("ZZZZZZ", ""):
        refused = decide(domain, APPROVER, short)
        assert isinstance(refused, Refusal) and refused.text.startswith("I can't find a reward")


# ── ended before anyone decided ──────────────────────────────────────────────────────────


def test_cancelled_and_expired_requests_answer_clearly_and_end_their_copies(
    domain: Domain,
) -> None:
    cancelled = give_big(domain)
    expired = give_big(domain, giver=CHEN, amount=500)
    with domain.store.session() as session:
        reward_repo.cancel_reward(session, reward_id=cancelled.id, actor=ADMIN, reason="duplicate")
    with domain.store.session() as session:
        gone = reward_repo.expire_pending(session, older_than=timedelta(0))
    assert [r.short_id for r in gone] == [expired.short_id]
    domain.teller.clear()

    late = decide(domain, APPROVER, cancelled.short_id)
    assert isinstance(late, Refusal) and f"was cancelled by <@{ADMIN}> on " in late.text
    late = decide(domain, APPROVER, expired.short_id, approve=False, reason="no")
    assert isinstance(late, Refusal) and "expired on" in late.text
    ended = {e.reward.short_id: e for e in domain.teller.of(ApprovalEnded)}
    assert ended[cancelled.short_id].decision.outcome == "cancelled"
    assert ended[expired.short_id].decision.outcome == "expired"
    assert [len(e.copies) for e in ended.values()] == [1, 1]
    # the copies end once, whoever comes late next
    decide(domain, ADMIN, cancelled.short_id)
    assert len(domain.teller.of(ApprovalEnded)) == 2
    assert approvals(domain) == [] and domain.sends() == []
