"""The playground's settings: fixed, so it behaves the same on every machine.

Nothing is read from `.env` or the environment: every setting is given here or takes its
documented default. The Slack signing secret and bot token are made up at start and never leave
the process; Plum is the embedded sandbox; the ledger is SQLite in the state directory.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from bot.settings import SANDBOX, Settings, load_settings

ADMIN_ID = "UADMIN01"  # Ada Lovelace (Workspace.demo())
APPROVER_ID = "UAPPR001"  # Arthur Approver
APPROVAL_THRESHOLD = 500
COMPANY_VALUES = ("teamwork", "ownership", "customers")
SUMMARY_CHANNEL = "C0KUDOS"  # #kudos
DATABASE_NAME = "rewardbot.db"

# What differs from the defaults, for the README and the page's "about" line.
FIXED: dict[str, Any] = {
    "PLUM_BASE_URL": SANDBOX,
    "REWARD_ADMINS": ADMIN_ID,
    "REWARD_APPROVERS": APPROVER_ID,
    "REWARD_APPROVAL_THRESHOLD": APPROVAL_THRESHOLD,
    "REWARD_VALUES": ",".join(COMPANY_VALUES),
    "REWARD_SUMMARY_CHANNEL": SUMMARY_CHANNEL,
    # Reacting with :taco: or :star: to a person's message gives its author (held a minute:
    # un-react meanwhile to take it back, or jump the clock to see it sent).
    "REWARD_REACTIONS": "taco=5,star=10",
    # `/reward` and the form are sent at once here (no Undo button), as the page's tests and
    # walk-throughs expect; reactions and messages keep their minute.
    "REWARD_UNDO_COMMANDS": False,
    # A reward in doubt (the "lost answer" fault) goes to the admin at once, to be settled
    # from the page; a company's bot first settles it from Xoxoday's records.
    "REWARD_IN_DOUBT_ADMIN_MINUTES": 0,
    # Celebrations, once people's dates are imported (`rewardbot people import --state-dir`),
    # announced in #kudos.
    "REWARD_BIRTHDAY_POINTS": 50,
    "REWARD_ANNIVERSARY_POINTS": "1=100,5=500,10=1000",
    "REWARD_WELCOME_POINTS": 25,
    "REWARD_CELEBRATION_CHANNEL": SUMMARY_CHANNEL,
}


def new_secrets() -> tuple[str, str]:
    """(signing secret, bot token) for one run; internal to the process."""
    return secrets.token_hex(16), "xoxb-playground-" + secrets.token_hex(12)


def new_storefront_api_key() -> str:
    """GetProfile's api_key for one run (`--storefront`): shared by the bot and its sandbox."""
    return "playground-" + secrets.token_hex(16)


def database_url(state_dir: Path) -> str:
    return f"sqlite:///{(state_dir / DATABASE_NAME).resolve()}"


def _fixed(state_dir: Path) -> dict[str, Any]:
    """FIXED, SQLite in `state_dir` and the defaults for everything else: never the environment
    or `.env`."""
    values: dict[str, Any] = {
        name: field.default
        for name, field in Settings.model_fields.items()
        if not field.is_required()
    }
    values.update(FIXED)
    values.update(DATABASE_URL=database_url(state_dir))
    return values


def playground_settings(
    *,
    state_dir: Path,
    slack_api_url: str,
    signing_secret: str,
    bot_token: str,
    storefront_api_key: str | None = None,
) -> Settings:
    """Settings for the playground: FIXED, the internal Slack secrets, SQLite in `state_dir`,
    and the defaults for everything else (the environment and `.env` are ignored). With a
    `storefront_api_key` (`--storefront`), points live in the bot (REWARD_POINT_SYSTEM=storefront)
    and Redeem answers with a small window holding the store's link (no PUBLIC_URL)."""
    values = _fixed(state_dir)
    values.update(
        SLACK_BOT_TOKEN=bot_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_APP_TOKEN=None,
        SLACK_API_URL=slack_api_url,
    )
    if storefront_api_key is not None:
        values.update(REWARD_POINT_SYSTEM="storefront", STOREFRONT_API_KEY=storefront_api_key)
    return load_settings(_env_file=None, **values)


def ledger_settings(state_dir: Path) -> Settings:
    """The playground's settings without Slack, for the commands that read its ledger
    (`rewardbot audit verify --state-dir DIR`): the same database, keys and anchor file."""
    values = _fixed(state_dir)
    values.update(SLACK_BOT_TOKEN=None, SLACK_SIGNING_SECRET=None, SLACK_APP_TOKEN=None)
    return load_settings(_env_file=None, **values)
