"""One reply per command: the person who typed a `/reward` command sees exactly one answer
in the channel, whether the ack carries it or it follows an empty ack; nothing says
"One moment…" and stays behind."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models import Reward
from tests.e2e.harness import ADMIN, BOB, MARIA, NOMAIL, BotHarness, answer_cancel, message_text


def replies_after(bot: BotHarness, user: str, text: str) -> list[str]:
    """Send `/reward text` as `user`; every ephemeral they see once the bot is idle."""
    before = len(bot.fake.ephemerals(user))
    response = bot.driver.command(text, user_id=user)
    assert response.status_code == 200
    bot.wait(lambda: bot.fake.ephemerals(user)[before:])
    bot.settle()
    return [message_text(m) for m in bot.fake.ephemerals(user)[before:]]


@pytest.mark.parametrize(
    ("user", "text", "answer"),
    [
        (BOB, f"<@{BOB}> 10 me", "can't reward yourself"),
        (BOB, f"<@{NOMAIL}> 10 thanks", "no email"),
        (BOB, f"<@{MARIA}> 10 thanks", "Sending *10 points*"),
        (BOB, "balance", "to redeem"),
        (BOB, "history", "given"),
        (BOB, "leaderboard", "eaderboard"),
        (BOB, "approvals", "approv"),
        (BOB, "help", "/reward @"),
        (BOB, "balanse", "balance"),
        (ADMIN, "managers", "manager"),
        (ADMIN, "campaigns", "Reward link campaigns"),
        (ADMIN, "cancel ZZZZZZ wrong person", "can't find"),
    ],
)
def test_each_command_gets_exactly_one_reply(
    bot: BotHarness, user: str, text: str, answer: str
) -> None:
    seen = replies_after(bot, user, text)
    assert len(seen) == 1, seen
    assert answer in seen[0]
    assert "One moment" not in seen[0]


def test_over_the_allowance_is_one_reply(make_bot) -> None:
    bot = make_bot(REWARD_ALLOWANCE="300", REWARD_APPROVAL_THRESHOLD="1000")
    assert len(replies_after(bot, BOB, f"<@{MARIA}> 250 first")) == 1
    seen = replies_after(bot, BOB, f"<@{MARIA}> 100 second")
    assert len(seen) == 1 and "left this month" in seen[0]


def test_a_plum_refusal_is_one_reply_and_a_dm(bot: BotHarness) -> None:
    bot.sandbox.faults.set("sendBalance", error="PLE10001")
    seen = replies_after(bot, BOB, f"<@{MARIA}> 10 thanks")
    assert len(seen) == 1 and "Sending" in seen[0]
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "wasn't sent" in t])


def test_a_cancel_is_one_reply(bot: BotHarness) -> None:
    replies_after(bot, BOB, f"<@{MARIA}> 40 great demo")
    bot.wait(lambda: bot.dm_texts(MARIA))
    with bot.runtime.store.read_session() as session:
        reward_id = session.exec(select(Reward.short_id)).one()
    seen = replies_after(bot, ADMIN, f"cancel {reward_id} wrong person")
    assert len(seen) == 1 and "Nothing changes until you confirm" in seen[0], seen
    answer = answer_cancel(bot.fake, bot.driver, ADMIN)  # the answer takes the question's place
    assert "is cancelled" in answer
    assert len(bot.fake.ephemerals(ADMIN)) == 1
