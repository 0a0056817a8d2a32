"""approval-nudges, through time: a request over the threshold reminds its approver after a
day, goes to the admins after three, expires after fourteen (the giver told, every copy's
buttons gone), each step once, across restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine

from bot.slack.ids import ActionId
from tests.e2e.harness import ADMIN, APPROVER, BOB, MARIA, BotHarness, actions_in, message_text
from tests.jobs.support import T0, dms, give, reward, run_job

JOB = "approval-nudges"


def with_buttons(bot: BotHarness, user_id: str) -> list[dict]:
    return [m for m in bot.fake.dms_to(user_id) if ActionId.APPROVE in actions_in(m)]


def test_remind_escalate_expire_each_once_across_restarts(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot()
    short = give(bot, giver=BOB, to=MARIA, amount=600)
    bot.wait(lambda: with_buttons(bot, APPROVER))  # the request itself
    assert reward(bot, short).status == "pending_approval"

    clock.move_to(T0 + timedelta(hours=23))
    assert run_job(bot, JOB).detail == "0 expired, 0 reminder(s) and 0 escalation(s) sent"

    clock.move_to(T0 + timedelta(hours=25, minutes=5))
    assert run_job(bot, JOB).detail == "0 expired, 1 reminder(s) and 0 escalation(s) sent"
    reminders = dms(bot, APPROVER, "Reminder: reward to approve")
    assert len(reminders) == 1
    assert ActionId.APPROVE in actions_in(reminders[0])
    assert "waited 25 hours for your decision" in message_text(reminders[0])
    assert dms(bot, ADMIN) == []
    clock.shift(timedelta(hours=1))
    assert run_job(bot, JOB).detail.endswith("0 reminder(s) and 0 escalation(s) sent")

    clock.move_to(T0 + timedelta(hours=73))
    assert run_job(bot, JOB).detail == "0 expired, 0 reminder(s) and 1 escalation(s) sent"
    (escalation,) = dms(bot, ADMIN, "Reward waiting too long")
    assert f"in 3 days (asked: <@{APPROVER}>)" in message_text(escalation)
    assert ActionId.APPROVE in actions_in(escalation)
    assert len(dms(bot, APPROVER, "Reminder")) == 1

    restarted = make_bot()  # a new process on the same ledger
    clock.shift(timedelta(hours=2))
    assert run_job(restarted, JOB).detail == "0 expired, 0 reminder(s) and 0 escalation(s) sent"

    clock.move_to(T0 + timedelta(days=14, hours=1))
    assert run_job(restarted, JOB).detail == "1 expired, 0 reminder(s) and 0 escalation(s) sent"
    assert reward(restarted, short).status == "expired"
    (told,) = dms(restarted, BOB, "Nobody decided on")
    assert "expired" in message_text(told) and "send it again" in message_text(told)
    # the request, the reminder and the escalation all show it expired, without buttons
    assert with_buttons(restarted, APPROVER) == [] and with_buttons(restarted, ADMIN) == []
    assert len(dms(restarted, APPROVER, "nobody decided in time")) == 2
    assert len(dms(restarted, ADMIN, "nobody decided in time")) == 1

    clock.shift(timedelta(hours=1))
    assert run_job(restarted, JOB).detail == "0 expired, 0 reminder(s) and 0 escalation(s) sent"
    assert len(dms(restarted, BOB, "Nobody decided on")) == 1


def test_a_decided_request_is_left_alone(clock: time_machine.Coordinates, bot: BotHarness) -> None:
    short = give(bot, giver=BOB, to=MARIA, amount=600)
    bot.wait(lambda: with_buttons(bot, APPROVER))
    clock.move_to(T0 + timedelta(hours=25))
    run_job(bot, JOB)
    reminder = dms(bot, APPROVER, "Reminder")[0]
    response = bot.driver.block_action(
        user_id=APPROVER, action_id=ActionId.APPROVE, value=short, message=reminder
    )
    assert response.status_code == 200
    bot.wait(lambda: reward(bot, short).status == "sent")
    bot.wait(lambda: with_buttons(bot, APPROVER) == [])  # the reminder shows the decision too

    clock.move_to(T0 + timedelta(days=15))
    assert run_job(bot, JOB).detail == "0 expired, 0 reminder(s) and 0 escalation(s) sent"
    assert dms(bot, ADMIN, "waiting too long") == []


def test_a_request_nobody_could_be_asked_about_goes_to_the_admins(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(REWARD_APPROVERS="", REWARD_ADMINS=BOB)  # the only admin is the giver
    short = give(bot, giver=BOB, to=MARIA, amount=600)
    bot.wait(lambda: reward(bot, short).status == "pending_approval")
    admin_bot = make_bot(REWARD_APPROVERS="", REWARD_ADMINS=f"{BOB},{ADMIN}")  # fixed, restarted
    clock.move_to(T0 + timedelta(hours=25))
    assert run_job(admin_bot, JOB).detail.endswith("1 reminder(s) and 0 escalation(s) sent")
    assert len(with_buttons(admin_bot, ADMIN)) == 1
    assert dms(admin_bot, BOB, "approve") == []
