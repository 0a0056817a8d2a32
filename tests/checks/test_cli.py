"""`rewardbot check` as a person runs it (a child process, a bare environment) against the fake
Slack and a Plum sandbox: a line per check, in order, each failing line saying what to do, exit
1 when one fails; only its own lines (no logs), no secret, nothing created."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.simulators.fakeslack import FakeSlack
from bot.simulators.plum_sandbox import SandboxServer
from tests.command_line import rewardbot
from tests.e2e.harness import ADMIN, APPROVER
from tests.storage.support import TEST_AUDIT_KEY, TEST_ENCRYPTION_KEY

BOT_TOKEN = "xoxb-cli-check-secret"
APP_TOKEN = "xapp-cli-check-secret"
SIGNING_SECRET = "cli-check-signing-secret"
CLIENT_ID = "acme-client"
CLIENT_SECRET = "cli-check-plum-secret"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, CLIENT_SECRET, TEST_AUDIT_KEY, TEST_ENCRYPTION_KEY)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as running:
        yield running


@pytest.fixture
def xoxoday(tmp_path: Path) -> Iterator[SandboxServer]:
    """A Plum sandbox standing in for a real Xoxoday account."""
    state = tmp_path.parent / f"{tmp_path.name}-xoxoday.json"
    with SandboxServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, state_path=state) as srv:
        yield srv


def env_for(fake: FakeSlack, tmp_path: Path, **values: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "REWARD_ADMINS": f"{ADMIN},{APPROVER}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "AUDIT_KEY": TEST_AUDIT_KEY,
        "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        **values,
    }


def check(env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    done = rewardbot(["check"], env, cwd)
    assert done.stderr == ""  # its own lines only: no log line, no traceback
    assert not any(secret in done.stdout for secret in SECRETS)
    return done.returncode, done.stdout.splitlines()


def test_a_bot_that_can_work_says_so_line_by_line_and_exits_0(
    fake: FakeSlack, xoxoday: SandboxServer, tmp_path: Path
) -> None:
    env = env_for(
        fake,
        tmp_path,
        PLUM_BASE_URL=xoxoday.base_url,
        PLUM_CLIENT_ID=CLIENT_ID,
        PLUM_CLIENT_SECRET=CLIENT_SECRET,
        PLUM_SENDER_EMAIL="people-ops@acme.test",
        PUBLIC_URL="https://rewards.acme.test",
    )
    assert rewardbot(["migrate"], env, tmp_path).returncode == 0
    code, lines = check(env, tmp_path)
    assert code == 0, lines
    assert lines[:9] == [
        "ok   Settings: everything serve needs is set (HTTP mode)",
        "ok   Keys: AUDIT_KEY and ENCRYPTION_KEY are set and usable",
        "ok   Public URL: https://rewards.acme.test: Redeem buttons open single-use links there",
        f"ok   Database: the ledger at {tmp_path / 'bot.db'} is current and takes writes "
        "(SQLite: one bot process at a time; PostgreSQL for more)",
        f"ok   Journal: no intake journal yet: serve makes it at {tmp_path / 'bot.intake.db'}",
        "ok   Slack: workspace Acme (T0001), bot @rewardbot (UREWARDB)",
        "ok   Slack: the bot token has the 14 scopes manifest.yml asks for",
        f"ok   Admins: Ada Lovelace ({ADMIN}), Arthur Approver ({APPROVER})",
        "ok   Xoxoday: Xoxoday issued a new access token for PLUM_CLIENT_ID and PLUM_CLIENT_SECRET",
    ]
    assert lines[9].startswith("ok   Xoxoday: Account balance: ")
    assert lines[10].startswith("ok   Xoxoday: points are sent from people-ops@acme.test")
    assert lines[11:] == ["The bot can work."]
    assert [r["operation"] for r in xoxoday.requests] == ["token", "validateToken", "getBalance"]


def test_the_sandbox_is_said_plainly_and_nothing_is_created(
    fake: FakeSlack, tmp_path: Path
) -> None:
    env = env_for(fake, tmp_path, PLUM_BASE_URL="sandbox", SLACK_APP_TOKEN=APP_TOKEN)
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none
    code, lines = check(env, tmp_path)
    assert code == 0, lines
    assert "ok   Settings: everything serve needs is set (Socket Mode, SLACK_APP_TOKEN)" in lines
    assert "ok   Slack: SLACK_APP_TOKEN opens Socket Mode connections" in lines
    assert (
        "warn Xoxoday: PLUM_BASE_URL is 'sandbox': checking against the embedded Plum sandbox, "
        "which pays nobody (no Xoxoday account is used). Set PLUM_BASE_URL to Xoxoday's API to "
        "check real credentials and pay people."
    ) in lines
    assert "ok   Xoxoday: The sandbox issued a new access token for PLUM_CLIENT_ID and " in (
        "\n".join(lines)
    )
    assert lines[-1] == "The bot can work (read the warn lines)."
    assert os.listdir(tmp_path) == []  # no database, no journal, no key file, no sandbox state


def test_each_failing_line_says_what_to_do_and_the_exit_status_is_1(
    fake: FakeSlack, xoxoday: SandboxServer, tmp_path: Path
) -> None:
    env = env_for(
        fake,
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-not-this-one",
        PLUM_BASE_URL=xoxoday.base_url,
        PLUM_CLIENT_ID=CLIENT_ID,
        PLUM_CLIENT_SECRET="not-the-secret",
        PLUM_SENDER_EMAIL="people-ops@acme.test",
        PUBLIC_URL="http://rewards.acme.test",
    )
    code, lines = check(env, tmp_path)
    assert code == 1
    failing = [line for line in lines if line.startswith("FAIL")]
    assert failing == [
        "FAIL Public URL: PUBLIC_URL must be https: the single-use Redeem links on it must not "
        "travel in clear. Serve the bot behind a reverse proxy that terminates TLS (README: Go "
        "live) and set PUBLIC_URL=https://rewards.acme.test",
        "FAIL Slack: the bot token was refused (invalid_auth). Copy OAuth & Permissions → Bot "
        "User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN.",
        "FAIL Xoxoday: Xoxoday refused PLUM_CLIENT_ID and PLUM_CLIENT_SECRET: one of them is "
        "wrong (Xoxoday does not say which). Copy both again from the Xoxoday dashboard. "
        "Xoxoday said: Client authentication failed: unknown client_id or secret. "
        "(invalid_client)",
    ]
    assert "skip Admins: not checked: Slack refused the bot token" in lines
    assert lines[-1] == (
        "3 checks fail: do what the FAIL lines say, then run `rewardbot check` again."
    )
    assert not (tmp_path / "bot.db").exists() and not (tmp_path / "bot.db.keys").exists()


def test_missing_settings_and_a_setting_that_cant_be_read(fake: FakeSlack, tmp_path: Path) -> None:
    code, lines = check({"PLUM_BASE_URL": "https://accounts.xoxoday.com/chef"}, tmp_path)
    assert code == 1
    assert lines[0] == (
        "FAIL Settings: serve can't start without SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or "
        "SLACK_APP_TOKEN for Socket Mode), PLUM_CLIENT_ID, PLUM_CLIENT_SECRET, PLUM_SENDER_EMAIL "
        "and REWARD_ADMINS; set them in .env or the environment (`rewardbot config` shows why)"
    )
    assert (
        "FAIL Slack: SLACK_BOT_TOKEN is not set. Copy OAuth & Permissions → Bot User OAuth Token "
        "(xoxb-…) into SLACK_BOT_TOKEN."
    ) in lines
    assert any(line.startswith("FAIL Xoxoday: PLUM_CLIENT_ID") for line in lines), lines
    assert (
        "FAIL Xoxoday: PLUM_SENDER_EMAIL: is required with a real Xoxoday account (the super "
        "admin email points are sent from)"
    ) in lines
    code, lines = check({"REWARD_TIMEZONE": "Mars/Olympus"}, tmp_path)
    assert (code, lines) == (
        1,
        [
            "FAIL Settings: REWARD_TIMEZONE: unknown time zone 'Mars/Olympus' (use a name like "
            "Europe/Berlin)",
            "1 check fails: do what the FAIL lines say, then run `rewardbot check` again.",
        ],
    )
    assert os.listdir(tmp_path) == []
