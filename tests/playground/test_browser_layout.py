"""The page in a narrow window and its icon: at 400 px the channel list folds away behind ☰ and
nothing is wider than the window, whichever pane is open; the favicon is served (no 404)."""

from __future__ import annotations

from typing import Any

import httpx

from bot.simulators.playground.server import Playground
from tests.e2e.harness import ADMIN, BOB
from tests.playground.browser import SlackPage, expect

NARROW = {"width": 400, "height": 760}

# Each element that is wider than the window, or that scrolls sideways (the sandbox's tables
# may: they sit in a .table-wrap that scrolls by itself, as Slack's tables do).
TOO_WIDE = """() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) found.push("the page itself");
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".table-wrap")) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.className && typeof el.className === "string" ? "." + el.className : "");
    if (box.width > 0 && box.right > width + 1) found.push(name + " ends at " + box.right);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      found.push(name + " scrolls sideways");
    }
  }
  return found;
}"""


def too_wide(slack: SlackPage) -> list[str]:
    found: Any = slack.page.evaluate(TOO_WIDE)
    return list(found)


def test_a_narrow_window_folds_the_channels_away_and_nothing_overflows(
    slack: SlackPage,
) -> None:
    page = slack.page
    page.set_viewport_size(NARROW)
    slack.open(BOB)
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_be_hidden()
    slack.type("/reward @maria 30 for the " + "very" * 40 + "long release notes #teamwork")
    slack.message("rewarded")
    slack.type("https://example.com/" + "x" * 120)  # a long word: wraps instead of widening
    slack.message("https://example.com/")
    assert too_wide(slack) == []

    toggle = page.get_by_role("button", name="Channels")
    toggle.click()
    expect(sidebar).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert too_wide(slack) == []
    page.locator("#main").click(position={"x": 380, "y": 200})  # a click beside it closes it
    expect(sidebar).to_be_hidden()

    shown = {  # what each pane shows once it has drawn what it is for
        "Plum sandbox": ("#sandbox-points", "maria@acme.test"),
        "Scheduled jobs": ("#clock-now", "UTC"),
        "Rewards · Home": ("#home .home-view", "veryvery"),  # the long reason, given recently
        "kudos": ("#messages", "No messages yet"),
    }
    for label, (drawn, text) in shown.items():
        slack.go(label)
        expect(page.locator("#sidebar .nav-item.active")).to_contain_text(label)
        expect(page.locator(drawn)).to_contain_text(text)
        expect(sidebar).to_be_hidden()
        assert too_wide(slack) == [], label

    box = page.locator("#composer-input")
    box.press_sequentially("@")
    expect(page.locator("#mention-list")).to_be_visible()
    assert too_wide(slack) == []
    box.fill("/reward")
    box.press("Enter")
    expect(slack.modal).to_be_visible()
    slack.pick("Who is it for?", "m", "Maria Garcia")
    slack.field("Who is it for?").locator(".picker-search").fill("a")
    assert too_wide(slack) == []


def test_wide_window_keeps_the_channel_list(slack: SlackPage) -> None:
    slack.open(ADMIN)
    expect(slack.page.locator("#sidebar")).to_be_visible()
    expect(slack.page.get_by_role("button", name="Channels")).to_be_hidden()


def test_the_page_names_its_icon_and_it_is_served(slack: SlackPage) -> None:
    failed: list[str] = []
    slack.page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    slack.open(BOB)
    href = slack.page.locator("link[rel=icon]").get_attribute("href")
    assert href == "/favicon.ico"
    answer = slack.page.evaluate(
        "async (href) => { const r = await fetch(href); "
        "return [r.status, r.headers.get('content-type'), (await r.text()).slice(0, 4)]; }",
        href,
    )
    assert answer == [200, "image/svg+xml", "<svg"]
    assert failed == []


def test_favicon_ico_is_there_for_browsers_that_ask_by_themselves(playground: Playground) -> None:
    answer = httpx.get(f"{playground.url}favicon.ico", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.text.startswith("<svg")
