"""A failed reward sent again, end to end: the giver's failure message has "Send again"; a
click (or a double click) makes one new reward, sent by Xoxoday, the giver answered once, the
message naming the new reward in place of the button; the recipient's App Home never lists
the reward that failed."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from bot.slack.ids import ActionId
from storage.models import Reward
from storage.states import RewardStatus
from tests.e2e.harness import BOB, MARIA, BotHarness, actions_in, message_text
from tests.e2e.test_home import open_home, wait_home

S = RewardStatus


def rewards(bot: BotHarness) -> list[tuple[str, str]]:
    with bot.runtime.store.read_session() as session:
        found = session.exec(select(Reward).order_by(col(Reward.id))).all()
        return [(r.short_id, r.status) for r in found]


def failure_message(bot: BotHarness) -> dict[str, Any]:
    """Bob's "wasn't sent" DM, once it has its button."""
    return bot.wait(
        lambda: next(
            (m for m in bot.fake.dms_to(BOB) if ActionId.SEND_AGAIN in actions_in(m)), None
        )
    )


def click(bot: BotHarness, message: dict[str, Any], short: str) -> None:
    response = bot.driver.block_action(
        user_id=BOB, action_id=ActionId.SEND_AGAIN, value=short, message=message
    )
    assert response.status_code == 200


def test_a_failed_reward_is_sent_again_once_however_often_it_is_clicked(bot: BotHarness) -> None:
    open_home(bot, MARIA)
    bot.sandbox.state.set_balance(Decimal("10"))  # Xoxoday refuses: the account is short
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    failed = failure_message(bot)
    [(old, status)] = rewards(bot)
    assert status == S.FAILED
    assert "wasn't sent" in message_text(failed)
    bot.settle()
    # Maria was never told of it, and her App Home does not list it
    assert bot.dm_texts(MARIA) == []
    assert old not in (message_text(bot.fake.home(MARIA) or {}))

    bot.sandbox.state.set_balance(Decimal("100000"))  # an admin topped the account up
    journaled = bot.runtime.journal.count()
    clicks = [threading.Thread(target=click, args=(bot, failed, old)) for _ in range(2)]
    for one in clicks:
        one.start()
    for one in clicks:
        one.join()

    told = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "sent you" in t])
    assert "*100 points*" in told[0] and "shipped the release" in told[0]
    bot.settle()
    assert bot.runtime.journal.count() == journaled + 2  # two clicks, each one journaled
    [(first, first_status), (new, new_status)] = rewards(bot)
    assert (first, first_status) == (old, S.FAILED) and new != old and new_status == S.SENT
    assert len(told) == 1
    assert [s["status"] for s in bot.sends()] == [
        400,
        200,
    ]  # refused (the account was short), then sent
    assert bot.sandbox.state.points_of("maria@acme.test") == 100
    # Bob: one answer for the double click, as for any reward, and then the confirmation
    answers = [t for t in bot.replies_to(BOB) if new in t]
    assert len(answers) == 1 and "Sending *100 points* to <@UMARIA01> now" in answers[0]
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sent!" in t and new in t])
    # the failure message now names the new reward, and its button is gone
    now = next(m for m in bot.fake.dms_to(BOB) if m["ts"] == failed["ts"])
    assert ActionId.SEND_AGAIN not in actions_in(now)
    assert f"You sent it again as reward `{new}`" in message_text(now)
    assert "wasn't sent" in message_text(now)
    # Maria's App Home lists what reached her, not what failed
    home = wait_home(bot, MARIA, new)
    assert old not in home and "shipped the release" in home


