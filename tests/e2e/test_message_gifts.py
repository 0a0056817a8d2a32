"""Giving in a message, end to end: `@maria ++ 20 for the release` in a channel → a signed
`message` event → journal → ack → the reward held for the window → sendBalance, announced in
the message's thread. Messages that merely mention people and a number never give; deleting
the message inside the window takes it back; the bot never reads the channel's history."""

from __future__ import annotations

from sqlmodel import col, select

from storage.models import Reward
from storage.states import IntakeState
from tests.e2e.harness import BOB, CHEN, MARIA, BotHarness, message_text

FAST = {"REWARD_UNDO_SECONDS": "1"}


def rewards(bot: BotHarness) -> list[Reward]:
    with bot.runtime.store.read_session() as session:
        return list(session.exec(select(Reward).order_by(col(Reward.id))).all())


def bot_posts(bot: BotHarness, channel: str = "C0GENERAL") -> list[dict]:
    ws = bot.fake.workspace
    return [m for m in bot.fake.messages(channel) if m.get("user") == ws.bot_user_id]


def no_history_read(bot: BotHarness) -> None:
    read = {"conversations.history", "conversations.replies"}
    assert [c for c in bot.fake.calls if c["method"] in read] == []


def test_a_line_in_a_message_gives_and_is_announced_in_its_thread(make_bot) -> None:
    bot: BotHarness = make_bot(**FAST)
    ts, response = bot.driver.say(
        user_id=BOB, channel_id="C0GENERAL", text=f"<@{MARIA}> ++ 20 for the release #ownership"
    )
    assert response.status_code == 200
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "20 points" in t], timeout=15)
    [reward] = rewards(bot)
    assert (reward.status, reward.total_points, reward.citation) == (
        "sent",
        20,
        "for the release #ownership",
    )
    [announcement] = bot.wait(lambda: bot_posts(bot) or None, timeout=10)
    assert announcement["thread_ts"] == ts
    assert "rewarded" in message_text(announcement)
    no_history_read(bot)


def test_messages_that_merely_mention_people_and_numbers_never_give(make_bot) -> None:
    bot: BotHarness = make_bot(**FAST)
    for text in (
        f"thanks <@{MARIA}> for the 20 fixes",
        f"<@{MARIA}> 20 for the release",
        f"<@{MARIA}> +20 nice",
        f"c++ is hard, <@{MARIA}> 3",
        "<!channel> ++ 5 everyone",
    ):
        assert bot.driver.say(user_id=BOB, channel_id="C0GENERAL", text=text)[1].status_code == 200
    bot.settle()
    assert rewards(bot) == []
    assert bot.fake.ephemerals(BOB) == []
    assert bot.runtime.journal.count(IntakeState.PENDING) == 0
    no_history_read(bot)


def test_a_gift_that_doesnt_make_a_reward_is_explained_to_its_author_only(make_bot) -> None:
    bot: BotHarness = make_bot(**FAST)
    bot.driver.say(user_id=BOB, channel_id="C0GENERAL", text=f"<@{MARIA}> ++ great job")
    [told] = bot.wait(lambda: bot.fake.ephemerals(BOB) or None)
    assert "How many points?" in message_text(told)
    assert "@maria ++ 20 for the release" in message_text(told)
    bot.driver.say(user_id=BOB, channel_id="C0GENERAL", text=f"<@{BOB}> ++ 5 for me")
    bot.wait(lambda: len(bot.fake.ephemerals(BOB)) == 2 or None)
    bot.settle()
    assert rewards(bot) == [] and bot_posts(bot) == []


def test_deleting_the_message_inside_the_window_takes_it_back(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_UNDO_SECONDS="60")
    ts, _ = bot.driver.say(user_id=BOB, channel_id="C0GENERAL", text=f"<@{CHEN}> ++ 7 thanks")
    bot.wait(lambda: [r.status for r in rewards(bot)] == ["queued"] or None)
    assert bot.driver.delete(user_id=BOB, channel_id="C0GENERAL", ts=ts).status_code == 200
    bot.wait(lambda: [r.status for r in rewards(bot)] == ["cancelled"] or None)
    bot.settle()
    assert bot.sends() == [] and bot_posts(bot) == [] and bot.dm_texts(CHEN) == []


def test_slacks_retry_of_a_message_gives_once(make_bot) -> None:
    from bot.simulators.fakeslack import payloads

    bot: BotHarness = make_bot(**FAST)
    message = bot.fake.workspace.post_message(
        channel="C0GENERAL", text=f"<@{MARIA}> ++ 3 thanks", user=BOB
    )
    event = payloads.message_event(message)
    bot.driver.event(event, event_id="Ev0MSG1")
    bot.driver.event(event, event_id="Ev0MSG1", retry_num=1)
    bot.driver.event(event, event_id="Ev0MSG2")  # the same message, another delivery
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "3 points" in t], timeout=15)
    bot.settle()
    assert len(bot.sends()) == 1


def test_turned_off_a_message_gives_nothing(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_MESSAGE_GIVING="false", **FAST)
    bot.driver.say(user_id=BOB, channel_id="C0GENERAL", text=f"<@{MARIA}> ++ 20 for the release")
    bot.settle()
    assert rewards(bot) == [] and bot.fake.ephemerals(BOB) == []
