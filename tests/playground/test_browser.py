"""The playground in a real browser: what a visitor does, and what they (and Plum) see."""

from __future__ import annotations

import pytest

from bot.simulators.playground.server import Playground
from tests.e2e.harness import ADMIN, BOB, MARIA
from tests.playground.browser import SlackPage, expect


def points_of(playground: Playground, email: str) -> int:
    assert playground.sandbox is not None
    return playground.sandbox.state.points_of(email)


def test_reward_by_command_reaches_the_channel_the_dm_and_plum(slack: SlackPage) -> None:
    slack.open(BOB)
    slack.type("/reward @maria 100 shipped the release #ownership")

    reply = slack.message("Sending 100 points")
    expect(reply.locator(".only-you")).to_have_text("👁 Only visible to you")
    announcement = slack.message("rewarded")
    expect(announcement).to_contain_text("Bob Brown rewarded @Maria Garcia with 100 points")
    expect(announcement).to_contain_text("shipped the release")
    expect(announcement).to_contain_text("Sandbox: no real reward was sent.")
    expect(announcement.locator(".only-you")).to_have_count(0)

    slack.be("Maria Garcia")
    expect(slack.unread("rewardbot")).to_have_text("1")
    slack.go("rewardbot")
    dm = slack.message("100 points")
    expect(dm).to_contain_text("Bob Brown")
    expect(slack.page.locator(".tabs .tab.active")).to_have_text("Messages")

    slack.go("Plum sandbox")
    row = slack.page.locator("#sandbox-points tr", has_text="maria@acme.test")
    expect(row).to_contain_text("Maria Garcia")
    expect(row.locator(".num")).to_have_text("100")
    assert points_of(slack.playground, "maria@acme.test") == 100


def test_over_the_threshold_waits_for_the_approver(slack: SlackPage) -> None:
    slack.open(BOB)
    slack.type("/reward @chen 600 rebuilt the billing pipeline")
    slack.message("approv")
    assert points_of(slack.playground, "chen@acme.test") == 0

    slack.be("Arthur Approver (approver)")
    slack.go("rewardbot")
    request = slack.message("rebuilt the billing pipeline")
    slack.click(request, "Approve")
    slack.confirm("Approve")
    expect(request.get_by_role("button", name="Approve")).to_have_count(0, timeout=10_000)
    slack.message("Approved")

    slack.be("Chen Wei")
    dm = slack.message("600 points")
    expect(dm).to_contain_text("rebuilt the billing pipeline")
    assert points_of(slack.playground, "chen@acme.test") == 600
    slack.go("general")
    slack.message("rewarded @Chen Wei with 600 points")


def test_balance(slack: SlackPage) -> None:
    slack.open(BOB)
    slack.type("/reward @maria 40 great code review")
    slack.message("rewarded")
    slack.be("Maria Garcia")
    slack.type("/reward balance")
    reply = slack.message("40")
    expect(reply.locator(".only-you")).to_be_visible()
    expect(reply).to_contain_text("Sandbox: no real reward was sent.")


def test_app_home_and_its_send_button(slack: SlackPage) -> None:
    slack.open(MARIA)
    slack.go("Rewards · Home")
    home = slack.page.locator("#home .home-view")
    expect(home.locator(".b-header").first).to_have_text("Rewards")
    expect(home).to_contain_text("Recently received")
    slack.click(home, "Send a reward")
    expect(slack.modal).to_be_visible()
    expect(slack.modal.locator(".modal-head h2")).to_have_text("Send a reward")


