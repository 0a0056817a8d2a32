"""What people type is cleaned of control characters, and text with nothing visible counts as
none: in `clean_typed_text` itself and wherever `/reward` reads a citation or a reason."""

from __future__ import annotations

import pytest

from bot.rewards.commands import CancelReward, ErrorCode, GiveReward, OpenModal
from bot.rewards.refusal import Refusal
from bot.rewards.typed_text import clean_typed_text
from bot.slack.listeners.subcommands import SUBCOMMANDS

MARIA = "<@U0MARIA|maria>"
INVISIBLE = "\u200b\u2060\ufeff"

CLEANED = [
    ("plain", "thanks for the demo", "thanks for the demo"),
    ("nul", "thanks\x00 for it", "thanks for it"),
    ("c0-controls", "a\x01b\x07c\x08d\x1be\x1ff\x7fg", "abcdefg"),
    ("c1-controls", "a\x80b\x85c\x9fd", "abcd"),
    ("tab", "one\ttwo", "one two"),
    ("newlines-kept", "line one\nline two\n\nthree", "line one\nline two\n\nthree"),
    ("crlf", "one\r\ntwo\rthree", "one\ntwo\nthree"),
    ("vertical-tab-form-feed", "a\x0bb\x0cc", "abc"),
    ("bidi-override", "abc\u202egnp.exe", "abcgnp.exe"),
    ("bidi-embeddings", "\u202aa\u202bb\u202cc\u202dd", "abcd"),
    ("bidi-isolates", "\u2066a\u2067b\u2068c\u2069", "abc"),
    ("only-zero-width", INVISIBLE, ""),
    ("zero-width-and-spaces", f" {INVISIBLE} \u00a0\u3000\n", ""),
    ("only-controls", "\x00\x01\t\u202e", ""),
    ("hangul-filler", "\u3164\u115f", ""),
    ("zero-width-inside-kept", "thanks\u200bfor it", "thanks\u200bfor it"),
    ("emoji-zwj", "👩🏽‍💻 and 👨‍👩‍👧 and 🏳️‍🌈", "👩🏽‍💻 and 👨‍👩‍👧 and 🏳️‍🌈"),
    ("flag-tags", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", None),
    ("accents", "café naïve Ångström e\u0301", "café naïve Ångström e\u0301"),
    ("cjk-rtl", "ありがとう 谢谢 감사합니다 شكرا שלום", "ありがとう 谢谢 감사합니다 شكرا שלום"),
    ("marks-kept", "\u200eשלום\u200f", "\u200eשלום\u200f"),
    ("slack-markup-kept", "<@U1|maria> &amp; <!here>", "<@U1|maria> &amp; <!here>"),
]


@pytest.mark.parametrize(
    ("typed", "expected"), [c[1:] for c in CLEANED], ids=[c[0] for c in CLEANED]
)
def test_clean_typed_text(typed: str, expected: str | None) -> None:
    cleaned = clean_typed_text(typed)
    assert cleaned == (typed if expected is None else expected)
    assert clean_typed_text(cleaned) == cleaned


def test_no_control_character_survives() -> None:
    every = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)])
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    # the tab as a space, the newline, and the carriage return as a newline
    assert clean_typed_text(f"x{every}{bidi}y") == "x \n\ny"


@pytest.mark.parametrize(
    "citation", [INVISIBLE, "\u200b", " \u2060 ", "\ufeff\u200b\u200c\u200d", "\x00\x01"]
)
def test_an_invisible_citation_is_no_citation(citation: str) -> None:
    result = SUBCOMMANDS.parse(f"{MARIA} 10 {citation}")
    assert isinstance(result, Refusal)
    assert result.code is ErrorCode.NO_CITATION
    assert result.text == SUBCOMMANDS.parse(f"{MARIA} 10").text


def test_an_invisible_cancel_reason_is_no_reason() -> None:
    result = SUBCOMMANDS.parse(f"cancel 4F7Q2K {INVISIBLE}")
    assert isinstance(result, Refusal)
    assert result.code is ErrorCode.NO_REASON
    assert result.text == SUBCOMMANDS.parse("cancel 4F7Q2K").text


def test_an_invisible_command_opens_the_form() -> None:
    assert SUBCOMMANDS.parse(INVISIBLE) == OpenModal()


@pytest.mark.parametrize(
    ("text", "citation"),
    [
        (f"{MARIA} 10 thanks\x00 for\x07 it", "thanks for it"),
        (f"{MARIA}\t10\tgreat\twork", "great work"),
        (f"{MARIA} 10 \u202eshipped\u2066 it\u2069", "shipped it"),
        (f"{MARIA} 10 first line\r\nsecond line", "first line\nsecond line"),
        (f"{MARIA} 10 👩🏽‍💻 pair\x00 work, merci 谢谢", "👩🏽‍💻 pair work, merci 谢谢"),
    ],
    ids=["nul-and-bell", "tabs", "bidi", "crlf", "emoji-accents-cjk"],
)
def test_a_citation_is_given_without_control_characters(text: str, citation: str) -> None:
    result = SUBCOMMANDS.parse(text)
    assert isinstance(result, GiveReward), result
    assert result.citation == citation


def test_a_cancel_reason_is_given_without_control_characters() -> None:
    result = SUBCOMMANDS.parse("cancel\x00 4F7Q2K sent\x00 twice\x1b")
    assert result == CancelReward(reward_id="4F7Q2K", reason="sent twice")
