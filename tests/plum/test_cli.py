"""`rewardbot plum check`: the balance when the credentials work, one or two lines saying what
is wrong (exit 1) when they do not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import plum as plum_command
from tests.plum.conftest import CLIENT_ID, CLIENT_SECRET


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment in an empty directory (no .env), returning a setter."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("PLUM_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def check(tmp_path, *extra: str) -> int:
    return main(["plum", "check", "--token-file", str(tmp_path / "tokens.json"), *extra])


def test_sandbox_mode_checks_the_embedded_sandbox(env, capsys):
    env(PLUM_BASE_URL="sandbox")
    assert main(["plum", "check"]) == 0
    out = capsys.readouterr().out
    assert "embedded Plum sandbox" in out
    assert "Plum credentials OK (client_credentials flow" in out
    assert "Account balance: 100000 INR." in out


def test_real_url_with_good_credentials(env, srv, tmp_path, capsys):
    env(PLUM_BASE_URL=srv.base_url, PLUM_CLIENT_ID=CLIENT_ID, PLUM_CLIENT_SECRET=CLIENT_SECRET)
    assert check(tmp_path) == 0
    out = capsys.readouterr().out
    assert f"Account balance: {srv.state.account_balance} {srv.state.currency}." in out
    assert CLIENT_SECRET not in out


def test_default_token_store_is_the_bots(env, srv, capsys):
    env(PLUM_BASE_URL=srv.base_url, PLUM_CLIENT_ID=CLIENT_ID, PLUM_CLIENT_SECRET=CLIENT_SECRET)
    assert main(["plum", "check"]) == 0  # the database store, or the file beside the database
    assert "Account balance:" in capsys.readouterr().out


def test_bad_client_secret(env, srv, tmp_path, capsys):
    env(PLUM_BASE_URL=srv.base_url, PLUM_CLIENT_ID=CLIENT_ID, PLUM_CLIENT_SECRET="wrong")
    assert check(tmp_path) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) <= 2
    assert out[0].startswith("Plum check failed: Xoxoday does not recognise the client id")
    assert "wrong" not in out[0].split("Xoxoday said")[0]


def test_ip_not_allow_listed(env, srv, tmp_path, capsys):
    env(PLUM_BASE_URL=srv.base_url, PLUM_CLIENT_ID=CLIENT_ID, PLUM_CLIENT_SECRET=CLIENT_SECRET)
    srv.faults.set("validateToken", error="PIPE10017")
    assert check(tmp_path) == 1
    assert capsys.readouterr().out.startswith(
        "Plum check failed: Xoxoday does not accept requests from this server's IP address. "
        "Ask Xoxoday to allow-list it."
    )


def test_bad_refresh_token(env, srv, tmp_path, capsys):
    env(
        PLUM_BASE_URL=srv.base_url,
        PLUM_CLIENT_ID=CLIENT_ID,
        PLUM_CLIENT_SECRET=CLIENT_SECRET,
        PLUM_REFRESH_TOKEN="sbx_rt_bogus",
    )
    assert check(tmp_path) == 1
    out = capsys.readouterr().out
    assert "rejected the refresh token" in out and "sbx_rt_bogus" not in out


def test_unreachable_host(env, tmp_path, capsys):
    env(PLUM_BASE_URL="http://127.0.0.1:9/chef", PLUM_CLIENT_ID="id", PLUM_CLIENT_SECRET="s")
    assert check(tmp_path) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Plum check failed: cannot reach 127.0.0.1:9 (ConnectError).",
        "Check PLUM_BASE_URL, DNS and the network.",
    ]


def test_timeout(env, srv, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(plum_command, "CHECK_TIMEOUT", 0.2)
    env(PLUM_BASE_URL=srv.base_url, PLUM_CLIENT_ID=CLIENT_ID, PLUM_CLIENT_SECRET=CLIENT_SECRET)
    srv.faults.set("validateToken", hang=True)
    assert check(tmp_path) == 1
    host = srv.base_url.split("//")[1].split("/")[0]
    assert capsys.readouterr().out.splitlines()[0] == (
        f"Plum check failed: {host} did not answer within 0.2 s."
    )


def test_missing_credentials_is_a_configuration_error(env, tmp_path, capsys):
    env(PLUM_BASE_URL="https://stagingstores.xoxoday.com/chef")
    assert check(tmp_path) == 2
    assert "PLUM_CLIENT_ID" in capsys.readouterr().err


REPO = Path(__file__).resolve().parents[2]


def rewardbot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """The real command line: logging as `rewardbot` sets it up, not as pytest does."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(REPO), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_output_is_the_report_and_no_log_lines(srv, tmp_path):
    env = {
        "PLUM_BASE_URL": srv.base_url,
        "PLUM_CLIENT_ID": CLIENT_ID,
        "PLUM_CLIENT_SECRET": CLIENT_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    assert rewardbot(["migrate"], env, tmp_path).returncode == 0
    proc = rewardbot(["plum", "check"], env, tmp_path)
    assert proc.returncode == 0
    assert proc.stderr == ""  # no httpx request lines, no key-file warning
    out = proc.stdout.splitlines()
    assert out[0].startswith("Plum credentials OK") and out[1].startswith("Account balance: ")
    assert len(out) == 2
    verbose = rewardbot(["-v", "plum", "check"], env, tmp_path)  # asked for: the logs are there
    assert "httpx" in verbose.stderr
