"""`rewardbot plum check`: it tests the configured credentials (not only a token saved earlier),
says which part is wrong as far as Xoxoday's answers tell, leaves the bot's token store holding
live tokens, and prints only its own report."""

from __future__ import annotations

import os
import socket

import httpx
import pytest

from bot.cli import main
from bot.commands import plum as plum_command
from bot.plum.tokens import Tokens
from bot.settings import load_settings
from tests.command_line import rewardbot
from tests.plum.conftest import CLIENT_ID, CLIENT_SECRET, token_requests
from tests.storage.support import migrated_sqlite

REFUSED = [
    "Plum check failed: Xoxoday refused PLUM_CLIENT_ID and PLUM_CLIENT_SECRET: one of them is "
    "wrong (Xoxoday does not say which).",
    "Copy both again from the Xoxoday dashboard.",
    "Xoxoday said: Client authentication failed: unknown client_id or secret. (invalid_client)",
]
ISSUED = (
    "Plum credentials OK: Xoxoday issued a new access token for PLUM_CLIENT_ID and "
    "PLUM_CLIENT_SECRET."
)
REFRESHED = (
    "Plum credentials OK: Xoxoday refreshed the tokens with PLUM_CLIENT_ID and PLUM_CLIENT_SECRET."
)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment in an empty directory (no .env), returning a setter."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("PLUM_", "DATABASE_URL", "AUDIT_KEY", "ENCRYPTION_KEY")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


@pytest.fixture
def good(env, srv):
    """The sandbox's URL and its client id and secret."""
    values = dict(PLUM_BASE_URL=srv.base_url, PLUM_CLIENT_ID=CLIENT_ID)
    env(PLUM_CLIENT_SECRET=CLIENT_SECRET, **values)
    return values


@pytest.fixture
def database(env, capsys):
    """The bot's database, migrated (what `serve` or `rewardbot migrate` leaves)."""
    assert main(["migrate"]) == 0
    capsys.readouterr()


def check(*extra: str) -> int:
    return main(["plum", "check", *extra])


def lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def bots_tokens() -> Tokens | None:
    """What the bot's database token store holds."""
    from storage.db import store_from_settings

    store = store_from_settings(load_settings())
    try:
        return store.token_store().load()
    finally:
        store.dispose()


def accepted(srv, access_token: str) -> bool:
    answer = httpx.get(
        f"{srv.base_url}/v1/oauth/token", headers={"Authorization": f"Bearer {access_token}"}
    )
    return answer.status_code == 200


def test_sandbox_mode_checks_the_embedded_sandbox(env, capsys):
    env(PLUM_BASE_URL="sandbox")
    assert check() == 0
    out = lines(capsys)
    assert "embedded Plum sandbox" in out[0]
    assert out[1] == (
        "Plum credentials OK: The sandbox issued a new access token for PLUM_CLIENT_ID and "
        "PLUM_CLIENT_SECRET."
    )
    assert out[2].startswith("Account balance: 100,000.00 INR (access token valid until ")


# --- client credentials ------------------------------------------------------------------------


def test_good_credentials_without_a_database(good, srv, tmp_path, capsys):
    assert check() == 0
    out = lines(capsys)
    assert out[0] == ISSUED
    balance = f"{srv.state.account_balance:,.2f} {srv.state.currency}"
    assert out[1].startswith(f"Account balance: {balance} (")
    assert len(out) == 2
    assert token_requests(srv) == 1  # a new token, asked for with the configured id and secret
    assert not (tmp_path / "bot.db").exists()  # no database is made here
    assert list(tmp_path.iterdir()) == []  # nor a token file


@pytest.mark.parametrize("wrong", ["PLUM_CLIENT_ID", "PLUM_CLIENT_SECRET"])
def test_wrong_credentials_fail_even_when_a_good_token_is_stored(
    good, database, srv, env, capsys, wrong
):
    assert check() == 0  # the bot's database now holds a good access token
    stored = bots_tokens()
    assert stored is not None and accepted(srv, stored.access_token)
    capsys.readouterr()
    env(**{wrong: "not-the-right-one"})
    assert check() == 1
    assert lines(capsys) == REFUSED
    assert bots_tokens() == stored  # left as it was, and still good
    assert accepted(srv, stored.access_token)


def test_the_new_token_takes_the_stored_ones_place(good, database, srv, capsys):
    assert check() == 0
    first = bots_tokens()
    assert check() == 0
    second = bots_tokens()
    assert first is not None and second is not None
    assert second.access_token != first.access_token  # the token this check was issued
    assert accepted(srv, second.access_token)  # the store holds a live one


def test_a_space_copied_with_the_secret_is_pointed_out(good, env, capsys):
    env(PLUM_CLIENT_SECRET=CLIENT_SECRET + " ")
    assert check() == 1
    out = lines(capsys)
    assert out[0] == REFUSED[0]
    assert out[1] == "PLUM_CLIENT_SECRET ends with a space or line break: copy it again without it."
    assert CLIENT_SECRET not in "\n".join(out)


