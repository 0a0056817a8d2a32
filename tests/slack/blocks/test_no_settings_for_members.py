"""No message a member reads names one of the bot's settings (`REWARD_GIFT_SENDERS`,
`PLUM_BASE_URL`, …): those are for whoever runs the bot. Admins' messages may name them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from bot.rewards.gifts import GiftCard
from bot.settings import Settings, load_settings
from bot.slack.blocks import gifts, jobs, lists, reward_messages
from bot.slack.listeners.subcommands import SUBCOMMANDS, reader_of
from storage.states import OrderStatus
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import everything
from tests.slack.blocks.test_all_builders import MESSAGES, VIEWS, Build

SETTINGS = frozenset(Settings.model_fields)
ADMINS_ONLY = {  # read by admins alone
    "campaigns",
    "campaigns, none",
    "admin in doubt",
    "admin in doubt, crowded",
    "admin in doubt, settled",
    "crash recovery",
    "crash recovery, 60 rewards",
    "help",  # the admin's /reward help (a member's is below)
    "balance, admin low",
    "managers",
    "managers, none",
    "managers, 2000",
    "link confirmation",
    "raw text everywhere: in doubt",
    "link modal",
    "home, raw text",
    "home, crowded admin approver",
}
MEMBER = "UMEMBER1"


def _member_help(**settings: str) -> Build:
    config = load_settings(_env_file=None, REWARD_ADMINS="UADMIN01", **settings)
    return lambda: {
        "text": SUBCOMMANDS.help_text(values=["grit"], reader=reader_of(config, MEMBER))
    }


def _gift(message: str | None) -> GiftCard:
    return GiftCard(
        po_number="PO-1",
        donation=False,
        product="Amazon Pay e-Gift Card",
        amount=Decimal("500"),
        currency="INR",
        giver_id=s.GIVER,
        recipient_id=s.MARIA,
        status=OrderStatus.FAILED,
        message=message,
    )


MEMBERS_READ: dict[str, Build] = {
    **{k: v for k, v in {**MESSAGES, **VIEWS}.items() if k not in ADMINS_ONLY},
    "help, member": _member_help(),
    "help, gift sender": _member_help(REWARD_GIFT_SENDERS=MEMBER),
    "help, points in the bot": _member_help(
        REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY="k" * 32
    ),
    "giver pending, nobody to ask": lambda: reward_messages.giver_pending_approval(
        reward=s.reward(), approver_ids=[], tz=None
    ),
    "giver delayed": lambda: reward_messages.giver_delayed(reward=s.reward(), hours=24, tz=None),
    "expiry reminder": lambda: jobs.expiry_reminder(
        grants=[jobs.ExpiringGrant(short_id="AB12CD", points=10, expires_on=date(2026, 3, 12))],
        balance=15,
        today=date(2026, 3, 5),
        tz=None,
    ),
    "gift failed": lambda: gifts.sender_failed(_gift("Xoxoday refused it.")),
    "gift placed": lambda: gifts.sender_placed(_gift(None)),
    "balance": lambda: lists.balance_message(balance=s.balance()),
}


def settings_named(payload: dict[str, object]) -> list[str]:
    words = re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", everything(payload))
    return sorted({w for w in words if w in SETTINGS or w.startswith(("REWARD_", "PLUM_"))})


@pytest.mark.parametrize("name", sorted(MEMBERS_READ))
def test_no_message_a_member_reads_names_a_setting(name: str) -> None:
    assert settings_named(MEMBERS_READ[name]()) == []


def test_the_check_would_notice_a_setting_named() -> None:
    admins = SUBCOMMANDS.help_text()  # an admin's help may name REWARD_GIFT_SENDERS
    assert settings_named({"text": admins}) == ["REWARD_GIFT_SENDERS"]
