"""`--state-dir DIR` for the commands that read the ledger (`audit verify`, `audit export`,
`jobs list`): read the playground's ledger in DIR, with the playground's fixed settings, as
`rewardbot playground --state-dir DIR` keeps it (`.env` and the environment are ignored, as there),
at the playground's time (its clock may have jumped ahead: the last and next runs agree with it).
Without the flag they read the ledger DATABASE_URL names (default ./rewardbot.db).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import ConfigError, Settings, load_settings


def add_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="read the playground's ledger in DIR (as `rewardbot playground --state-dir DIR` "
        "keeps it) instead of DATABASE_URL's",
    )


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings a command runs with: the playground's for --state-dir, else the usual."""
    state_dir: Path | None = getattr(args, "state_dir", None)
    if state_dir is None:
        return load_settings()
    # Loaded only when a playground's state is asked for (the import-linter contract).
    from bot.simulators.playground.clock import read_offset
    from bot.simulators.playground.config import DATABASE_NAME, ledger_settings
    from storage import clock

    if not (state_dir / DATABASE_NAME).is_file():
        raise ConfigError(
            f"--state-dir: {state_dir} holds no playground ledger ({DATABASE_NAME}); give the "
            "directory `rewardbot playground --state-dir` uses (default ./playground-data)"
        )
    clock.set_offset(max(clock.offset(), read_offset(state_dir)))
    return ledger_settings(state_dir)
