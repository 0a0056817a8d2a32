"""points-verify against the running bot (points in the bot): books that add up tell nobody and
the run's account says so; a ledger row changed behind the bot's back gets every admin one DM a
day naming the difference and what to do. With points at Xoxoday it does nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from sqlalchemy import text

from storage import members as member_repo
from tests.e2e.harness import ADMIN, APPROVER, BOB, MARIA, BotHarness, message_text
from tests.jobs.support import dms, give, run_job, wait_status
from tests.jobs.test_storefront_expiry import STOREFRONT, store, token_for

ALERT = "The point books don't add up"


def test_the_admins_hear_once_a_day_when_the_books_dont_add_up(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(**STOREFRONT)
    short = give(bot, giver=BOB, to=MARIA, amount=100)
    wait_status(bot, short, "sent")
    auth = {"unique_id": MARIA, "auth_token": token_for(bot, MARIA)}
    spent = store(bot, "redeem", {**auth, "total_points_redeemed": "39.5", "order_id": "O-1"})
    assert spent["status"] == "1"
    assert run_job(bot, "points-verify").detail == "1 lot(s) of 1 person(s) add up"
    assert dms(bot, ADMIN, ALERT) == []

    with bot.runtime.store.engine.begin() as connection:  # behind the bot's back
        connection.execute(text("UPDATE point_lots SET remaining = remaining + 500"))
    maria = _name_of(bot, MARIA)
    difference = (
        f"{maria}, reward {short}: credited 100 − spent 39.5 + refunded 0 − expired 0 − taken "
        "back 0 = 60.5 points, but the lot records 65.5 available"
    )
    found = f"2 difference(s) in 1 lot(s) of 1 person(s); the first: {difference}"
    assert run_job(bot, "points-verify").detail == (
        f"the point books do NOT add up: {found}; told 1 admin(s)"
    )
    (alert,) = dms(bot, ADMIN, ALERT)
    said = message_text(alert)
    assert "found *2 differences*" in said
    assert f"• {difference}" in said
    assert f"• {maria}, balance: available 65.5 points, but their lots add up to 60.5" in said
    assert "`rewardbot points verify --all`" in said
    assert dms(bot, APPROVER, ALERT) == [] and dms(bot, MARIA, ALERT) == []

    clock.shift(timedelta(hours=2))
    assert run_job(bot, "points-verify").detail == (
        f"the point books do NOT add up: {found}; the admins were already told today"
    )
    assert len(dms(bot, ADMIN, ALERT)) == 1
    clock.shift(timedelta(days=1))
    assert run_job(bot, "points-verify").detail.endswith("told 1 admin(s)")
    assert len(dms(bot, ADMIN, ALERT)) == 2


def test_with_points_at_xoxoday_there_is_nothing_to_check(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot()
    assert run_job(bot, "points-verify").detail == (
        "points live at Xoxoday: no point books in the bot to check"
    )


def _name_of(bot: BotHarness, user_id: str) -> str:
    with bot.runtime.store.read_session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
    assert member is not None
    return f"{member.name} ({user_id})"
