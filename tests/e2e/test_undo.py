"""Undo on the giver's confirmation, end to end: a `/reward` (or the form) waits
REWARD_UNDO_SECONDS and the giver's confirmation carries "Undo"; a click inside the window
replaces it with "Undone: nothing was sent" and nothing reaches Xoxoday or the channel once the
window has passed; after the window the click says once that it was already on its way."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from sqlmodel import col, select

from bot.slack.ids import ActionId
from storage import audit
from storage.audit import AuditAction
from storage.models import Reward
from tests.e2e.harness import BOB, MARIA, BotHarness, actions_in, message_text
from tests.e2e.modal_form import open_by_command, submit

SECONDS = 5  # room for the clicks on a busy machine
WINDOW = {"REWARD_UNDO_COMMANDS": "true", "REWARD_UNDO_SECONDS": str(SECONDS)}


def statuses(bot: BotHarness) -> list[str]:
    with bot.runtime.store.read_session() as session:
        return [r.status for r in session.exec(select(Reward).order_by(col(Reward.id))).all()]


def confirmation(bot: BotHarness) -> dict[str, Any]:
    """Bob's "Sending …" answer, once it shows, with its Undo button."""
    return bot.wait(
        lambda: next((e for e in bot.fake.ephemerals(BOB) if ActionId.UNDO in actions_in(e)), None)
    )


def click(bot: BotHarness, message: dict[str, Any], short_id: str, user: str = BOB) -> None:
    response = bot.driver.block_action(
        user_id=user, action_id=ActionId.UNDO, value=short_id, message=message
    )
    assert response.status_code == 200


def short_ids(bot: BotHarness) -> list[str]:
    with bot.runtime.store.read_session() as session:
        return [r.short_id for r in session.exec(select(Reward).order_by(col(Reward.id))).all()]


def cancels(bot: BotHarness, short_id: str) -> int:
    with bot.runtime.store.read_session() as session:
        events = audit.events_for(session, subject_type="reward", subject_id=short_id)
    return [e.action for e in events].count(AuditAction.REWARD_CANCELLED)


def test_undo_inside_the_window_sends_nothing_and_replaces_the_confirmation(make_bot) -> None:
    bot: BotHarness = make_bot(**WINDOW)
    started = time.monotonic()
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    shown = confirmation(bot)
    assert "Sending *100 points* to <@UMARIA01>" in message_text(shown)
    assert re.search(r"Undo within [1-5] seconds? and nothing is sent", message_text(shown))
    [short_id] = short_ids(bot)
    clicks = [threading.Thread(target=click, args=(bot, shown, short_id)) for _ in range(2)]
    for one in clicks:
        one.start()
    for one in clicks:
        one.join()
    assert time.monotonic() - started < SECONDS, "the clicks came after the window: too slow a box"
    bot.wait(lambda: statuses(bot) == ["cancelled"] or None)
    time.sleep(max(0.0, SECONDS + 0.5 - (time.monotonic() - started)))  # the window has passed
    bot.settle()

    assert bot.sends() == []  # nothing reached Xoxoday
    assert statuses(bot) == ["cancelled"]
    assert cancels(bot, short_id) == 1  # a double click undoes once, audited
    [now] = [e for e in bot.fake.ephemerals(BOB) if e["ts"] == shown["ts"]]
    assert message_text(now).startswith("↩️ Undone: nothing was sent.")
    assert ActionId.UNDO not in actions_in(now)
    assert [t for t in bot.replies_to(BOB) if "too late" in t] == []
    assert bot.dm_texts(MARIA) == []  # no trace: Maria never heard of it
    assert bot.channel_texts("C0GENERAL") == []


def test_undo_after_the_window_says_once_it_was_already_sent(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_UNDO_COMMANDS="true", REWARD_UNDO_SECONDS="1")
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    shown = confirmation(bot)
    [short_id] = short_ids(bot)
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "100 points" in t], timeout=15)
    click(bot, shown, short_id)
    click(bot, shown, short_id)
    bot.settle()
    late = [t for t in bot.replies_to(BOB) if "too late to undo" in t]
    assert len(late) == 1 and "ask an admin to cancel" in late[0]
    assert statuses(bot) == ["sent"] and len(bot.sends()) == 1
    assert cancels(bot, short_id) == 0


def test_someone_elses_click_undoes_nothing(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_UNDO_COMMANDS="true", REWARD_UNDO_SECONDS="1")
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    shown = confirmation(bot)
    [short_id] = short_ids(bot)
    click(bot, shown, short_id, user=MARIA)
    told = bot.wait(lambda: [t for t in bot.replies_to(MARIA) if "can undo it" in t])
    assert "Only <@UBOB0001>, who gave it, can undo it." in told[0]
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "100 points" in t], timeout=15)
    assert statuses(bot) == ["sent"]


def test_the_form_gets_undo_too(make_bot) -> None:
    bot: BotHarness = make_bot(**WINDOW)
    view = open_by_command(bot, BOB)
    assert submit(bot, BOB, view, recipients=[MARIA], amount="40") == {}
    shown = confirmation(bot)
    [short_id] = short_ids(bot)
    click(bot, shown, short_id)
    bot.wait(lambda: statuses(bot) == ["cancelled"] or None)
    [now] = [e for e in bot.fake.ephemerals(BOB) if e["ts"] == shown["ts"]]
    assert message_text(now).startswith("↩️ Undone: nothing was sent.")
    time.sleep(SECONDS + 0.5)
    bot.settle()
    assert bot.sends() == []


def test_no_window_sends_at_once_without_undo(make_bot) -> None:
    bot: BotHarness = make_bot(REWARD_UNDO_COMMANDS="true", REWARD_UNDO_SECONDS="0")
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "100 points" in t], timeout=15)
    bot.settle()
    assert [e for e in bot.fake.ephemerals(BOB) if ActionId.UNDO in actions_in(e)] == []
    assert any("Sending *100 points* to <@UMARIA01> now" in t for t in bot.replies_to(BOB))
