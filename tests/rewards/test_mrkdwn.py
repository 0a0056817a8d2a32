"""Reading Slack mrkdwn: mentions, and what a person sees of a message."""

from __future__ import annotations

import pytest

from bot.rewards.mrkdwn import mentioned_user_ids, to_plain_text

PLAIN = [
    ("named-mention", "<@U1|maria> hi", "@maria hi"),
    ("bare-mention", "<@U1> hi", "@U1 hi"),
    ("channel", "in <#C1|general>", "in #general"),
    ("link-label", "<https://x.test|the doc>", "https://x.test"),
    ("link-disguised", "<https://evil.example|https://xoxoday.com/claim>", "https://evil.example"),
    ("link-bare", "<https://x.test>", "https://x.test"),
    ("mailto", "<mailto:a@x.test|a@x.test>", "a@x.test"),
    ("mailto-disguised", "<mailto:evil@evil.example|boss@acme.test>", "evil@evil.example"),
    ("broadcast", "<!here> now", "@here now"),
    ("broadcast-labelled", "<!here|nothing to see>", "@here"),
    ("user-group", "<!subteam^S0DEVS|devs>", "@devs"),
    ("entities", "a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"),
]


@pytest.mark.parametrize(("mrkdwn", "plain"), [c[1:] for c in PLAIN], ids=[c[0] for c in PLAIN])
def test_to_plain_text(mrkdwn: str, plain: str) -> None:
    assert to_plain_text(mrkdwn) == plain


def test_to_plain_text_uses_known_names() -> None:
    assert to_plain_text("<@U1> and <@U2|sam>", names={"U1": "Maria"}) == "@Maria and @sam"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks <@U1ABC|maria> and <@W2DEF>!", ["U1ABC", "W2DEF"]),
        ("<@U1ABC> <@U1ABC|maria>", ["U1ABC"]),
        ("no one here, <#C123|general> <!here>", []),
    ],
    ids=["both-forms", "repeats", "none"],
)
def test_mentioned_user_ids(text: str, expected: list[str]) -> None:
    assert mentioned_user_ids(text) == expected
