"""`rewardbot sandbox`: flags reach the server, the demo tokens are printed, Ctrl-C stops it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.simulators.plum_sandbox import SandboxServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[SandboxServer]:
    servers: list[SandboxServer] = []

    def fake_serve(self: SandboxServer) -> None:
        servers.append(self)

    monkeypatch.setattr(SandboxServer, "serve_forever", fake_serve)
    return servers


def test_flags_configure_the_server(
    started: list[SandboxServer], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "sandbox",
            "--port", "0",
            "--client-id", "acme",
            "--seed", "4",
            "--state", str(tmp_path / "s.json"),
            "--latency-ms", "7",
            "--fault", "sendBalance=drop,count:1",
            "--fault", "getBalance=error:PLE10023,rate:0.5",
            "--variant", "token=docs",
            "--no-rate-limits",
        ]
    )  # fmt: skip
    assert code == 0
    srv = started[0]
    out = capsys.readouterr().out
    assert srv.base_url in out and srv.refresh_token in out and srv.access_token in out
    assert "acme" in out
    assert srv.faults.get("sendBalance").drop_after_apply
    assert srv.faults.get("getBalance").rate == 0.5
    assert srv.faults.variant("token") == "docs"
    assert srv.faults.latency_ms == 7 and srv.rate_limits is False
    assert (tmp_path / "s.json").is_file()


def test_the_banner_says_which_plum_values_point_the_bot_at_it(
    started: list[SandboxServer], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", "--port", "0"]) == 0
    srv = started[0]
    out = capsys.readouterr().out
    assert "as given with --client-secret" not in out
    assert "client secret:  sandbox" in out
    for line in (
        f"PLUM_BASE_URL={srv.base_url}",
        "PLUM_CLIENT_ID=sandbox",
        "PLUM_CLIENT_SECRET=sandbox",
        "PLUM_SENDER_EMAIL=",
    ):
        assert f"\n  {line}" in out, line


def test_the_banner_never_prints_a_secret_that_was_given(
    started: list[SandboxServer], capsys: pytest.CaptureFixture[str]
) -> None:
    given = "s3cr3t-from-the-command-line"
    assert main(["sandbox", "--port", "0", "--client-id", "acme", "--client-secret", given]) == 0
    out = capsys.readouterr().out
    assert given not in out
    assert "PLUM_CLIENT_ID=acme" in out
    assert "PLUM_CLIENT_SECRET=<the secret you gave>" in out
    assert started[0].context.tokens.client_id == "acme"
    started[0].context.tokens.check_client("acme", given, status=400)  # the server got the secret


@pytest.mark.parametrize(
    "flag",
    [["--fault", "sendBalance=explode"], ["--fault", "nothing"], ["--variant", "token=xml"]],
)
def test_bad_flags_stop_with_a_message(started: list[SandboxServer], flag: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sandbox", "--port", "0", *flag])
    assert "rewardbot sandbox" in str(exc.value)
    assert started == []


def test_serves_until_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(6)]
        base_url = lines[0].split("PLUM_BASE_URL=")[1].strip()
        token = next(line for line in lines if "access token:" in line).split(":", 1)[1].strip()
        balance = None
        for _ in range(100):  # the socket is bound before printing; wait for uvicorn to accept
            try:
                balance = httpx.post(
                    f"{base_url}/v1/oauth/api",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"query": "plumProAPI.query.getBalance", "tag": "plumProAPI"},
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert balance is not None and balance.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) in (0, 130)  # 130: the usual exit status after Ctrl-C
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_storefront_flags_connect_the_store_and_never_print_the_key(
    started: list[SandboxServer],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STOREFRONT_API_KEY", "sf-key-from-the-environment")
    url = "http://127.0.0.1:3000/storefront"
    assert main(["sandbox", "--port", "0", "--storefront-url", url]) == 0
    connection = started[0].context.storefront.connection
    assert connection is not None
    assert (connection.base_url, connection.api_key) == (url, "sf-key-from-the-environment")
    out = capsys.readouterr().out
    assert f"store spends:   {url}/" in out and "sf-key-from-the-environment" not in out


def test_the_storefront_url_without_a_key_stops_with_a_message(
    started: list[SandboxServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STOREFRONT_API_KEY", raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["sandbox", "--port", "0", "--storefront-url", "http://127.0.0.1:3000/storefront"])
    assert "STOREFRONT_API_KEY" in str(exc.value)
    assert started == []


def test_without_storefront_flags_the_banner_says_nothing_is_connected(
    started: list[SandboxServer],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SANDBOX_STOREFRONT_URL", raising=False)
    assert main(["sandbox", "--port", "0"]) == 0
    assert started[0].context.storefront.connection is None
    assert "no point system connected" in capsys.readouterr().out
