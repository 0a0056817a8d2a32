"""`/reward @design-team 10 for the launch` and `/reward allowance …`: the words read, and the
answers to bad input (markup in a group's handle, forged ids, zero, `default`)."""

from __future__ import annotations

import pytest

from bot.rewards.commands import (
    ALLOWANCE_MAX_POINTS,
    ErrorCode,
    GiveReward,
    GroupRef,
    ListAllowances,
    SetAllowance,
)
from bot.rewards.refusal import Refusal
from bot.slack.listeners.subcommands import SUBCOMMANDS

DESIGN = "<!subteam^S0123ABC|@design-team>"
MARIA = "<@U0MARIA|maria>"
DESIGN_REF = GroupRef(group_id="S0123ABC", handle="@design-team")


def parse(text: str) -> object:
    return SUBCOMMANDS.parse(text)


def test_a_user_group_is_a_recipient_list() -> None:
    result = parse(f"{DESIGN} 10 for the launch")
    assert result == GiveReward(
        recipients=(),
        amount=10,
        citation="for the launch",
        groups=(GroupRef(group_id="S0123ABC", handle="@design-team"),),
    )


def test_groups_and_people_together_each_once() -> None:
    result = parse(f"{DESIGN} and {MARIA}, {DESIGN} 10 thanks")
    assert isinstance(result, GiveReward)
    assert result.recipients == ("U0MARIA",)
    assert [g.group_id for g in result.groups] == ["S0123ABC"]
    assert result.citation == "thanks"


@pytest.mark.parametrize(
    ("word", "handle"),
    [
        ("<!subteam^S1|@design-team>", "@design-team"),
        ("<!subteam^S1>", ""),  # no label: shown by its id
        ("<!subteam^S1|@*bold* _x_ `code`>", "@bold_x_code"),  # markup never reaches a message
        ("<!subteam^S1|@a&amp;b>", "@aampb"),
        ("<!subteam^S1|" + "x" * 300 + ">", "@" + "x" * 40),
    ],
)
def test_a_groups_handle_keeps_only_what_a_handle_may_hold(word: str, handle: str) -> None:
    result = parse(f"{word} 10 thanks")
    assert isinstance(result, GiveReward)
    assert result.groups == (GroupRef(group_id="S1", handle=handle),)
    assert result.groups[0].shown == (handle or "@S1")


def test_a_mangled_group_id_is_refused_as_a_group() -> None:
    result = parse(f"<!subteam^S{'1' * 30}|@x> 10 thanks")
    assert isinstance(result, Refusal)
    assert result.code is ErrorCode.GROUP_RECIPIENT


def test_a_group_with_no_amount_asks_for_one() -> None:
    result = parse(f"{DESIGN} thanks")
    assert isinstance(result, Refusal)
    assert result.code is ErrorCode.NO_AMOUNT


# ── /reward allowance ─────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"allowance {DESIGN} 2000",
            SetAllowance(group=GroupRef("S0123ABC", "@design-team"), points=2000),
        ),
        (f"allowance {MARIA} 500", SetAllowance(person="U0MARIA", points=500)),
        (f"allowance {MARIA} 1,500", SetAllowance(person="U0MARIA", points=1500)),
        (f"allowance {MARIA} default", SetAllowance(person="U0MARIA", points=None)),
        (f"allowance {DESIGN} DEFAULT", SetAllowance(group=DESIGN_REF)),
        ("allowances", ListAllowances()),
    ],
)
def test_allowance_grammar(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("allowance", ErrorCode.MISSING_ARGUMENT, "then their monthly allowance"),
        (f"allowance {MARIA}", ErrorCode.MISSING_ARGUMENT, "`default`"),
        (f"allowance {MARIA} 0", ErrorCode.ZERO_AMOUNT, "/reward lock"),
        (f"allowance {MARIA} -5", ErrorCode.NEGATIVE_AMOUNT, "below zero"),
        (f"allowance {MARIA} 1.5", ErrorCode.FRACTIONAL_AMOUNT, "whole numbers"),
        (f"allowance {MARIA} lots", ErrorCode.NOT_A_NUMBER, "isn't a number"),
        (f"allowance {MARIA} {ALLOWANCE_MAX_POINTS + 1}", ErrorCode.AMOUNT_TOO_BIG, "at most"),
        (f"allowance {MARIA} {'9' * 5000}", ErrorCode.AMOUNT_TOO_BIG, "far too many"),
        (f"allowance {MARIA} 5 extra", ErrorCode.EXTRA_ARGUMENT, "One person or user group"),
        ("allowance <!here> 5", ErrorCode.BROADCAST_RECIPIENT, "isn't a person"),
        ("allowance <#C1|general> 5", ErrorCode.CHANNEL_RECIPIENT, "is a channel"),
        ("allowance @maria 5", ErrorCode.UNESCAPED_MENTION, "can't tell who"),
        ("allowances now", ErrorCode.EXTRA_ARGUMENT, "doesn't take anything"),
    ],
)
def test_allowance_bad_input(text: str, code: ErrorCode, says: str) -> None:
    result = parse(text)
    assert isinstance(result, Refusal), result
    assert result.code is code
    assert says in result.text
    assert len(result.text) < 300
