"""The playground's fixed settings, its seeded people, and text typed into the composer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from bot.simulators.fakeslack import Workspace
from bot.simulators.playground import config
from bot.simulators.playground.composing import Typed, encode, parse
from bot.simulators.playground.jobs import describe
from bot.simulators.playground.pages import SHORTCUT_NAMES

REPO = Path(__file__).resolve().parents[2]
HANDLES = {"maria": "UMARIA01", "chen": "UCHEN001"}
CHANNELS = {"general": "C0GENERAL"}


def test_settings_are_fixed_whatever_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REWARD_ALLOWANCE", "5")
    monkeypatch.setenv("REWARD_ADMINS", "UOTHER01")
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("REWARD_APPROVAL_THRESHOLD=7\nPLUM_BASE_URL=https://x.test\n")
    settings = config.playground_settings(
        state_dir=tmp_path / "state",
        slack_api_url="http://127.0.0.1:9/slack/api/",
        signing_secret="s",
        bot_token="xoxb-t",
    )
    assert settings.REWARD_ALLOWANCE == 1000
    assert settings.REWARD_ADMINS == [config.ADMIN_ID]
    assert settings.REWARD_APPROVERS == [config.APPROVER_ID]
    assert settings.REWARD_APPROVAL_THRESHOLD == 500
    assert settings.uses_sandbox and not settings.socket_mode
    assert settings.DATABASE_URL == f"sqlite:///{(tmp_path / 'state' / 'rewardbot.db').resolve()}"
    assert settings.SLACK_API_URL == "http://127.0.0.1:9/slack/api/"


def test_the_seeded_roles_are_people_with_emails_and_time_zones() -> None:
    ws = Workspace.demo()
    admin, approver = ws.user(config.ADMIN_ID), ws.user(config.APPROVER_ID)
    for person in (admin, approver):
        assert person["profile"]["email"] and person["tz"] != "UTC"
        assert not person["is_bot"] and not person["deleted"]
    assert admin["is_admin"]
    assert {c["id"] for c in ws.channels()} >= {config.SUMMARY_CHANNEL, "C0GENERAL"}


def test_secrets_differ_on_every_run() -> None:
    assert config.new_secrets() != config.new_secrets()
    assert config.new_secrets()[1].startswith("xoxb-")


def test_shortcut_names_are_the_manifests() -> None:
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text())
    names = {s["callback_id"]: s["name"] for s in manifest["features"]["shortcuts"]}
    assert {str(k): v for k, v in SHORTCUT_NAMES.items()} == names


def test_the_command_is_registered() -> None:
    args = build_parser().parse_args(["playground", "--port", "0", "--state-dir", "x"])
    assert args.port == 0 and args.state_dir == Path("x")
    defaults = build_parser().parse_args(["playground"])
    assert defaults.port == 3000 and defaults.state_dir == Path("playground-data")


def test_typed_text_is_escaped_and_mentions_become_slacks() -> None:
    text = encode(
        "@maria & @Chen: 50 <3 in #general for #teamwork, @nobody",
        handles=HANDLES,
        channels=CHANNELS,
    )
    assert text == (
        "<@UMARIA01|maria> &amp; <@UCHEN001|Chen>: 50 &lt;3 in <#C0GENERAL|general> "
        "for #teamwork, @nobody"
    )
    assert encode("thanks @maria.", handles=HANDLES, channels=CHANNELS) == (
        "thanks <@UMARIA01|maria>."
    )
    assert encode("mail maria@acme.test", handles=HANDLES, channels=CHANNELS) == (
        "mail maria@acme.test"
    )


def test_a_user_groups_handle_becomes_slacks_subteam_mention() -> None:
    groups = {"design-team": "S0DESIGN"}
    assert encode(
        "@design-team 10 for the launch, @maria.", handles=HANDLES, channels=CHANNELS, groups=groups
    ) == ("<!subteam^S0DESIGN|@design-team> 10 for the launch, <@UMARIA01|maria>.")
    assert encode("@design-team", handles=HANDLES, channels=CHANNELS) == "@design-team"


def test_commands_and_messages() -> None:
    assert parse("/reward @maria 10 thanks ") == Typed(text="@maria 10 thanks", command="/reward")
    assert parse("/REWARD") == Typed(text="", command="/reward")
    assert parse("  hello  ") == Typed(text="  hello")
    assert parse("// not a command") == Typed(text="// not a command")


def test_job_results_in_one_line() -> None:
    class Result:
        claimed = True
        ok = False
        outcome = "failed"
        detail = "Plum was down"

    assert describe("posted the summary") == "posted the summary"
    assert describe(Result()) == "failed: Plum was down"
    Result.claimed = False
    assert "already ran" in describe(Result())
