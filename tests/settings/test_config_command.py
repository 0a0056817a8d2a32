"""`rewardbot config`: every variable with its value in one column, secrets hidden."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings

NAMES = list(Settings.model_fields)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No setting in the environment and no .env (an empty working directory); a setter."""
    monkeypatch.chdir(tmp_path)
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def table(out: str) -> dict[str, tuple[int, str]]:
    """Each variable's row: the column its value starts in, and the value."""
    rows = {}
    for line in out.splitlines():
        match = re.match(r"^([A-Z][A-Z_]+)( +)(\S.*)$", line)
        if match and match.group(1) in NAMES:
            rows[match.group(1)] = (match.start(3), match.group(3))
    return rows


def test_every_value_starts_in_the_same_column(env, capsys) -> None:
    env(REWARD_APPROVAL_ESCALATE_HOURS="80")
    main(["config"])
    rows = table(capsys.readouterr().out)
    assert list(rows) == NAMES  # every variable, in order, one row each
    columns = {name: column for name, (column, _) in rows.items()}
    assert len(set(columns.values())) == 1, columns
    longest = max(len(name) for name in NAMES)
    assert set(columns.values()) == {longest + 2}  # two spaces after the longest name
    assert rows["REWARD_APPROVAL_ESCALATE_HOURS"][1] == "80"


def test_float_settings_read_as_written(env, capsys) -> None:
    env(REWARD_PLUM_OUTAGE_ALERT_MINUTES="7", REWARD_DELIVERY_RETRY_HOURS="1.5")
    main(["config"])
    rows = table(capsys.readouterr().out)
    assert rows["REWARD_PLUM_OUTAGE_ALERT_MINUTES"][1] == "7"  # not 7.0
    assert rows["REWARD_DELIVERY_RETRY_HOURS"][1] == "1.5"


# --- what serve refuses to start without ------------------------------------------------------


def test_unset_slack_tokens_are_marked_and_named_and_exit_1(env, capsys) -> None:
    assert main(["config"]) == 1
    out = capsys.readouterr().out
    rows = table(out)
    assert rows["SLACK_BOT_TOKEN"][1] == "not set: serve needs it"
    assert rows["SLACK_SIGNING_SECRET"][1] == (
        "not set: serve needs it in HTTP mode (or SLACK_APP_TOKEN for Socket Mode)"
    )
    assert rows["SLACK_APP_TOKEN"][1] == "not set"  # optional: not marked
    assert rows["PLUM_BASE_URL"][1] == (
        "not set: serve needs it to pay through Xoxoday: https://accounts.xoxoday.com/chef "
        "(production), https://stagingstores.xoxoday.com/chef (staging) (or sandbox, to try "
        "the bot paying nobody)"
    )
    assert rows["REWARD_ADMINS"][1] == (
        "not set: serve needs it so that someone settles rewards in doubt and hears of problems"
    )
    assert out.splitlines()[-1] == (
        "rewardbot serve won't start until these are set: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, "
        "PLUM_BASE_URL, REWARD_ADMINS."
    )
    assert len({column for column, _ in rows.values()}) == 1  # the marks keep the columns


def test_socket_mode_needs_no_signing_secret(env, capsys) -> None:
    env(
        SLACK_BOT_TOKEN="xoxb-cfg-secret-1",
        SLACK_APP_TOKEN="xapp-cfg-secret-2",
        PLUM_BASE_URL="sandbox",
        REWARD_ADMINS="UADMIN01",
    )
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "serve needs" not in out and "won't start" not in out
    assert table(out)["SLACK_BOT_TOKEN"][1] == "set (hidden)"
    assert "xoxb-cfg-secret-1" not in out and "xapp-cfg-secret-2" not in out


def test_a_real_account_and_postgresql_mark_everything_at_once(env, capsys) -> None:
    env(
        SLACK_BOT_TOKEN="xoxb-cfg-secret-1",
        PLUM_BASE_URL="https://accounts.xoxoday.com/chef",
        DATABASE_URL="postgresql+psycopg://bot@db.internal:5432/rewards",
    )
    assert main(["config"]) == 1
    out = capsys.readouterr().out
    rows = table(out)
    for name in ("PLUM_CLIENT_ID", "PLUM_CLIENT_SECRET", "PLUM_SENDER_EMAIL"):
        assert rows[name][1] == "not set: serve needs it with a real Xoxoday account", name
    for name in ("AUDIT_KEY", "ENCRYPTION_KEY"):
        assert rows[name][1] == "not set: serve needs it with PostgreSQL", name
    assert out.splitlines()[-1] == (
        "rewardbot serve won't start until these are set: SLACK_SIGNING_SECRET, PLUM_CLIENT_ID, "
        "PLUM_CLIENT_SECRET, PLUM_SENDER_EMAIL, AUDIT_KEY, ENCRYPTION_KEY, REWARD_ADMINS."
    )


def test_a_refresh_token_needs_the_client_id_and_secret(env, capsys) -> None:
    env(
        SLACK_BOT_TOKEN="xoxb-cfg-secret-1",
        SLACK_SIGNING_SECRET="cfg-secret-3",
        PLUM_BASE_URL="https://accounts.xoxoday.com/chef",
        PLUM_SENDER_EMAIL="ops@example.com",
        PLUM_REFRESH_TOKEN="cfg-refresh-secret-4",
        PLUM_CLIENT_ID="client-1",
        REWARD_ADMINS="UADMIN01",
    )
    assert main(["config"]) == 1
    out = capsys.readouterr().out
    rows = table(out)
    assert rows["PLUM_CLIENT_ID"][1] == "client-1"
    assert rows["PLUM_CLIENT_SECRET"][1] == "not set: serve needs it to refresh PLUM_REFRESH_TOKEN"
    assert rows["PLUM_REFRESH_TOKEN"][1] == "set (hidden)"
    assert "cfg-refresh-secret-4" not in out and "cfg-secret-3" not in out
    assert out.splitlines()[-1].endswith(": PLUM_CLIENT_SECRET.")
