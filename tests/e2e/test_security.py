"""Signatures, repeated deliveries, and secrets kept out of logs."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlmodel import func, select

from bot.simulators.fakeslack import sign_request
from bot.simulators.plum_sandbox import SandboxServer
from storage.models import Reward
from tests.e2e.harness import BOB, MARIA, SIGNING_SECRET, BotHarness


def reward_count(bot: BotHarness) -> int:
    with bot.runtime.store.session() as session:
        return session.exec(select(func.count()).select_from(Reward)).one()


def command_body(text: str) -> bytes:
    return urlencode(
        {
            "command": "/reward",
            "text": text,
            "user_id": BOB,
            "team_id": "T0001",
            "channel_id": "C0GENERAL",
            "trigger_id": "1.2.forged",
            "response_url": "http://127.0.0.1:9/nowhere",
        }
    ).encode()


@pytest.mark.parametrize("case", ["missing", "wrong", "stale"])
def test_bad_signatures_get_401_and_change_nothing(bot: BotHarness, case: str) -> None:
    body = command_body(f"<@{MARIA}> 100 forged")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if case == "wrong":
        headers.update(sign_request(signing_secret="not-the-secret", body=body))
    elif case == "stale":
        headers.update(
            sign_request(signing_secret=SIGNING_SECRET, body=body, timestamp=int(time.time()) - 301)
        )
    response = bot.driver.raw(body, headers)
    assert response.status_code == 401
    bot.settle()
    assert reward_count(bot) == 0
    assert bot.sends() == []


def test_slack_retry_never_gives_twice(bot: BotHarness) -> None:
    text = f"<@{MARIA}> 100 thanks"
    bot.driver.command(text, user_id=BOB, trigger_id="trigger-1")
    bot.wait(lambda: bot.dm_texts(MARIA))
    again = bot.driver.command(text, user_id=BOB, trigger_id="trigger-1", retry_num=1)
    assert again.status_code == 200
    bot.settle()
    assert reward_count(bot) == 1
    assert len(bot.sends()) == 1


def test_secrets_never_reach_the_logs(
    tmp_path: Path, fake, make_bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "plum-client-secret-XYZ"
    sandbox = SandboxServer(client_id="acme", client_secret=secret, rate_limits=False)
    sandbox.start()
    try:
        bot = BotHarness(
            tmp_path=tmp_path / "s",
            fake=fake,
            sandbox=sandbox,
            PLUM_CLIENT_ID="acme",
            PLUM_CLIENT_SECRET=secret,
        )
        try:
            bot.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
            bot.wait(lambda: bot.dm_texts(MARIA))
            sandbox.faults.set("sendBalance", drop_after_apply=True, count=1)
            bot.driver.command(f"<@{MARIA}> 50 more", user_id=BOB)
            bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "being checked" in t])
            bot.driver.command("<@UNOBODY1> 50 who", user_id=BOB)
            bot.settle()  # everything the bot logs about these is in the capture
            tokens = [t for t in (sandbox.access_token, sandbox.refresh_token) if t]
            issued = bot.runtime.store.token_store().load()
            if issued is not None:
                tokens.append(issued.access_token)
        finally:
            bot.stop()
    finally:
        sandbox.stop()
    text = caplog.text
    for needle in [secret, "xoxb-fake", SIGNING_SECRET, *tokens]:
        assert needle not in text, f"a secret reached the logs: {needle[:6]}…"
    assert "DEBUG" in text or caplog.records  # the capture really ran at DEBUG
