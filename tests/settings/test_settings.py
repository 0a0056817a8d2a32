"""Settings: defaults, parsing, and one clear line naming a bad variable."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from bot.settings import SANDBOX, ConfigError, Settings, load_settings
from tests.command_line import REPO, rewardbot

ALL_NAMES = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "PLUM_BASE_URL",
    "PLUM_CLIENT_ID",
    "PLUM_CLIENT_SECRET",
    "PLUM_ACCESS_TOKEN",
    "PLUM_REFRESH_TOKEN",
    "PLUM_SENDER_EMAIL",
    "STOREFRONT_STORE_URL",
    "DATABASE_URL",
    "PORT",
    "AUDIT_ANCHOR_FILE",
    "AUDIT_ANCHOR_SECONDS",
    "REWARD_ADMINS",
    "REWARD_APPROVERS",
    "REWARD_APPROVAL_THRESHOLD",
    "REWARD_MAX_PER_REWARD",
    "REWARD_ALLOWANCE",
    "REWARD_EXPIRY_MONTHS",
    "REWARD_VALUES",
    "REWARD_ANNOUNCE_CHANNEL",
    "REWARD_REACTIONS",
    "REWARD_UNDO_SECONDS",
    "REWARD_UNDO_COMMANDS",
    "REWARD_ANNOUNCE",
    "REWARD_MESSAGE_GIVING",
    "REWARD_LOW_BALANCE",
    "REWARD_TIMEZONE",
    "REWARD_SUMMARY_CRON",
    "REWARD_SUMMARY_CHANNEL",
    "REWARD_EXPIRY_REMIND_DAYS",
    "REWARD_APPROVAL_REMIND_HOURS",
    "REWARD_APPROVAL_ESCALATE_HOURS",
    "REWARD_APPROVAL_EXPIRE_DAYS",
    "METRICS_TOKEN",
    "LOG_FORMAT",
    "REWARD_BIRTHDAY_POINTS",
    "REWARD_ANNIVERSARY_POINTS",
    "REWARD_WELCOME_POINTS",
    "REWARD_CELEBRATION_CHANNEL",
    "REWARD_CELEBRATION_PROFILE_FIELDS",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ALL_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults() -> None:
    s = load_settings()
    assert s.PLUM_BASE_URL is None and not s.uses_sandbox  # never chosen for you
    assert load_settings(PLUM_BASE_URL=" Sandbox ").PLUM_BASE_URL == SANDBOX  # asked by name
    assert s.DATABASE_URL == "sqlite:///rewardbot.db"
    assert s.PORT == 3000
    assert s.REWARD_APPROVAL_THRESHOLD == 500
    assert s.REWARD_MAX_PER_REWARD == 5000
    assert s.REWARD_ALLOWANCE == 1000
    assert s.REWARD_EXPIRY_MONTHS == 12
    assert s.REWARD_TIMEZONE == "UTC"
    assert s.SLACK_API_URL == "https://slack.com/api/"
    assert s.REWARD_VALUES == [] and s.REWARD_ADMINS == []
    assert s.REWARD_SUMMARY_CRON == "0 9 * * mon"
    assert s.REWARD_EXPIRY_REMIND_DAYS == [30, 7, 1]
    assert (s.REWARD_APPROVAL_REMIND_HOURS, s.REWARD_APPROVAL_ESCALATE_HOURS) == (24, 72)
    assert s.REWARD_APPROVAL_EXPIRE_DAYS == 14
    assert s.AUDIT_ANCHOR_SECONDS == 60  # the longest new audit events wait to be anchored
    assert s.REWARD_REACTIONS == {} and s.REWARD_UNDO_SECONDS == 60  # reactions give nothing
    assert s.REWARD_UNDO_COMMANDS  # /reward and the form are held the same window
    assert not s.socket_mode


def test_every_documented_name_is_a_field_and_in_env_example() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for name in ALL_NAMES:
        assert name in Settings.model_fields, name
        assert f"{name}=" in example, f"{name} is not documented in .env.example"


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\| ([^|]+) \|", section, re.MULTILINE)
    named = {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z_]+)`", cell)}
    assert set(Settings.model_fields) - named == set()


def test_reads_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "REWARD_VALUES=#Ownership, teamwork\nREWARD_LOW_BALANCE=250.50\nPORT=4000\n"
    )
    monkeypatch.setenv("REWARD_ADMINS", "U01ADMIN, U02ADMIN")
    monkeypatch.setenv("PORT", "4100")  # the environment wins over .env
    s = load_settings()
    assert s.REWARD_VALUES == ["ownership", "teamwork"]
    assert s.REWARD_ADMINS == ["U01ADMIN", "U02ADMIN"]
    assert s.REWARD_LOW_BALANCE == Decimal("250.50")
    assert s.PORT == 4100


def test_socket_mode_and_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-abc")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    monkeypatch.setenv("PLUM_BASE_URL", "https://stagingstores.xoxoday.com/chef/")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    s = load_settings()
    assert s.socket_mode
    assert s.SLACK_API_URL == "http://127.0.0.1:9999/api/"
    assert s.PLUM_BASE_URL == "https://stagingstores.xoxoday.com/chef"
    assert s.DATABASE_URL == "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert s.is_postgres


def test_store_url_is_optional_and_loses_its_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().STOREFRONT_STORE_URL is None
    monkeypatch.setenv("STOREFRONT_STORE_URL", "https://stores.example.com/")
    assert load_settings().STOREFRONT_STORE_URL == "https://stores.example.com"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("REWARD_APPROVAL_THRESHOLD", "-5", "REWARD_APPROVAL_THRESHOLD"),
        ("REWARD_ALLOWANCE", "-1", "REWARD_ALLOWANCE"),
        ("REWARD_MAX_PER_REWARD", "lots", "REWARD_MAX_PER_REWARD"),
        ("PLUM_BASE_URL", "accounts.xoxoday.com/chef", "PLUM_BASE_URL must be an http(s) URL"),
        ("SLACK_API_URL", "ftp://slack", "SLACK_API_URL must be an http(s) URL"),
        ("STOREFRONT_STORE_URL", "stores.xoxoday.com", "STOREFRONT_STORE_URL must be an http"),
        ("PORT", "70000", "PORT"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("REWARD_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("REWARD_ADMINS", "maria", "is not a Slack user id"),
        ("PLUM_SENDER_EMAIL", "nobody", "must be an email address"),
        ("REWARD_LOW_BALANCE", "-10", "REWARD_LOW_BALANCE"),
        ("REWARD_SUMMARY_CRON", "every monday", "must be a crontab line"),
        ("REWARD_EXPIRY_REMIND_DAYS", "30,soon", "whole numbers of days"),
        ("REWARD_EXPIRY_REMIND_DAYS", "7,0", "1 or more"),
        ("REWARD_APPROVAL_REMIND_HOURS", "0", "REWARD_APPROVAL_REMIND_HOURS"),
        ("AUDIT_ANCHOR_SECONDS", "7200", "AUDIT_ANCHOR_SECONDS"),
        ("AUDIT_ANCHOR_SECONDS", "a minute", "AUDIT_ANCHOR_SECONDS"),
        ("REWARD_REACTIONS", "taco", "emoji=points"),
        ("REWARD_REACTIONS", "taco=0", "1 or more"),
        ("REWARD_UNDO_SECONDS", "-1", "REWARD_UNDO_SECONDS"),
        ("PLUM_SEND_BATCH_MAX", "0", "PLUM_SEND_BATCH_MAX"),
        ("PLUM_SEND_BATCH_MAX", "501", "PLUM_SEND_BATCH_MAX"),
        ("PLUM_SEND_BATCH_MAX", "-5", "PLUM_SEND_BATCH_MAX"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{name}:")
    assert expected in message
    assert "\n" not in message


def test_secrets_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("PLUM_CLIENT_SECRET", "plum-very-secret")
    monkeypatch.setenv("PLUM_REFRESH_TOKEN", "refresh-very-secret")
    s = load_settings()
    shown = repr(s) + str(s) + s.model_dump_json()
    for secret in ("xoxb-very-secret", "plum-very-secret", "refresh-very-secret"):
        assert secret not in shown
    assert s.SLACK_BOT_TOKEN is not None
    assert s.SLACK_BOT_TOKEN.get_secret_value() == "xoxb-very-secret"


def test_cli_stops_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    proc = rewardbot(["config"], {"REWARD_APPROVAL_THRESHOLD": "-1"}, tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("rewardbot: configuration error: REWARD_APPROVAL_THRESHOLD:")


def test_cli_config_masks_secrets(tmp_path: Path) -> None:
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-shh-123",
        "SLACK_SIGNING_SECRET": "sign-shh-789",
        "PLUM_CLIENT_SECRET": "plum-shh-456",
    }
    settings = {**secrets, "PLUM_BASE_URL": "sandbox", "REWARD_ADMINS": "UADMIN01"}
    proc = rewardbot(["config"], settings, tmp_path)
    assert proc.returncode == 0, proc.stderr
    for secret in secrets.values():
        assert secret not in proc.stdout
    assert "SLACK_BOT_TOKEN" in proc.stdout and "set (hidden)" in proc.stdout
    assert re.search(r"^REWARD_APPROVAL_THRESHOLD +500$", proc.stdout, re.MULTILINE)


def test_env_example_as_is_is_a_valid_configuration(tmp_path: Path) -> None:
    example = REPO / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    s = load_settings()
    assert s.SLACK_BOT_TOKEN is None and s.REWARD_LOW_BALANCE is None
    # Copied as it is, it never pays nobody by default: serve asks for PLUM_BASE_URL.
    assert s.PLUM_BASE_URL is None and not s.uses_sandbox


def test_celebrations_are_off_until_given_points_and_their_settings_are_read() -> None:
    s = load_settings()
    assert (s.REWARD_BIRTHDAY_POINTS, s.REWARD_WELCOME_POINTS) == (0, 0)
    assert s.REWARD_ANNIVERSARY_POINTS == {} and s.REWARD_CELEBRATION_PROFILE_FIELDS == {}
    s = load_settings(
        REWARD_ANNIVERSARY_POINTS=" 1=100, 5=500,10=1000 ",
        REWARD_CELEBRATION_CHANNEL="C0KUDOS",
        REWARD_CELEBRATION_PROFILE_FIELDS="birthday=Xf01ABCD,start_date=Xf02EFGH",
    )
    assert s.REWARD_ANNIVERSARY_POINTS == {1: 100, 5: 500, 10: 1000}
    assert s.REWARD_CELEBRATION_PROFILE_FIELDS == {"birthday": "Xf01ABCD", "start_date": "Xf02EFGH"}


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("REWARD_ANNIVERSARY_POINTS", "5:500", "like 1=100,5=500,10=1000"),
        ("REWARD_ANNIVERSARY_POINTS", "0=100", "years 1 or more"),
        ("REWARD_ANNIVERSARY_POINTS", "1=-5", "points 0 to 100000"),
        ("REWARD_ANNIVERSARY_POINTS", "1=5,1=6", "1 years is given twice"),
        ("REWARD_BIRTHDAY_POINTS", "-1", "greater than or equal to 0"),
        ("REWARD_CELEBRATION_CHANNEL", "#kudos", "is not a channel id"),
        ("REWARD_CELEBRATION_PROFILE_FIELDS", "age=Xf01ABCD", "birthday=Xf01ABCDEF"),
        ("REWARD_CELEBRATION_PROFILE_FIELDS", "birthday=<b>", "birthday=Xf01ABCDEF"),
    ],
)
def test_a_bad_celebration_setting_says_what_to_write(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=name) as err:
        load_settings(**{name: value})
    assert says in str(err.value)