def test_a_refused_send_again_says_why_and_makes_nothing(make_bot) -> None:
    bot = make_bot(REWARD_ALLOWANCE="150")
    bot.sandbox.state.set_balance(Decimal("10"))
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    failed = failure_message(bot)
    [(old, _)] = rewards(bot)
    bot.sandbox.state.set_balance(Decimal("100000"))
    bot.driver.command(f"<@{MARIA}> 100 fixed the build", user_id=BOB)  # 100 of the 150
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "fixed the build" in t])

    click(bot, failed, old)
    said = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "again" in t])
    assert said[0].startswith(f"I didn't send reward `{old}` again.\nThat's 100 points, but you")
    assert "50 points of your 150 left this month" in said[0]
    bot.settle()
    assert [s for _, s in rewards(bot)] == [S.FAILED, S.SENT]
    # the button stays: once the allowance allows, it can be pressed again
    now = next(m for m in bot.fake.dms_to(BOB) if m["ts"] == failed["ts"])
    assert ActionId.SEND_AGAIN in actions_in(now)


def test_a_short_account_offers_send_again_and_says_when(bot: BotHarness) -> None:
    bot.sandbox.state.set_balance(Decimal("10"))
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    text = message_text(failure_message(bot))
    assert "Once an admin has topped it up, press Send again." in text


def test_a_request_xoxoday_refuses_itself_gets_no_send_again_but_what_to_do(
    bot: BotHarness,
) -> None:
    """Xoxoday refused the request (a validation error): the same request fails the same way,
    so the giver is not offered Send again; they are told whom to ask, and a click on an old
    button (or a forged one) makes nothing."""
    bot.sandbox.faults.set("sendBalance", error="PLE10001")
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    told = bot.wait(lambda: [m for m in bot.fake.dms_to(BOB) if "wasn't sent" in message_text(m)])
    [(old, status)] = rewards(bot)
    assert status == S.FAILED
    text = message_text(told[0])
    assert ActionId.SEND_AGAIN not in actions_in(told[0])
    assert "would be refused the same way, so there is no Send again here" in text
    assert f"Ask an admin, mentioning `{old}`" in text
    bot.sandbox.faults.clear()
    click(bot, told[0], old)
    answer = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "refused the same way" in t])
    assert answer
    bot.settle()
    assert [r[0] for r in rewards(bot)] == [old]  # nothing new was given
    assert [s["status"] for s in bot.sends()] == [400]


def failed_dm(bot: BotHarness, timeout: float = 30.0) -> dict[str, Any]:
    return bot.wait(
        lambda: next((m for m in bot.fake.dms_to(BOB) if "wasn't sent" in message_text(m)), None),
        timeout,
    )


def test_a_passing_outage_past_the_retry_window_offers_send_again(make_bot) -> None:
    """Xoxoday kept failing before it did anything (PLE10023) for the whole retry window: a
    passing problem, so Send again is offered, and works once Xoxoday is back."""
    bot: BotHarness = make_bot(REWARD_DELIVERY_RETRY_HOURS="0.001")  # 3.6 s
    bot.sandbox.faults.set("sendBalance", error="PLE10023")
    bot.driver.command(f"<@{MARIA}> 30 kept the lights on", user_id=BOB)
    told = failed_dm(bot)
    [(old, status)] = rewards(bot)
    assert status == S.FAILED
    assert ActionId.SEND_AGAIN in actions_in(told)
    assert "It was a passing problem: press Send again." in message_text(told)
    bot.sandbox.faults.clear()
    click(bot, told, old)
    assert bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "kept the lights on" in t])


def test_the_bots_own_set_up_refused_all_along_gets_no_send_again(make_bot) -> None:
    """Xoxoday refused the bot's IP for the whole retry window: an admin must fix the bot
    first, so no Send again (a click would only queue a reward to fail the same way); the
    giver is told to give it again once an admin says it works."""
    bot: BotHarness = make_bot(REWARD_DELIVERY_RETRY_HOURS="0.001")
    bot.sandbox.faults.set("sendBalance", error="PIPE10017")
    bot.driver.command(f"<@{MARIA}> 30 kept the lights on", user_id=BOB)
    told = failed_dm(bot)
    assert [s for _, s in rewards(bot)] == [S.FAILED]
    text = message_text(told)
    assert ActionId.SEND_AGAIN not in actions_in(told)
    assert "The bot's connection to Xoxoday needs an admin to fix it (they have been told)." in text
    assert "Once they say it works, give the reward again with `/reward`." in text
    assert "press Send again" not in text
