"""Cancelling (`bot.rewards.cancel_service`) on its ports: a sent reward's points withdrawn with
cancelBalance (what Xoxoday keeps is said plainly and audited), a reward not sent yet cancelled
in the ledger alone (its approval copies ended), points in the bot taken back in the cancel's
own transaction, one `RewardCancelled` per cancel, and every other status refused clearly."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import col, select

from bot.rewards.cancel_service import Cancelled
from bot.rewards.events import ApprovalEnded, RewardCancelled
from bot.rewards.refusal import Refusal
from storage import members as member_repo
from storage import points as points_repo
from storage import rewards as reward_repo
from storage.audit import AuditAction
from storage.models import AuditEvent
from storage.rewards import RewardDetails
from storage.states import RecipientOutcome, RewardStatus
from tests.domain.conftest import Domain, SandboxClock
from tests.domain.support import ADMIN, APPROVER, BOB, CHEN, MARIA

S = RewardStatus


def sent(domain: Domain, to: str | list[str] = MARIA, amount: int = 100) -> RewardDetails:
    reward = domain.give(BOB, to, amount, "great demo")
    domain.deliver()
    done = domain.reward(reward.short_id)
    assert done.status == S.SENT
    domain.teller.clear()
    return done


def cancel(domain: Domain, short: str, reason: str, *, admin: str = ADMIN) -> Cancelled | Refusal:
    return domain.cancels.cancel(admin_id=admin, short_id=short, reason=reason)


def audit_trail(domain: Domain, short: str) -> list[AuditEvent]:
    with domain.store.read_session() as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.subject_id == short)
                .order_by(col(AuditEvent.id))
            ).all()
        )


def ids(lines: tuple[object, ...]) -> list[str]:
    return [line.member.slack_user_id for line in lines]  # type: ignore[attr-defined]


# ── sent rewards ─────────────────────────────────────────────────────────────────────────


def test_a_sent_reward_is_withdrawn_once_and_told(domain: Domain) -> None:
    reward = sent(domain)
    done = cancel(domain, reward.short_id, "sent to the wrong person")
    assert isinstance(done, Cancelled)
    assert done.was == S.SENT and ids(done.withdrawn) == [MARIA] and done.kept == ()
    [call] = domain.calls("cancelBalance")
    unique_id = reward.recipients[0].recipient.plum_unique_id
    assert call["variables"]["recipients_data"]["recipients"] == [
        {"unique_id": int(unique_id or 0)}
    ]
    assert domain.xoxoday.state.points_of("maria@acme.test") == 0

    after = domain.reward(reward.short_id)
    assert after.status == S.CANCELLED and after.reward.cancelled_by == ADMIN
    assert after.reward.cancel_reason == "sent to the wrong person"
    assert [r.outcome for r in after.recipients] == [RecipientOutcome.CANCELLED]
    assert audit_trail(domain, reward.short_id)[-1].action == AuditAction.REWARD_CANCELLED
    [told] = domain.teller.of(RewardCancelled)
    assert told.outcome == done and told.admin_id == ADMIN
    assert told.reason == "sent to the wrong person"

    again = cancel(domain, reward.short_id.lower(), "twice")
    assert isinstance(again, Refusal)
    assert again.text.startswith(
        f"Reward `{reward.short_id}` was already cancelled by <@{ADMIN}> on "
    )
    assert len(domain.calls("cancelBalance")) == 1 and len(domain.teller.events) == 1


def test_redeemed_points_cannot_be_withdrawn(domain: Domain) -> None:
    """Moved from tests/e2e/test_cancel.py."""
    reward = sent(domain)
    domain.xoxoday.state.redeem("maria@acme.test", 10)
    refused = cancel(domain, reward.short_id, "oops")
    assert isinstance(refused, Refusal)
    assert f"Xoxoday refused to withdraw the points of reward `{reward.short_id}`" in refused.text
    assert (
        f"<@{MARIA}> (100 points): they have already redeemed some or all of them." in refused.text
    )
    assert "recorded in the audit trail" in refused.text
    assert domain.reward(reward.short_id).status == S.SENT
    last = audit_trail(domain, reward.short_id)[-1]
    assert last.action == AuditAction.REWARD_CANCEL_REFUSED and last.reason == "oops"
    assert "redeemed" in json.dumps(last.after)
    assert domain.teller.events == []  # nobody hears of a withdrawal
    assert domain.xoxoday.state.points_of("maria@acme.test") == 90


def test_points_older_than_90_days_cannot_be_withdrawn(
    domain: Domain, xoxoday_clock: SandboxClock
) -> None:
    """Moved from tests/e2e/test_cancel.py."""
    reward = sent(domain)
    xoxoday_clock.ahead = timedelta(days=91)
    refused = cancel(domain, reward.short_id, "too late")
    assert isinstance(refused, Refusal)
    assert "Xoxoday only withdraws points within 90 days of sending" in refused.text
    assert reward.reward.sent_at is not None
    sent_on = reward.reward.sent_at.astimezone(ZoneInfo("Europe/London")).date()  # the admin's
    assert f"(these were sent on {sent_on.day} {sent_on:%B %Y})" in refused.text
    assert domain.reward(reward.short_id).status == S.SENT
    assert audit_trail(domain, reward.short_id)[-1].action == AuditAction.REWARD_CANCEL_REFUSED
    assert domain.teller.events == []


def test_only_the_points_xoxoday_gives_back_are_withdrawn(domain: Domain) -> None:
    reward = sent(domain, to=[MARIA, CHEN], amount=50)
    domain.xoxoday.state.redeem("chen@acme.test", 50)
    done = cancel(domain, reward.short_id, "duplicate")
    assert isinstance(done, Cancelled)
    assert ids(done.withdrawn) == [MARIA]
    [(kept, why)] = done.kept
    assert kept.member.slack_user_id == CHEN
    assert why == "they have already redeemed some or all of them"
    after = domain.reward(reward.short_id)
    assert after.status == S.CANCELLED
    assert {r.member.slack_user_id: r.outcome for r in after.recipients} == {
        MARIA: RecipientOutcome.CANCELLED,
        CHEN: RecipientOutcome.SENT,
    }
    [told] = domain.teller.of(RewardCancelled)
    assert ids(told.outcome.withdrawn) == [MARIA]


def check(domain: Domain, short: str) -> RewardDetails | Refusal:
    """What `/reward cancel` looks at before it asks the admin to confirm."""
    return domain.cancels.check(admin_id=ADMIN, short_id=short)


def test_points_sent_more_than_90_days_ago_are_refused_before_asking(domain: Domain) -> None:
    """Xoxoday keeps them: the admin hears so at once (no "are you sure?", no cancelBalance),
    and a confirmation pressed anyway gets the same answer."""
    reward = sent(domain, to=[MARIA, CHEN], amount=50)
    sent_at = reward.recipients[0].recipient.sent_at
    assert sent_at is not None
    with time_machine.travel(sent_at + timedelta(days=100), tick=True):
        refused = check(domain, reward.short_id)
        assert isinstance(refused, Refusal)
        sent_on = sent_at.astimezone(ZoneInfo("Europe/London")).date()  # the admin's
        assert refused.text == (
            f"Reward `{reward.short_id}` can't be cancelled: Xoxoday keeps its points.\n"
            f"• <@{MARIA}> (50 points): Xoxoday only withdraws points within 90 days of "
            f"sending (these were sent on {sent_on.day} {sent_on:%B %Y}).\n"
            f"• <@{CHEN}> (50 points): Xoxoday only withdraws points within 90 days of "
            f"sending (these were sent on {sent_on.day} {sent_on:%B %Y}).\n"
            "Nothing changed."
        )
        assert cancel(domain, reward.short_id, "too late") == refused
    assert domain.calls("cancelBalance") == []
    assert domain.reward(reward.short_id).status == S.SENT
    trail = [e.action for e in audit_trail(domain, reward.short_id)]
    assert AuditAction.REWARD_CANCEL_REFUSED not in trail  # Xoxoday was not asked
    assert domain.teller.events == []


def test_near_the_90_day_edge_xoxoday_is_asked(domain: Domain) -> None:
    """Xoxoday may count the days its own way: a day's margin past the window, it decides."""
    reward = sent(domain)
    sent_at = reward.recipients[0].recipient.sent_at
    assert sent_at is not None
    with time_machine.travel(sent_at + timedelta(days=90, hours=12), tick=True):
        asked = check(domain, reward.short_id)
        assert not isinstance(asked, Refusal)
        assert asked.short_id == reward.short_id


