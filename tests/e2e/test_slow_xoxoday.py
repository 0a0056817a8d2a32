"""Slow Xoxoday, fast answers: with Xoxoday taking 5 s, whoever asked sees a reply within
Slack's 3 s saying what is being fetched, and then the answer, for every `/reward` subcommand
that waits on Xoxoday (`/reward balance` has its own tests in test_balance.py)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.harness import ADMIN, MARIA, BotHarness

SLOW_MS = 5000
SLOW = "Xoxoday is slow to answer right now"


@pytest.mark.parametrize(
    ("text", "operation", "fetching", "answer"),
    [
        ("campaigns", "campaignList", "fetching the reward link campaigns", "7890"),
        (
            f"link <@{MARIA}> 7890",
            "generateLink",
            "making the reward link",
            "I sent <@UMARIA01> a reward link",
        ),
        ("links 7890 3", "generateLink", "making 3 reward links", "CSV file in our DM"),
        (
            "orders report last month",
            "getOrderHistory",
            "reading its orders and payments for the report",
            "two CSV files in our DM",
        ),
    ],
    ids=["campaigns", "link", "links", "orders-report"],
)
def test_a_slow_xoxoday_is_said_at_once_and_the_answer_follows(
    make_bot, text: str, operation: str, fetching: str, answer: str
) -> None:
    bot: BotHarness = make_bot(plum_timeout=10.0)
    bot.sandbox.faults.set(operation, latency_ms=SLOW_MS)
    started = time.monotonic()
    response = bot.driver.command(text, user_id=ADMIN)
    assert response.status_code == 200 and response.text == ""
    first = bot.wait(lambda: bot.replies_to(ADMIN), timeout=3.0)
    assert time.monotonic() - started < 3.0
    assert len(first) == 1
    assert f"{SLOW}: {fetching}. I'll post the answer here as soon as it comes." in first[0]
    assert answer not in first[0]
    later = bot.wait(lambda: bot.replies_to(ADMIN)[1:], timeout=20.0)
    assert answer in later[0]
    assert time.monotonic() - started >= SLOW_MS / 1000
    bot.settle()
    assert len(bot.replies_to(ADMIN)) == 2  # the note and the answer, nothing more


def test_a_quick_xoxoday_gives_one_answer_and_no_note(bot: BotHarness) -> None:
    bot.driver.command("campaigns", user_id=ADMIN)
    bot.wait(lambda: bot.replies_to(ADMIN))
    bot.settle()
    [only] = bot.replies_to(ADMIN)
    assert "7890" in only and SLOW not in only
