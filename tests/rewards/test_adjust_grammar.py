"""`/reward adjust @person ±N reason`: the command read, or the exact words a person sees."""

from __future__ import annotations

import pytest

from bot.rewards.commands import AdjustPoints, ErrorCode
from bot.rewards.refusal import Refusal
from bot.slack.listeners.subcommands import SUBCOMMANDS

MARIA = "<@U0MARIA|maria>"
USAGE = "`/reward adjust @maria -50 points given twice by mistake`"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        (f"adjust {MARIA} -50 given twice", AdjustPoints("U0MARIA", -50, "given twice")),
        (f"adjust {MARIA} +50 welcome bonus", AdjustPoints("U0MARIA", 50, "welcome bonus")),
        (f"adjust {MARIA} +1,000 a big one", AdjustPoints("U0MARIA", 1000, "a big one")),
        (
            f"adjust {MARIA} \u221220 typed with a minus sign",
            AdjustPoints("U0MARIA", -20, "typed with a minus sign"),
        ),
        (f"ADJUST {MARIA} -5 <!channel> look", AdjustPoints("U0MARIA", -5, "<!channel> look")),
    ],
)
def test_an_adjustment_is_read(text: str, command: AdjustPoints) -> None:
    assert SUBCOMMANDS.parse(text) == command


@pytest.mark.parametrize(
    ("text", "code", "said"),
    [
        ("adjust", ErrorCode.MISSING_ARGUMENT, f"Mention who you mean, like {USAGE}"),
        (
            f"adjust {MARIA}",
            ErrorCode.NO_AMOUNT,
            f"How many points? Write `+50` to add or `-50` to deduct, then why, like {USAGE}",
        ),
        (
            f"adjust {MARIA} 50 oops",
            ErrorCode.NO_SIGN,
            f"Add or deduct? Write `+50` to add or `-50` to deduct, like {USAGE}",
        ),
        (
            f"adjust {MARIA} -lots oops",
            ErrorCode.NOT_A_NUMBER,
            "`-lots` isn't a number of points. Write `+50` to add or `-50` to deduct "
            f"(whole points), like {USAGE}",
        ),
        (
            f"adjust {MARIA} -0 oops",
            ErrorCode.ZERO_AMOUNT,
            f"`-0` changes nothing: an adjustment adds or deducts at least 1 point, like {USAGE}",
        ),
        (
            f"adjust {MARIA} +000 oops",
            ErrorCode.ZERO_AMOUNT,
            f"`+000` changes nothing: an adjustment adds or deducts at least 1 point, like {USAGE}",
        ),
        (
            f"adjust {MARIA} --5 oops",
            ErrorCode.NOT_A_NUMBER,
            "`--5` isn't a number of points. Write `+50` to add or `-50` to deduct "
            f"(whole points), like {USAGE}",
        ),
        (
            f"adjust {MARIA} +1e3 oops",
            ErrorCode.NOT_A_NUMBER,
            "`+1e3` isn't a number of points. Write `+50` to add or `-50` to deduct "
            f"(whole points), like {USAGE}",
        ),
        (
            f"adjust {MARIA} +1,0,0 oops",
            ErrorCode.NOT_A_NUMBER,
            "`+1,0,0` isn't a number of points. Write `+50` to add or `-50` to deduct "
            f"(whole points), like {USAGE}",
        ),
        (
            f"adjust {MARIA} +" + "9" * 40 + " oops",
            ErrorCode.AMOUNT_TOO_BIG,
            "One adjustment can change at most 1,000,000 points. Use a smaller number.",
        ),
        (
            f"adjust {MARIA} -2.5 oops",
            ErrorCode.NOT_A_NUMBER,
            "`-2.5` isn't a number of points. Write `+50` to add or `-50` to deduct "
            f"(whole points), like {USAGE}",
        ),
        (
            f"adjust {MARIA} -1000001 oops",
            ErrorCode.AMOUNT_TOO_BIG,
            "One adjustment can change at most 1,000,000 points. Use a smaller number.",
        ),
        (
            f"adjust {MARIA} -999999999999999999 oops",
            ErrorCode.AMOUNT_TOO_BIG,
            "One adjustment can change at most 1,000,000 points. Use a smaller number.",
        ),
        (
            "adjust <!channel> +5 bonus",
            ErrorCode.BROADCAST_RECIPIENT,
            f"`@channel` isn't a person: mention one person, like {USAGE}",
        ),
        (
            "adjust <!subteam^S0DEV|@devs> +5 bonus",
            ErrorCode.GROUP_RECIPIENT,
            f"@devs is a user group, not a person: mention one person, like {USAGE}",
        ),
        (
            "adjust <#C0GEN|general> +5 bonus",
            ErrorCode.CHANNEL_RECIPIENT,
            f"`#general` is a channel, not a person: mention one person, like {USAGE}",
        ),
        (
            f"adjust {MARIA} <@U0BOB> +5 bonus",
            ErrorCode.EXTRA_ARGUMENT,
            f"One person at a time: `<@U0BOB>` comes where the points go. Write it like {USAGE}",
        ),
        (
            f"adjust {MARIA} -50",
            ErrorCode.NO_REASON,
            f"Say why (the person sees it in their history), like {USAGE}",
        ),
        (
            f"adjust {MARIA} -50 \x00\x07",
            ErrorCode.NO_REASON,
            f"Say why (the person sees it in their history), like {USAGE}",
        ),
        (
            f"adjust {MARIA} -50 " + "x" * 501,
            ErrorCode.REASON_TOO_LONG,
            "Your reason is 501 characters long and the limit is 500. Please shorten it by 1 "
            "and try again.",
        ),
    ],
)
def test_a_mistake_says_what_to_type(text: str, code: ErrorCode, said: str) -> None:
    refused = SUBCOMMANDS.parse(text)
    assert isinstance(refused, Refusal)
    assert (refused.code, refused.text) == (code, said)
