"""The sandbox notice: what it adds."""

from __future__ import annotations

from bot.slack.blocks.common import message
from bot.slack.blocks.kit import section
from bot.slack.sandbox_notice import SANDBOX_NOTICE, with_sandbox_notice
from tests.slack.blocks.blockkit_rules import check_message

PLAIN = message("hello", [section("hi")])


# ── what it adds ─────────────────────────────────────────────────────────────────────────


def test_sandbox_notice_is_added_once_to_blocks_and_text() -> None:
    once = with_sandbox_notice(PLAIN)
    twice = with_sandbox_notice(once)
    assert once == twice
    assert once["text"].endswith(SANDBOX_NOTICE)
    assert once["blocks"][-1]["elements"][0]["text"] == SANDBOX_NOTICE
    assert PLAIN["blocks"] == [section("hi")]  # the original is left alone


def test_sandbox_notice_survives_a_full_message() -> None:
    full = with_sandbox_notice(message("x" * 5000, [section(f"row {i}") for i in range(60)]))
    assert len(full["blocks"]) == 50
    assert full["blocks"][-1]["elements"][0]["text"] == SANDBOX_NOTICE
    assert full["text"].endswith(SANDBOX_NOTICE)
    assert check_message(full) == []


def test_sandbox_notice_on_a_view_has_no_fallback_text() -> None:
    view = with_sandbox_notice({"type": "home", "blocks": [section("hi")]})
    assert "text" not in view
    assert view["blocks"][-1]["elements"][0]["text"] == SANDBOX_NOTICE
