"""`/reward celebrations` for an admin of a big workspace: the list fits Slack's section and
always says how many more there are (never cut mid-list by the clip)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.rewards.celebrations import Upcoming
from bot.rewards.policy import Occasion
from bot.slack.blocks.celebrations import upcoming
from bot.slack.blocks.common import SECTION_TEXT_MAX, text_len

START = date(2026, 12, 7)


def people(count: int, *, matched: bool) -> list[Upcoming]:
    return [
        Upcoming(
            who=f"U{n:09d}" if matched else f"someone.with.a.rather.long.name.{n}@example.com",
            matched=matched,
            kind=Occasion.ANNIVERSARY,
            on=START + timedelta(days=n % 30),
            points=1_000,
            years=10,
            opted_out=n % 2 == 0,
        )
        for n in range(count)
    ]


def listed(rows: list[Upcoming]) -> str:
    payload = upcoming(rows, days=30)
    text = payload["blocks"][-1]["text"]["text"]
    assert text_len(text) <= SECTION_TEXT_MAX
    return str(text)


def test_five_thousand_people_list_whole_lines_and_say_how_many_more() -> None:
    for matched in (True, False):
        text = listed(people(5_000, matched=matched))
        lines = text.split("\n")
        shown = len(lines) - 1
        assert not text.endswith("…"), text[-200:]  # no line cut by the clip
        assert lines[-1] == f"… and {5_000 - shown:,} more", lines[-1]
        assert all(line.startswith("• ") and "points" in line for line in lines[:-1])


def test_a_short_list_is_listed_whole() -> None:
    text = listed(people(3, matched=True))
    assert len(text.split("\n")) == 3 and "more" not in text
