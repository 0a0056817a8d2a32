"""Trust on its ports: locking a giver (`bot.rewards.locks`) and flags from the ledger to an
admin's decision (`bot.rewards.flag_service`), with holds through the approval machinery."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import col, select

from bot.rewards.adjustments import AdjustmentsService
from bot.rewards.commands import AdjustPoints, LockGiver, UnlockGiver
from bot.rewards.events import ApprovalAsked, FlagsReported, LockChanged
from bot.rewards.flag_service import DISMISS, HOLD, LOCK, FlagDecided
from bot.rewards.gifts import GiftRequest
from bot.rewards.link_service import LinkService
from bot.rewards.policy import LOCKED_TEXT
from bot.rewards.refusal import Refusal
from bot.rewards.service import GiveRequest
from storage.models import AuditEvent, Member, RewardFlag
from storage.states import RewardSource
from storage.states import RewardStatus as S
from tests.domain.conftest import Domain
from tests.domain.support import (
    ADMIN,
    APPROVER,
    BOB,
    CHEN,
    HELPERBOT,
    MARIA,
    TEAM,
    SlackHiccup,
)

OTHER_ADMIN = "UADMIN02"


def lock(domain: Domain, who: str, reason: str | None = "gaming the points", *, by: str = ADMIN):
    return domain.locks.lock(LockGiver(member=who, reason=reason), admin_id=by, team_id=TEAM)


def unlock(domain: Domain, who: str, *, by: str = ADMIN):
    return domain.locks.unlock(UnlockGiver(member=who), admin_id=by, team_id=TEAM)


def attempt(domain: Domain, giver: str, to: str, amount: int = 50, key: str = "k"):
    return domain.rewards.give(
        GiveRequest(
            giver_id=giver,
            team_id=TEAM,
            recipient_ids=(to,),
            amount=amount,
            citation="thanks",
            values=(),
            channel_id="C0GENERAL",
            source=RewardSource.COMMAND,
            idempotency_key=key,
        )
    )


def audit_of(domain: Domain, action: str) -> list[AuditEvent]:
    with domain.store.read_session() as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
            ).all()
        )


def ring(domain: Domain, a: str = MARIA, b: str = BOB, n: int = 3) -> None:
    for i in range(n):
        domain.give(a, b, 50, f"thanks for the help #{i}")
        domain.give(b, a, 50, f"thanks right back #{i}")


# ── locking ──────────────────────────────────────────────────────────────────────────────


def test_a_locked_giver_is_refused_by_every_way_of_giving_but_still_receives(
    domain: Domain,
) -> None:
    said = lock(domain, MARIA)
    assert isinstance(said, str) and f"<@{MARIA}> is locked" in said
    # told once, by DM, without the admins' reason
    assert domain.teller.of(LockChanged) == [LockChanged(user_id=MARIA, locked=True)]

    for source_key in ("command", "modal", "shortcut"):
        refused = attempt(domain, MARIA, BOB, key=source_key)
        assert isinstance(refused, Refusal) and refused.text == LOCKED_TEXT
    assert "gaming" not in LOCKED_TEXT
    assert domain.teller.of(LockChanged) == [LockChanged(user_id=MARIA, locked=True)]  # once

    received = domain.give(BOB, MARIA, 50, "still welcome")  # she can receive
    assert received.status == S.QUEUED
    assert domain.statuses() == [S.QUEUED]  # nothing of hers was recorded

    [event] = audit_of(domain, "member.locked")
    assert (event.actor, event.subject_id, event.reason) == (ADMIN, MARIA, "gaming the points")


def test_a_locked_gift_sender_is_refused_at_the_form_and_at_the_order(make_domain) -> None:
    domain = make_domain(REWARD_GIFT_SENDERS=MARIA, REWARD_GIFT_MONTHLY_CAP="100000")
    assert not isinstance(domain.gifts.form(MARIA, donation=False, recipient=BOB), Refusal)
    lock(domain, MARIA)
    form = domain.gifts.form(MARIA, donation=False, recipient=BOB)
    assert isinstance(form, Refusal) and form.text == LOCKED_TEXT
    order = domain.gifts.submit(
        GiftRequest(
            user_id=MARIA,
            request_key="g1",
            donation=False,
            recipient_id=BOB,
            product_id=10001,
            amount="500",
            channel_id="C0GENERAL",
        )
    )
    assert isinstance(order, Refusal) and order.text == LOCKED_TEXT
    assert domain.calls("placeOrder") == []


def test_a_locked_givers_pending_reward_cannot_be_approved_but_can_be_rejected(
    domain: Domain,
) -> None:
    first = domain.give(MARIA, BOB, 500, "big help")
    second = domain.give(MARIA, CHEN, 500, "big help too")
    assert first.status == S.PENDING_APPROVAL
    lock(domain, MARIA)
    refused = domain.approvals.decide(
        short=first.short_id, user_id=APPROVER, team_id=TEAM, approve=True
    )
    assert isinstance(refused, Refusal) and "is locked from giving" in refused.text
    assert domain.reward(first.short_id).status == S.PENDING_APPROVAL
    rejected = domain.approvals.decide(
        short=second.short_id, user_id=APPROVER, team_id=TEAM, approve=False, reason="locked"
    )
    assert not isinstance(rejected, Refusal)
    assert domain.reward(second.short_id).status == S.REJECTED
    unlock(domain, MARIA)
    approved = domain.approvals.decide(
        short=first.short_id, user_id=APPROVER, team_id=TEAM, approve=True
    )
    assert not isinstance(approved, Refusal)
    assert domain.reward(first.short_id).status == S.QUEUED


def test_send_again_by_a_locked_giver_is_refused(domain: Domain) -> None:
    domain.xoxoday.state.set_balance(Decimal("10"))  # the account is short: Xoxoday refuses
    failed = domain.given_and_sent(MARIA, BOB, 50, "the release")
    assert failed.status == S.FAILED
    domain.xoxoday.state.set_balance(Decimal("100000"))
    lock(domain, MARIA)
    again = domain.rewards.send_again(giver_id=MARIA, team_id=TEAM, short_id=failed.short_id)
    assert isinstance(again, Refusal) and again.text == LOCKED_TEXT


def test_lock_and_unlock_say_plainly_when_nothing_changes(domain: Domain) -> None:
    cases = [
        (lock(domain, ADMIN), "You can't lock yourself"),
        (lock(domain, HELPERBOT), "is a bot"),
        (lock(domain, "UNOBODY1"), "I can't find"),
        (lock(domain, MARIA, by=BOB), "Only admins can lock givers"),
        (unlock(domain, MARIA), "isn't locked"),
    ]
    for said, expected in cases:
        assert isinstance(said, Refusal) and expected in said.text, (said, expected)
    assert isinstance(lock(domain, MARIA), str)
    again = lock(domain, MARIA, "another reason")
    assert isinstance(again, Refusal) and "already locked" in again.text
    assert len(audit_of(domain, "member.locked")) == 1
    assert domain.teller.of(LockChanged) == [LockChanged(user_id=MARIA, locked=True)]

    said = unlock(domain, MARIA)
    assert isinstance(said, str) and "can give rewards again" in said
    assert domain.teller.of(LockChanged)[-1] == LockChanged(user_id=MARIA, locked=False)
    assert isinstance(unlock(domain, MARIA), Refusal)
    [unlocked] = audit_of(domain, "member.unlocked")
    assert unlocked.actor == ADMIN and unlocked.subject_id == MARIA
    assert not isinstance(attempt(domain, MARIA, BOB), Refusal)  # she gives again


def test_admins_see_who_is_locked(domain: Domain) -> None:
    assert domain.locks.locks(ADMIN) == []
    lock(domain, MARIA, "ring with Bob")
    lock(domain, BOB, None)
    lines = domain.locks.locks(ADMIN)
    assert not isinstance(lines, Refusal)
    assert [(x.user_id, x.locked_by, x.reason) for x in lines] == [
        (MARIA, ADMIN, "ring with Bob"),
        (BOB, ADMIN, None),
    ]
    refused = domain.locks.locks(MARIA)
    assert isinstance(refused, Refusal) and "Only admins" in refused.text


# ── flags ────────────────────────────────────────────────────────────────────────────────


def flags(domain: Domain) -> list[RewardFlag]:
    with domain.store.read_session() as session:
        return list(session.exec(select(RewardFlag).order_by(col(RewardFlag.id))).all())


def test_a_ring_is_flagged_once_and_reported_once_to_each_admin(make_domain) -> None:
    domain = make_domain(REWARD_ADMINS=f"{ADMIN},{OTHER_ADMIN}")
    ring(domain)
    domain.give(MARIA, CHEN, 10, "a little something")  # under 20 %: still a ring
    [raised] = domain.flags.scan()
    assert raised.rule.value == "ring" and raised.people == tuple(sorted((BOB, MARIA)))
    assert len(raised.gifts) == 6
    assert domain.flags.scan() == []  # the same flag is not raised again this month
    assert len(flags(domain)) == 1
    assert domain.statuses().count(S.QUEUED) == 7  # a flag holds nothing by itself

    assert domain.flags.report("2026-12-07T09:00:00+00:00") == (1, 2)
    reported = domain.teller.of(FlagsReported)
    assert sorted(r.admin_id for r in reported) == sorted([ADMIN, OTHER_ADMIN])
    assert [c.flag_id for c in reported[0].flags] == [raised.flag_id]
    assert domain.flags.report("2026-12-07T09:00:00+00:00") == (0, 0)  # reported: not again
    assert domain.flags.report("2026-12-08T09:00:00+00:00") == (0, 0)  # nor the next day
    [event] = audit_of(domain, "flag.raised")
    assert event.actor == "system" and event.subject_id == str(raised.flag_id)


def test_a_report_interrupted_before_it_was_marked_is_sent_again_later_never_twice_a_run(
    domain: Domain,
) -> None:
    ring(domain)
    domain.flags.scan()
    domain.teller.fail_next(1)  # Slack down while the admin's DM is posted
    with pytest.raises(SlackHiccup):
        domain.flags.report("run-1")
    assert domain.teller.of(FlagsReported) == []
    assert domain.flags.report("run-1") == (1, 0)  # the same run: claimed, never twice
    assert domain.flags.report("run-2") == (1, 1)  # the next day: the flag is still there
    assert len(domain.teller.of(FlagsReported)) == 1


def test_lock_the_giver_from_a_flag_once_however_often_it_is_clicked(make_domain) -> None:
    domain = make_domain(REWARD_ADMINS=f"{ADMIN},{OTHER_ADMIN}")
    ring(domain, n=3)
    domain.give(BOB, MARIA, 40, "one more")  # Bob gave the most in the ring
    [card] = domain.flags.scan()
    assert card.giver == BOB

    refused = domain.flags.decide(flag_id=card.flag_id, admin_id=MARIA, decision=LOCK)
    assert isinstance(refused, Refusal) and "Only admins" in refused.text

    first = domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=LOCK)
    assert isinstance(first, FlagDecided) and first.first
    assert f"<@{BOB}> is locked" in first.text
    again = domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=LOCK)
    assert isinstance(again, FlagDecided) and not again.first
    assert not domain.flags.answered(card.flag_id)
    domain.flags.mark_answered(card.flag_id)
    assert domain.flags.answered(card.flag_id)
    resumed = domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=LOCK, resumed=True)
    assert isinstance(resumed, FlagDecided) and not resumed.first

    other = domain.flags.decide(flag_id=card.flag_id, admin_id=OTHER_ADMIN, decision=DISMISS)
    assert (
        isinstance(other, Refusal)
        and f"already decided by locking the giver by <@{ADMIN}>" in other.text
    )

    assert domain.teller.of(LockChanged) == [LockChanged(user_id=BOB, locked=True)]
    assert attempt(domain, BOB, CHEN) == Refusal(LOCKED_TEXT, code="locked")
    assert domain.give(MARIA, BOB, 10, "he can still receive").status == S.QUEUED
    [decided] = audit_of(domain, "flag.decided")
    assert decided.actor == ADMIN and decided.after["status"] == "locked"
    [locked] = audit_of(domain, "member.locked")
    assert locked.reason is not None and f"flag {card.flag_id}" in locked.reason
    with domain.store.read_session() as session:
        bob = session.exec(select(Member).where(Member.slack_user_id == BOB)).one()
    assert bob.locked_by == ADMIN


def test_dismiss_changes_nothing_but_the_flag(domain: Domain) -> None:
    ring(domain)
    [card] = domain.flags.scan()
    done = domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=DISMISS)
    assert isinstance(done, FlagDecided) and "dismissed" in done.text
    assert domain.give(MARIA, BOB, 50, "thanks again").status == S.QUEUED
    assert domain.teller.of(LockChanged) == []
    [row] = flags(domain)
    assert (row.status, row.decided_by) == ("dismissed", ADMIN)


def test_hold_future_ones_makes_the_next_matching_reward_wait_for_an_admin(
    domain: Domain,
) -> None:
    ring(domain)
    [card] = domain.flags.scan()
    done = domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=HOLD)
    assert isinstance(done, FlagDecided)

    held = domain.give(MARIA, BOB, 50, "and again")
    assert held.status == S.PENDING_APPROVAL and held.reward.held_for == "ring"
    [asked] = [a for a in domain.teller.of(ApprovalAsked) if a.reward.short_id == held.short_id]
    assert [a.member.slack_user_id for a in asked.asks] == [ADMIN]  # an admin, not approvers
    refused = domain.approvals.decide(
        short=held.short_id, user_id=APPROVER, team_id=TEAM, approve=True
    )
    assert isinstance(refused, Refusal) and "only an admin" in refused.text
    assert domain.approvals.pending_for(APPROVER) == []  # not in the approver's list
    assert [c.reward.short_id for c in domain.approvals.pending_for(ADMIN)] == [held.short_id]
    approved = domain.approvals.decide(
        short=held.short_id, user_id=ADMIN, team_id=TEAM, approve=True
    )
    assert not isinstance(approved, Refusal)
    assert domain.reward(held.short_id).status == S.QUEUED

    assert domain.give(MARIA, CHEN, 50, "someone else").status == S.QUEUED  # not the ring
    [event] = audit_of(domain, "reward.held")
    assert event.subject_id == held.short_id


def test_a_rule_held_in_the_settings_holds_without_any_flag(make_domain) -> None:
    domain = make_domain(REWARD_FLAG_HOLD="repeat")
    for _ in range(2):
        domain.give(MARIA, BOB, 50, "Great demo!")
    held = domain.give(MARIA, BOB, 50, "great demo")
    assert held.status == S.PENDING_APPROVAL and held.reward.held_for == "repeat"
    assert domain.give(MARIA, BOB, 50, "the docs").status == S.QUEUED


def test_a_lock_dm_that_did_not_go_out_is_sent_by_the_resumed_click_once(domain: Domain) -> None:
    ring(domain)
    [card] = domain.flags.scan()
    domain.teller.fail_next(1)  # Slack down while the giver's DM is posted
    first = domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=LOCK)
    assert isinstance(first, FlagDecided) and first.first
    assert domain.teller.of(LockChanged) == []
    live = domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=LOCK)
    assert isinstance(live, FlagDecided) and domain.teller.of(LockChanged) == []  # a double click
    for _ in range(2):  # resumed after a restart (and again): told once
        domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=LOCK, resumed=True)
    assert domain.teller.of(LockChanged) == [LockChanged(user_id=card.giver, locked=True)]
    assert len(audit_of(domain, "member.locked")) == 1


def test_a_locked_senders_gift_order_waiting_for_approval_cannot_be_approved(
    make_domain,
) -> None:
    domain = make_domain(
        REWARD_GIFT_SENDERS=MARIA, REWARD_GIFT_MONTHLY_CAP="100000", REWARD_APPROVAL_THRESHOLD=100
    )
    card = domain.gifts.submit(
        GiftRequest(
            user_id=MARIA,
            request_key="g1",
            donation=False,
            recipient_id=BOB,
            product_id=10001,
            amount="500",
            channel_id="C0GENERAL",
        )
    )
    assert not isinstance(card, Refusal) and card.status.value == "pending_approval"
    lock(domain, MARIA)
    refused = domain.gifts.decide(po_number=card.po_number, user_id=APPROVER, approve=True)
    assert isinstance(refused, Refusal) and "is locked from giving" in refused.text
    rejected = domain.gifts.decide(po_number=card.po_number, user_id=APPROVER, approve=False)
    assert not isinstance(rejected, Refusal)
    assert domain.calls("placeOrder") == []


def test_a_lock_command_whose_dm_did_not_go_out_tells_when_run_again(domain: Domain) -> None:
    domain.teller.fail_next(1)  # Slack down while Maria's DM is posted
    assert isinstance(lock(domain, MARIA), str)
    assert domain.teller.of(LockChanged) == []
    for _ in range(2):  # the command resumed after a restart, then typed again
        again = lock(domain, MARIA)
        assert isinstance(again, Refusal) and "already locked" in again.text
    assert domain.teller.of(LockChanged) == [LockChanged(user_id=MARIA, locked=True)]
    other = lock(domain, MARIA, by="UADMIN02")
    assert isinstance(other, Refusal)
    assert len(domain.teller.of(LockChanged)) == 1


def test_a_locked_admin_cannot_unlock_themselves_nor_add_points_to_anyone(make_domain) -> None:
    domain = make_domain(
        REWARD_ADMINS=f"{ADMIN},{BOB}", REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY="k"
    )
    assert isinstance(lock(domain, BOB, "paying a friend"), str)

    mine = unlock(domain, BOB, by=BOB)
    assert isinstance(mine, Refusal)
    assert mine.text == (
        "You can't unlock yourself: another admin decides when your giving resumes."
    )
    assert audit_of(domain, "member.unlocked") == []

    adjustments = AdjustmentsService(
        store=domain.store, people=domain.people, settings=domain.settings, teller=domain.teller
    )
    added = adjustments.adjust(
        AdjustPoints(member=MARIA, points=1000, reason="a bonus"),
        admin_id=BOB,
        team_id=TEAM,
        request_key="k-add",
    )
    assert isinstance(added, Refusal) and added.text == LOCKED_TEXT
    assert adjustments.available(member_id=MARIA) == 0
    assert isinstance(unlock(domain, BOB), str)  # another admin can


def test_lock_the_giver_on_a_flag_about_yourself_is_refused(make_domain) -> None:
    domain = make_domain(REWARD_ADMINS=f"{ADMIN},{BOB}")
    ring(domain, n=3)
    domain.give(BOB, MARIA, 40, "one more")  # Bob gave the most in the ring
    [card] = domain.flags.scan()
    assert card.giver == BOB
    refused = domain.flags.decide(flag_id=card.flag_id, admin_id=BOB, decision=LOCK)
    assert isinstance(refused, Refusal)
    assert refused.text == (
        "This flag is about you, so another admin decides it. Nothing was changed."
    )
    with domain.store.read_session() as session:
        bob = session.exec(select(Member).where(Member.slack_user_id == BOB)).one()
        flag = session.get(RewardFlag, card.flag_id)
    assert bob.locked_at is None
    assert flag is not None and flag.decided_by is None


def test_a_locked_admin_makes_no_reward_links(make_domain) -> None:
    domain = make_domain(REWARD_ADMINS=f"{ADMIN},{BOB}")
    links = LinkService(
        store=domain.store,
        plum=domain.plum,
        people=domain.people,
        settings=domain.settings,
        teller=domain.teller,
    )
    assert isinstance(lock(domain, BOB, "links to friends"), str)
    batch = links.make(admin_id=BOB, team_id=TEAM, campaign_id=7891, count=5, expiry=None)
    assert isinstance(batch, Refusal) and batch.text == LOCKED_TEXT
    one = links.give_link(
        admin_id=BOB,
        team_id=TEAM,
        campaign_id=7891,
        recipient_id=MARIA,
        expiry=None,
        note=None,
        request_key="k-link",
    )
    assert isinstance(one, Refusal) and one.text == LOCKED_TEXT
    assert domain.calls("generateLink") == []


@pytest.mark.parametrize("decision", [DISMISS, HOLD])
def test_an_admin_in_a_flag_cannot_decide_it(make_domain, decision: str) -> None:
    """Bob, an admin, gives in a ring with Maria: he can't dismiss the flag about himself."""
    domain = make_domain(REWARD_ADMINS=f"{ADMIN},{BOB}")
    ring(domain, n=3)
    [card] = domain.flags.scan()
    assert BOB in card.people
    refused = domain.flags.decide(flag_id=card.flag_id, admin_id=BOB, decision=decision)
    assert isinstance(refused, Refusal)
    assert refused.text == (
        "This flag is about you, so another admin decides it. Nothing was changed."
    )
    with domain.store.read_session() as session:
        flag = session.get(RewardFlag, card.flag_id)
    assert flag is not None and flag.decided_by is None
    decided = domain.flags.decide(flag_id=card.flag_id, admin_id=ADMIN, decision=decision)
    assert isinstance(decided, FlagDecided) and decided.first
