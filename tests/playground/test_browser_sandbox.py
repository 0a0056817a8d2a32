"""The hard paths from the page: the sandbox control makes Xoxoday lose an answer, the next
reward is in doubt, and the admin settles it from the alert in their DM ("It was sent" or "It
failed"), without reading the source or `curl`ing the sandbox."""

from __future__ import annotations

from bot.simulators.playground.server import Playground
from tests.e2e.harness import ADMIN
from tests.playground.browser import SlackPage, expect


def points_of(playground: Playground, email: str) -> int:
    assert playground.sandbox is not None
    return playground.sandbox.state.points_of(email)


def lose_the_next_answer(slack: SlackPage) -> None:
    slack.go("Plum sandbox")
    form = slack.page.get_by_role("form", name="Make Xoxoday misbehave")
    form.get_by_label("What happens").select_option("lost")
    form.get_by_label("To").select_option(label="Sending points")
    form.get_by_label("For").select_option(label="The next call")
    form.get_by_role("button", name="Apply").click()
    expect(slack.page.locator("#sandbox-faults")).to_contain_text(
        "Sending points: a lost answer · the next call"
    )


def test_an_in_doubt_reward_made_and_settled_from_the_page(slack: SlackPage) -> None:
    slack.open(ADMIN)
    lose_the_next_answer(slack)

    slack.go("general")
    slack.type("/reward @maria 40 for the incident write-up")
    slack.go("rewardbot")
    alert = slack.message("Reward in doubt")
    expect(alert).to_contain_text("maria@acme.test")
    slack.go("Plum sandbox")
    expect(slack.page.locator("#sandbox-faults")).to_contain_text("No faults")  # used up
    row = slack.page.locator("#sandbox-points tr", has_text="maria@acme.test")
    expect(row.locator(".num")).to_have_text("40")  # the points went; the answer didn't

    slack.go("rewardbot")
    alert = slack.message("maria@acme.test")  # the alert lists the recipients' emails
    expect(alert).to_contain_text("Reward in doubt")
    slack.click(alert, "It was sent")
    slack.confirm("It was sent")
    expect(alert.get_by_role("button", name="It was sent")).to_have_count(0)
    expect(alert).to_contain_text("Marked as sent by @Ada Lovelace")
    expect(alert).to_contain_text("Reward settled as sent")  # the heading follows
    expect(alert).not_to_contain_text("Reward in doubt")

    lose_the_next_answer(slack)
    slack.go("general")
    slack.type("/reward @chen 25 for the on-call handover")
    slack.go("rewardbot")
    second = slack.message("chen@acme.test")
    expect(second).to_contain_text("Reward in doubt")
    slack.click(second, "It failed")
    slack.confirm("It failed")
    expect(second).to_contain_text("Marked as failed by @Ada Lovelace")
    expect(second).to_contain_text("Reward settled as not sent")
    assert points_of(slack.playground, "maria@acme.test") == 40


def test_an_outage_until_cleared_then_cleared(slack: SlackPage) -> None:
    slack.open(ADMIN, "sandbox")
    form = slack.page.get_by_role("form", name="Make Xoxoday misbehave")
    form.get_by_label("What happens").select_option("outage")
    form.get_by_label("To").select_option(label="Every call")
    form.get_by_label("For").select_option(label="Until cleared")
    form.get_by_role("button", name="Apply").click()
    faults = slack.page.locator("#sandbox-faults")
    expect(faults).to_contain_text("Every call: an outage (503) · until cleared")
    expect(form.get_by_label("What happens")).to_have_value("outage")  # kept over the redraw
    slack.page.get_by_role("button", name="Clear all").click()
    expect(faults).to_contain_text("No faults")
