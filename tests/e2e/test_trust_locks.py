"""Trust end to end, over signed HTTP against the fake Slack and the Plum sandbox: a ring of
two flagged in the admins' daily DM, its giver locked from the DM's button (a double click
locks once and answers once), after which their `/reward` is refused plainly while they still
receive; and `/reward lock`, `unlock`, `locks` typed by an admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.jobs.registry import run_now
from bot.slack.ids import ActionId
from storage import audit
from storage.models import Reward, RewardFlag
from tests.e2e.harness import ADMIN, BOB, CHEN, MARIA, BotHarness, actions_in, message_text
from tests.e2e.test_approvals import latest, told

LOCKED = "You can't give rewards right now"
PAUSED_DM = "An admin has paused your giving"


def flag_dms(bot: BotHarness, user_id: str) -> list[dict[str, Any]]:
    return [m for m in bot.fake.dms_to(user_id) if "Flags to look at" in message_text(m)]


def give(bot: BotHarness, giver: str, to: str, amount: int, reason: str) -> None:
    sent = len(bot.sends())
    bot.driver.command(f"<@{to}> {amount} {reason}", user_id=giver)
    bot.wait(lambda: len(bot.sends()) > sent or None)


def test_a_ring_is_flagged_in_the_daily_dm_and_its_giver_locked_from_it(
    bot: BotHarness,
) -> None:
    for i in range(3):
        give(bot, MARIA, BOB, 50, f"thanks for the help {i}")
        give(bot, BOB, MARIA, 60, f"thanks right back {i}")
    bot.settle()

    result = run_now(bot.runtime, "flags")
    assert result.ok, result.detail
    [dm] = bot.wait(lambda: flag_dms(bot, ADMIN))
    text = message_text(dm)
    assert "Giving mostly to each other" in text
    assert f"<@{BOB}>, <@{MARIA}> gave mostly to each other" in text
    assert f"<@{MARIA}> → <@{BOB}>, 50 points: “thanks for the help 0”" in text
    assert f"<@{BOB}> → <@{MARIA}>, 60 points: “thanks right back 2”" in text
    assert actions_in(dm) == [ActionId.FLAG_DISMISS, ActionId.FLAG_HOLD, ActionId.FLAG_LOCK]
    with bot.runtime.store.read_session() as session:
        [flag] = session.exec(select(RewardFlag)).all()
    assert flag.giver == BOB  # he gave the most in the ring

    # the same flag is not raised or reported again
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert run_now(bot.runtime, "flags", now=tomorrow).ok
    bot.settle()
    assert len(flag_dms(bot, ADMIN)) == 1

    # nobody else can press it
    bot.driver.block_action(
        user_id=MARIA, action_id=ActionId.FLAG_LOCK, value=str(flag.id), message=dm
    )
    assert told(bot, MARIA, "Only admins can lock givers")

    # a double click: one lock, one answer (the flag's buttons become what was decided)
    for _ in range(2):
        response = bot.driver.block_action(
            user_id=ADMIN, action_id=ActionId.FLAG_LOCK, value=str(flag.id), message=dm
        )
        assert response.status_code == 200
    edited = bot.wait(lambda: latest(bot, dm) if not actions_in(latest(bot, dm)) else None)
    assert f"<@{BOB}> is locked from giving" in message_text(edited)
    bot.settle()
    assert not [t for t in bot.replies_to(ADMIN) if "Flag" in t]  # no second answer
    with bot.runtime.store.read_session() as session:
        events = audit.events_for(session, subject_type="member", subject_id=BOB)
    assert [e.action for e in events].count("member.locked") == 1

    # Bob is told once; each try after is refused plainly; he still receives
    assert len(told(bot, BOB, PAUSED_DM)) == 1
    sent = len(bot.sends())
    for i in range(2):
        bot.driver.command(f"<@{CHEN}> 20 thanks {i}", user_id=BOB)
        assert len(told(bot, BOB, LOCKED, count=i + 1)) == i + 1
    give(bot, CHEN, BOB, 20, "still welcome")
    bot.settle()
    assert len(bot.sends()) == sent + 1
    assert bot.sends()[-1]["variables"]
    assert len([t for t in bot.dm_texts(BOB) if PAUSED_DM in t]) == 1
    assert len([t for t in bot.replies_to(BOB) if LOCKED in t]) == 2


def test_an_admin_locks_lists_and_unlocks_by_command(bot: BotHarness) -> None:
    bot.driver.command("locks", user_id=ADMIN)
    assert told(bot, ADMIN, "Nobody is locked")
    bot.driver.command(f"lock <@{MARIA}|maria> giving in circles with Bob", user_id=ADMIN)
    assert told(bot, ADMIN, f"<@{MARIA}> is locked")
    assert told(bot, MARIA, PAUSED_DM)
    assert "circles" not in "\n".join(bot.dm_texts(MARIA))  # the reason is the admins' note

    bot.driver.command("lock", user_id=ADMIN)
    [listed] = told(bot, ADMIN, "Locked givers (1)")
    assert f"<@{MARIA}>" in listed and "giving in circles with Bob" in listed

    bot.driver.command(f"lock <@{MARIA}>", user_id=ADMIN)
    assert told(bot, ADMIN, "is already locked")
    bot.driver.command(f"lock <@{ADMIN}>", user_id=ADMIN)
    assert told(bot, ADMIN, "You can't lock yourself")
    bot.driver.command(f"lock <@{BOB}>", user_id=MARIA)
    assert told(bot, MARIA, "Only admins can lock givers")

    bot.driver.command(f"<@{BOB}> 10 thanks", user_id=MARIA)
    assert told(bot, MARIA, LOCKED)
    bot.driver.command("", user_id=MARIA)  # the form says so instead of asking for a reward
    [form] = bot.wait(lambda: [v for v in bot.fake.views if v["user_id"] == MARIA])
    assert LOCKED in message_text(form["view"]) and form["view"]["title"]["text"] == "Send a reward"
    bot.driver.command(f"unlock <@{MARIA}>", user_id=ADMIN)
    assert told(bot, ADMIN, "is unlocked")
    assert told(bot, MARIA, "You can give rewards again")
    bot.driver.command(f"unlock <@{MARIA}>", user_id=ADMIN)
    assert told(bot, ADMIN, "isn't locked")
    give(bot, MARIA, BOB, 10, "thanks again")


def test_hold_future_ones_makes_the_next_such_reward_wait_for_an_admin(bot: BotHarness) -> None:
    for i in range(3):
        give(bot, MARIA, BOB, 50, f"thanks for the help {i}")
        give(bot, BOB, MARIA, 60, f"thanks right back {i}")
    bot.settle()
    assert run_now(bot.runtime, "flags").ok
    [dm] = bot.wait(lambda: flag_dms(bot, ADMIN))
    with bot.runtime.store.read_session() as session:
        [flag] = session.exec(select(RewardFlag)).all()
    bot.driver.block_action(
        user_id=ADMIN, action_id=ActionId.FLAG_HOLD, value=str(flag.id), message=dm
    )
    edited = bot.wait(lambda: latest(bot, dm) if not actions_in(latest(bot, dm)) else None)
    assert "new rewards like these" in message_text(edited)

    sent = len(bot.sends())
    bot.driver.command(f"<@{BOB}> 50 and once more", user_id=MARIA)
    [waits] = told(bot, MARIA, "waits for an admin's review")
    assert "I've asked" in waits and f"<@{ADMIN}>" in waits
    request = bot.wait(
        lambda: [m for m in bot.fake.dms_to(ADMIN) if ActionId.APPROVE in actions_in(m)]
    )[0]
    assert "and once more" in message_text(request)
    bot.settle()
    assert len(bot.sends()) == sent  # nothing sent until an admin decides
    bot.driver.block_action(
        user_id=ADMIN,
        action_id=ActionId.APPROVE,
        value=_short_of(bot, "and once more"),
        message=request,
    )
    bot.wait(lambda: len(bot.sends()) == sent + 1 or None)
    give(bot, MARIA, CHEN, 50, "not part of the ring")  # goes as usual


def _short_of(bot: BotHarness, citation: str) -> str:
    with bot.runtime.store.read_session() as session:
        [short] = session.exec(select(Reward.short_id).where(Reward.citation == citation)).all()
    return short


def test_forged_flag_buttons_get_one_plain_answer_and_change_nothing(bot: BotHarness) -> None:
    """Values no flag DM ever carried (signed as Slack signs them): a flag that never was, a
    number too big for the database, digits Python's int() refuses, 5,000 digits."""
    dm = bot.fake.workspace.post_message(channel=ADMIN, text="Flags to look at")
    forged = ["424242", "99999999999999999999999", "\u00b2", "9" * 5000]
    for i, value in enumerate(forged):
        response = bot.driver.block_action(
            user_id=ADMIN, action_id=ActionId.FLAG_LOCK, value=value, message=dm
        )
        assert response.status_code == 200
        expected = (
            "I can't find that flag any more. Nothing was changed."
            if i == 0
            else "That button is out of date. Nothing was changed."
        )
        assert told(bot, ADMIN, expected, count=1 if i < 2 else i)
    bot.settle()
    replies = bot.replies_to(ADMIN) + bot.dm_texts(ADMIN)
    assert len([t for t in replies if "Nothing was changed" in t]) == len(forged)
    with bot.runtime.store.read_session() as session:
        assert session.exec(select(RewardFlag)).all() == []
