"""`rewardbot playground --storefront` in a real browser: points live in the bot, Maria presses
Redeem in her DM, opens the sandbox's store from the small window, buys a gift card (the store
debits the bot's ledger), sees her balance drop in Slack, and Xoxoday's admin refunds the order
on the store's order page, which gives the points back; the Plum sandbox pane lists the order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.simulators.playground.server import Playground
from tests.e2e.harness import ADMIN
from tests.playground.browser import WAIT_MS, SlackPage, expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

CARD = "10001-348.5"  # the store's offer id: a card of 348.5 points


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[Playground]:
    """This module's playground runs with --storefront (the `slack` fixture uses it)."""
    running = Playground(state_dir=tmp_path / "playground-data", port=0, storefront=True).start()
    try:
        yield running
    finally:
        running.stop()


def balance_says(slack: SlackPage, text: str) -> None:
    """`/reward balance` in #general; its reply (only to the person) says `text`."""
    slack.go("general")
    slack.type("/reward balance")
    reply = slack.message(text)
    expect(reply.locator(".only-you")).to_be_visible()


def open_the_store(slack: SlackPage) -> Page:
    """Press Redeem in the DM; the window's "Open the store" opens the store in a new tab."""
    slack.go("rewardbot")
    dm = slack.message("sent you")
    slack.click(dm, "Redeem")
    expect(slack.modal).to_contain_text("Your store is ready", timeout=WAIT_MS)
    with slack.page.context.expect_page() as opened:
        slack.click(slack.modal, "Open the store")
    store = opened.value
    store.wait_for_load_state()
    return store


def test_redeem_opens_the_store_which_spends_and_refunds_from_the_ledger(
    slack: SlackPage,
) -> None:
    slack.open(ADMIN)
    slack.type("/reward @maria 400 shipped the release #ownership")
    slack.message("rewarded @Maria Garcia with 400 points")

    slack.be("Maria Garcia")
    sandbox = slack.playground.sandbox
    assert sandbox is not None
    store = open_the_store(slack)
    try:
        assert store.url.startswith(sandbox.root_url + "/chef/v1/oauth/redirect/stores/")
        expect(store.locator("h1")).to_have_text("Hello, Maria Garcia")
        expect(store.locator(".points")).to_have_text("400")  # GetProfile and balance answered
        card = store.locator(".card", has=store.locator(f"input[name=offer][value='{CARD}']"))
        card.get_by_role("button", name="Buy").click()
        expect(store.locator(".notice.ok")).to_contain_text("Order placed")
        expect(store.locator("table")).to_contain_text("51.5")  # points left after

        slack.page.bring_to_front()
        slack.modal.locator(".modal-foot [data-close]").click()
        expect(slack.modal).to_have_count(0)
        balance_says(slack, "You have 51.5 points to spend")

        store.bring_to_front()
        store.get_by_role("link", name="My orders").click()
        store.locator("table a").first.click()
        expect(store.get_by_role("heading", name="Xoxoday admin: refund")).to_be_visible()
        expect(store.get_by_label("Points to refund")).to_have_value("348.5")
        store.get_by_role("button", name="Refund").click()
        expect(store.locator(".notice.ok")).to_contain_text("Refunded 348.5 points")
    finally:
        store.close()

    slack.page.bring_to_front()
    balance_says(slack, "You have 400 points to spend")
    slack.go("Plum sandbox")  # what the store took and gave back; Xoxoday holds no points
    order = slack.page.locator("#store-orders tbody tr")
    expect(order).to_have_count(1)
    expect(order).to_contain_text("Maria Garcia")
    expect(order.locator(".num")).to_have_text(["348.5", "348.5"])
    expect(slack.page.locator("#sandbox-points")).to_contain_text("points live in the bot")


def test_a_gift_card_paid_from_the_company_account_keeps_that_choice_through_the_redraw(
    slack: SlackPage,
) -> None:
    """With points in the bot the gift form asks what to pay with (radio buttons); the choice
    made before a product is picked survives the form's redraw and reaches the bot."""
    slack.open(ADMIN)
    slack.type("/reward gift @maria ")
    pay = slack.field("Pay with")
    expect(pay.get_by_label("My points (0 to spend)")).to_be_checked(timeout=WAIT_MS)
    pay.get_by_label("The company account").check()
    found = slack.search("Gift card", "amazon.com")
    expect(found).to_have_text([re.compile("^Amazon.com Gift Card")], timeout=WAIT_MS)
    found.first.click()
    amount = slack.field("Amount (USD)")
    expect(amount).to_be_visible(timeout=WAIT_MS)
    expect(pay.get_by_label("The company account")).to_be_checked()
    amount.locator(".field").fill("5")
    slack.modal.get_by_role("button", name="Send", exact=True).click()
    expect(slack.modal).to_have_count(0, timeout=WAIT_MS)
    slack.go("rewardbot")
    sent = slack.page.locator("#messages .msg", has_text="Sent:")
    expect(sent).to_contain_text("Amazon.com Gift Card for @Maria Garcia", timeout=30_000)
    expect(sent).not_to_contain_text("your points")