def test_points_xoxoday_said_were_redeemed_are_refused_at_once_next_time(
    domain: Domain,
) -> None:
    reward = sent(domain)
    domain.xoxoday.state.redeem("maria@acme.test", 10)
    first = cancel(domain, reward.short_id, "oops")
    assert isinstance(first, Refusal) and "Xoxoday refused" in first.text
    assert len(domain.calls("cancelBalance")) == 1

    again = check(domain, reward.short_id)
    assert isinstance(again, Refusal)
    assert again.text == (
        f"Reward `{reward.short_id}` can't be cancelled: Xoxoday keeps its points.\n"
        f"• <@{MARIA}> (100 points): they have already redeemed some or all of them "
        "(Xoxoday said so when asked before).\n"
        "Nothing changed."
    )
    assert cancel(domain, reward.short_id, "oops") == again
    assert len(domain.calls("cancelBalance")) == 1  # not asked to refuse again
    assert domain.reward(reward.short_id).status == S.SENT


def test_a_lost_answer_is_safe_to_retry(make_domain) -> None:
    """Moved from tests/e2e/test_cancel.py (the answer after the retry, and the withdrawal
    DM, are drawn from the same `Cancelled` as in test_a_sent_reward_is_withdrawn_and_everyone_
    is_told, which the e2e suite keeps)."""
    domain = make_domain(plum_timeout=0.5)
    reward = sent(domain)
    domain.xoxoday.faults.set("cancelBalance", hang=True, apply_first=True, count=1)
    lost = cancel(domain, reward.short_id, "wrong person")
    assert isinstance(lost, Refusal) and "answer was lost" in lost.text
    assert "Run the same command again in a minute" in lost.text
    assert domain.reward(reward.short_id).status == S.SENT  # nothing recorded yet
    assert domain.xoxoday.state.points_of("maria@acme.test") == 0  # but Xoxoday did it
    assert domain.teller.events == []

    again = cancel(domain, reward.short_id, "wrong person")
    assert isinstance(again, Cancelled) and ids(again.withdrawn) == [MARIA]
    assert again.was == S.SENT and again.kept == ()
    assert domain.reward(reward.short_id).status == S.CANCELLED
    [told] = domain.teller.of(RewardCancelled)
    assert told.outcome == again


