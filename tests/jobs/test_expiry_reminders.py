"""expiry-reminders, through time: points delivered by the sandbox expire a month later; the
recipient hears 30, 7 and 1 days ahead (each once, across restarts), only while Xoxoday shows
them points left, with how many, when (in their time zone) and how to redeem."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import time_machine

from tests.e2e.harness import BOB, CHEN, MARIA, BotHarness, message_text
from tests.jobs.support import T0, dms, give, run_job, wait_status

JOB = "expiry-reminders"
MONTH = {"REWARD_EXPIRY_MONTHS": 1}  # points sent on 2 March expire on 2 April
EXPIRES = date(2026, 4, 2)


def reminders(bot: BotHarness, user_id: str) -> list[str]:
    return [message_text(m) for m in dms(bot, user_id, "of your points expire")]


def test_each_threshold_reminds_once_while_points_are_left(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**MONTH)
    wait_status(bot, give(bot, giver=BOB, to=MARIA, amount=100), "sent")
    wait_status(bot, give(bot, giver=BOB, to=CHEN, amount=50), "sent")
    bot.sandbox.state.redeem("chen@acme.test", 50)  # Chen spent everything: nothing to remind

    clock.move_to(T0 + timedelta(days=20))  # 22 March 08:00 UTC: 11 days left
    assert run_job(bot, JOB).detail == (
        "1 reminder(s) sent; 1 person(s) with no points left skipped"
    )
    (first,) = reminders(bot, MARIA)
    assert "*100* of your points expire on *2 April 2026* (in 11 days)" in first
    assert "You have *100 points* to spend" in first and "Plum storefront" in first
    assert reminders(bot, CHEN) == []

    clock.shift(timedelta(hours=2))
    assert run_job(bot, JOB).detail.startswith("0 reminder(s) sent")
    restarted = make_bot(**MONTH)  # another process, same ledger
    assert run_job(restarted, JOB).detail.startswith("0 reminder(s) sent")
    assert len(reminders(restarted, MARIA)) == 1

    bot.sandbox.state.redeem("maria@acme.test", 40)
    clock.move_to(T0 + timedelta(days=26))  # 28 March: 5 days left
    assert run_job(restarted, JOB).detail.startswith("1 reminder(s) sent")
    second = reminders(restarted, MARIA)[-1]
    assert "Up to *60* of your points expire on *2 April 2026* (in 5 days)" in (second)

    clock.move_to(T0 + timedelta(days=30, hours=15))  # 1 April 23:00 UTC: 2 April in Madrid
    assert run_job(restarted, JOB).detail.startswith("1 reminder(s) sent")
    assert "expire on *2 April 2026* (today)" in reminders(restarted, MARIA)[-1]
    assert len(reminders(restarted, MARIA)) == 3

    clock.move_to(T0 + timedelta(days=32))  # expired: nothing more
    assert run_job(restarted, JOB).detail.startswith("0 reminder(s) sent")
    assert len(reminders(restarted, MARIA)) == 3


def test_a_first_look_a_week_ahead_sends_one_reminder_not_two(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**MONTH)
    wait_status(bot, give(bot, giver=BOB, to=MARIA, amount=100), "sent")
    clock.move_to(T0 + timedelta(days=25))  # 6 days left: within 30 and 7
    assert run_job(bot, JOB).detail == "1 reminder(s) sent"
    clock.shift(timedelta(days=1))
    assert run_job(bot, JOB).detail == "0 reminder(s) sent"
    assert len(reminders(bot, MARIA)) == 1


def test_people_xoxoday_cannot_be_asked_about_are_skipped(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**MONTH)
    wait_status(bot, give(bot, giver=BOB, to=MARIA, amount=100), "sent")
    bot.sandbox.faults.update({"operations": {"user_balance": {"error": "503"}}})
    clock.move_to(T0 + timedelta(days=25))
    assert run_job(bot, JOB).detail == (
        "0 reminder(s) sent; 1 person(s) whose points could not be checked"
    )
    bot.sandbox.faults.update({"clear": True})
    clock.shift(timedelta(hours=1))
    assert run_job(bot, JOB).detail == "1 reminder(s) sent"  # tried again, not lost
