"""`missing_for_serve` is the same rule as the places that stop the bot on a missing variable:
whatever it lists, they refuse; whatever they refuse, it lists."""

from __future__ import annotations

import itertools
import os
import time

import pytest

from bot.plum import build_client
from bot.settings import ConfigError, Settings, missing_for_serve, serve_refusal
from bot.simulators.embedded import sandbox_settings
from storage.errors import KeyConfigError
from storage.keys import resolve_keys
from tests.plum.memory_store import MemoryStore

PLUM = ("PLUM_CLIENT_ID", "PLUM_CLIENT_SECRET", "PLUM_ACCESS_TOKEN", "PLUM_REFRESH_TOKEN")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name in Settings.model_fields:
            monkeypatch.delenv(name)


def _settings(**values: str) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("base_url", ["sandbox", "https://stagingstores.xoxoday.com/chef"])
@pytest.mark.parametrize("present", list(itertools.product([False, True], repeat=len(PLUM) + 1)))
def test_plum_rules_match_the_client_builder_and_the_runtime(base_url, present) -> None:
    values = {name: f"value-{name.lower()}" for name, on in zip(PLUM, present, strict=False) if on}
    if present[-1]:
        values["PLUM_SENDER_EMAIL"] = "ops@example.com"
    configured = _settings(PLUM_BASE_URL=base_url, **values)
    listed = {item.name for item in missing_for_serve(configured)}
    # What the bot runs with: with the sandbox, the settings its add-on makes (bot.startup).
    settings = sandbox_settings(configured) if configured.uses_sandbox else configured
    try:
        build_client(
            settings,
            clock=time.time,
            token_store=MemoryStore(),
            base_url="http://127.0.0.1:9/chef" if settings.uses_sandbox else None,
        ).close()
        refused = False
    except ConfigError:
        refused = True
    assert refused == bool(listed & set(PLUM)), (values, listed)
    try:
        assert settings.sender_email
        sender_refused = False
    except ConfigError:
        sender_refused = True
    assert sender_refused == ("PLUM_SENDER_EMAIL" in listed)


@pytest.mark.parametrize("audit", [None, "a" * 40])
@pytest.mark.parametrize("fernet", [None, "x"])
def test_postgres_key_rules_match_storage(audit, fernet) -> None:
    from cryptography.fernet import Fernet

    url = "postgresql+psycopg://bot@db.internal:5432/rewards"
    key = Fernet.generate_key().decode() if fernet else None
    values = {k: v for k, v in (("AUDIT_KEY", audit), ("ENCRYPTION_KEY", key)) if v}
    listed = {item.name for item in missing_for_serve(_settings(DATABASE_URL=url, **values))}
    try:
        resolve_keys(database_url=url, audit_key=audit, encryption_key=key)
        refused = False
    except KeyConfigError:
        refused = True
    assert refused == bool(listed & {"AUDIT_KEY", "ENCRYPTION_KEY"})


def test_slack_rules() -> None:
    assert [
        m.name
        for m in missing_for_serve(_settings(PLUM_BASE_URL="sandbox", REWARD_ADMINS="UADMIN01"))
    ] == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ]
    sandbox = {"PLUM_BASE_URL": "sandbox", "REWARD_ADMINS": "UADMIN01"}
    assert missing_for_serve(_settings(SLACK_BOT_TOKEN="x", SLACK_APP_TOKEN="y", **sandbox)) == []
    assert (
        missing_for_serve(_settings(SLACK_BOT_TOKEN="x", SLACK_SIGNING_SECRET="y", **sandbox)) == []
    )
    # `clock` and `jobs run` answer no Slack request: no signing secret needed
    assert missing_for_serve(_settings(SLACK_BOT_TOKEN="x", **sandbox), slack_requests=False) == []


def test_xoxoday_is_never_chosen_for_you() -> None:
    """No PLUM_BASE_URL: serve refuses, naming the setting and the sandbox to ask for by name."""
    missing = missing_for_serve(
        _settings(SLACK_BOT_TOKEN="x", SLACK_SIGNING_SECRET="y", REWARD_ADMINS="UADMIN01")
    )
    assert [m.name for m in missing] == ["PLUM_BASE_URL"]
    assert serve_refusal(missing) == (
        "serve can't start without PLUM_BASE_URL (or sandbox, to try the bot paying nobody); "
        "set it in .env or the environment (`rewardbot config` shows why)"
    )
    assert "https://accounts.xoxoday.com/chef (production)" in missing[0].why


def test_the_admins_are_needed_by_every_command_that_runs_the_bot() -> None:
    """Without an admin nobody settles a reward in doubt, nor hears that Xoxoday is down."""
    ready = {"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y", "PLUM_BASE_URL": "sandbox"}
    for slack_requests in (True, False):  # serve; clock and jobs run
        missing = missing_for_serve(_settings(**ready), slack_requests=slack_requests)
        assert [m.name for m in missing] == ["REWARD_ADMINS"]
        assert "settles rewards in doubt" in missing[0].why
        admins = _settings(REWARD_ADMINS="UADMIN01", **ready)
        assert missing_for_serve(admins, slack_requests=slack_requests) == []


def test_the_refusal_is_one_line_naming_each() -> None:
    missing = missing_for_serve(_settings(PLUM_BASE_URL="https://accounts.xoxoday.com/chef"))
    assert serve_refusal(missing) == (
        "serve can't start without SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for "
        "Socket Mode), PLUM_CLIENT_ID, PLUM_CLIENT_SECRET, PLUM_SENDER_EMAIL and REWARD_ADMINS; "
        "set them in .env or the environment (`rewardbot config` shows why)"
    )
    assert serve_refusal(missing[:1]) == (
        "serve can't start without SLACK_BOT_TOKEN; set it in .env or the environment "
        "(`rewardbot config` shows why)"
    )
