"""Finding people as in Slack: the composer's @-autocomplete (typing `@ma` lists who it could
be; choosing one puts in the mention the bot receives as `<@U…>`), and the form's searchable
people picker (not a list of everyone, yourself and the bots included)."""

from __future__ import annotations

from bot.simulators.playground.server import Playground
from tests.e2e.harness import BOB, message_text
from tests.playground.browser import SlackPage, expect


def points_of(playground: Playground, email: str) -> int:
    assert playground.sandbox is not None
    return playground.sandbox.state.points_of(email)


def test_a_person_picked_from_the_composers_autocomplete_gets_the_reward(
    slack: SlackPage,
) -> None:
    slack.open(BOB)
    box = slack.page.locator("#composer-input")
    mentions = slack.page.locator("#mention-list")
    box.press_sequentially("/reward @ma")
    expect(mentions).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    offered = mentions.get_by_role("option").filter(visible=True)
    expect(offered).to_have_text(["MGMaria Garcia @maria", "NMNo Mail @nomail"])
    offered.filter(has_text="Maria Garcia").click()
    expect(mentions).to_be_hidden()
    expect(box).to_have_value("/reward @maria ")

    box.press_sequentially("50 for the demo #teamwork")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(slack.message("rewarded")).to_contain_text("rewarded @Maria Garcia with 50 points")
    announced = [
        m for m in slack.playground.fake.messages("C0GENERAL") if "rewarded" in message_text(m)
    ]
    assert "<@UMARIA01>" in message_text(announced[-1])
    slack.playground.fake.wait_for(
        lambda: points_of(slack.playground, "maria@acme.test") == 50, timeout=10
    )


def test_the_autocomplete_finds_people_by_any_name_and_answers_the_keys(
    slack: SlackPage,
) -> None:
    slack.open(BOB)
    box = slack.page.locator("#composer-input")
    mentions = slack.page.locator("#mention-list")
    box.press_sequentially("thanks @w")  # Chen Wei, found by his last name
    expect(mentions.get_by_role("option").filter(visible=True)).to_have_text(["CWChen Wei @chen"])
    box.press("Escape")
    expect(mentions).to_be_hidden()
    expect(box).to_have_value("thanks @w")  # Escape closes the list, nothing else

    box.fill("")
    box.press_sequentially("/reward @")
    shown = mentions.get_by_role("option").filter(visible=True)
    expect(shown.first).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    second = shown.nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    handle = second.get_attribute("data-handle")
    box.press("Enter")  # picks; doesn't send
    expect(box).to_have_value(f"/reward @{handle} ")
    expect(mentions).to_be_hidden()
    box.press_sequentially("@nobody-like-this")
    expect(mentions).to_be_hidden()


def test_the_forms_people_picker_searches_and_leaves_out_yourself_and_the_bots(
    slack: SlackPage,
) -> None:
    slack.open(BOB)
    submits: list[str] = []
    slack.page.on("request", lambda r: submits.append(r.url) if "/ui/submit" in r.url else None)
    slack.type("/reward")
    expect(slack.modal).to_be_visible()
    who = slack.field("Who is it for?")
    search = who.locator(".picker-search")
    options = who.get_by_role("option")
    expect(options.filter(visible=True)).to_have_count(0)  # nothing listed until asked

    search.click()
    names = options.filter(visible=True).locator(".picker-name").all_inner_texts()
    assert names == ["Ada Lovelace", "Arthur Approver", "Chen Wei", "Maria Garcia", "No Mail"]
    search.fill("bob")
    expect(who.locator(".picker-none")).to_be_visible()  # yourself: not offered
    search.press("Enter")  # picks nothing, and doesn't send the form (counted below)

    slack.pick("Who is it for?", "ch", "Chen Wei")
    slack.pick("Who is it for?", "garc", "Maria Garcia")
    expect(slack.picked("Who is it for?")).to_have_text(["Chen Wei×", "Maria Garcia×"])
    search.fill("ch")
    expect(who.locator(".picker-none")).to_be_visible()  # already picked: not offered again
    who.get_by_role("button", name="Remove Chen Wei").click()
    expect(slack.picked("Who is it for?")).to_have_text(["Maria Garcia×"])

    slack.field("How many points?").locator("input").fill("20")
    slack.field("What is it for?").locator("textarea").fill("the picker works")
    slack.modal.get_by_role("button", name="Send").click()
    expect(slack.modal).to_have_count(0)
    assert len(submits) == 1  # only Send sent it
    slack.message("rewarded @Maria Garcia with 20 points")
    slack.playground.fake.wait_for(
        lambda: points_of(slack.playground, "maria@acme.test") == 20, timeout=10
    )
    assert points_of(slack.playground, "chen@acme.test") == 0
