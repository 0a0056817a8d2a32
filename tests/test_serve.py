"""`rewardbot serve`: HTTP under uvicorn by default, Socket Mode with SLACK_APP_TOKEN, and one
clear line when a required setting is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.cli import main


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-serve-test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("PLUM_BASE_URL", "sandbox")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    monkeypatch.setenv("REWARD_ADMINS", "UADMIN01")


def test_http_mode_serves_slack_events_and_healthz(
    env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "serve-secret")
    monkeypatch.setenv("PORT", "4321")
    served: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        served.update(kwargs)
        with TestClient(app) as client:
            served["health"] = client.get("/healthz").json()
            served["unsigned"] = client.post(
                "/slack/events", content=b"command=/reward"
            ).status_code

    monkeypatch.setattr("uvicorn.run", fake_run)
    assert main(["serve", "--no-scheduler"]) == 0
    assert served["port"] == 4321
    assert served["health"]["database"] == "ok" and served["health"]["plum"] == "ok"
    assert served["health"]["sandbox"] is True
    assert served["unsigned"] == 401


def test_socket_mode_when_an_app_token_is_set(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-serve-test")
    started: list[str] = []

    class FakeHandler:
        def __init__(self, app: Any, token: str) -> None:
            self.token = token

        def start(self) -> None:
            started.append(self.token)

    monkeypatch.setattr("slack_bolt.adapter.socket_mode.SocketModeHandler", FakeHandler)
    # Slack is not here: the app token counts as one Slack opens connections with (the check
    # itself is tested in tests/checks and through the real serve)
    monkeypatch.setattr("bot.commands.serve._check_app_token", lambda settings: None)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("HTTP in Socket Mode"))
    assert main(["serve", "--no-scheduler"]) == 0
    assert started == ["xapp-1-serve-test"]


def test_http_mode_without_a_signing_secret_says_so(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "rewardbot: configuration error: serve can't start without SLACK_SIGNING_SECRET (or "
        "SLACK_APP_TOKEN for Socket Mode); set it in .env or the environment "
        "(`rewardbot config` shows why)"
    ]


def test_every_missing_variable_is_named_in_one_line(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("PLUM_BASE_URL", "https://accounts.xoxoday.com/chef")
    for name in ("PLUM_CLIENT_ID", "PLUM_CLIENT_SECRET", "PLUM_ACCESS_TOKEN", "PLUM_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PLUM_SENDER_EMAIL", raising=False)
    monkeypatch.delenv("REWARD_ADMINS")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "rewardbot: configuration error: serve can't start without SLACK_BOT_TOKEN, "
        "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode), PLUM_CLIENT_ID, "
        "PLUM_CLIENT_SECRET, PLUM_SENDER_EMAIL and REWARD_ADMINS; set them in .env or the "
        "environment (`rewardbot config` shows why)"
    ]
    assert not (tmp_path / "serve.db").exists()  # refused before touching anything
