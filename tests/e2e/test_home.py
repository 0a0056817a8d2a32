"""The App Home end to end: what a member, an approver and an admin see when they open it, and
that it follows every change that concerns them (only for people who have opened it)."""

from __future__ import annotations

import json
from typing import Any

from storage import links as link_repo
from storage import members as member_repo
from tests.e2e.harness import (
    ADMIN,
    APPROVER,
    BOB,
    CHEN,
    MARIA,
    BotHarness,
    message_text,
)
from tests.e2e.modal_form import open_by_command, rewards, submit

LINK = "https://links.example/redeem/SECRET-LINK-123"


def publishes(bot: BotHarness, user_id: str) -> list[dict[str, Any]]:
    return [
        v["view"]
        for v in bot.fake.views
        if v["method"] == "views.publish" and v["user_id"] == user_id
    ]


def open_home(bot: BotHarness, user_id: str, tab: str = "home") -> dict[str, Any]:
    before = len(publishes(bot, user_id))
    assert bot.driver.app_home_opened(user_id=user_id, tab=tab).status_code == 200
    return bot.wait(lambda: len(publishes(bot, user_id)) > before and publishes(bot, user_id)[-1])


def home_text(bot: BotHarness, user_id: str) -> str:
    view = bot.fake.home(user_id)
    return message_text(view) if view else ""


def wait_home(bot: BotHarness, user_id: str, words: str) -> str:
    return bot.wait(lambda: words in home_text(bot, user_id) and home_text(bot, user_id))


def actions(view: dict[str, Any]) -> dict[str, list[str]]:
    return {
        b["block_id"]: [e["action_id"] for e in b["elements"]]
        for b in view["blocks"]
        if b["type"] == "actions"
    }


def test_member_home(bot: BotHarness) -> None:
    view = open_home(bot, MARIA)
    text = message_text(view)
    assert "You have no points to redeem yet" in text
    assert "You can still give *1,000 points* this month" in text
    assert "Recently received" in text and "Recently given" in text
    assert actions(view) == {"home_actions": ["open_reward_modal"]}
    assert "Waiting for your approval" not in text
    assert "Company account" not in text and "Rewards in doubt" not in text


def test_messages_tab_publishes_nothing(bot: BotHarness) -> None:
    bot.driver.app_home_opened(user_id=MARIA, tab="messages")
    open_home(bot, MARIA)
    assert len(publishes(bot, MARIA)) == 1


def test_home_follows_rewards_received_and_given(bot: BotHarness) -> None:
    open_home(bot, MARIA)
    open_home(bot, BOB)
    bot.driver.command(f"<@{MARIA}> <@{CHEN}> 100 shipped the release", user_id=BOB)

    maria = wait_home(bot, MARIA, "You have *100 points* to redeem")
    assert "from <@UBOB0001>" in maria and "shipped the release" in maria
    bob = wait_home(bot, BOB, "*200 points* to <@UMARIA01> and <@UCHEN001>")
    assert "You can still give *800 points* this month" in bob
    # Chen never opened the App Home: nothing is published for them
    assert bot.wait(lambda: bot.dm_texts(CHEN))
    assert publishes(bot, CHEN) == []


def test_approver_sees_what_waits_with_buttons_and_it_follows(bot: BotHarness) -> None:
    first = open_home(bot, APPROVER)
    assert "Waiting for your approval (0)" in message_text(first)
    view = open_by_command(bot, BOB)
    assert submit(bot, BOB, view, recipients=[MARIA], amount="500") == {}
    [reward] = rewards(bot)

    text = wait_home(bot, APPROVER, "Waiting for your approval (1)")
    assert reward.short_id in text and "<@UBOB0001> → <@UMARIA01>" in text
    home = bot.fake.home(APPROVER)
    assert actions(home)[f"approval_actions:{reward.short_id}"] == [
        "reward_approve",
        "reward_reject",
    ]
    # the buttons work from the App Home: approved, sent, and the request leaves the home
    bot.driver.block_action(
        user_id=APPROVER, action_id="reward_approve", value=reward.short_id, view=home
    )
    assert bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "500 points" in t])
    wait_home(bot, APPROVER, "Waiting for your approval (0)")
    assert len(bot.sends()) == 1
    # the giver's own home shows it, without buttons to approve it themselves
    giver = open_home(bot, BOB)
    assert "*500 points* to <@UMARIA01>" in message_text(giver)
    assert not [k for k in actions(giver) if k.startswith("approval_actions")]


