"""Moving time from the page: the clock jumps to next Monday 09:00, the weekly summary falls due
and runs, and #kudos shows it with its chart (not "a quiet week")."""

from __future__ import annotations

import re

from tests.e2e.harness import BOB
from tests.playground.browser import SlackPage, expect


def test_next_monday_shows_the_weekly_summary_and_its_chart(slack: SlackPage) -> None:
    slack.open(BOB)
    slack.type("/reward @maria 60 for the release notes #teamwork")
    slack.message("rewarded @Maria Garcia with 60 points")

    slack.be("Ada Lovelace (admin)")
    slack.go("Scheduled jobs")
    clock = slack.page.get_by_role("region", name="Clock")
    expect(clock.locator("#clock-ahead")).to_have_text("(the real time)")
    clock.get_by_role("button", name="Next Monday 09:00 (the weekly summary)").click()
    log = clock.locator("#clock-log")
    expect(log).to_contain_text("weekly-summary", timeout=30_000)
    expect(log).to_contain_text("posted in #kudos with the chart")
    expect(clock.locator("#clock-now")).to_contain_text("Mon")
    expect(clock.locator("#clock-now")).to_contain_text("09:00")
    expect(clock.locator("#clock-ahead")).to_contain_text("ahead of the real clock")

    expect(slack.unread("kudos")).to_have_text("2")  # the summary and its chart
    slack.go("kudos")
    summary = slack.message("Weekly rewards")
    expect(summary).to_contain_text("60 points")
    expect(summary).not_to_contain_text("quiet week")
    chart = slack.page.locator("#messages .file-image img")
    expect(chart).to_have_count(1)
    expect(chart).to_have_attribute("alt", re.compile(r"^Points given per week"))
    expect(chart).to_have_attribute("src", re.compile(r"/rewards-weekly-[0-9-]+\.png$"))
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")  # it is a picture
