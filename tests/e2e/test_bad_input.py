"""Every bad /reward gets a clear answer, and none creates a reward or reaches Plum."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from storage.models import Reward
from tests.e2e.harness import BOB, GONE, HELPERBOT, MARIA, NOMAIL, BotHarness


def reward_count(bot: BotHarness) -> int:
    with bot.runtime.store.session() as session:
        return session.exec(select(func.count()).select_from(Reward)).one()


# Refused by the parser, in the ack itself.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100 great work", "Who is it for?"),
        (f"<@{MARIA}> great work", "How many points?"),
        (f"<@{MARIA}> 100 200 great work", "one amount only"),
        (f"<@{MARIA}> -5 great work", "below zero"),
        (f"<@{MARIA}> 0 great work", "at least 1 point"),
        (f"<@{MARIA}> 1e9 great work", "isn't a number of points"),
        (f"<@{MARIA}> abc great work", "How many points?"),
        (f"<@{MARIA}> 100 " + "x" * 501, "501 characters long and the limit is 500"),
        (f"<@{MARIA}> 100", "Say what it's for"),
        ("@maria 100 great work", "Pick the person from the list"),
        ("<!here> 100 great work", "Rewards go to people"),
    ],
    ids=[
        "no-mention",
        "no-amount",
        "two-amounts",
        "negative",
        "zero",
        "1e9",
        "abc",
        "citation-501",
        "no-citation",
        "bare-at-name",
        "at-here",
    ],
)
def test_parse_errors_answer_in_the_ack(bot: BotHarness, text: str, expected: str) -> None:
    response = bot.driver.command(text, user_id=BOB)
    assert response.status_code == 200
    assert any(expected in t for t in bot.replies_to(BOB))
    assert reward_count(bot) == 0
    assert bot.sends() == []


# Refused by the rules, in the one follow-up after an empty ack.
@pytest.mark.parametrize(
    ("text", "giver", "expected"),
    [
        (f"<@{BOB}> 100 me me me", BOB, "You can't reward yourself"),
        (f"<@{HELPERBOT}> 100 beep", BOB, "is a bot"),
        (f"<@{NOMAIL}> 100 thanks", BOB, "has no email address in Slack"),
        (f"<@{GONE}> 100 thanks", BOB, "deactivated"),
        (f"<@{MARIA}> 6000 thanks", BOB, "The most one person can get in one reward is 5,000"),
        (f"<@{MARIA}> 100 thanks #synergy", BOB, "isn't one of our values"),
    ],
    ids=["self", "bot", "no-email", "deactivated", "over-max", "unknown-value"],
)
def test_rule_violations_are_explained(make_bot, text: str, giver: str, expected: str) -> None:
    bot = make_bot(REWARD_VALUES="teamwork,ownership")
    bot.driver.command(text, user_id=giver)
    reply = bot.wait(lambda: [t for t in bot.replies_to(giver) if expected in t])
    assert reply
    assert reward_count(bot) == 0
    assert bot.sends() == []


def test_over_the_monthly_allowance(make_bot) -> None:
    bot = make_bot(REWARD_ALLOWANCE="300", REWARD_APPROVAL_THRESHOLD="1000")
    bot.driver.command(f"<@{MARIA}> 200 first", user_id=BOB)
    bot.wait(lambda: bot.dm_texts(MARIA))
    bot.driver.command(f"<@{MARIA}> 200 second", user_id=BOB)
    reply = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "left this month" in t])
    assert "100 points of your 300 left" in reply[0]
    assert reward_count(bot) == 1
    assert len(bot.sends()) == 1


def test_help(bot: BotHarness) -> None:
    bot.driver.command("help", user_id=BOB)
    assert any("/reward @" in t for t in bot.replies_to(BOB))
