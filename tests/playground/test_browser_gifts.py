"""Gift cards and donations in a real browser: the catalogue form searched as you type (an
external_select answered by the bot's block_suggestion), a product picked (the form redrawn with
its amount), the order, the recipient's Reveal, and a donation in the team's name."""

from __future__ import annotations

import re

from bot.simulators.playground.server import Playground
from tests.e2e.harness import ADMIN, MARIA
from tests.playground.browser import WAIT_MS, SlackPage, expect

ORDER_MS = 30_000  # the order worker places it against the sandbox, then DMs


def codes(playground: Playground) -> list[str]:
    assert playground.sandbox is not None
    return [v.code for o in playground.sandbox.state.orders() for v in o.vouchers]


def test_send_a_gift_card_reveal_it_and_make_a_donation(slack: SlackPage) -> None:
    slack.open(ADMIN)
    slack.type("/reward gift @maria ")  # the space closes the @-list
    expect(slack.modal.locator(".modal-head h2")).to_have_text("Send a gift card")
    expect(slack.field("Who is it for?").locator("select")).to_have_value(MARIA)

    found = slack.search("Gift card", "amazon")
    expect(found.filter(has_text="Amazon.com Gift Card")).to_be_visible(timeout=WAIT_MS)
    expect(found.filter(has_not_text=re.compile("amazon", re.I))).to_have_count(0)
    found.filter(has_text="Amazon.com Gift Card").click()

    amount = slack.field("Amount (USD)")  # the bot's views.update drew the amount in
    expect(amount).to_be_visible(timeout=WAIT_MS)
    expect(slack.modal).to_contain_text("Amounts:")
    expect(slack.field("Gift card").locator(".ext-search")).to_have_value(
        re.compile("^Amazon.com Gift Card")
    )
    expect(slack.field("Who is it for?").locator("select")).to_have_value(MARIA)
    amount.locator(".field").fill("5")
    slack.field("Your message").locator("textarea").fill("for the launch <b>")
    slack.modal.get_by_role("button", name="Send", exact=True).click()
    expect(slack.modal).to_have_count(0, timeout=WAIT_MS)

    slack.go("rewardbot")
    sent = slack.page.locator("#messages .msg", has_text="Sent:")
    expect(sent).to_be_visible(timeout=ORDER_MS)
    expect(sent).to_contain_text("Amazon.com Gift Card for @Maria Garcia")
    [code] = codes(slack.playground)
    expect(slack.page.locator("#messages")).not_to_contain_text(code)

    slack.be("Maria Garcia")
    gift = slack.message("sent you a")
    expect(gift).to_contain_text("Ada Lovelace")
    expect(gift).to_contain_text("for the launch <b>")  # escaped, shown as typed
    expect(slack.page.locator("#messages")).not_to_contain_text(code)  # behind Reveal only
    slack.click(gift, "Reveal")
    expect(slack.modal.locator(".modal-head h2")).to_have_text("Your gift card", timeout=WAIT_MS)
    expect(slack.modal).to_contain_text(f"Code: {code}")
    slack.modal.locator(".modal-foot").get_by_role("button", name="Close").click()
    expect(slack.modal).to_have_count(0)

    slack.be("Ada Lovelace (admin)")
    slack.type("/reward donate")
    expect(slack.modal.locator(".modal-head h2")).to_have_text("Donate")
    charities = slack.search("Charity")  # opening it asks already (min_query_length 0)
    expect(charities.filter(has_text="GiveDirectly")).to_be_visible(timeout=WAIT_MS)
    charities = slack.search("Charity", "give")
    expect(charities.filter(has_not_text="GiveDirectly")).to_have_count(0)
    charities.filter(has_text="GiveDirectly").click()
    amount = slack.field("Amount (USD)")
    expect(amount).to_be_visible(timeout=WAIT_MS)
    amount.locator(".field").fill("5")
    slack.modal.get_by_role("button", name="Donate", exact=True).click()
    expect(slack.modal).to_have_count(0, timeout=WAIT_MS)
    done = slack.page.locator("#messages .msg", has_text="Done:")
    expect(done).to_be_visible(timeout=ORDER_MS)
    expect(done).to_contain_text("GiveDirectly")
    expect(done).to_contain_text("in the team's name")


def test_the_home_button_filters_and_what_was_typed_survives_the_redraws(
    slack: SlackPage,
) -> None:
    slack.open(ADMIN)
    slack.go("Rewards · Home")
    slack.click(slack.page.locator("#home .home-view"), "Send a gift card")
    expect(slack.modal.locator(".modal-head h2")).to_have_text("Send a gift card", timeout=WAIT_MS)
    slack.field("Who is it for?").locator("select").select_option(label="Maria Garcia")
    slack.field("Your message").locator("textarea").fill("cheers")

    country = slack.modal.locator(".b-actions select").first
    country.select_option(label="United Kingdom")  # a block_actions: the form is drawn again
    found = slack.search("Gift card", "amazon")  # …and searched within the filter
    expect(found).to_have_text([re.compile("^Amazon.co.uk Gift Card")], timeout=WAIT_MS)
    found.first.click()
    amount = slack.field("Amount (GBP)")
    expect(amount).to_be_visible(timeout=WAIT_MS)
    expect(country).to_have_value("United Kingdom")
    expect(slack.field("Who is it for?").locator("select")).to_have_value(MARIA)
    expect(slack.field("Your message").locator("textarea")).to_have_value("cheers")

    amount.locator(".field").fill("5000")
    slack.modal.get_by_role("button", name="Send", exact=True).click()
    expect(amount.locator(".field-error")).to_be_visible(timeout=WAIT_MS)  # out of its range
    expect(slack.field("Your message").locator("textarea")).to_have_value("cheers")
    amount.locator(".field").fill("4")
    slack.modal.get_by_role("button", name="Send", exact=True).click()
    expect(slack.modal).to_have_count(0, timeout=WAIT_MS)
    slack.go("rewardbot")
    sent = slack.page.locator("#messages .msg", has_text="Sent:")
    expect(sent).to_contain_text("Amazon.co.uk Gift Card for @Maria Garcia", timeout=ORDER_MS)
