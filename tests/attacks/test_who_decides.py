"""Who may do what, attacked through the real `rewardbot serve`: nobody decides on a reward that
pays them, and members are told they can't before they are told how to type a command."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.ids import ActionId
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, MARIA, NOMAIL, actions_in, message_text


def open_requests(serve: ServeProcess, user_id: str) -> list[dict[str, Any]]:
    return [m for m in serve.fake.dms_to(user_id) if ActionId.APPROVE in actions_in(m)]


def newest_short_id(serve: ServeProcess) -> str:
    rows = serve.wait_until(lambda: serve.sql("SELECT short_id FROM rewards ORDER BY id DESC"))
    return str(rows[0][0])


def status(serve: ServeProcess, short: str) -> str:
    return str(serve.sql("SELECT status FROM rewards WHERE short_id = ?", short)[0][0])


def click(serve: ServeProcess, user_id: str, short: str, message: dict[str, Any] | None) -> None:
    response = serve.driver.block_action(
        user_id=user_id,
        action_id=ActionId.APPROVE,
        value=short,
        message=message,
        channel_id=(message or {}).get("channel") or "C0GENERAL",
    )
    assert response.status_code == 200


def test_an_approver_paid_by_a_reward_is_not_asked_and_cannot_approve_it(
    serve: ServeProcess,
) -> None:
    # Arthur is the only approver; Bob rewards Arthur 650 (over the threshold of 500).
    serve.driver.command(f"<@{APPROVER}> 650 ran the incident review", user_id=BOB)
    short = newest_short_id(serve)
    request = serve.wait(lambda: open_requests(serve, ADMIN))[0]  # routed to the admins
    assert short in message_text(request)
    assert open_requests(serve, APPROVER) == []
    # Arthur approves anyway, with a click crafted from the admin's card.
    click(serve, APPROVER, short, None)
    said = serve.wait(lambda: [t for t in serve.replies_to(APPROVER) if "pays you" in t])
    assert "another approver or an admin" in said[0]
    assert status(serve, short) == "pending_approval"
    assert serve.sql("SELECT COUNT(*) FROM approvals")[0][0] == 0
    # The admin may.
    click(serve, ADMIN, short, request)
    serve.wait_until(lambda: status(serve, short) == "sent")
    assert len(serve.sends()) == 1


def test_the_giver_a_member_and_a_stranger_cannot_approve(serve: ServeProcess) -> None:
    serve.driver.command(f"<@{MARIA}> 700 shipped the migration", user_id=BOB)
    short = newest_short_id(serve)
    serve.wait(lambda: open_requests(serve, APPROVER))
    for who, words in [(BOB, "your own reward"), (CHEN, "Only"), (NOMAIL, "Only")]:
        click(serve, who, short, None)
        # what the bot posted to this click's response_url
        key = serve.driver.last_response_key
        serve.wait(
            lambda key=key, words=words: [
                r for r in serve.fake.responses(key) if words in message_text(r["body"])
            ]
        )
    assert status(serve, short) == "pending_approval"
    assert serve.sends() == []


@pytest.mark.parametrize(
    "text, doing",
    [
        ("cancel", "cancel rewards"),
        ("cancel ???", "cancel rewards"),
        ("link", "send reward links"),
        ("link not-a-person 12", "send reward links"),
        ("links", "make batches of reward links"),
        ("links abc -4", "make batches of reward links"),
        ("manager", "record managers"),
        ("manager <@UMARIA01> <@UBOB0001> extra words", "record managers"),
        ("managers please", "list managers"),
    ],
)
def test_members_are_told_they_cannot_before_how_to_type_it(
    module_serve: ServeProcess, text: str, doing: str
) -> None:
    serve = module_serve  # one bot for these: a refusal records nothing
    response = serve.driver.command(text, user_id=BOB)
    assert response.status_code == 200
    assert f"Only admins can {doing}" in response.text
    assert serve.statuses() == {}


def test_members_cannot_settle_a_reward(serve: ServeProcess) -> None:
    serve.driver.command(f"<@{MARIA}> 10 thanks", user_id=BOB)
    short = newest_short_id(serve)
    serve.wait_until(lambda: status(serve, short) == "sent")
    for action in (ActionId.SETTLE_SENT, ActionId.SETTLE_FAILED):
        serve.driver.block_action(
            user_id=BOB, action_id=action, value=short, channel_id="C0GENERAL"
        )
    serve.wait(
        lambda: len([t for t in serve.replies_to(BOB) if "Only admins can settle" in t]) == 2
    )
    assert status(serve, short) == "sent"
