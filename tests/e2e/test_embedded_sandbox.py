"""PLUM_BASE_URL=sandbox: the embedded sandbox, its notice on every message, its state kept."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.harness import BOB, MARIA, BotHarness, message_text

NOTICE = "no real reward was sent"


def posted_texts(bot: BotHarness) -> list[str]:
    out = []
    for method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
        for call in bot.fake.calls_to(method):
            out.append(message_text(call["args"]))
    for response in bot.fake.responses():
        body: dict[str, Any] = response["body"] if isinstance(response["body"], dict) else {}
        out.append(message_text(body))
    return out


def test_every_message_says_no_real_reward_was_sent(make_bot) -> None:
    bot = make_bot(PLUM_BASE_URL="sandbox")
    assert bot.runtime.sandbox is not None
    bot.driver.command(f"<@{MARIA}> 100 thanks for the demo", user_id=BOB)
    bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sent!" in t])
    bot.driver.command("help", user_id=BOB)
    bot.driver.command("0 nope", user_id=BOB)
    texts = posted_texts(bot) + bot.replies_to(BOB)
    assert len(texts) >= 5
    for text in texts:
        assert NOTICE in text, text[:200]
    assert bot.runtime.sandbox.state.points_of("maria@acme.test") == 100


def test_sandbox_state_survives_a_restart(make_bot) -> None:
    first = make_bot(PLUM_BASE_URL="sandbox")
    first.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
    first.wait(lambda: first.dm_texts(MARIA))
    first.stop()
    second = make_bot(PLUM_BASE_URL="sandbox")
    assert second.runtime.sandbox is not None
    assert second.runtime.sandbox.state.points_of("maria@acme.test") == 100


def test_healthz_reports_database_and_plum(bot: BotHarness) -> None:
    bot.runtime.plum_probe_seconds = 0.0  # probe Xoxoday on every request
    ok = httpx.get(f"{bot.url}/healthz", timeout=10)
    assert ok.status_code == 200
    assert ok.json()["database"] == "ok" and ok.json()["plum"] == "ok"
    bot.sandbox.stop()
    down = httpx.get(f"{bot.url}/healthz", timeout=30)
    assert down.status_code == 503
    assert down.json()["database"] == "ok"
    assert down.json()["plum"].startswith("unreachable")