def test_xoxoday_trouble_changes_nothing(domain: Domain) -> None:
    """Moved from tests/e2e/test_cancel.py."""
    reward = sent(domain)
    domain.xoxoday.faults.set("cancelBalance", error="PIPE10017")
    refused = cancel(domain, reward.short_id, "wrong person")
    assert isinstance(refused, Refusal) and "just now" in refused.text
    assert "Nothing was withdrawn; try again in a minute." in refused.text
    assert "Traceback" not in refused.text
    assert domain.reward(reward.short_id).status == S.SENT
    assert domain.xoxoday.state.points_of("maria@acme.test") == 100
    assert domain.teller.events == []


def test_two_cancels_at_once_withdraw_once(domain: Domain) -> None:
    reward = sent(domain)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def press() -> None:
        start.wait()
        outcomes.append(cancel(domain, reward.short_id, "oops"))

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(type(o).__name__ for o in outcomes) == ["Cancelled", "Refusal"]
    assert len(domain.calls("cancelBalance")) == 1
    assert len(domain.teller.of(RewardCancelled)) == 1


# ── rewards not sent (yet) ───────────────────────────────────────────────────────────────


def test_a_reward_waiting_for_approval_is_cancelled_without_xoxoday(domain: Domain) -> None:
    reward = domain.give(BOB, CHEN, 600, "carried the quarter")
    assert reward.status == S.PENDING_APPROVAL
    domain.teller.clear()
    done = cancel(domain, reward.short_id, "over budget")
    assert isinstance(done, Cancelled) and done.was == S.PENDING_APPROVAL
    assert done.withdrawn == () and done.kept == ()
    assert domain.calls("cancelBalance") == []
    after = domain.reward(reward.short_id)
    assert after.status == S.CANCELLED
    assert [r.outcome for r in after.recipients] == [RecipientOutcome.NOT_SENT]
    # the approver's copy of the request ends, then everyone concerned hears of the cancel
    [ended] = domain.teller.of(ApprovalEnded)
    assert ended.decision.outcome == "cancelled" and ended.decision.decided_by == ADMIN
    assert ended.decision.reason == "over budget"
    assert [c.channel_id for c in ended.copies] == [f"D{APPROVER}"]
    [told] = domain.teller.of(RewardCancelled)
    assert told.outcome == done and told.reason == "over budget"
    assert domain.teller.kinds().index("ApprovalEnded") < domain.teller.kinds().index(
        "RewardCancelled"
    )


def test_a_queued_reward_is_cancelled_and_never_sent(domain: Domain) -> None:
    reward = domain.give(BOB, MARIA, 100, "great demo")
    done = cancel(domain, reward.short_id, "not yet")
    assert isinstance(done, Cancelled) and done.was == S.QUEUED
    assert domain.worker.run_once() is False  # nothing left to send
    assert domain.sends() == [] and domain.calls("cancelBalance") == []
    assert domain.teller.of(ApprovalEnded) == []
    [told] = domain.teller.of(RewardCancelled)
    assert told.outcome.reward.status == S.CANCELLED


