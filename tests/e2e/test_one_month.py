"""One meaning of "this month": the calendar month in REWARD_TIMEZONE, for every giver, in the
allowance, `/reward balance`, the reward form and the leaderboard alike (a giver's own Slack
time zone only changes how times are shown)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from storage.models import Reward, RewardRecipient
from storage.queries import month_bounds
from tests.e2e.harness import BOB, MARIA, BotHarness

COMPANY = (
    "Pacific/Kiritimati"  # UTC+14: its month starts while Bob's Los Angeles is still in the last
)
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def backdate_to_the_companys_month_start(bot: BotHarness) -> datetime:
    """Move every reward to a minute after this month began in REWARD_TIMEZONE: still the
    previous month in Bob's Los Angeles."""
    start, _ = month_bounds(COMPANY, now=datetime.now(UTC))
    when = start + timedelta(minutes=1)
    assert when.astimezone(LOS_ANGELES).month != when.astimezone(ZoneInfo(COMPANY)).month
    with bot.runtime.store.session() as session:
        for reward in session.exec(select(Reward)).all():
            reward.created_at = when
            session.add(reward)
        for line in session.exec(select(RewardRecipient)).all():
            line.sent_at = when
            session.add(line)
        session.commit()
    return when


def test_the_allowance_month_is_the_companys_not_the_givers(make_bot) -> None:
    bot = make_bot(
        REWARD_ALLOWANCE="300", REWARD_APPROVAL_THRESHOLD="1000", REWARD_TIMEZONE=COMPANY
    )
    bot.driver.command(f"<@{MARIA}> 200 first", user_id=BOB)
    bot.wait(lambda: bot.dm_texts(MARIA))
    when = backdate_to_the_companys_month_start(bot)
    next_month = (when.astimezone(ZoneInfo(COMPANY)).replace(day=28) + timedelta(days=4)).strftime(
        "%B"
    )

    bot.driver.command(f"<@{MARIA}> 200 second", user_id=BOB)
    reply = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "left this month" in t])
    assert "100 points of your 300 left" in reply[0]
    assert f"1 {next_month}" in reply[0]  # it resets when the company's month ends
    assert len(bot.sends()) == 1

    bot.driver.command("balance", user_id=BOB)
    balance = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "given" in t and "300" in t])
    assert "200 given" in balance[0]

    bot.driver.command("leaderboard month", user_id=BOB)
    board = bot.wait(lambda: [t for t in bot.replies_to(BOB) if f"<@{MARIA}>" in t])
    assert "200" in board[0]
