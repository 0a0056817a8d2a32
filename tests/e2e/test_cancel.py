"""`/reward cancel <reward-id> <reason>` end to end: asked first, then cancelBalance for sent
rewards, what Xoxoday keeps said plainly, rewards not yet sent cancelled in the ledger alone, and
bad input answered in the ack. What the cancel service decides on its own (Xoxoday's refusals,
a lost answer, every status that can't be cancelled) is tested in tests/domain/test_cancel.py."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import time_machine
from sqlmodel import select

from storage import rewards as reward_repo
from storage.audit import AuditAction
from storage.models import AuditEvent, Reward
from storage.rewards import RewardDetails
from tests.e2e.harness import (
    ADMIN,
    APPROVER,
    BOB,
    CHEN,
    MARIA,
    BotHarness,
    actions_in,
    answer_cancel,
    message_text,
)


def answers(bot: BotHarness, user: str) -> list[str]:
    return [message_text(m) for m in bot.fake.ephemerals(user, source="response_url")]


def ask(
    bot: BotHarness, text: str, *, user: str = ADMIN, marker: str = "", confirm: bool = True
) -> str:
    """Run `/reward text` and return the follow-up answer (which must contain `marker`); when
    it asks to confirm a cancel, confirm it (`confirm`) and return what replaces the question."""
    before = len(answers(bot, user))
    response = bot.driver.command(text, user_id=user)
    assert response.status_code == 200
    answer = bot.wait(lambda: answers(bot, user)[before:])[0]
    if confirm and "Nothing changes until you confirm" in answer:
        answer = answer_cancel(bot.fake, bot.driver, user)
    assert marker in answer, answer
    return answer


def reward_by_points(bot: BotHarness, total: int) -> RewardDetails:
    with bot.runtime.store.session() as session:
        row = session.exec(select(Reward).where(Reward.total_points == total)).one()
        found = reward_repo.get_reward(session, reward_id=row.id)
    assert found is not None
    return found


def give_and_wait(bot: BotHarness, text: str, *, total: int, status: str = "sent") -> RewardDetails:
    bot.driver.command(text, user_id=BOB)

    def settled() -> RewardDetails | None:
        try:
            found = reward_by_points(bot, total)
        except Exception:
            return None
        return found if found.status == status else None

    return bot.wait(settled)


def cancel_calls(bot: BotHarness) -> list[dict[str, Any]]:
    return [r for r in bot.sandbox.requests if r["operation"] == "cancelBalance"]


def audit_actions(bot: BotHarness, short_id: str) -> list[dict[str, Any]]:
    with bot.runtime.store.read_session() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.subject_id == short_id).order_by(AuditEvent.id)
        ).all()
        return [e.model_dump(mode="json") for e in events]


def withdrawal_dms(bot: BotHarness, user: str) -> list[str]:
    return [t for t in bot.dm_texts(user) if "were withdrawn" in t]


# ── sent rewards ─────────────────────────────────────────────────────────────────────────


def test_a_sent_reward_is_withdrawn_and_everyone_is_told(bot: BotHarness) -> None:
    reward = give_and_wait(bot, f"<@{MARIA}> 100 great demo", total=100)
    assert bot.sandbox.state.points_of("maria@acme.test") == 100

    reply = ask(bot, f"cancel {reward.short_id} sent to the wrong person", marker="cancelled")
    assert f"Reward `{reward.short_id}` is cancelled: Xoxoday withdrew 100 points from " in reply
    assert "<@UMARIA01>" in reply and "I let <@UBOB0001> know." in reply

    (call,) = cancel_calls(bot)
    unique_id = reward.recipients[0].recipient.plum_unique_id
    assert call["variables"]["recipients_data"]["recipients"] == [{"unique_id": int(unique_id)}]
    assert bot.sandbox.state.points_of("maria@acme.test") == 0

    (dm,) = bot.wait(lambda: withdrawal_dms(bot, MARIA))
    assert "The *100 points* <@UBOB0001> sent you on" in dm
    assert "were withdrawn by <@UADMIN01>" in dm and "*Reason:* sent to the wrong person" in dm
    giver = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "cancelled your reward" in t])
    assert "<@UADMIN01> cancelled your reward" in giver[0]
    assert "sent to the wrong person" in giver[0]

    after = reward_by_points(bot, 100)
    assert after.status == "cancelled" and after.reward.cancelled_by == ADMIN
    assert after.reward.cancel_reason == "sent to the wrong person"
    assert [r.outcome for r in after.recipients] == ["cancelled"]
    actions = [e["action"] for e in audit_actions(bot, reward.short_id)]
    assert actions[-1] == AuditAction.REWARD_CANCELLED

    # A second cancel changes nothing and says who did it.
    again = ask(bot, f"cancel {reward.short_id.lower()} twice", marker="already cancelled")
    assert f"Reward `{reward.short_id}` was already cancelled by <@UADMIN01> on " in again
    assert len(cancel_calls(bot)) == 1
    assert len(withdrawal_dms(bot, MARIA)) == 1


def test_only_the_points_xoxoday_gives_back_are_withdrawn(bot: BotHarness) -> None:
    reward = give_and_wait(bot, f"<@{MARIA}> <@{CHEN}> 50 smooth launch", total=100)
    bot.sandbox.state.redeem("chen@acme.test", 50)
    reply = ask(bot, f"cancel {reward.short_id} duplicate", marker="cancelled")
    assert "Xoxoday withdrew 50 points from <@UMARIA01>" in reply
    assert "<@UCHEN001> keeps 50 points: they have already redeemed some or all of them." in reply
    bot.wait(lambda: withdrawal_dms(bot, MARIA))
    after = reward_by_points(bot, 100)
    outcomes = {r.member.slack_user_id: r.outcome for r in after.recipients}
    assert after.status == "cancelled"
    assert outcomes == {MARIA: "cancelled", CHEN: "sent"}
    bot.settle()
    assert withdrawal_dms(bot, CHEN) == []


# ── rewards not sent (yet) ───────────────────────────────────────────────────────────────


def test_a_reward_waiting_for_approval_is_cancelled_without_xoxoday(bot: BotHarness) -> None:
    bot.driver.command(f"<@{CHEN}> 600 carried the quarter", user_id=BOB)
    reward = bot.wait(lambda: _maybe(bot, 600))
    assert reward.status == "pending_approval"
    reply = ask(bot, f"cancel {reward.short_id} over budget", marker="cancelled")
    assert "It was waiting for approval, so no points left Xoxoday." in reply
    assert cancel_calls(bot) == []
    after = reward_by_points(bot, 600)
    assert after.status == "cancelled" and [r.outcome for r in after.recipients] == ["not_sent"]
    told = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "cancelled your reward" in t])
    assert "It hadn't been sent, so no points left Xoxoday." in told[0]
    assert "over budget" in told[0]
    assert withdrawal_dms(bot, CHEN) == []
    # The approver's copy of the request shows the cancellation and loses its buttons.
    request = bot.wait(
        lambda: [m for m in bot.fake.dms_to(APPROVER) if "cancelled" in message_text(m).lower()]
    )
    assert not [b for b in request[0].get("blocks") or [] if b.get("type") == "actions"]


def test_a_queued_reward_is_cancelled_and_never_sent(make_bot) -> None:
    bot = make_bot(worker=False)
    bot.driver.command(f"<@{MARIA}> 100 great demo", user_id=BOB)
    reward = bot.wait(lambda: _maybe(bot, 100))
    assert reward.status == "queued"
    reply = ask(bot, f"cancel {reward.short_id} not yet", marker="cancelled")
    assert "It was queued, so no points left Xoxoday." in reply
    assert bot.runtime.worker.run_once() is False  # nothing left to send
    assert bot.sends() == []


# ── who and what ─────────────────────────────────────────────────────────────────────────


def test_only_admins_can_cancel(bot: BotHarness) -> None:
    reward = give_and_wait(bot, f"<@{MARIA}> 100 great demo", total=100)
    for user in (BOB, APPROVER, MARIA):
        response = bot.driver.command(f"cancel {reward.short_id} mine", user_id=user)
        assert "Only admins can cancel rewards. If it needs doing, ask <@UADMIN01>." in (
            response.text
        )
    bot.settle()
    assert cancel_calls(bot) == []
    assert reward_by_points(bot, 100).status == "sent"


def test_bad_input_is_refused_in_the_ack(bot: BotHarness) -> None:
    for text, expected in [
        ("cancel", "Which reward? Add its id"),
        ("cancel 4F7Q2K", "Say why you're cancelling (the recipients will see it)"),
        ("cancel !!! because", "`!!!` doesn't look like a reward id"),
        ("cancel 4F7Q2K " + "x" * 501, "Your reason is 501 characters long and the limit is 500"),
    ]:
        response = bot.driver.command(text, user_id=ADMIN)
        assert expected in response.text, text
    bot.settle()
    assert answers(bot, ADMIN) == []


def _maybe(bot: BotHarness, total: int) -> RewardDetails | None:
    try:
        return reward_by_points(bot, total)
    except Exception:
        return None


def test_in_sandbox_mode_every_message_says_so(make_bot) -> None:
    bot = make_bot(PLUM_BASE_URL="sandbox")
    notice = "🧪 Sandbox: no real reward was sent."
    reward = give_and_wait(bot, f"<@{MARIA}> 100 great demo", total=100)
    assert notice in ask(bot, f"cancel {reward.short_id} test run", marker="cancelled")
    assert notice in bot.wait(lambda: withdrawal_dms(bot, MARIA))[0]
    told = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "cancelled your reward" in t])
    assert notice in told[0]


# ── asked first ──────────────────────────────────────────────────────────────────────────


def question_to(bot: BotHarness, user: str) -> dict[str, Any]:
    return bot.wait(
        lambda: [e for e in bot.fake.ephemerals(user) if "reward_cancel_confirm" in actions_in(e)]
    )[-1]


def test_a_cancel_asks_first_and_changes_nothing_until_confirmed(bot: BotHarness) -> None:
    reward = give_and_wait(bot, f"<@{MARIA}> 100 great demo", total=100)
    reply = ask(bot, f"cancel {reward.short_id} sent to the wrong person", confirm=False)
    assert f"Cancel reward `{reward.short_id}`? Xoxoday will withdraw 100 points from" in reply
    assert "*Reason:* sent to the wrong person" in reply
    button = next(
        e
        for b in question_to(bot, ADMIN)["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "reward_cancel_confirm"
    )
    assert (
        button["style"] == "danger" and "This can't be undone" in button["confirm"]["text"]["text"]
    )
    bot.settle()
    assert cancel_calls(bot) == [] and reward_by_points(bot, 100).status == "sent"

    kept = answer_cancel(bot.fake, bot.driver, ADMIN, keep=True)
    assert f"kept `{reward.short_id}` as it is. Nothing was withdrawn." in kept
    bot.settle()
    assert cancel_calls(bot) == [] and reward_by_points(bot, 100).status == "sent"
    assert bot.sandbox.state.points_of("maria@acme.test") == 100


def test_confirming_twice_withdraws_once(bot: BotHarness) -> None:
    reward = give_and_wait(bot, f"<@{MARIA}> 100 great demo", total=100)
    ask(bot, f"cancel {reward.short_id} oops", confirm=False)
    asked = question_to(bot, ADMIN)
    value = next(
        e["value"]
        for b in asked["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "reward_cancel_confirm"
    )
    codes: list[int] = []

    def press() -> None:  # a double click: two clicks at once, two action_ts
        codes.append(
            bot.driver.block_action(
                user_id=ADMIN, action_id="reward_cancel_confirm", value=value, message=asked
            ).status_code
        )

    clicks = [threading.Thread(target=press) for _ in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join(30)
    assert codes == [200, 200]
    bot.wait(lambda: reward_by_points(bot, 100).status == "cancelled")
    bot.settle()
    assert len(cancel_calls(bot)) == 1
    assert len(withdrawal_dms(bot, MARIA)) == 1


def test_only_admins_can_press_a_cancel_button(bot: BotHarness) -> None:
    reward = give_and_wait(bot, f"<@{MARIA}> 100 great demo", total=100)
    value = json.dumps({"id": reward.short_id, "why": "forged"})
    click = bot.driver.block_action(
        user_id=BOB, action_id="reward_cancel_confirm", value=value, channel_id="C0GENERAL"
    )
    assert click.status_code == 200
    told = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "Only admins" in t])
    assert "Only admins can cancel rewards" in told[0]
    bot.settle()
    assert cancel_calls(bot) == [] and reward_by_points(bot, 100).status == "sent"


def test_a_garbled_cancel_button_changes_nothing(bot: BotHarness) -> None:
    click = bot.driver.block_action(
        user_id=ADMIN, action_id="reward_cancel_confirm", value="{not json", channel_id="C0GENERAL"
    )
    assert click.status_code == 200
    told = bot.wait(lambda: [t for t in bot.replies_to(ADMIN) if "out of date" in t])
    assert "Type `/reward cancel` again" in told[0]
    assert cancel_calls(bot) == []


def test_what_cannot_be_cancelled_is_said_without_asking(bot: BotHarness) -> None:
    reply = ask(bot, "cancel ZZZZZZ wrong person", marker="can't find", confirm=False)
    assert "Nothing changes until you confirm" not in reply
    assert [e for e in bot.fake.ephemerals(ADMIN) if "reward_cancel_confirm" in actions_in(e)] == []


def test_points_xoxoday_keeps_are_said_at_once_without_asking(bot: BotHarness) -> None:
    """Sent more than 90 days ago: one answer, no "are you sure?", nothing asked of Xoxoday."""
    reward = give_and_wait(bot, f"<@{MARIA}> 40 for the launch", total=40)
    sent_at = reward.recipients[0].recipient.sent_at
    assert sent_at is not None
    with time_machine.travel(sent_at + timedelta(days=120), tick=True):
        reply = ask(
            bot,
            f"cancel {reward.short_id} wrong person",
            marker=f"Reward `{reward.short_id}` can't be cancelled: Xoxoday keeps its points.",
            confirm=False,
        )
    assert "within 90 days of sending" in reply
    assert "Nothing changes until you confirm" not in reply
    assert [e for e in bot.fake.ephemerals(ADMIN) if "reward_cancel_confirm" in actions_in(e)] == []
    assert cancel_calls(bot) == []
    assert reward_by_points(bot, 40).status == "sent"
