"""`/reward @design-team 10 for the launch` end to end: a signed command → a preview (how many
people, the total, who is left out) → Send (or Cancel) → one sendBalance to the members. And
allowances per person or group: set by an admin, refused to a member, shown by
`/reward balance`, carried over across a month boundary, and the note when one is reached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.e2e.harness import (
    ADMIN,
    BOB,
    CHEN,
    MARIA,
    BotHarness,
    actions_in,
    message_text,
    wait_until,
)

DESIGN = "<!subteam^S0DESIGN|@design-team>"
SEND, CANCEL = "group_send", "group_cancel"


def preview_of(bot: BotHarness, user: str = BOB, *, after: int = 0) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        shown = [e for e in bot.fake.ephemerals(user)[after:] if SEND in actions_in(e)]
        return shown[-1] if shown else None

    return wait_until(found, timeout=10, what=f"a group reward preview for {user}")


def press(bot: BotHarness, preview: dict[str, Any], action: str, user: str = BOB) -> None:
    value = next(
        element["value"]
        for block in preview["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == action
    )
    response = bot.driver.block_action(user_id=user, action_id=action, value=value, message=preview)
    assert response.status_code == 200


def answer_to(bot: BotHarness, preview: dict[str, Any], user: str = BOB) -> str:
    """What replaced the preview once a button was pressed."""

    def answered() -> str | None:
        now = [e for e in bot.fake.ephemerals(user) if e["ts"] == preview["ts"]]
        return message_text(now[0]) if now and SEND not in actions_in(now[0]) else None

    return wait_until(answered, timeout=10, what="the answer replacing the preview")


def reply(bot: BotHarness, user: str, marker: str, *, after: int = 0) -> str:
    return bot.wait(lambda: [t for t in bot.replies_to(user)[after:] if marker in t])[-1]


def test_a_group_reward_is_previewed_then_sent_once_to_its_members(bot: BotHarness) -> None:
    assert bot.driver.command(f"{DESIGN} 10 for the launch", user_id=BOB).status_code == 200
    preview = preview_of(bot)
    text = message_text(preview)
    assert "Reward @design-team: that's *2 people* × 10 points = *20 points* in all" in text
    assert f"To: <@{MARIA}> and <@{CHEN}>" in text
    assert (
        "Left out: you, <@UNOMAIL1> (no email in Slack), <@UGONE001> (deactivated), "
        "<@UBOT0001> (a bot)." in text
    )
    assert "<!subteam" not in text  # the group is never pinged
    assert bot.sends() == []  # nothing before Send

    press(bot, preview, SEND)
    press(bot, preview, SEND)  # a double click
    answer = answer_to(bot, preview)
    assert "Sending *10 points* each to <@UMARIA01> and <@UCHEN001>" in answer
    bot.wait(lambda: bot.dm_texts(MARIA) and bot.dm_texts(CHEN))
    bot.settle()
    sends = bot.sends()
    assert len(sends) == 1
    variables = sends[0]["variables"]
    recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
    assert sorted(r["to_email"] for r in recipients) == ["chen@acme.test", "maria@acme.test"]
    assert bot.sandbox.state.points_of("maria@acme.test") == 10
    assert bot.sandbox.state.points_of("chen@acme.test") == 10
    assert bot.sandbox.state.points_of("bob@acme.test") == 0


def test_cancel_sends_nothing_and_a_late_send_is_refused(bot: BotHarness) -> None:
    bot.driver.command(f"{DESIGN} 10 for the launch", user_id=BOB)
    preview = preview_of(bot)
    press(bot, preview, CANCEL)
    assert "OK, I didn't send the reward to @design-team. Nothing was given." in answer_to(
        bot, preview
    )
    press(bot, preview, SEND)  # the old message's button, clicked late (or forged)
    bot.settle()
    assert bot.sends() == []
    assert any("You cancelled this reward" in t for t in bot.replies_to(BOB))


def test_someone_else_pressing_send_and_forged_ids_send_nothing(bot: BotHarness) -> None:
    bot.driver.command(f"{DESIGN} 10 for the launch", user_id=BOB)
    preview = preview_of(bot)
    press(bot, preview, SEND, user=MARIA)
    for forged in ("99999", "²", "9" * 40, "", "1 OR 1=1"):
        bot.driver.block_action(user_id=BOB, action_id=SEND, value=forged, message=preview)
    bot.settle()
    assert bot.sends() == []
    said = bot.replies_to(MARIA) + bot.replies_to(BOB)
    assert any("Only <@UBOB0001>, who asked for this reward, can send it." in t for t in said)
    assert sum("That button is out of date" in t for t in said) == 5
    press(bot, preview, SEND)  # the giver's buttons are still there, and work
    bot.wait(lambda: bot.dm_texts(MARIA) and bot.dm_texts(CHEN))
    bot.settle()
    assert len(bot.sends()) == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("<!subteam^S0FORGED|@design-team> 10 x", "I can't find the user group @design-team."),
        ("<!subteam^S0DESIGN|@*design*-team&lt;> 10 x", "that's *2 people*"),  # markup dropped
    ],
    ids=["forged-id", "markup-in-handle"],
)
def test_bad_group_mentions(bot: BotHarness, text: str, says: str) -> None:
    bot.driver.command(text, user_id=BOB)
    answered = bot.wait(lambda: [t for t in bot.replies_to(BOB) if says in t])
    assert "<!" not in answered[0] and "*design*" not in answered[0]


def test_an_empty_group_a_group_of_only_you_and_500_people(bot: BotHarness) -> None:
    ws = bot.fake.workspace
    ws.add_usergroup(id="S0EMPTY", handle="nobody")
    ws.add_usergroup(id="S0ALONE", handle="just-bob", users=[BOB])
    ws.add_usergroup(id="S0HUGE", handle="all", users=[f"U{i:07d}" for i in range(500)])
    bot.driver.command("<!subteam^S0EMPTY|@nobody> 10 x", user_id=BOB)
    reply(bot, BOB, "@nobody has no members, so there's nobody to reward.")
    bot.driver.command("<!subteam^S0ALONE|@just-bob> 10 x", user_id=BOB)
    reply(bot, BOB, "You're the only member of @just-bob, and you can't reward yourself.")
    bot.driver.command("<!subteam^S0HUGE|@all> 10 x", user_id=BOB)
    reply(bot, BOB, "@all has 500 people, and one reward goes to at most 100.")
    bot.settle()
    assert bot.sends() == []


def test_a_group_total_from_the_threshold_waits_for_approval(
    make_bot: Callable[..., BotHarness],
) -> None:
    bot = make_bot(REWARD_APPROVAL_THRESHOLD="20")
    bot.driver.command(f"{DESIGN} 10 for the launch", user_id=BOB)
    preview = preview_of(bot)
    assert "this one will too" in message_text(preview)
    press(bot, preview, SEND)
    assert "approv" in answer_to(bot, preview).lower()
    bot.settle()
    assert bot.sends() == []


# ── allowances ────────────────────────────────────────────────────────────────────────────


def test_a_member_can_not_set_allowances(bot: BotHarness) -> None:
    response = bot.driver.command(f"allowance <@{BOB}> 99999", user_id=BOB)
    assert "Only admins can set allowances" in response.text
    response = bot.driver.command("allowances", user_id=MARIA)
    assert "Only admins can see the allowances" in response.text
    bot.driver.command("balance", user_id=BOB)
    assert "(of 1,000; 0 given)" in reply(bot, BOB, "You can still give")


def test_a_groups_allowance_counts_a_group_reward_and_shows_in_balance(
    make_bot: Callable[..., BotHarness],
) -> None:
    bot = make_bot(REWARD_ALLOWANCE="10")
    bot.driver.command(f"allowance {DESIGN} 40", user_id=ADMIN)
    said = reply(bot, ADMIN, "@design-team")
    assert said == (
        "✅ Each member of @design-team may give *40 points* a month from now on, unless they "
        "have an allowance of their own."
    )
    listed = bot.driver.command("allowances", user_id=ADMIN).text
    assert "• @design-team (user group): *40 points* a month" in listed
    bot.driver.command("balance", user_id=BOB)
    assert "You can still give *40 points* this month (of 40; 0 given)" in reply(
        bot, BOB, "You can still give"
    )
    bot.driver.command(f"{DESIGN} 25 for the launch", user_id=BOB)
    assert "That's 50 points in all (2 people × 25), but you have 40 points of your 40" in reply(
        bot, BOB, "in all"
    )
    bot.driver.command(f"{DESIGN} 20 for the launch", user_id=BOB)
    preview = preview_of(bot)
    assert "You'll have 0 points left to give this month." in message_text(preview)
    press(bot, preview, SEND)
    note = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "all *40 points* of your" in t])
    assert "You can give again from 1 " in note[0]
    bot.driver.command(f"<@{MARIA}> 1 one more", user_id=BOB)
    reply(bot, BOB, "you've already given all 40 points of your monthly allowance")
    bot.settle()
    assert len([t for t in bot.dm_texts(BOB) if "of your allowance this month" in t]) == 1


@pytest.fixture
def march() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=True) as traveller:
        yield traveller


def test_carry_over_across_the_month_boundary(
    make_bot: Callable[..., BotHarness], march: time_machine.Coordinates
) -> None:
    bot = make_bot(REWARD_ALLOWANCE="100", REWARD_ALLOWANCE_CARRYOVER_MAX="30")
    bot.driver.command(f"allowance <@{BOB}> 200", user_id=ADMIN)
    reply(bot, ADMIN, "may give *200 points* a month")
    bot.driver.command(f"<@{MARIA}> 150 for March", user_id=BOB)
    bot.wait(lambda: bot.dm_texts(MARIA))
    bot.settle()
    march.move_to(datetime(2026, 4, 1, 8, 0, tzinfo=UTC))  # 50 unspent; 30 carried
    seen = len(bot.replies_to(BOB))
    bot.driver.command("balance", user_id=BOB)
    assert (
        "You can still give *230 points* this month (of 230, 30 of it carried over from last "
        "month; 0 given)." in reply(bot, BOB, "You can still give", after=seen)
    )
    bot.driver.command(f"<@{MARIA}> 231 for April", user_id=BOB)
    reply(bot, BOB, "you have 230 points of your 230 left this month")
    bot.driver.command(f"<@{MARIA}> 230 for April", user_id=BOB)
    bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "230 points" in t])
    bot.settle()
    assert bot.sandbox.state.points_of("maria@acme.test") == 380


def test_a_slow_slack_shows_a_note_first_then_the_preview(bot: BotHarness) -> None:
    bot.fake.slow_next("usergroups.users.list", seconds=3)
    bot.driver.command(f"{DESIGN} 10 for the launch", user_id=BOB)
    note = reply(bot, BOB, "Looking up who is in the group")
    assert "Nothing is sent yet" in note
    preview = preview_of(bot)
    assert "*2 people*" in message_text(preview)
    assert bot.sends() == []
