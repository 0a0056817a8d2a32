"""Trust, end to end over signed HTTP: a reward reported from its announcement leaves the
leaderboard until an admin restores it (it comes back); what can't be reported is said once;
admins adjust points in the bot (a deduction below zero refused with the balance, a valid one in
the person's history), and with points at Xoxoday they are told where balances live."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.ids import ActionId, BlockId, CallbackId, Shortcut
from tests.e2e.harness import (
    ADMIN,
    BOB,
    CHEN,
    MARIA,
    BotHarness,
    actions_in,
    answer_cancel,
    message_text,
)

REASON = {
    str(BlockId.REPORT_REASON): {
        str(ActionId.REPORT_REASON_INPUT): {
            "type": "plain_text_input",
            "value": "they swap points every week <!channel>",
        }
    }
}


def ask(bot: BotHarness, text: str, *, user: str, marker: str) -> str:
    before = len(bot.replies_to(user))
    assert bot.driver.command(text, user_id=user).status_code == 200
    return bot.wait(lambda: [t for t in bot.replies_to(user)[before:] if marker in t])[0]


def announcement(bot: BotHarness) -> dict[str, Any]:
    bot.driver.command(f"<@{MARIA}> 100 shipped the release", user_id=BOB)
    found = bot.wait(
        lambda: [m for m in bot.fake.messages("C0GENERAL") if "100 points" in message_text(m)]
    )
    bot.wait(lambda: bot.dm_texts(BOB))  # told after the announcement was recorded
    return found[-1]


def report(bot: BotHarness, message: dict[str, Any], *, by: str = CHEN) -> None:
    response = bot.driver.message_shortcut(
        user_id=by, callback_id=Shortcut.REPORT_REWARD, channel_id="C0GENERAL", message=message
    )
    assert response.status_code == 200


def report_form(bot: BotHarness, user: str) -> dict[str, Any]:
    view = bot.wait(lambda: bot.fake.modal_stack(user))[-1]
    assert view["callback_id"] == CallbackId.REPORT_MODAL
    return view


def admin_report(bot: BotHarness) -> dict[str, Any]:
    return bot.wait(
        lambda: [m for m in bot.fake.dms_to(ADMIN) if ActionId.REPORT_RESTORE in actions_in(m)]
    )[-1]


def on_board(bot: BotHarness) -> bool:
    text = ask(bot, "leaderboard month", user=CHEN, marker="Leaderboard")
    return f"<@{MARIA}> · 100 points" in text


def test_a_report_hides_a_reward_from_the_leaderboard_until_an_admin_restores_it(
    bot: BotHarness,
) -> None:
    message = announcement(bot)
    assert on_board(bot)

    report(bot, message)
    view = report_form(bot, CHEN)
    response = bot.driver.view_submission(user_id=CHEN, view=view, values=REASON)
    assert response.status_code == 200 and not response.content.strip(b"{} ")
    assert bot.fake.modal_stack(CHEN) == []
    thanks = bot.wait(
        lambda: [
            message_text(m)
            for m in bot.fake.ephemerals(CHEN)
            if "Thanks for reporting" in message_text(m)
        ]
    )
    assert len(thanks) == 1 and "off the leaderboard" in thanks[0]

    dm = admin_report(bot)
    text = message_text(dm)
    assert f"<@{CHEN}> reported <@{BOB}>'s reward" in text and "*100 points*" in text
    assert f"<@{MARIA}>" in text and "shipped the release" in text
    assert "they swap points every week" in text and "<!channel>" not in text
    assert ActionId.REPORT_CANCEL in actions_in(dm)
    assert not on_board(bot)

    # A double click on Restore: the first restores, the second is told who did.
    for _ in range(2):
        response = bot.driver.block_action(
            user_id=ADMIN,
            action_id=ActionId.REPORT_RESTORE,
            value=dm["blocks"][-1]["elements"][0]["value"],
            message=dm,
        )
        assert response.status_code == 200
    restored = bot.wait(
        lambda: [
            message_text(m)
            for m in bot.fake.dms_to(ADMIN)
            if m["ts"] == dm["ts"] and "restored" in message_text(m)
        ]
    )
    assert f"<@{ADMIN}> restored" in restored[0]
    told = bot.wait(lambda: [t for t in bot.replies_to(ADMIN) if "already restored" in t])
    assert len(told) == 1
    assert on_board(bot)
    bot.settle()
    assert len([t for t in bot.replies_to(ADMIN) if "already restored" in t]) == 1


def test_what_cannot_be_reported_gets_one_plain_answer(bot: BotHarness) -> None:
    message = announcement(bot)
    chatter = bot.fake.workspace.post_message(channel="C0GENERAL", text="lunch?", user=MARIA)
    report(bot, chatter)
    said = bot.wait(lambda: [t for t in bot.replies_to(CHEN) if "announcements" in t])
    assert said == [
        "That message isn't one of my reward announcements, so there's nothing to report. Use "
        "*Report this reward* on the message in which I announced the reward."
    ]
    assert bot.fake.modal_stack(CHEN) == []

    report(bot, message)
    bot.driver.view_submission(user_id=CHEN, view=report_form(bot, CHEN), values=REASON)
    report(bot, message, by=BOB)  # a second reporter is told it is known; no form opens
    answered = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "already reported" in t])
    assert len(answered) == 1 and bot.fake.modal_stack(BOB) == []
    bot.settle()
    assert len([m for m in bot.fake.dms_to(ADMIN) if ActionId.REPORT_RESTORE in actions_in(m)]) == 1


@pytest.fixture
def storefront_bot(make_bot) -> BotHarness:
    return make_bot(REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY="k")


def test_an_adjustment_below_zero_is_refused_and_a_valid_one_shows_in_history(
    storefront_bot: BotHarness,
) -> None:
    bot = storefront_bot
    bot.driver.command(f"<@{MARIA}> 30 thanks for the review", user_id=BOB)
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "30 points" in t])

    refused = ask(bot, f"adjust <@{MARIA}> -50 given twice", user=ADMIN, marker="available")
    assert refused == (
        f"<@{MARIA}> has 30 points available, so I can't deduct 50 points: a balance never goes "
        "below zero. Nothing was changed; you can deduct up to 30 points."
    )
    done = ask(bot, f"adjust <@{MARIA}> -10 given twice by mistake", user=ADMIN, marker="✅")
    assert done == (
        f"✅ Deducted 10 points from <@{MARIA}>'s points: “given twice by mistake”. "
        "Balance now: 20 points."
    )
    dm = bot.wait(lambda: [t.splitlines()[0] for t in bot.dm_texts(MARIA) if "deducted" in t])
    assert dm == [
        f"➖ <@{ADMIN}> deducted 10 points from your points: “given twice by mistake”. "
        "You have 20 points now."
    ]
    member = ask(bot, f"adjust <@{MARIA}> +10 sneaky", user=BOB, marker="Only admins")
    assert member.startswith("Only admins can add or deduct points.")

    history = ask(bot, "history", user=MARIA, marker="Your rewards")
    assert "*Adjusted by an admin*" in history
    assert f"*−10 points* by <@{ADMIN}>" in history and "given twice by mistake" in history
    balance = ask(bot, "balance", user=MARIA, marker="20")
    assert "20 points" in balance


def test_with_points_at_xoxoday_adjust_says_where_balances_are_changed(bot: BotHarness) -> None:
    said = ask(bot, f"adjust <@{MARIA}> -10 oops", user=ADMIN, marker="Xoxoday")
    assert "Xoxoday's dashboard" in said and "Nothing was changed here." in said


def test_cancel_from_a_report_goes_the_usual_cancel_path(bot: BotHarness) -> None:
    message = announcement(bot)
    report(bot, message)
    bot.driver.view_submission(user_id=CHEN, view=report_form(bot, CHEN), values=REASON)
    dm = admin_report(bot)
    short = dm["blocks"][-1]["elements"][1]["value"]
    response = bot.driver.block_action(
        user_id=ADMIN, action_id=ActionId.REPORT_CANCEL, value=short, message=dm
    )
    assert response.status_code == 200
    answer = answer_cancel(bot.fake, bot.driver, ADMIN)  # its question, then "Cancel reward"
    assert "Cancelled" in answer or "cancelled" in answer
    told = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "withdrawn" in t])
    assert "an admin decided it should not stand" in told[0]
    assert [r for r in bot.sandbox.requests if r["operation"] == "cancelBalance"]
    ended = bot.wait(
        lambda: [
            message_text(m)
            for m in bot.fake.dms_to(ADMIN)
            if m["ts"] == dm["ts"] and "cancelled" in message_text(m)
        ]
    )
    assert f"<@{ADMIN}> cancelled <@{BOB}>'s reward" in ended[0]
    late = bot.driver.block_action(
        user_id=ADMIN, action_id=ActionId.REPORT_RESTORE, value=short, message=dm
    )
    assert late.status_code == 200
    said = bot.wait(lambda: [t for t in bot.replies_to(ADMIN) if "already cancelled" in t])
    assert said == [f"<@{ADMIN}> already cancelled reward `{short}`. Nothing changed."]
