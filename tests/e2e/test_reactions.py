"""Giving with a reaction, end to end: signed `reaction_added` / `reaction_removed` events from
the fake Slack → journal → ack → the reward held for the undo window → sendBalance → DMs and the
announcement. The bot never reads a message (no conversations.history, ever)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from bot.simulators.fakeslack import payloads
from storage.states import IntakeState
from tests.e2e.harness import APPROVER, BOB, CHEN, HELPERBOT, MARIA, BotHarness, message_text

REACTIONS = "taco=5,star=10,trophy=600"


def posted_by(bot: BotHarness, user: str, text: str = "shipped the release") -> str:
    """A person's message in #general; its ts."""
    message = bot.fake.workspace.post_message(channel="C0GENERAL", text=text, user=user)
    return str(message["ts"])


def statuses(bot: BotHarness) -> list[str]:
    from sqlmodel import col, select

    from storage.models import Reward

    with bot.runtime.store.read_session() as session:
        return [r.status for r in session.exec(select(Reward).order_by(col(Reward.id))).all()]


def citations(bot: BotHarness) -> list[str]:
    from sqlmodel import col, select

    from storage.models import Reward

    with bot.runtime.store.read_session() as session:
        return [r.citation for r in session.exec(select(Reward).order_by(col(Reward.id))).all()]


def bot_posts(bot: BotHarness, channel: str = "C0GENERAL") -> list[dict]:
    """The bot's own messages in a channel (threads included)."""
    ws = bot.fake.workspace
    return [m for m in bot.fake.messages(channel) if m.get("user") == ws.bot_user_id]


def no_history_read(bot: BotHarness) -> None:
    assert [c for c in bot.fake.calls if c["method"].startswith("conversations.history")] == []
    assert [c for c in bot.fake.calls if c["method"] == "conversations.replies"] == []


def test_a_reaction_gives_the_author_after_the_window(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1")
    ts = posted_by(bot, MARIA)
    started = time.monotonic()
    response = bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=ts, name="taco")
    assert response.status_code == 200
    assert time.monotonic() - started < 3.0

    dm = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "5 points" in t], timeout=15)
    assert "<@UBOB0001>" in dm[0]
    [send] = bot.sends()
    variables = send["variables"]
    recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
    assert [r["to_email"] for r in recipients] == ["maria@acme.test"]
    assert recipients[0]["amount"] == "5"
    [permalink] = bot.fake.calls_to("chat.getPermalink")
    assert permalink["args"]["message_ts"] == ts
    assert citations(bot) == [
        f"for {bot.fake.api_url.removesuffix('api/')}archives/C0GENERAL/p{ts.replace('.', '')}"
    ]
    bot.wait(lambda: [t for t in bot.channel_texts("C0GENERAL") if "rewarded" in t])
    no_history_read(bot)


def test_react_and_unreact_inside_the_window_gives_nothing_and_says_nothing(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="60")
    ts = posted_by(bot, MARIA)
    bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=ts, name="taco")
    bot.wait(lambda: statuses(bot) == ["queued"])
    bot.fake.clear_calls()
    assert (
        bot.driver.unreact(user_id=BOB, channel_id="C0GENERAL", ts=ts, name="taco").status_code
        == 200
    )
    bot.wait(lambda: statuses(bot) == ["cancelled"])
    bot.settle()
    posting = {"chat.postMessage", "chat.postEphemeral", "chat.update"}
    assert [c for c in bot.fake.calls if c["method"] in posting] == []
    assert len(bot.channel_texts("C0GENERAL")) == 1  # Maria's own message, nothing else
    assert bot.sends() == []
    no_history_read(bot)


def test_slacks_retries_and_repeated_reactions_give_once(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1")
    ts = posted_by(bot, MARIA)
    event = payloads.reaction(
        added=True,
        user_id=BOB,
        channel_id="C0GENERAL",
        ts=ts,
        name="taco",
        item_user=MARIA,
        event_ts=bot.fake.workspace.new_ts(),
    )
    first = bot.driver.event(event, event_id="Ev0REACT1")
    again = bot.driver.event(event, event_id="Ev0REACT1", retry_num=1)  # Slack's retry
    other = bot.driver.event(event, event_id="Ev0REACT2")  # the same reaction, a new event id
    assert [r.status_code for r in (first, again, other)] == [200, 200, 200]
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "5 points" in t], timeout=15)
    bot.settle()
    assert len(bot.sends()) == 1
    assert statuses(bot) == ["sent"]
    assert bot.runtime.journal.count(IntakeState.PENDING) == 0


