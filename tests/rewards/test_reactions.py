"""What a reaction is worth (REWARD_REACTIONS): emoji names as Slack sends them, skin tones
and colons aside, and the setting's grammar."""

from __future__ import annotations

import pytest

from bot.rewards.reactions import Reaction, emoji_name, worth
from bot.settings import parse_reactions

TABLE = {"taco": 5, "star": 10, "+1": 2}


@pytest.mark.parametrize(
    ("sent", "name"),
    [
        ("taco", "taco"),
        ("thumbsup::skin-tone-2", "thumbsup"),
        ("+1::skin-tone-6", "+1"),
        (":Star:", "star"),
        ("", ""),
    ],
)
def test_emoji_names_lose_skin_tones_and_colons(sent: str, name: str) -> None:
    assert emoji_name(sent) == name


def test_worth() -> None:
    assert worth(TABLE, "taco") == 5
    assert worth(TABLE, "taco::skin-tone-3") == 5
    assert worth(TABLE, "+1::skin-tone-2") == 2
    assert worth(TABLE, "eyes") is None
    assert worth(TABLE, "") is None
    assert worth({}, "taco") is None


def test_the_setting() -> None:
    assert parse_reactions("taco=5, star=10") == {"taco": 5, "star": 10}
    assert parse_reactions(":Taco:=5") == {"taco": 5}
    assert parse_reactions("") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("taco", "emoji=points"),
        ("=5", "emoji=points"),
        ("taco=0", "1 or more"),
        ("taco=-5", "1 or more"),
        ("taco=five", "whole number"),
        ("taco=5.5", "whole number"),
        ("taco=5,taco=6", "twice"),
        ("<!channel>=5", "not an emoji name"),
        ("ta co=5", "not an emoji name"),
        ("taco::skin-tone-2=5", "not an emoji name"),
        ("taco=99999999999", "whole number"),
    ],
)
def test_the_setting_refuses_what_it_cant_mean(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_reactions(text)


def test_one_reaction_one_key_whatever_the_skin_tone() -> None:
    def reaction(emoji: str) -> Reaction:
        return Reaction("T1", "C1", "1.2", "U1", "U2", emoji, "3.4")

    assert reaction("taco").key == reaction("taco::skin-tone-4").key
    assert reaction("taco").key != reaction("star").key
    long = reaction("x" * 200).key
    assert len(long) <= 240