def test_a_reward_being_sent_or_in_doubt_must_wait(domain: Domain) -> None:
    """Moved from tests/e2e/test_cancel.py."""
    reward = domain.give(BOB, MARIA, 100, "great demo")
    with domain.store.session() as session:
        reward_repo.claim_for_delivery(session, reward_id=reward.id)
    for ask in (domain.cancels.check, None):
        refused = (
            ask(admin_id=ADMIN, short_id=reward.short_id)
            if ask
            else cancel(domain, reward.short_id, "stop")
        )
        assert isinstance(refused, Refusal) and "right now" in refused.text
        assert f"Reward `{reward.short_id}` is being sent to Xoxoday right now." in refused.text
    with domain.store.session() as session:
        reward_repo.record_delivery(session, reward_id=reward.id, outcome="in_doubt")
    refused = cancel(domain, reward.short_id, "stop")
    assert isinstance(refused, Refusal) and "in doubt" in refused.text
    assert "Settle it first with *It was sent* or *It failed*" in refused.text
    assert domain.calls("cancelBalance") == []
    assert domain.reward(reward.short_id).status == S.IN_DOUBT
    assert domain.teller.events == []


def test_a_failed_reward_has_nothing_to_withdraw(domain: Domain) -> None:
    """Moved from tests/e2e/test_cancel.py."""
    domain.xoxoday.state.set_balance(Decimal(0))
    reward = domain.give(BOB, MARIA, 100, "great demo")
    domain.deliver()
    assert domain.reward(reward.short_id).status == S.FAILED
    domain.teller.clear()
    refused = cancel(domain, reward.short_id, "never mind")
    assert isinstance(refused, Refusal) and "never sent" in refused.text
    assert "so there are no points to withdraw" in refused.text
    assert domain.calls("cancelBalance") == [] and domain.teller.events == []


# ── who and what ─────────────────────────────────────────────────────────────────────────


def test_only_admins_cancel(domain: Domain) -> None:
    reward = sent(domain)
    for user in (BOB, APPROVER, MARIA):
        for refused in (
            cancel(domain, reward.short_id, "mine", admin=user),
            domain.cancels.check(admin_id=user, short_id=reward.short_id),
        ):
            assert isinstance(refused, Refusal)
            assert refused.text == (
                f"Only admins can cancel rewards. If it needs doing, ask <@{ADMIN}>."
            )
    assert domain.calls("cancelBalance") == [] and domain.teller.events == []
    assert domain.reward(reward.short_id).status == S.SENT


def test_an_unknown_reward_id(domain: Domain) -> None:
    """Moved from tests/e2e/test_cancel.py."""
    for refused in (
        domain.cancels.check(admin_id=ADMIN, short_id="ZZZZZZ"),
        cancel(domain, "ZZZZZZ", "typo"),
    ):
        assert isinstance(refused, Refusal) and "can't find" in refused.text
        assert "I can't find a reward `ZZZZZZ`" in refused.text
        assert "/reward history" in refused.text


# ── points in the bot ────────────────────────────────────────────────────────────────────


def test_points_in_the_bot_are_taken_back_but_what_was_spent_stays_spent(make_domain) -> None:
    domain = make_domain(REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY="k")
    reward = sent(domain)
    with domain.store.session() as session:
        maria = member_repo.get_member_by_slack_id(session, slack_user_id=MARIA)
        assert maria is not None and maria.id is not None
        points_repo.redeem(
            session, member_id=maria.id, order_id="store-1", cents=3000, today=date.today()
        )
    done = cancel(domain, reward.short_id, "wrong person")
    assert isinstance(done, Cancelled) and done.in_ledger and done.was == S.SENT
    assert ids(done.withdrawn) == [MARIA]
    assert dict(done.taken_points) == {MARIA: 70} and dict(done.kept_points) == {MARIA: 30}
    assert [why for _, why in done.kept] == ["already spent in Xoxoday's store"]
    assert domain.calls("cancelBalance") == []
    assert domain.reward(reward.short_id).status == S.CANCELLED
    with domain.store.read_session() as session:
        left = points_repo.balance(session, member_id=maria.id, today=date.today())
    assert left.available == 0
    [told] = domain.teller.of(RewardCancelled)
    assert told.outcome == done
    actions = [e.action for e in audit_trail(domain, reward.short_id)]
    assert AuditAction.POINTS_TAKEN_BACK in actions and actions[-1] == AuditAction.REWARD_CANCELLED
