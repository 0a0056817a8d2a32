"""The weekly summary: figures against the week before, rankings, the admins' extras, the quiet
week, and payloads Slack accepts (with the sandbox notice too, as it is added where they leave)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from bot.rewards.spending import Spend
from bot.simulators.sandbox_notice import SANDBOX_NOTICE, with_sandbox_notice
from bot.slack.blocks import summary as sm
from tests.slack.blocks.blockkit_rules import assert_valid_message, blocks_of, visible

MARIA, BOB, CHEN = "UMARIA01", "UBOB0001", "UCHEN001"

BUSY = sm.WeeklySummary(
    week_start=date(2026, 3, 2),
    week_end=date(2026, 3, 8),
    tz="Europe/Berlin",
    this_week=sm.WeekFigures(points=1250, rewards=12, recipients=9, givers=5),
    week_before=sm.WeekFigures(points=1000, rewards=15, recipients=9, givers=1),
    top_recipients=(
        sm.Ranked(key=MARIA, points=300, rewards=2, points_before=200),
        sm.Ranked(key=BOB, points=250, rewards=3, points_before=0),
        sm.Ranked(key=CHEN, points=100, rewards=1, points_before=400),
        sm.Ranked(key="UDAN0001", points=50, rewards=1, points_before=50),
    ),
    top_givers=(sm.Ranked(key=CHEN, points=700, rewards=6, points_before=700),),
    top_values=(
        sm.Ranked(key="teamwork", points=500, rewards=4, points_before=400),
        sm.Ranked(key="craft", points=20, rewards=1),
    ),
)
QUIET = replace(
    BUSY,
    this_week=sm.WeekFigures(),
    top_recipients=(),
    top_givers=(),
    top_values=(),
)
EXTRAS = sm.AdminExtras(
    account_balance=Decimal("8750.5"),
    account_currency="USD",
    spend=Spend(points=Decimal(1250), gift_cards=Decimal(200), donations=Decimal("80.5")),
    spend_before=Spend(points=Decimal(1000), gift_cards=Decimal(224)),
    low_balance=Decimal(10000),
    posted_in="C0KUDOS",
)


@pytest.mark.parametrize(
    ("now", "before", "shown"),
    [
        (1250, 1000, "1,250 points (▲ 25% vs 1,000)"),
        (600, 1000, "600 points (▼ 40% vs 1,000)"),
        (1000, 1000, "1,000 points (= same as the week before)"),
        (30, 0, "30 points (▲ from 0)"),
        (0, 70, "0 points (▼ 100% vs 70)"),
        (10001, 10000, "10,001 points (▲ <1% vs 10,000)"),
        (1, 3, "1 point (▼ 67% vs 3)"),
    ],
)
def test_each_figure_is_compared_with_the_week_before(now: int, before: int, shown: str) -> None:
    assert sm.compared(now, before) == shown


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (date(2026, 3, 2), date(2026, 3, 8), "2 – 8 March 2026"),
        (date(2026, 2, 23), date(2026, 3, 1), "23 February – 1 March 2026"),
        (date(2025, 12, 29), date(2026, 1, 4), "29 December 2025 – 4 January 2026"),
    ],
)
def test_the_week_is_named_by_its_days(start: date, end: date, shown: str) -> None:
    assert sm.week_text(start, end) == shown


def test_the_channel_post_shows_figures_rankings_and_values_against_the_week_before() -> None:
    msg = sm.summary_message(summary=BUSY)
    assert_valid_message(msg)
    seen = visible(msg)
    assert "📊 Weekly rewards: 2 – 8 March 2026" in seen
    fields = [f["text"] for f in blocks_of(msg, "section")[0]["fields"]]
    assert fields == [
        "*Points given*\n1,250 points (▲ 25% vs 1,000)",
        "*Rewards*\n12 rewards (▼ 20% vs 15)",
        "*People recognised*\n9 people (= same as the week before)",
        "*Givers*\n5 givers (▲ 400% vs 1)",
    ]
    assert "🥇 <@UMARIA01> · 300 points (▲ 50% vs 200) in 2 rewards" in seen
    assert "🥈 <@UBOB0001> · 250 points (▲ from 0) in 3 rewards" in seen
    assert "🥉 <@UCHEN001> · 100 points (▼ 75% vs 400) in 1 reward" in seen
    assert "4. <@UDAN0001> · 50 points (= same as the week before)" in seen
    assert "*Most generous*\n🥇 <@UCHEN001> · 700 points (= same as the week before)" in seen
    assert "*Values most recognised*\n🥇 #teamwork · 500 points (▲ 25% vs 400) in 4" in seen
    assert "🥈 #craft · 20 points (▲ from 0) in 1 reward" in seen
    assert "Europe/Berlin time" in seen and "Monday 2 March 2026 to Sunday 8 March 2026" in seen
    assert msg["text"] == (
        "Weekly rewards, 2 – 8 March 2026: 1,250 points (▲ 25% vs 1,000) in 12 rewards to 9 people."
    )
    # what only admins see stays out of the channel
    assert "Spend" not in seen and "balance" not in seen.lower()


def test_a_first_week_is_shown_without_comparisons_with_nothing() -> None:
    first = replace(
        BUSY,
        week_before=sm.WeekFigures(),
        top_recipients=tuple(replace(r, points_before=0) for r in BUSY.top_recipients),
    )
    for msg in (
        sm.summary_message(summary=first),
        sm.admin_summary_message(summary=first, extras=EXTRAS),
    ):
        assert_valid_message(msg)
        seen = visible(msg)
        assert "from 0" not in seen and "▲" not in seen and "vs" not in seen
        assert "*Points given*\n1,250 points\n" in seen + "\n"
        assert "🥇 <@UMARIA01> · 300 points in 2 rewards" in seen
        assert "nothing to compare with" in seen
    assert sm.summary_message(summary=first)["text"] == (
        "Weekly rewards, 2 – 8 March 2026: 1,250 points in 12 rewards to 9 people."
    )


def test_rankings_stop_at_five_and_values_are_left_out_when_none_were_tagged() -> None:
    crowd = tuple(sm.Ranked(key=f"UPERSON{i:03d}", points=100 - i, rewards=1) for i in range(9))
    msg = sm.summary_message(summary=replace(BUSY, top_recipients=crowd, top_values=()))
    seen = visible(msg)
    assert "5. <@UPERSON004>" in seen and "UPERSON005" not in seen
    assert "Values most recognised" not in seen


def test_a_quiet_week_gets_a_short_friendly_note_not_an_empty_table() -> None:
    msg = sm.summary_message(summary=QUIET)
    assert_valid_message(msg)
    seen = visible(msg)
    assert "A quiet week for rewards" in seen
    assert "The week before: 1,000 points in 15 rewards." in seen
    assert "/reward @maria 50" in seen
    assert blocks_of(msg, "header") == [] and len(msg["blocks"]) <= 2
    assert "Most recognised" not in seen and "Points given" not in seen
    quieter = sm.summary_message(summary=replace(QUIET, week_before=sm.WeekFigures()))
    assert "The week before was quiet too." in visible(quieter)


def test_admins_also_see_spend_and_balance_and_how_spend_is_counted() -> None:
    msg = sm.admin_summary_message(summary=BUSY, extras=EXTRAS)
    assert_valid_message(msg)
    seen = visible(msg)
    assert "*Points given*\n1,250 points (▲ 25% vs 1,000)" in seen
    assert "🥇 <@UMARIA01>" in seen
    assert (
        "*Spend*\n1,530.50 USD (▲ 25% vs 1,224.00)\n"
        "points 1,250.00 · gift cards 200.00 · donations 80.50"
    ) in seen
    assert "refunded" not in seen and "in doubt" not in seen
    assert "*Account balance*\n8,750.50 USD left at Xoxoday" in seen
    assert "⚠️ Under the low-balance mark of 10,000.00 USD" in seen
    assert "Spend is what the Xoxoday account paid in the week: points sent" in seen
    assert "Also posted, without spend and balance, in <#C0KUDOS>." in seen
    assert "Spend: 1,530.50 USD. Account balance: 8,750.50 USD." in msg["text"]


@pytest.mark.parametrize(
    ("extras", "present", "absent"),
    [
        (
            replace(EXTRAS, account_balance=None, account_currency=None),
            ["I couldn't get the balance from Xoxoday right now."],
            ["left at Xoxoday", "⚠️ Under"],
        ),
        (
            replace(EXTRAS, low_balance=None),
            ["8,750.50 USD left at Xoxoday"],
            ["⚠️ Under"],
        ),
        (
            replace(EXTRAS, spend=Spend(points_at_xoxoday=False, gift_cards=Decimal(200))),
            [
                "*Spend*\n200.00 USD (▼ 84% vs 1,224.00)\ngift cards 200.00 · donations 0.00",
                "points live in the bot and cost nothing at Xoxoday",
            ],
            ["points 0.00", "points sent"],
        ),
        (
            replace(
                EXTRAS,
                spend=Spend(points=Decimal(50), refunded=Decimal(300), orders_in_doubt=1),
                account_currency=None,
                account_balance=None,
            ),
            [
                "*Spend*\n50.00 (▼ 96% vs 1,224.00)\n"
                "points 50.00 · gift cards 0.00 · donations 0.00\n"
                "300.00 refunded (rewards and orders cancelled)\n"
                "1 order in doubt not counted",
            ],
            ["USD"],
        ),
        (
            replace(EXTRAS, posted_in=None, channel_problem="not_set"),
            ["Only admins got this summary: set REWARD_SUMMARY_CHANNEL"],
            ["Also posted"],
        ),
        (
            replace(EXTRAS, channel_problem="not_in_channel"),
            ["I couldn't post it in <#C0KUDOS> (Slack said `not_in_channel`)", "Invite me"],
            ["Also posted"],
        ),
        (
            replace(EXTRAS, posted_in="#kudos<>", channel_problem="channel_not_found"),
            ["I couldn't post it in #kudos&lt;&gt; (Slack said `channel_not_found`)"],
            ["<#"],
        ),
    ],
    ids=[
        "balance unknown",
        "no low mark",
        "points in the bot",
        "refunds and doubt, no currency",
        "no channel",
        "post failed",
        "post failed, by name",
    ],
)
def test_admin_extras_degrade_plainly(
    extras: sm.AdminExtras, present: list[str], absent: list[str]
) -> None:
    msg = sm.admin_summary_message(summary=BUSY, extras=extras)
    assert_valid_message(msg)
    seen = visible(msg)
    for phrase in present:
        assert phrase in seen, phrase
    for phrase in absent:
        assert phrase not in seen, phrase


def test_admins_hear_about_a_quiet_week_with_spend_and_balance() -> None:
    msg = sm.admin_summary_message(summary=QUIET, extras=EXTRAS)
    assert_valid_message(msg)
    seen = visible(msg)
    assert "A quiet week for rewards" in seen
    assert "*Spend*\n1,530.50 USD (▲ 25% vs 1,224.00)" in seen
    assert "8,750.50 USD left at Xoxoday" in seen
    assert "Most recognised" not in seen


BUILDERS = {
    "channel": lambda s: sm.summary_message(summary=s),
    "admin": lambda s: sm.admin_summary_message(summary=s, extras=EXTRAS),
}


@pytest.mark.parametrize("which", sorted(BUILDERS))
@pytest.mark.parametrize("summary", [BUSY, QUIET], ids=["busy", "quiet"])
@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "live"])
def test_sandbox_notice_exactly_in_sandbox_mode(which: str, summary, sandbox: bool) -> None:
    msg = BUILDERS[which](summary)
    if sandbox:  # as it leaves the process (`bot.slack.sandbox_notice`)
        msg = with_sandbox_notice(msg)
    assert_valid_message(msg)
    assert (SANDBOX_NOTICE in visible(msg)) is sandbox
    assert SANDBOX_NOTICE not in msg["text"]  # a quiet line, not in the notification


def test_huge_numbers_and_odd_values_stay_valid() -> None:
    big = replace(
        BUSY,
        this_week=sm.WeekFigures(points=10**12, rewards=10**9, recipients=10**6, givers=10**6),
        top_values=tuple(
            sm.Ranked(key="v" * 60 + "<&>", points=10**9, rewards=10**6) for _ in range(5)
        ),
    )
    msg = with_sandbox_notice(sm.admin_summary_message(summary=big, extras=EXTRAS))
    assert_valid_message(msg)
    assert "1,000,000,000,000 points" in visible(msg)
    assert "&lt;&amp;&gt;" in visible(msg)