def test_a_token_file_gets_the_new_token(good, tmp_path, capsys):
    path = tmp_path / "tokens.json"
    assert check("--token-file", str(path)) == 0
    assert lines(capsys)[0] == ISSUED
    assert path.exists() and CLIENT_SECRET not in path.read_text()


# --- where the request goes --------------------------------------------------------------------


def test_ip_not_allow_listed_when_asking_for_a_token(good, srv, capsys):
    srv.faults.set("token", error="PIPE10017")
    assert check() == 1
    out = lines(capsys)
    assert out[:2] == [
        "Plum check failed: Xoxoday does not accept requests from this server's IP address "
        "(PIPE10017).",
        "Ask Xoxoday to allow-list it.",
    ]


def test_ip_not_allow_listed_for_api_calls_after_the_credentials_passed(good, srv, capsys):
    srv.faults.set("getBalance", error="PIPE10017")
    assert check() == 1
    out = lines(capsys)
    assert out[:3] == [
        ISSUED,
        "Plum check failed: Xoxoday does not accept requests from this server's IP address "
        "(PIPE10017).",
        "Ask Xoxoday to allow-list it.",
    ]


def test_a_disabled_account(good, srv, capsys):
    srv.faults.set("token", error="PIPE10016")
    assert check() == 1
    assert lines(capsys)[:2] == [
        "Plum check failed: the Xoxoday user or company account is disabled (PIPE10016).",
        "Ask your Xoxoday account manager to enable it.",
    ]


def test_rate_limited_says_when_to_try_again_instead_of_waiting(good, srv, capsys):
    srv.faults.set("token", error="rate_limit:60")
    assert check() == 1
    assert lines(capsys)[:2] == [
        "Plum check failed: Xoxoday is limiting how often it is asked.",
        "Try again in 60 s.",
    ]


def test_a_base_url_without_chef_answers_but_is_not_plum(good, env, srv, capsys):
    env(PLUM_BASE_URL=srv.base_url.removesuffix("/chef"))
    assert check() == 1
    host = srv.base_url.split("//")[1].split("/")[0]
    assert lines(capsys) == [
        f"Plum check failed: {host} answers, but not as the Plum API (HTTP 404).",
        "Check PLUM_BASE_URL: it ends in /chef (production https://accounts.xoxoday.com/chef, "
        "staging https://stagingstores.xoxoday.com/chef).",
    ]


def test_unreachable_host(env, capsys):
    env(PLUM_BASE_URL="http://127.0.0.1:9/chef", PLUM_CLIENT_ID="id", PLUM_CLIENT_SECRET="s")
    assert check() == 1
    assert lines(capsys) == [
        "Plum check failed: cannot reach 127.0.0.1:9 (connection refused).",
        "Check PLUM_BASE_URL, DNS and the network.",
    ]