def test_modal_shows_inline_errors_then_sends(slack: SlackPage) -> None:
    slack.open(BOB)
    slack.type("/reward")
    modal = slack.modal
    expect(modal).to_be_visible()
    slack.pick("Who is it for?", "mar", "Maria Garcia")
    amount = slack.field("How many points?")
    citation = slack.field("What is it for?")
    expect(citation.locator("textarea")).to_be_visible()
    citation.locator("textarea").fill("mentored the new hires\nfor a whole month")
    slack.field("Company value").locator("select").select_option(label="#teamwork")

    amount.locator("input").fill("abc")  # Slack's own client stops this one
    modal.get_by_role("button", name="Send").click()
    expect(amount.locator(".field-error")).to_have_text("Please enter a number.")

    amount.locator("input").fill("1500")  # over Bob's 1,000 monthly allowance: the bot says no
    modal.get_by_role("button", name="Send").click()
    expect(amount.locator(".field-error")).to_contain_text("allowance")
    expect(citation.locator("textarea")).to_have_value("mentored the new hires\nfor a whole month")
    assert points_of(slack.playground, "maria@acme.test") == 0

    amount.locator("input").fill("50")
    modal.get_by_role("button", name="Send").click()
    expect(modal).to_have_count(0)
    slack.message("rewarded @Maria Garcia with 50 points")
    assert points_of(slack.playground, "maria@acme.test") == 50


def test_reward_this_message_shortcut(slack: SlackPage) -> None:
    slack.open(MARIA)
    slack.type("fixed the flaky deploy pipeline")
    mine = slack.message("fixed the flaky deploy pipeline")
    expect(mine.locator(".author")).to_have_text("Maria Garcia")

    slack.be("Bob Brown")
    message = slack.message("fixed the flaky deploy pipeline")
    message.hover()
    message.get_by_role("button", name="More actions").click()
    message.get_by_role("menuitem", name="Reward this message").click()
    expect(slack.modal).to_be_visible()
    expect(slack.picked("Who is it for?")).to_have_text(["Maria Garcia×"])
    citation = slack.field("What is it for?").locator("textarea")
    expect(citation).to_have_value(
        f"Thanks for this message: {slack.playground.url}slack/archives/C0GENERAL/p"
        + message.get_attribute("data-ts").replace(".", "")  # type: ignore[union-attr]
    )
    slack.field("How many points?").locator("input").fill("25")
    slack.modal.get_by_role("button", name="Send").click()
    expect(slack.modal).to_have_count(0)
    slack.message("rewarded @Maria Garcia with 25 points")


def test_global_shortcut_opens_the_form(slack: SlackPage) -> None:
    slack.open(BOB, "C0KUDOS")
    slack.page.get_by_role("button", name="Shortcuts").click()
    slack.page.get_by_role("menuitem", name="Send a reward").click()
    expect(slack.modal.locator(".modal-head h2")).to_have_text("Send a reward")
    slack.modal.get_by_role("button", name="Cancel").click()
    expect(slack.modal).to_have_count(0)


def test_run_a_scheduled_job_now(slack: SlackPage) -> None:
    from bot.simulators.playground.jobs import available_jobs

    slack.open(ADMIN)
    if available_jobs() is None:  # a build without the jobs registry shows no control
        expect(slack.page.locator("#sidebar", has_text="Scheduled jobs")).to_have_count(0)
        return
    slack.go("Scheduled jobs")
    job = slack.page.locator(".job", has_text="weekly-summary")
    job.get_by_role("button", name="Run now").click()
    expect(job.locator(".job-result")).to_contain_text("posted in #kudos")
    expect(slack.unread("kudos")).to_have_text("1")
    slack.go("kudos")
    expect(slack.message("Sandbox: no real reward was sent.")).to_contain_text("week")


def test_emoji_show_their_names_without_a_colour_emoji_font(slack: SlackPage) -> None:
    """A machine with no colour emoji font draws 🎉 as a box: the page shows :tada: instead,
    as Slack shows an emoji it lacks (the text itself stays the emoji)."""
    slack.open(BOB)
    slack.type("/reward @maria 10 for the party :tada:")
    reply = slack.message("Sending 10 points")
    if slack.page.evaluate("colourEmoji()"):
        pytest.skip("this machine's browser draws emoji in colour: no fallback to show")
    assert slack.page.evaluate("document.documentElement.classList.contains('no-colour-emoji')")
    party = slack.message("for the party").locator(".emoji").first
    expect(party).to_have_text("🎉")
    shown = party.evaluate("e => getComputedStyle(e, '::after').content")
    assert shown == '":tada:"'
    size = party.evaluate("e => getComputedStyle(e).fontSize")
    assert size == "0px"  # the box is not drawn
    expect(reply).to_be_visible()
