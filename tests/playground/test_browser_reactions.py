"""Recognition in the conversation, in a real browser: a reward emoji under a person's message
gives its author after the undo window; clicked again inside the window, nothing is given; a
reward emoji on the bot's announcement joins the reward; and `@maria ++ 20 for …` in a message
gives, answered in the message's thread. The clock jumps a day to pass the window."""

from __future__ import annotations

from playwright.sync_api import Locator

from bot.simulators.playground.server import Playground
from tests.e2e.harness import BOB, MARIA
from tests.playground.browser import SlackPage, expect


def points_of(playground: Playground, email: str) -> int:
    assert playground.sandbox is not None
    return playground.sandbox.state.points_of(email)


def a_day_later(slack: SlackPage) -> None:
    """As the admin, jump the clock a day (past the undo window), then come back."""
    slack.be("Ada Lovelace (admin)")
    slack.go("Scheduled jobs")
    clock = slack.page.get_by_role("region", name="Clock")
    clock.get_by_role("button", name="A day later").click()
    expect(clock.locator("#clock-ahead")).to_contain_text("ahead of the real clock", timeout=30_000)


def react(message: Locator, emoji: str) -> None:
    message.locator(f'[data-react="{emoji}"]').first.click()


def test_a_reaction_gives_its_author_after_the_window(slack: SlackPage) -> None:
    slack.open(MARIA)
    slack.type("shipped the docs site")
    slack.be("Bob Brown")
    react(slack.message("shipped the docs site"), "taco")
    mine = slack.message("shipped the docs site").locator(".reaction.mine")
    expect(mine).to_contain_text("1")
    assert points_of(slack.playground, "maria@acme.test") == 0  # held for the undo window

    a_day_later(slack)
    slack.be("Maria Garcia")
    slack.go("rewardbot")
    expect(slack.message("5 points")).to_contain_text("Bob Brown")
    assert points_of(slack.playground, "maria@acme.test") == 5


def test_a_reaction_taken_back_inside_the_window_gives_nothing(slack: SlackPage) -> None:
    slack.open(MARIA)
    slack.type("fixed the flaky build")
    slack.be("Bob Brown")
    react(slack.message("fixed the flaky build"), "star")
    expect(slack.message("fixed the flaky build").locator(".reaction.mine")).to_contain_text("1")
    react(slack.message("fixed the flaky build"), "star")  # clicked again: taken back
    expect(slack.message("fixed the flaky build").locator(".reaction.mine")).to_have_count(0)

    a_day_later(slack)
    slack.go("general")
    expect(slack.page.locator("#messages .msg", has_text="rewarded")).to_have_count(0)
    assert points_of(slack.playground, "maria@acme.test") == 0


def test_a_reward_emoji_on_the_announcement_joins_the_reward(slack: SlackPage) -> None:
    slack.open(BOB)
    slack.type("/reward @maria 20 for the release notes")
    announcement = slack.message("rewarded @Maria Garcia with 20 points")
    slack.be("Chen Wei")
    react(slack.message("rewarded @Maria Garcia with 20 points"), "taco")

    a_day_later(slack)
    slack.go("general")
    joined = slack.message("rewarded @Maria Garcia with 20 points")
    expect(joined).to_contain_text("Chen Wei", timeout=30_000)  # "Joined by", in place
    expect(announcement).to_have_count(1)
    assert points_of(slack.playground, "maria@acme.test") == 40


def test_a_line_in_a_message_gives_with_the_answer_in_its_thread(slack: SlackPage) -> None:
    slack.open(BOB)
    slack.type("@maria ++ 20 for the release")
    a_day_later(slack)
    slack.be("Maria Garcia")
    slack.go("rewardbot")
    expect(slack.message("20 points")).to_contain_text("Bob Brown")
    assert points_of(slack.playground, "maria@acme.test") == 20
    slack.go("general")
    answer = slack.message("rewarded @Maria Garcia with 20 points")
    expect(answer.locator(".in-thread")).to_have_text("↳ replied in a thread")