def test_a_name_that_does_not_resolve(env, capsys, monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # no DNS query leaves the machine
        if host == "no-such-host.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    env(PLUM_BASE_URL="http://no-such-host.invalid/chef", PLUM_CLIENT_ID="i")
    env(PLUM_CLIENT_SECRET="s")
    assert check() == 1
    assert lines(capsys)[0] == (
        "Plum check failed: cannot reach no-such-host.invalid (its name does not resolve)."
    )


def test_timeout(good, srv, capsys, monkeypatch):
    monkeypatch.setattr(plum_command, "CHECK_TIMEOUT", 0.2)
    srv.faults.set("token", hang=True)
    assert check() == 1
    host = srv.base_url.split("//")[1].split("/")[0]
    assert lines(capsys)[0] == f"Plum check failed: {host} did not answer within 0.2 s."


def test_missing_credentials_is_a_configuration_error(env, capsys):
    env(PLUM_BASE_URL="https://stagingstores.xoxoday.com/chef")
    assert check() == 2
    assert "PLUM_CLIENT_ID" in capsys.readouterr().err


# --- refresh tokens ------------------------------------------------------------------------------


@pytest.fixture
def dashboard(srv, env, good):
    """Tokens as an admin copies them from the Xoxoday dashboard, in the settings."""
    issued = srv.context.tokens.issue("company")
    assert issued.refresh_token is not None
    env(PLUM_ACCESS_TOKEN=issued.access_token, PLUM_REFRESH_TOKEN=issued.refresh_token)
    return issued


def refreshable(srv, refresh_token: str) -> bool:
    answer = httpx.post(
        f"{srv.base_url}/v1/oauth/token/company",
        json={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    return answer.status_code == 200


def test_refresh_through_the_bots_database(dashboard, database, srv, capsys):
    assert check() == 0
    out = lines(capsys)
    assert out[0] == REFRESHED
    assert out[1].startswith("The new refresh token (valid until ")
    assert out[1].endswith(" UTC) is kept in the bot's database, as after each refresh.")
    assert out[2].startswith("Account balance: ")
    stored = bots_tokens()
    assert stored is not None and stored.refresh_token != dashboard.refresh_token
    assert check() == 0  # again: with the stored refresh token, the dashboard's being used up
    assert lines(capsys)[0] == REFRESHED
    stored_again = bots_tokens()
    assert stored_again is not None and stored_again.refresh_token != stored.refresh_token
    assert refreshable(srv, stored_again.refresh_token)  # the store holds the live one
    secrets = (dashboard.refresh_token, dashboard.access_token, stored_again.access_token)
    assert not any(s in "\n".join(out) for s in secrets)


def test_refresh_through_a_database_named_by_a_sqlite_uri(dashboard, env, tmp_path, capsys):
    env(DATABASE_URL=f"sqlite:///file:{tmp_path / 'bot.db'}?uri=true")
    assert main(["migrate"]) == 0
    assert (tmp_path / "bot.db").is_file()
    capsys.readouterr()
    assert check() == 0
    assert lines(capsys)[0] == REFRESHED
    stored = bots_tokens()
    assert stored is not None and stored.refresh_token != dashboard.refresh_token


def test_refresh_with_a_wrong_secret_leaves_the_tokens_alone(dashboard, database, srv, env, capsys):
    assert check() == 0
    stored = bots_tokens()
    capsys.readouterr()
    env(PLUM_CLIENT_SECRET="not-the-right-one")
    assert check() == 1
    assert lines(capsys) == REFUSED
    assert bots_tokens() == stored
    assert stored is not None and stored.refresh_token and refreshable(srv, stored.refresh_token)


def test_a_dead_refresh_token(env, good, database, capsys):
    env(PLUM_REFRESH_TOKEN="sbx_rt_bogus")
    assert check() == 1
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        "Plum check failed: Xoxoday rejected the refresh token (expired, revoked or already used).",
        "Issue a new one in the Xoxoday dashboard, set PLUM_REFRESH_TOKEN and check again.",
    ]
    assert "sbx_rt_bogus" not in out


def test_no_refresh_without_the_bots_database(dashboard, srv, tmp_path, capsys):
    assert check() == 1
    out = lines(capsys)
    assert out[:2] == [
        "Plum check incomplete: PLUM_CLIENT_ID and PLUM_CLIENT_SECRET not tested. Only a refresh "
        "tests them, and it retires the refresh token, so the new one must be kept in the bot's "
        "database; the bot's database does not exist yet.",
        "Run `rewardbot migrate`, then check again.",
    ]
    assert out[2].startswith("PLUM_ACCESS_TOKEN OK (valid until ")
    assert out[3].startswith("Account balance: ")
    assert token_requests(srv) == 0  # nothing refreshed: PLUM_REFRESH_TOKEN still works
    assert refreshable(srv, dashboard.refresh_token)
    assert not (tmp_path / "bot.db").exists()


def test_no_refresh_into_a_token_file(dashboard, database, srv, tmp_path, capsys):
    path = tmp_path / "tokens.json"
    assert check("--token-file", str(path)) == 1
    out = lines(capsys)
    assert out[0].endswith(f"would be kept only in {path}, which the bot does not read.")
    assert out[1] == "Check without --token-file."
    assert token_requests(srv) == 0 and not path.exists()


def test_an_access_token_alone(env, srv, capsys):
    issued = srv.context.tokens.issue("company")
    env(PLUM_BASE_URL=srv.base_url, PLUM_ACCESS_TOKEN=issued.access_token)
    assert check() == 0
    out = lines(capsys)
    assert out[0].startswith("PLUM_ACCESS_TOKEN OK (valid until ")
    assert out[-1] == (
        "Nothing can renew PLUM_ACCESS_TOKEN: set PLUM_CLIENT_ID and PLUM_CLIENT_SECRET too."
    )
    env(PLUM_ACCESS_TOKEN="sbx_at_not-a-token")
    assert check() == 1
    assert lines(capsys)[0] == (
        "Plum check failed: Xoxoday refused PLUM_ACCESS_TOKEN (invalid or expired)."
    )


# --- only the report ------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [CLIENT_SECRET, "not-the-right-one"])
def test_the_output_is_the_report_and_no_log_lines(srv, tmp_path, secret):
    """(On a ledger as `rewardbot migrate` leaves it.)"""
    env = {
        "PLUM_BASE_URL": srv.base_url,
        "PLUM_CLIENT_ID": CLIENT_ID,
        "PLUM_CLIENT_SECRET": secret,
        "DATABASE_URL": f"sqlite:///{migrated_sqlite(tmp_path / 'bot.db')}",
    }
    proc = rewardbot(["plum", "check"], env, tmp_path)
    assert proc.stderr == ""  # no httpx request lines, no key-file warning
    out = proc.stdout.splitlines()
    if secret == CLIENT_SECRET:
        assert proc.returncode == 0
        assert out[0] == ISSUED and out[1].startswith("Account balance: ") and len(out) == 2
    else:
        assert proc.returncode == 1 and out == REFUSED
    assert secret not in proc.stdout
    verbose = rewardbot(["-v", "plum", "check"], env, tmp_path)  # asked for: the logs are there
    assert "httpx" in verbose.stderr
