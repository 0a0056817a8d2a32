"""`/reward`'s subcommands, declared once (`bot.slack.listeners.subcommands`): `/reward help`
word for word and every subcommand in it, no word naming two, members refused an admin-only
subcommand before its arguments are read, a typo of any name answered with it, and one more
declaration all a new subcommand needs to be read, refused, suggested and listed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.rewards.commands import (
    CancelReward,
    ErrorCode,
    ListCampaigns,
    ShowBalance,
    ShowHistory,
)
from bot.rewards.help import ADMINS
from bot.rewards.refusal import Refusal
from bot.settings import load_settings
from bot.slack.listeners.subcommands import (
    DECLARED,
    SUBCOMMANDS,
    Registry,
    Subcommand,
    reader_of,
)

ADMIN = "UADMIN01"
MEMBER = "UMEMBER1"
SETTINGS = load_settings(_env_file=None, REWARD_ADMINS=ADMIN)

HELP = (
    "*Give points*  `/reward @person [@more people] amount what it's for`\n"
    "• `/reward @maria 50 thanks for the demo`\n"
    "• `/reward @maria @sam 100 a smooth launch #teamwork` gives 100 points to *each* of "
    "them\n"
    "• `/reward @design-team 10 for the launch` gives 10 points to each member of a user group "
    "(you see who and the total before you send)\n"
    "• `/reward` on its own opens a form\n"
    "Pick each person from the list that pops up as you type `@`. The amount is a whole "
    "number of points per person; the message (up to 500 characters) is shown to them. "
    "`#words` in it tag company values.\n"
    "\n"
    "*See where you stand*\n"
    "• `/reward balance`  your points, and what you can still give this month\n"
    "• `/reward history`  your last 10 rewards, given and received\n"
    "• `/reward leaderboard week` or `month`  top recipients and givers\n"
    "• `/reward approvals`  rewards waiting for your decision\n"
    "• `/reward celebrations off` (or `on`)  no birthday or work anniversary points for you (or "
    "back on); `/reward celebrations` shows which (admins: the next 30 days)\n"
    "\n"
    "*Gift cards and charity*\n"
    "• `/reward gift @person`  pick a gift card for them from Xoxoday's catalogue\n"
    "• `/reward donate [@person]`  donate to a charity in their name (or the team's)\n"
    "Admins and the people REWARD_GIFT_SENDERS names send them from the company account.\n"
    "\n"
    "*Admins*\n"
    "• `/reward manager @member @manager` (or `none`), `/reward managers`\n"
    "• `/reward link @person campaign-id [DD-MM-YYYY] [message]`  DM one reward link\n"
    "• `/reward links campaign-id count [DD-MM-YYYY]`  a batch of links, as a CSV in your "
    "DM\n"
    "• `/reward campaigns`  the reward link campaigns and their ids\n"
    "• `/reward cancel reward-id reason`  withdraw a reward's points\n"
    "• `/reward lock @person [reason]`  pause someone's giving (they can still receive); "
    "`/reward unlock @person`, `/reward locks` (who is locked)\n"
    "• `/reward adjust @person -50 reason` (or `+50`)  deduct or add points by hand, with why "
    "(points in the bot; never below zero)\n"
    "• `/reward allowance @design-team 2000` (a user group) or `@maria 500` (a person)  a "
    "monthly allowance instead of the default; `default` removes it; `/reward allowances` lists "
    "them\n"
    "• `/reward bulk`  many awards from a CSV file (recipient, points, reason, value): "
    "checked whole, previewed, then sent\n"
    "• `/reward orders`  the latest gift cards and donations, with their status\n"
    "• `/reward orders report 2026-11-01 2026-11-30` (or `last month`)  Xoxoday's orders and "
    "payments for a period, as CSVs in your DM"
)

# What a member reads: giving and where they stand (the gift section only when they may send
# gift cards, said in their terms); no admin part, and no setting's name.
MEMBER_HELP = HELP.split("\n\n*Gift cards and charity*")[0]
GIFTS_HELP = (
    "*Gift cards and charity*\n"
    "• `/reward gift @person`  pick a gift card for them from Xoxoday's catalogue\n"
    "• `/reward donate [@person]`  donate to a charity in their name (or the team's)\n"
)

# What a member is told they can't do, for each admin-only subcommand.
ADMINS_ONLY = {
    "allowance": "set allowances",
    "allowances": "see the allowances",
    "manager": "record managers",
    "managers": "list managers",
    "link": "send reward links",
    "links": "make batches of reward links",
    "campaigns": "see the reward link campaigns",
    "cancel": "cancel rewards",
    "adjust": "add or deduct points",
    "bulk": "send awards from a file",
    "orders": "see the gift card and donation orders",
    "lock": "lock givers",
    "unlock": "unlock givers",
    "locks": "see who is locked",
}


def mentioned(name: str, text: str) -> bool:
    """`text` shows `/reward <name>` (not merely a longer word starting with it)."""
    return re.search(rf"`/reward {re.escape(name)}(?![\w-])", text) is not None


def test_help_is_word_for_word() -> None:
    assert SUBCOMMANDS.help_text() == HELP
    assert SUBCOMMANDS.help_text(values=["teamwork"]) == HELP + "\n\n*Company values*  `#teamwork`"


def test_a_member_reads_only_what_a_member_can_do() -> None:
    member = reader_of(SETTINGS, MEMBER)
    assert SUBCOMMANDS.help_text(reader=member) == MEMBER_HELP
    assert SUBCOMMANDS.help_text(values=["grit"], reader=member) == (
        MEMBER_HELP + "\n\n*Company values*  `#grit`"
    )
    assert SUBCOMMANDS.help_text(reader=reader_of(SETTINGS, ADMIN)) == HELP


@pytest.mark.parametrize(
    ("settings", "note"),
    [
        (
            load_settings(_env_file=None, REWARD_ADMINS=ADMIN, REWARD_GIFT_SENDERS=MEMBER),
            "You send them from the company account.",
        ),
        (
            load_settings(
                _env_file=None,
                REWARD_ADMINS=ADMIN,
                REWARD_POINT_SYSTEM="storefront",
                STOREFRONT_API_KEY="k" * 32,
            ),
            "You pay for them with your points.",
        ),
    ],
)
def test_a_member_who_may_send_gift_cards_reads_how(settings: Any, note: str) -> None:
    shown = SUBCOMMANDS.help_text(reader=reader_of(settings, MEMBER))
    assert shown == MEMBER_HELP + "\n\n" + GIFTS_HELP + note
    assert "*Admins*" not in shown


def test_no_setting_is_named_in_a_members_help() -> None:
    for settings in (
        SETTINGS,
        load_settings(_env_file=None, REWARD_ADMINS=ADMIN, REWARD_GIFT_SENDERS=MEMBER),
    ):
        shown = SUBCOMMANDS.help_text(values=["grit"], reader=reader_of(settings, MEMBER))
        assert re.search(r"\b[A-Z]+_[A-Z_]+\b", shown) is None, shown


def test_every_subcommand_is_in_help() -> None:
    shown = SUBCOMMANDS.help_text()
    missing = [s.name for s in SUBCOMMANDS if s.name != "help" and not mentioned(s.name, shown)]
    assert missing == [], f"add a help line for /reward {', '.join(missing)}"


def test_admin_only_subcommands_are_listed_under_admins() -> None:
    before, after = SUBCOMMANDS.help_text().split("\n*Admins*\n")
    for sub in SUBCOMMANDS:
        if sub.name == "help":
            continue
        listed_under_admins = mentioned(sub.name, after) and not mentioned(sub.name, before)
        assert listed_under_admins == bool(sub.admin), sub.name


def test_no_word_names_two_subcommands() -> None:
    words = [word for sub in SUBCOMMANDS for word in sub.words]
    assert len(words) == len(set(words))
    again = Subcommand(name="balance", grammar=lambda rest, today=None: ShowBalance(), help=())
    with pytest.raises(ValueError, match="balance: named twice"):
        Registry([*DECLARED, again])
    alias = Subcommand(
        name="assist", aliases=("?",), grammar=lambda rest, today=None: ShowBalance(), help=()
    )
    with pytest.raises(ValueError, match=r"\?: named twice"):
        Registry([*DECLARED, alias])


@pytest.mark.parametrize(
    "rest", ["", " ???", " <@U0MARIA> <@U0SAM> 12 extra words", " 4F7Q2K why not"]
)
@pytest.mark.parametrize("name", sorted(ADMINS_ONLY))
def test_members_are_told_they_cannot_before_how_to_type_it(name: str, rest: str) -> None:
    for text in (name + rest, name.upper() + rest, f"{name}\x00{rest}"):
        sub, said = SUBCOMMANDS.read(text, settings=SETTINGS, user_id=MEMBER)
        assert sub is not None and sub.name == name
        assert isinstance(said, Refusal)
        assert said.text == (
            f"Only admins can {ADMINS_ONLY[name]}. If it needs doing, ask <@{ADMIN}>."
        )
        # an admin gets what the grammar says (the command, or how to type it)
        assert SUBCOMMANDS.read(text, settings=SETTINGS, user_id=ADMIN) == (
            sub,
            SUBCOMMANDS.parse(text),
        )


def test_admin_only_is_exactly_the_admins_subcommands() -> None:
    assert {s.name: s.admin for s in SUBCOMMANDS if s.admin} == ADMINS_ONLY


def test_members_may_run_the_others() -> None:
    assert SUBCOMMANDS.read("balance", settings=SETTINGS, user_id=MEMBER)[1] == ShowBalance()
    assert SUBCOMMANDS.read("<@U0MARIA> 5 thanks", settings=SETTINGS, user_id=MEMBER)[0] is None
    sub, said = SUBCOMMANDS.read("cancel 4F7Q2K oops", settings=SETTINGS, user_id=ADMIN)
    assert sub is not None and sub.name == "cancel" and said == CancelReward("4F7Q2K", "oops")


@pytest.mark.parametrize("word", [w for s in SUBCOMMANDS for w in s.words if w.isalpha()])
def test_a_typo_of_any_subcommand_is_answered_with_it(word: str) -> None:
    said = SUBCOMMANDS.parse(word + word[-1])
    assert isinstance(said, Refusal) and said.code is ErrorCode.UNKNOWN_SUBCOMMAND
    assert f"Did you mean `/reward {word}`?" in said.text


def test_one_declaration_is_all_a_new_subcommand_needs() -> None:
    ran: list[Any] = []
    ping = Subcommand(
        name="ping",
        grammar=lambda rest, today=None: ShowHistory() if not rest else ListCampaigns(),
        admin="ping the bot",
        section=ADMINS,
        help=("`/reward ping`  see that I'm here",),
        run=lambda runtime, parsed, command, respond: ran.append(parsed),
    )
    registry = Registry([*DECLARED, ping])
    assert registry.read("ping", settings=SETTINGS, user_id=ADMIN) == (ping, ShowHistory())
    _, said = registry.read("Ping now", settings=SETTINGS, user_id=MEMBER)
    assert isinstance(said, Refusal) and said.text.startswith("Only admins can ping the bot.")
    typo = registry.parse("pingg")
    assert isinstance(typo, Refusal) and "Did you mean `/reward ping`?" in typo.text
    assert registry.help_text() == HELP + "\n• `/reward ping`  see that I'm here"
    named = registry.named("ping")
    assert named is not None and named.run is not None
    named.run(None, ShowHistory(), {}, None)
    assert ran == [ShowHistory()]
