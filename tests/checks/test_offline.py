"""The checks that need no network, at their seam: the settings serve needs, the keys, the
public URL, the sender; and how a line reads."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.checks import Status, fail, ok, skip, warn
from bot.checks.offline import keys, public_url, settings_present
from bot.commands.check import sender
from bot.settings import Settings
from tests.storage.support import TEST_AUDIT_KEY, TEST_ENCRYPTION_KEY

Make = Callable[..., Settings]
READY = {
    "SLACK_BOT_TOKEN": "xoxb-offline-secret",
    "SLACK_SIGNING_SECRET": "signing-offline-secret",
    "PLUM_BASE_URL": "sandbox",
    "REWARD_ADMINS": "UADMIN01",
}


def test_a_line_reads_status_topic_and_what_was_found() -> None:
    assert str(ok("Slack", "workspace Acme (T1), bot @rewards (U0BOT)")) == (
        "ok   Slack: workspace Acme (T1), bot @rewards (U0BOT)"
    )
    assert str(fail("Slack", "the bot token was refused (invalid_auth). Copy it again.")) == (
        "FAIL Slack: the bot token was refused (invalid_auth). Copy it again."
    )
    # what a person may copy is left as it is: no full stop is added after a URL or a command
    assert str(fail("Public URL", "set PUBLIC_URL=https://r.example.com")) == (
        "FAIL Public URL: set PUBLIC_URL=https://r.example.com"
    )
    assert str(warn("Keys", "back the file up.")) == "warn Keys: back the file up."
    assert str(skip("Admins", "not checked.")) == "skip Admins: not checked"
    assert str(ok("Xoxoday", "Account balance: 5.00 USD.")) == (
        "ok   Xoxoday: Account balance: 5.00 USD"
    )


# --- the settings serve needs ---------------------------------------------------------------


def test_the_settings_line_is_serves_own_refusal(settings: Make) -> None:
    assert settings_present(settings(**READY)) == ok(
        "Settings", "everything serve needs is set (HTTP mode)"
    )
    socket = {**READY, "SLACK_APP_TOKEN": "xapp-offline"}
    assert "Socket Mode" in settings_present(settings(**socket)).text
    line = settings_present(settings(PLUM_BASE_URL="sandbox"))
    assert line.status is Status.FAIL
    assert line.text == (
        "serve can't start without SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN "
        "for Socket Mode) and REWARD_ADMINS; set them in .env or the environment (`rewardbot "
        "config` shows why)"
    )
    no_secret = {k: v for k, v in READY.items() if k != "SLACK_SIGNING_SECRET"}
    assert settings_present(settings(**no_secret), slack_requests=False).status is Status.OK


# --- the keys -----------------------------------------------------------------------------------


def test_keys_set_and_usable(settings: Make) -> None:
    line = keys(settings(AUDIT_KEY=TEST_AUDIT_KEY, ENCRYPTION_KEY=TEST_ENCRYPTION_KEY))
    assert line == ok("Keys", "AUDIT_KEY and ENCRYPTION_KEY are set and usable")


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("AUDIT_KEY", "too-short", "AUDIT_KEY must be at least 16 characters; make one with"),
        ("ENCRYPTION_KEY", "not-a-fernet-key", "ENCRYPTION_KEY must be a Fernet key"),
    ],
)
def test_a_key_that_cant_be_used_fails_naming_it_never_its_value(
    settings: Make, name: str, value: str, said: str
) -> None:
    values = {"AUDIT_KEY": TEST_AUDIT_KEY, "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY, name: value}
    line = keys(settings(**values))
    assert line.status is Status.FAIL and line.topic == "Keys"
    assert line.text.startswith(said) and value not in str(line)


def test_unset_keys_on_sqlite_warn_where_they_will_be_made_and_make_nothing(
    settings: Make, tmp_path: Path
) -> None:
    line = keys(settings())
    assert line.status is Status.WARN
    assert f"serve generates them into {tmp_path / 'rewardbot.db.keys'}" in line.text
    assert "Set both before the first reward" in line.text
    assert os.listdir(tmp_path) == []


def test_unset_keys_kept_in_the_key_file_warn_to_back_it_up(settings: Make, tmp_path: Path) -> None:
    kept = tmp_path / "rewardbot.db.keys"
    kept.write_text(
        json.dumps({"AUDIT_KEY": TEST_AUDIT_KEY, "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY})
    )
    line = keys(settings(AUDIT_KEY=TEST_AUDIT_KEY))
    assert line.status is Status.WARN
    assert line.text.startswith(
        f"ENCRYPTION_KEY is not set: the bot uses the ones generated in {kept}"
    )
    assert "Back that file up apart from the database" in line.text
    assert TEST_ENCRYPTION_KEY not in str(line)
    kept.write_text(json.dumps({"AUDIT_KEY": "short", "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY}))
    assert keys(settings()) == fail("Keys", f"the key file {kept} holds a key that can't be used")
    kept.write_text("{")
    assert keys(settings()) == fail("Keys", f"cannot read the key file {kept}: JSONDecodeError")


def test_postgresql_needs_both_keys_and_memory_gets_throwaway_ones(settings: Make) -> None:
    line = keys(settings(DATABASE_URL="postgresql+psycopg://bot@db.internal/rewards"))
    assert line.status is Status.FAIL
    assert line.text.startswith("AUDIT_KEY is required with PostgreSQL")
    memory = keys(settings(DATABASE_URL="sqlite://"))
    assert memory.status is Status.WARN and "throwaway keys" in memory.text


# --- the public URL -----------------------------------------------------------------------------


def test_an_https_public_url_is_where_redeem_links_open(settings: Make) -> None:
    line = public_url(settings(PUBLIC_URL="https://rewards.example.com/"))
    assert line == ok(
        "Public URL", "https://rewards.example.com: Redeem buttons open single-use links there"
    )
    behind_a_path = public_url(settings(PUBLIC_URL="https://example.com/rewards"))
    assert behind_a_path is not None and behind_a_path.status is Status.OK
    unset = public_url(settings())
    assert unset is not None and unset.status is Status.OK
    assert "Redeem buttons are answered with a fresh link" in unset.text


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://rewards.example.com", "PUBLIC_URL must be https"),
        ("https://bot:secret@rewards.example.com", "PUBLIC_URL must be the bot's address alone"),
        ("https://rewards.example.com/?x=1", "PUBLIC_URL must be the bot's address alone"),
        ("https://rewards.example.com/#top", "PUBLIC_URL must be the bot's address alone"),
        ("https://rewards.example.com/slack/events", "PUBLIC_URL is the bot's root address"),
    ],
)
def test_a_public_url_that_is_not_the_bots_https_address_fails(
    settings: Make, url: str, said: str
) -> None:
    line = public_url(settings(PUBLIC_URL=url))
    assert line is not None and line.status is Status.FAIL
    assert line.text.startswith(said)
    assert "secret" not in line.text


def test_plain_http_says_how_to_get_tls(settings: Make) -> None:
    line = public_url(settings(PUBLIC_URL="http://rewards.example.com"))
    assert line is not None
    assert "reverse proxy that terminates TLS" in line.text
    assert line.text.endswith("set PUBLIC_URL=https://rewards.example.com")


@pytest.mark.parametrize("host", ["127.0.0.1:3000", "localhost:3000", "[::1]:3000"])
def test_plain_http_on_this_machine_only_warns(settings: Make, host: str) -> None:
    line = public_url(settings(PUBLIC_URL=f"http://{host}"))
    assert line is not None and line.status is Status.WARN
    assert "only this machine can open it" in line.text


def test_socket_mode_does_not_use_a_public_url(settings: Make) -> None:
    socket = {"SLACK_APP_TOKEN": "xapp-offline"}
    assert public_url(settings(**socket)) is None
    line = public_url(settings(PUBLIC_URL="http://rewards.example.com", **socket))
    assert line is not None and line.status is Status.WARN
    assert line.text.startswith("PUBLIC_URL is not used in Socket Mode")


# --- the sender ---------------------------------------------------------------------------------


def test_the_sender_is_named_or_asked_for(settings: Make) -> None:
    real = {"PLUM_BASE_URL": "https://accounts.xoxoday.com/chef"}
    line = sender(settings(PLUM_SENDER_EMAIL="people-ops@acme.test", **real))
    assert line.status is Status.OK and line.topic == "Xoxoday"
    assert line.text.startswith("points are sent from people-ops@acme.test (PLUM_SENDER_EMAIL")
    missing = sender(settings(**real))
    assert missing.status is Status.FAIL
    assert missing.text.startswith("PLUM_SENDER_EMAIL: is required with a real Xoxoday account")
    sandbox = sender(settings(PLUM_BASE_URL="sandbox"))
    assert sandbox.status is Status.OK and "the sandbox's own sender" in sandbox.text


def test_reward_emoji_worth_more_than_a_reward_fail_and_the_threshold_warns(
    settings: Make,
) -> None:
    from bot.checks.offline import reactions

    assert reactions(settings(**READY)) is None  # reactions give nothing: nothing to say
    fine = reactions(settings(**READY, REWARD_REACTIONS="taco=5,star=10"))
    assert fine is not None and fine.status is Status.OK
    assert fine.text == ":taco: 5, :star: 10; held 60 s before they are sent"
    waits = reactions(settings(**READY, REWARD_REACTIONS="taco=5,trophy=500"))
    assert waits is not None and waits.status is Status.WARN
    assert "trophy reach REWARD_APPROVAL_THRESHOLD" in waits.text
    over = reactions(settings(**READY, REWARD_REACTIONS="taco=5,gold=9000"))
    assert over is not None and over.status is Status.FAIL
    assert "for gold: every such reaction would be refused" in over.text
    now = reactions(settings(**READY, REWARD_REACTIONS="taco=5", REWARD_UNDO_SECONDS="0"))
    assert now is not None and "sent at once" in now.text