def test_twenty_people_reacting_at_once_each_give_once(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1")
    people = [f"UFAN{n:04d}" for n in range(20)]
    for uid in people:
        bot.fake.workspace.add_user(id=uid, name=uid.lower(), email=f"{uid.lower()}@acme.test")
    ts = posted_by(bot, MARIA)

    def react(uid: str) -> int:
        return bot.driver.react(user_id=uid, channel_id="C0GENERAL", ts=ts, name="taco").status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(react, people))
    assert codes == [200] * 20
    bot.wait(lambda: len(bot.sends()) == 20 or None, timeout=60)
    bot.settle()
    assert len(bot.sends()) == 20
    assert statuses(bot) == ["sent"] * 20
    assert bot.sandbox.state.points_of("maria@acme.test") == 100
    for send in bot.sends():
        variables = send["variables"]
        recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
        assert [r["to_email"] for r in recipients] == ["maria@acme.test"]

    # One announcement, in the thread of Maria's message, updated in place to show everyone.
    [announcement] = bot_posts(bot)
    assert announcement["thread_ts"] == ts

    def shown_now() -> str:
        return message_text(bot.fake.workspace.message("C0GENERAL", announcement["ts"]))

    try:
        final = bot.wait(lambda: "(+95 points)" in shown_now() or None, timeout=15)
    except TimeoutError:
        raise AssertionError(shown_now()) from None
    assert final
    shown = message_text(bot.fake.workspace.message("C0GENERAL", announcement["ts"]))
    assert "Joined by" in shown and "(+95 points)" in shown, shown
    assert "others" in shown, shown
    updates = bot.fake.calls_to("chat.update")
    assert 1 <= len(updates) <= 10  # coalesced: far fewer than the 19 joiners
    no_history_read(bot)


def test_the_allowance_applies_and_the_giver_hears_why_privately(make_bot) -> None:
    bot: BotHarness = make_bot(
        REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1", REWARD_ALLOWANCE="12"
    )
    first, second = posted_by(bot, MARIA), posted_by(bot, CHEN)
    bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=first, name="star")  # 10 of 12
    bot.wait(lambda: statuses(bot) == ["queued"] or statuses(bot) == ["sent"] or None)
    bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=second, name="taco")  # 5 more
    refused = bot.wait(lambda: bot.fake.ephemerals(BOB))
    assert "didn't give" in json.dumps(refused)
    assert "allowance" in json.dumps(refused)
    bot.settle()
    assert len(statuses(bot)) == 1
    assert all("didn't give" not in t for t in bot.channel_texts("C0GENERAL"))  # Bob's alone


def test_over_the_threshold_an_approver_is_asked(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1")
    ts = posted_by(bot, MARIA)
    bot.driver.react(user_id=CHEN, channel_id="C0GENERAL", ts=ts, name="trophy")  # 600 > 500
    bot.wait(lambda: statuses(bot) == ["pending_approval"] or None)
    bot.wait(lambda: bot.dm_texts(APPROVER))
    bot.settle()
    assert bot.sends() == []
    no_history_read(bot)


def test_reactions_on_bots_and_other_emoji_do_nothing(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1")
    by_bot = posted_by(bot, HELPERBOT)
    by_maria = posted_by(bot, MARIA)
    bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=by_bot, name="taco")
    bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=by_maria, name="eyes")
    bot.settle()
    assert statuses(bot) == []
    assert bot.fake.calls_to("chat.getPermalink") == []
    assert bot.fake.ephemerals(BOB) == [] and bot.dm_texts(BOB) == []


def test_in_socket_mode_the_same_event_gives_once(make_bot) -> None:
    """Socket Mode hands Bolt the same event_callback body (no gate, no signature): it is
    journaled by its event_id too, and Slack's redelivery of it gives nothing more."""
    from slack_bolt import BoltRequest

    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1")
    ts = posted_by(bot, MARIA)
    ws = bot.fake.workspace
    event = payloads.reaction(
        added=True,
        user_id=BOB,
        channel_id="C0GENERAL",
        ts=ts,
        name="star",
        item_user=MARIA,
        event_ts=ws.new_ts(),
    )
    envelope = payloads.event_callback(ws, event, event_id="Ev0SOCKET1")
    for _ in range(2):
        answered = bot.app.dispatch(BoltRequest(body=envelope, mode="socket_mode"))
        assert answered.status == 200
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "10 points" in t], timeout=15)
    bot.settle()
    assert len(bot.sends()) == 1
    no_history_read(bot)


