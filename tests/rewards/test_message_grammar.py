"""Giving in a message: mentions first, then `++`, then what `/reward` takes after the mentions.
Anything else in a message is never a reward."""

from __future__ import annotations

import pytest

from bot.rewards.commands import GiveReward
from bot.rewards.message_gifts import worth_a_look
from bot.rewards.parse import looks_like_a_gift, parse_message_gift
from bot.rewards.refusal import Refusal

MARIA, CHEN = "<@UMARIA01|maria>", "<@UCHEN001>"


@pytest.mark.parametrize(
    ("text", "recipients", "amount", "citation"),
    [
        (f"{MARIA} ++ 20 for the release", ("UMARIA01",), 20, "for the release"),
        (f"{MARIA} ++20 for the release", ("UMARIA01",), 20, "for the release"),
        (
            f"{MARIA} {CHEN} ++ 5 thanks #ownership",
            ("UMARIA01", "UCHEN001"),
            5,
            "thanks #ownership",
        ),
        (f"{MARIA} and {CHEN} ++ 5 yay", ("UMARIA01", "UCHEN001"), 5, "yay"),
        (f"  {MARIA}, {CHEN}: ++ 5 yay", ("UMARIA01", "UCHEN001"), 5, "yay"),
        (f"{MARIA} ++ 5 for 2 bugs and @chen", ("UMARIA01",), 5, "for 2 bugs and @chen"),
    ],
)
def test_a_gift(text: str, recipients: tuple[str, ...], amount: int, citation: str) -> None:
    parsed = parse_message_gift(text)
    assert isinstance(parsed, GiveReward)
    assert (parsed.recipients, parsed.amount, parsed.citation) == (recipients, amount, citation)
    assert looks_like_a_gift(text)


@pytest.mark.parametrize(
    "text",
    [
        f"thanks {MARIA} for the 20 fixes",
        f"{MARIA} 20 for the release",
        f"{MARIA} +20 nice",
        f"{MARIA} +++ 20 nice",
        f"c++ is hard, {MARIA} 3",
        "<!channel> ++ 5 everyone",
        "<!here> ++ 5",
        "++ 5 nobody",
        f"hello\n{MARIA} ++ 5 on a second line",
        "",
    ],
)
def test_not_a_gift(text: str) -> None:
    assert parse_message_gift(text) is None
    assert not looks_like_a_gift(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"{MARIA} ++ great job", "How many points?"),
        (f"{MARIA} ++ 20", "Say what it's for"),
        (f"{MARIA} ++ -5 taking back", "below zero"),
        (f"{MARIA} ++ 0 nothing", "at least 1 point"),
        (f"{MARIA} ++ 5 6 two amounts", "one amount only"),
    ],
)
def test_a_gift_that_makes_no_reward_says_what_to_write(text: str, says: str) -> None:
    parsed = parse_message_gift(text)
    assert isinstance(parsed, Refusal)
    assert says in parsed.text
    assert "/reward" not in parsed.text  # the message's grammar in the example, not /reward


def test_which_message_events_are_looked_at() -> None:
    gift = {"type": "message", "text": f"{MARIA} ++ 5 thanks", "user": "UBOB0001"}
    assert worth_a_look(gift)
    assert not worth_a_look({**gift, "text": "lunch?"})
    assert not worth_a_look({**gift, "bot_id": "B1"})
    assert not worth_a_look({**gift, "subtype": "bot_message"})
    assert not worth_a_look({**gift, "subtype": "message_changed"})
    assert worth_a_look({"type": "message", "subtype": "message_deleted", "deleted_ts": "1.2"})
    assert not worth_a_look({**gift, "text": None})