def test_manager_sees_their_reports_rewards(bot: BotHarness) -> None:
    bot.driver.command(f"<@{MARIA}> 500 big launch", user_id=BOB)
    assert bot.wait(lambda: [t for t in bot.replies_to(BOB) if "needs approval" in t])
    with bot.runtime.store.session() as session:
        bob = member_repo.get_member_by_slack_id(session, slack_user_id=BOB)
        chen = member_repo.upsert_member(
            session, team_id="T0001", slack_user_id=CHEN, email="chen@acme.test"
        )
        member_repo.set_manager(session, member=bob, manager=chen, actor=ADMIN)
    text = message_text(open_home(bot, CHEN))
    assert "Waiting for your approval (1)" in text and "big launch" in text
    assert "Waiting for your approval" not in message_text(open_home(bot, MARIA))


def test_admin_home_account_in_doubt_and_link_batches(bot: BotHarness) -> None:
    text = message_text(open_home(bot, ADMIN))
    assert "As an admin, you have no monthly limit" in text
    assert "*Company account:*" in text and "left at Xoxoday" in text
    assert "Rewards in doubt (0)" in text and "Last link batches*\nNone yet." in text

    # a reward whose outcome is unknown: the admin's open home follows, with settle buttons
    bot.sandbox.faults.set("sendBalance", drop_after_apply=True, count=1)
    bot.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
    wait_home(bot, ADMIN, "Rewards in doubt (1)")
    [reward] = rewards(bot)
    assert actions(bot.fake.home(ADMIN))[f"settle_actions:{reward.short_id}"] == [
        "reward_settle_sent",
        "reward_settle_failed",
    ]
    assert "maria@acme.test" in home_text(bot, ADMIN)

    # a batch of links: counted and dated, the links themselves never shown
    with bot.runtime.store.session() as session:
        admin = member_repo.get_member_by_slack_id(session, slack_user_id=ADMIN) or (
            member_repo.upsert_member(session, team_id="T0001", slack_user_id=ADMIN)
        )
        batch = link_repo.create_link_batch(
            session, campaign_id="4242", count=3, requested_by=admin
        )
        link_repo.complete_link_batch(
            session,
            batch_id=batch.id,
            links=[LINK, LINK + "b", LINK + "c"],
            plum_batch_id="B1",
            actor=ADMIN,
            campaign_name="Thanks",
        )
    view = open_home(bot, ADMIN)
    assert "3 links · *Thanks* (4242) · by <@UADMIN01>" in message_text(view)
    assert "SECRET-LINK" not in json.dumps(view)
    # three publishes, one getBalance (10 calls a minute: cached)
    assert len(publishes(bot, ADMIN)) >= 3
    assert len([r for r in bot.sandbox.requests if r["operation"] == "getBalance"]) == 1


def test_home_still_shows_when_plum_fails(bot: BotHarness) -> None:
    bot.sandbox.faults.set("user_balance", error="400")
    bot.sandbox.faults.set("getBalance", error="400")
    text = message_text(open_home(bot, ADMIN))
    assert "I couldn't look up your points right now" in text
    assert "I couldn't get the balance from Xoxoday right now" in text
    assert "Recently received" in text and "Rewards in doubt (0)" in text


def test_sandbox_notice_on_the_home(make_bot) -> None:
    bot = make_bot(PLUM_BASE_URL="sandbox", PLUM_CLIENT_ID="", PLUM_CLIENT_SECRET="")
    assert "Sandbox: no real reward was sent" in message_text(open_home(bot, MARIA))
