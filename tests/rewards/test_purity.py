"""The parser and the policy stay pure: importing them loads no Slack, HTTP or database library."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("slack_sdk", "slack_bolt", "httpx", "sqlalchemy", "sqlmodel", "psycopg", "bot.slack")
PURE = (
    "bot.rewards.parse",
    "bot.rewards.commands",
    "bot.rewards.arguments",
    "bot.rewards.subcommands",
    "bot.rewards.mrkdwn",
    "bot.rewards.help",
    "bot.rewards.policy",
    "bot.rewards.typed_text",
)

CODE = f"""
import sys
import {", ".join(PURE)}
bad = [m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in {FORBIDDEN!r})]
print(",".join(sorted(bad)))
"""


def test_parser_and_policy_import_nothing_impure() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_the_check_would_notice_an_impure_import() -> None:
    code = CODE.replace("import bot.rewards.parse", "import httpx, bot.rewards.parse")
    assert code != CODE
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "httpx" in out.stdout