def test_a_reward_emoji_on_an_announcement_joins_that_reward(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1")
    bot.driver.command(f"<@{MARIA}|maria> 50 shipped the release #ownership", user_id=BOB)
    [announcement] = bot.wait(lambda: bot_posts(bot) or None, timeout=15)
    ts = announcement["ts"]
    bot.settle()

    bot.driver.react(user_id=MARIA, channel_id="C0GENERAL", ts=ts, name="taco")  # thanks
    bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=ts, name="taco")  # the giver
    bot.driver.react(user_id=CHEN, channel_id="C0GENERAL", ts=ts, name="taco")  # joins
    bot.wait(lambda: statuses(bot) == ["sent", "sent"] or None, timeout=15)
    shown = bot.wait(
        lambda: (
            (
                "Joined by" in message_text(bot.fake.workspace.message("C0GENERAL", ts))
                and message_text(bot.fake.workspace.message("C0GENERAL", ts))
            )
            or None
        ),
        timeout=15,
    )
    assert f"<@{CHEN}>" in shown and "(+50 points)" in shown
    bot.settle()
    assert len(bot_posts(bot)) == 1  # updated in place, nothing new in the channel
    assert bot.sandbox.state.points_of("maria@acme.test") == 100
    assert citations(bot) == ["shipped the release #ownership"] * 2
    assert bot.fake.ephemerals(MARIA) == []
    assert all("didn't give" not in message_text(m) for m in bot.fake.ephemerals(BOB))
    no_history_read(bot)


def test_announce_off_keeps_the_channel_quiet(make_bot) -> None:
    bot: BotHarness = make_bot(
        REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1", REWARD_ANNOUNCE="off"
    )
    ts = posted_by(bot, MARIA)
    bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=ts, name="taco")
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "5 points" in t], timeout=15)
    bot.settle()
    assert bot_posts(bot) == []


def test_announce_channel_posts_in_the_channel_not_a_thread(make_bot) -> None:
    bot: BotHarness = make_bot(
        REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1", REWARD_ANNOUNCE="channel"
    )
    ts = posted_by(bot, MARIA)
    bot.driver.react(user_id=BOB, channel_id="C0GENERAL", ts=ts, name="taco")
    [announcement] = bot.wait(lambda: bot_posts(bot) or None, timeout=15)
    assert not announcement.get("thread_ts")


def test_twenty_people_joining_an_announcement_update_it_in_place(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_REACTIONS=REACTIONS, REWARD_UNDO_SECONDS="1")
    people = [f"UJOIN{n:03d}" for n in range(20)]
    for uid in people:
        bot.fake.workspace.add_user(id=uid, name=uid.lower(), email=f"{uid.lower()}@acme.test")
    bot.driver.command(f"<@{MARIA}|maria> 20 shipped the release", user_id=BOB)
    [announcement] = bot.wait(lambda: bot_posts(bot) or None, timeout=15)
    bot.settle()
    bot.fake.clear_calls()

    def react(uid: str) -> int:
        return bot.driver.react(
            user_id=uid, channel_id="C0GENERAL", ts=announcement["ts"], name="star"
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(react, people)) == [200] * 20
    bot.wait(lambda: len(bot.sends()) == 21 or None, timeout=60)

    def shown_now() -> str:
        return message_text(bot.fake.workspace.message("C0GENERAL", announcement["ts"]))

    try:
        bot.wait(lambda: "(+400 points)" in shown_now() or None, timeout=15)
    except TimeoutError:
        raise AssertionError(shown_now()) from None
    bot.settle()
    assert len(bot_posts(bot)) == 1
    posts = bot.fake.calls_to("chat.postMessage")
    assert [c for c in posts if c["args"].get("channel") == "C0GENERAL"] == []  # DMs only
    assert 1 <= len(bot.fake.calls_to("chat.update")) <= 10
    assert bot.sandbox.state.points_of("maria@acme.test") == 420
    no_history_read(bot)
