"""`/reward history` and `/reward leaderboard [week|month]` end to end."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.rewards.lists import period_bounds
from storage.models import Reward, RewardRecipient
from tests.e2e.harness import BOB, CHEN, MARIA, BotHarness


def ask(bot: BotHarness, text: str, *, user: str, marker: str) -> str:
    before = len(bot.replies_to(user))
    response = bot.driver.command(text, user_id=user)
    assert response.status_code == 200
    found = bot.wait(lambda: [t for t in bot.replies_to(user)[before:] if marker in t])
    return found[0]


def give(bot: BotHarness, text: str, *, giver: str, recipient: str, dm: str = "sent you") -> None:
    before = len([t for t in bot.dm_texts(recipient) if dm in t])
    bot.driver.command(text, user_id=giver)
    bot.wait(lambda: len([t for t in bot.dm_texts(recipient) if dm in t]) > before)


def test_history_shows_given_and_received_with_status(bot: BotHarness) -> None:
    give(bot, f"<@{MARIA}> 100 shipped the release", giver=BOB, recipient=MARIA)
    bot.driver.command(f"<@{CHEN}> 600 carried the whole quarter", user_id=BOB)  # needs approval
    bot.wait(lambda: [t for t in bot.replies_to(BOB) if "approv" in t])
    give(bot, f"<@{BOB}> 20 thanks for the review", giver=MARIA, recipient=BOB)

    text = ask(bot, "history", user=BOB, marker="Your rewards")
    received, given = text.split("*Given*")
    assert "*20 points* from <@UMARIA01>" in received and "sent" in received
    assert "thanks for the review" in received
    assert "*600 points* to <@UCHEN001>" in given and "waiting for approval" in given
    assert "*100 points* to <@UMARIA01>" in given and "✅" in given
    assert given.index("600 points") < given.index("100 points")  # newest first
    short_ids = re.findall(r"`([2-9A-Z]{6})`", text)
    assert len(short_ids) == 3


def test_history_shows_the_last_ten_only(bot: BotHarness) -> None:
    for n in range(1, 13):  # one after the other, so they are recorded in this order
        give(bot, f"<@{MARIA}> {n} thanks number {n}", giver=BOB, recipient=MARIA)
    text = ask(bot, "history", user=MARIA, marker="Your rewards")
    received = text.split("*Given*")[0]
    assert received.count("from <@UBOB0001>") == 10
    assert "thanks number 12" in received and "thanks number 3”" in received
    assert "thanks number 2”" not in received and "thanks number 1”" not in received


def test_history_when_there_is_nothing_yet(bot: BotHarness) -> None:
    text = ask(bot, "history", user=CHEN, marker="Your rewards")
    assert "Nothing yet. When someone rewards you, it shows up here." in text
    assert "You haven't given any yet." in text


def test_history_takes_no_arguments(bot: BotHarness) -> None:
    response = bot.driver.command("history all", user_id=BOB)
    assert "`/reward history` doesn't take anything after it" in response.text


def test_leaderboard_ranks_recipients_and_givers(bot: BotHarness) -> None:
    give(bot, f"<@{MARIA}> 100 great demo", giver=BOB, recipient=MARIA)
    give(bot, f"<@{MARIA}> <@{BOB}> 30 pairing all week", giver=CHEN, recipient=BOB)
    give(bot, f"<@{CHEN}> 40 fixed the build", giver=MARIA, recipient=CHEN)

    for command in ("leaderboard", "leaderboard month", "leaderboard week"):
        text = ask(bot, command, user=CHEN, marker="Leaderboard this")
        recognised, generous = text.split("*Most generous*")
        assert "🥇 <@UMARIA01> · 130 points received in 2 rewards" in recognised
        assert "🥈 <@UCHEN001> · 40 points received" in recognised
        assert "🥉 <@UBOB0001> · 30 points received" in recognised
        assert "🥇 <@UBOB0001> · 100 points given" in generous
        assert "🥈 <@UCHEN001> · 60 points given" in generous
        assert "🥉 <@UMARIA01> · 40 points given" in generous
        period = "week" if command.endswith("week") else "month"
        since, _ = period_bounds(period, "UTC", now=datetime.now(UTC))
        assert f"Since {since.day} {since:%B %Y}" in text


def test_leaderboard_counts_only_the_period(make_bot) -> None:
    bot = make_bot(REWARD_TIMEZONE="Asia/Tokyo")
    give(bot, f"<@{MARIA}> 100 great demo", giver=BOB, recipient=MARIA)
    give(bot, f"<@{CHEN}> 70 an old one", giver=BOB, recipient=CHEN)
    now = datetime.now(UTC)
    week_start, _ = period_bounds("week", "Asia/Tokyo", now=now)
    month_start, _ = period_bounds("month", "Asia/Tokyo", now=now)
    moved = week_start - timedelta(hours=1)  # last week, in Tokyo
    with bot.runtime.store.session() as session:
        old = session.exec(select(Reward).where(Reward.total_points == 70)).one()
        old.sent_at = moved
        session.add(old)
        for line in session.exec(
            select(RewardRecipient).where(RewardRecipient.reward_id == old.id)
        ).all():
            line.sent_at = moved  # reports read the recipients' delivery times
            session.add(line)

    week = ask(bot, "leaderboard week", user=BOB, marker="Leaderboard this week")
    assert "<@UMARIA01> · 100 points" in week
    assert "<@UCHEN001>" not in week
    month = ask(bot, "leaderboard month", user=BOB, marker="Leaderboard this month")
    assert ("<@UCHEN001> · 70 points" in month) == (moved >= month_start)


def test_leaderboard_leaves_out_rewards_not_sent(bot: BotHarness) -> None:
    bot.driver.command(f"<@{CHEN}> 600 carried the whole quarter", user_id=BOB)  # needs approval
    bot.wait(lambda: [t for t in bot.replies_to(BOB) if "approv" in t])
    text = ask(bot, "leaderboard", user=BOB, marker="Leaderboard this month")
    assert "No rewards this month yet." in text


def test_leaderboard_period_must_be_week_or_month(bot: BotHarness) -> None:
    response = bot.driver.command("leaderboard year", user_id=BOB)
    assert "Pick `week` or `month`, like `/reward leaderboard week`" in response.text
    bot.settle()
    assert not [t for t in bot.replies_to(BOB) if "Leaderboard" in t]


def test_period_bounds_follow_the_local_calendar() -> None:
    # Sunday 23:30 in Berlin during the autumn DST change: the week began Monday 21 October.
    now = datetime(2024, 10, 27, 22, 30, tzinfo=UTC)
    start, end = period_bounds("week", "Europe/Berlin", now=now)
    assert start == datetime(2024, 10, 20, 22, 0, tzinfo=UTC)  # Mon 00:00 CEST
    assert end == datetime(2024, 10, 27, 23, 0, tzinfo=UTC)  # Mon 00:00 CET
    start, end = period_bounds("month", "Europe/Berlin", now=now)
    assert start == datetime(2024, 9, 30, 22, 0, tzinfo=UTC)
    assert end == datetime(2024, 10, 31, 23, 0, tzinfo=UTC)
