"""Reward links reach their recipient's DM and nowhere else."""

from __future__ import annotations

import pytest

from bot.simulators.sandbox_notice import with_sandbox_notice
from bot.slack.blocks import links
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import assert_valid_message, everything, visible

# Forms the secret could take in a payload: as given, as mrkdwn escapes it, and its token.
SECRET_FORMS = [s.SECRET_URL, s.SECRET_URL.replace("&", "&amp;"), "SECRET-TOKEN-7f3a9c"]


def test_link_dm_gives_the_link_with_the_admins_note() -> None:
    msg = links.link_dm(link=s.link())
    assert_valid_message(msg)
    seen = visible(msg)
    assert "<@UADMIN01> sent you a reward worth *25.00 USD* from *Spring thanks*" in seen
    assert ">Thank you for covering the launch weekend!" in seen
    assert f"<{s.SECRET_URL.replace('&', '&amp;')}|Open your reward>" in seen
    assert "works until *31 December 2026*" in seen
    assert "SECRET-TOKEN" not in msg["text"]  # not in the notification preview


def test_link_characters_that_would_break_mrkdwn_are_encoded() -> None:
    msg = links.link_dm(link=s.link(url="https://x.test/a|b>c d"))
    assert_valid_message(msg)
    assert "<https://x.test/a%7Cb%3Ec%20d|Open your reward>" in visible(msg)


@pytest.mark.parametrize("sandbox", [False, True])
def test_admin_confirmation_never_shows_the_link(sandbox: bool) -> None:
    msg = links.link_sent_confirmation(link=s.link())
    msg = with_sandbox_notice(msg) if sandbox else msg
    assert_valid_message(msg)
    assert "I sent <@UMARIA01> a reward link" in visible(msg)
    dumped = everything(msg)
    for form in SECRET_FORMS:
        assert form not in dumped
    assert "https://" not in dumped


@pytest.mark.parametrize("sandbox", [False, True])
def test_batch_comment_never_shows_a_link(sandbox: bool) -> None:
    msg = links.link_batch_comment(batch=s.batch())
    msg = with_sandbox_notice(msg) if sandbox else msg
    assert "25 reward links" in msg["text"] and "*Spring thanks*" in msg["text"]
    assert "valid until 31 December 2026" in msg["text"]
    assert "keep the file private" in msg["text"]
    dumped = everything(msg)
    assert "https://" not in dumped and "http://" not in dumped


def test_the_link_stays_out_of_reprs() -> None:
    card = s.link()
    assert "SECRET" not in repr(card)
    assert "SECRET" not in repr(s.home())
