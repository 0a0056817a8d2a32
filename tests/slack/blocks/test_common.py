"""Truncation and formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.slack.blocks.common import (
    ELLIPSIS,
    clip,
    escape_mrkdwn,
    format_date,
    format_datetime,
    people,
    points,
    quote,
    safe_mrkdwn,
    text_len,
)
from bot.slack.blocks.kit import block_key, keyed
from bot.slack.ids import BlockId
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import Checker

# ── clip ─────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("hello wonderful world", 10, "hello won…"),
        ("thanks <@U123|maria lopez> for it", 20, "thanks…"),
        ("thanks <https://x.test/a|the doc> ok", 25, "thanks…"),
        ("fish &amp; chips", 9, "fish…"),
        ("ab😀cd", 4, "ab…"),  # the emoji counts as two, and is not split
        ("hi 👩🏽‍💻 there", 8, "hi…"),  # a ZWJ sequence is kept whole or dropped whole
        ("café", 4, "café"),
    ],
)
def test_clip_cuts_safely(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected
    assert text_len(clip(text, limit)) <= limit


def test_clip_never_breaks_mrkdwn_at_any_length() -> None:
    text = s.long_citation()
    for limit in range(1, text_len(text) + 2):
        out = clip(text, limit)
        assert text_len(out) <= limit
        checker = Checker()
        checker.mrkdwn(out, "clip")
        assert checker.errors == [], (limit, out[-30:])
        body = out.removesuffix(ELLIPSIS)
        assert text.startswith(body)
        assert out == text or out.endswith(ELLIPSIS)


def test_plain_clip_keeps_angle_brackets() -> None:
    assert clip("a < b and more", 9, mrkdwn=False) == "a < b an…"


# ── people, points, dates ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("ids", "limit", "expected"),
    [
        ([], 100, "nobody"),
        (["U1"], 100, "<@U1>"),
        (["U1", "U2"], 100, "<@U1> and <@U2>"),
        (["U1", "U2", "U3"], 100, "<@U1>, <@U2> and <@U3>"),
        (["U1", "U1", "U2"], 100, "<@U1> and <@U2>"),
        (["U1", "U2", "U3", "U4"], 25, "<@U1>, <@U2> and 2 others"),
        (["U1", "U2", "U3", "U4"], 24, "<@U1> and 3 others"),
        (["U1", "U2", "U3"], 5, "<@U1> and 2 others"),
    ],
)
def test_people(ids: list[str], limit: int, expected: str) -> None:
    assert people(ids, limit=limit) == expected


@pytest.mark.parametrize(("n", "text"), [(1, "1 point"), (0, "0 points"), (1234, "1,234 points")])
def test_points(n: int, text: str) -> None:
    assert points(n) == text


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("Europe/Berlin", "5 March 2026 at 14:05 CET"),
        ("Asia/Tokyo", "5 March 2026 at 22:05 JST"),
        ("America/Los_Angeles", "5 March 2026 at 05:05 PST"),
        (None, "5 March 2026 at 13:05 UTC"),
        ("Not/AZone", "5 March 2026 at 13:05 UTC"),
    ],
)
def test_times_are_shown_in_the_members_zone(tz: str | None, expected: str) -> None:
    assert format_datetime(s.CREATED, tz) == expected


def test_a_moment_can_fall_on_another_day_in_another_zone() -> None:
    late = datetime(2027, 3, 31, 23, 30, tzinfo=UTC)
    assert format_date(late, "UTC") == "31 March 2027"
    assert format_date(late, "Asia/Tokyo") == "1 April 2027"
    assert format_date(date(2027, 3, 31), "Asia/Tokyo") == "31 March 2027"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2 & 3 > 0", "1 &lt; 2 &amp; 3 &gt; 0"),  # raw, as typed in a modal
        ("fish &amp; chips &lt;3", "fish &amp; chips &lt;3"),  # escaped, as Slack sends it
        ("hi <@U1|maria> in <#C1|general>", "hi <@U1|maria> in <#C1|general>"),
        ("<https://x.test/?a=1&b=2>", "<https://x.test/?a=1&amp;b=2>"),
        ("<b>bold</b> &am", "&lt;b&gt;bold&lt;/b&gt; &amp;am"),
        ("<@U1", "&lt;@U1"),
    ],
)
def test_safe_mrkdwn_escapes_raw_text_and_keeps_slack_markup(text: str, expected: str) -> None:
    assert safe_mrkdwn(text) == expected
    assert safe_mrkdwn(expected) == expected


NEUTRALISED = [
    ("channel", "thanks <!channel>", "thanks @channel"),
    ("here", "<!here> now", "@here now"),
    ("here-labelled", "<!here|here>", "@here"),
    ("here-disguised", "<!here|nothing to see>", "@here"),
    ("everyone", "<!everyone>", "@everyone"),
    ("group", "<!group>", "@group"),
    ("user-group", "<!subteam^S0DEVS|@devs>", "@devs"),
    ("user-group-bare-label", "<!subteam^S0DEVS|devs>", "@devs"),
    ("user-group-no-label", "<!subteam^S0DEVS>", "@S0DEVS"),
    (
        "date-unparsed",
        "<!date^1392734382^{date_num}|5 March> <!here>",
        "&lt;!date^1392734382^{date_num}|5 March&gt; @here",
    ),
    ("date-simple", "<!date^1392734382|5 March>", "5 March"),
    ("label-with-entity", "<!subteam^S1|@r&amp;d>", "@r&amp;d"),
    (
        "disguised-link",
        "<https://evil.example|https://xoxoday.com/claim>",
        "<https://evil.example>",
    ),
    (
        "labelled-link",
        "see <https://x.test/a?b=1&c=2|the doc>",
        "see <https://x.test/a?b=1&amp;c=2>",
    ),
    ("bare-link-kept", "<https://x.test> <https://y.test|z>", "<https://x.test> <https://y.test>"),
    ("http-link", "<http://x.test|label>", "<http://x.test>"),
    ("mailto", "<mailto:evil@evil.example|boss@acme.test>", "<mailto:evil@evil.example>"),
    ("person-stays-live", "<@U1|maria> and <@W2> <!here>", "<@U1|maria> and <@W2> @here"),
    ("channel-link-stays-live", "<#C1|general> <#C2> <!channel>", "<#C1|general> <#C2> @channel"),
    ("escaped-stays-escaped", "&lt;!channel&gt; <!channel>", "&lt;!channel&gt; @channel"),
    (
        "other-scheme-escaped",
        "<javascript:alert(1)|click> <!everyone>",
        "&lt;javascript:alert(1)|click&gt; @everyone",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in NEUTRALISED], ids=[c[0] for c in NEUTRALISED]
)
def test_safe_mrkdwn_pings_nobody_and_shows_where_links_go(text: str, expected: str) -> None:
    assert safe_mrkdwn(text) == expected
    assert safe_mrkdwn(expected) == expected
    assert "<!" not in safe_mrkdwn(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "see https://acme.slack.com/archives/C1/p123 for it.",
            "see <https://acme.slack.com/archives/C1/p123> for it.",
        ),
        ("(https://a.test/wiki/A_(b))", "(<https://a.test/wiki/A_(b)>)"),
        ("https://a.test?x=1&y=2!", "<https://a.test?x=1&amp;y=2>!"),  # raw, from a modal
        ("https://a.test?x=1&amp;y=2", "<https://a.test?x=1&amp;y=2>"),  # escaped by Slack
        ("1 &lt; https://a.test&gt; 2", "1 &lt; <https://a.test>&gt; 2"),
        ("<https://a.test> and https://b.test", "<https://a.test> and <https://b.test>"),
        ("just https:// here", "just https:// here"),
        ("javascript:alert(1) ftp://x.test", "javascript:alert(1) ftp://x.test"),
    ],
)
def test_bare_web_addresses_become_links_as_slack_makes_them(text: str, expected: str) -> None:
    assert safe_mrkdwn(text) == expected
    assert safe_mrkdwn(expected) == expected


def test_escape_and_quote() -> None:
    assert escape_mrkdwn("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert quote("one\n\ntwo") == ">one\n>\n>two"


def test_keyed_block_ids_round_trip() -> None:
    block_id = keyed(BlockId.APPROVAL_ACTIONS, "AB12CD")
    assert block_id == "approval_actions:AB12CD"
    assert block_key(block_id) == "AB12CD"
    assert block_key("approval_actions") is None
