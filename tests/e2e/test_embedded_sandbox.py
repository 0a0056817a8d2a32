"""PLUM_BASE_URL=sandbox: the embedded sandbox, its notice on every message, its state kept."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.simulators.sandbox_notice import SANDBOX_NOTICE
from tests.e2e.harness import ADMIN, BOB, MARIA, BotHarness, message_text
from tests.e2e.modal_form import open_by_command, submit

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


def test_every_message_about_a_reward_says_no_real_reward_was_sent(make_bot) -> None:
    bot = make_bot(PLUM_BASE_URL="sandbox")
    assert bot.embedded_sandbox is not None
    bot.driver.command(f"<@{MARIA}> 100 thanks for the demo", user_id=BOB)
    bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sent!" in t])
    about_the_reward = posted_texts(bot) + bot.replies_to(BOB)  # DMs, announcement, "Sending"
    assert len(about_the_reward) >= 4
    for text in about_the_reward:
        assert NOTICE in text, text[:200]
    bot.driver.command("help", user_id=BOB)
    bot.driver.command("0 nope", user_id=BOB)
    help_and_refusal = bot.replies_to(BOB)[-2:]
    assert "/reward @" in help_and_refusal[0] and "0" in help_and_refusal[1]
    for text in help_and_refusal:  # they concern no reward: no notice
        assert NOTICE not in text, text[:200]
    assert bot.embedded_sandbox.state.points_of("maria@acme.test") == 100


def _notices(message: dict[str, Any]) -> int:
    """How often a message (or view) says it: its notice blocks and its fallback text."""
    blocks = message.get("blocks") or []
    return sum(SANDBOX_NOTICE in message_text({"blocks": [b]}) for b in blocks) + str(
        message.get("text") or ""
    ).count(SANDBOX_NOTICE)


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "live"])
def test_the_notice_is_added_where_messages_leave(make_bot, sandboxed: bool) -> None:
    """Builders build plain payloads; in sandbox mode each way out adds the notice once (an ack,
    a response_url reply, the Web API), inline errors stay as they are, and a bot on a real
    Xoxoday URL adds nothing."""
    bot = make_bot(PLUM_BASE_URL="sandbox") if sandboxed else make_bot()
    assert bot.settings.uses_sandbox is sandboxed
    once = 1 if sandboxed else 0

    bot.driver.command("help", user_id=BOB)  # plain text, in the ack: no notice
    [acked] = bot.fake.ephemerals(BOB, source="ack")
    assert _notices(acked) == 0
    bot.driver.command("managers", user_id=ADMIN)  # a Block Kit list, in the ack
    [listed] = bot.fake.ephemerals(ADMIN, source="ack")
    assert _notices(listed) == once

    bot.driver.command("history", user_id=BOB)  # an empty ack, then response_url
    [answer] = bot.wait(lambda: bot.fake.ephemerals(BOB, source="response_url"))
    assert "Your last rewards" in message_text(answer)
    assert _notices(answer) == once  # a quiet last line, not in the notification

    bot.driver.command(f"<@{MARIA}> 100 thanks for the demo", user_id=BOB)  # DMs: chat.*
    [dm] = bot.wait(lambda: bot.fake.dms_to(MARIA))
    assert _notices(dm) == once

    view = open_by_command(bot, BOB)  # views.open
    assert _notices(view) == once
    refused = submit(bot, BOB, view, recipients=[MARIA], amount="0")
    assert refused["response_action"] == "errors"
    assert SANDBOX_NOTICE not in str(refused)  # inline errors are never touched


def test_sandbox_state_survives_a_restart(make_bot) -> None:
    first = make_bot(PLUM_BASE_URL="sandbox")
    first.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
    first.wait(lambda: first.dm_texts(MARIA))
    first.stop()
    second = make_bot(PLUM_BASE_URL="sandbox")
    assert second.embedded_sandbox is not None
    assert second.embedded_sandbox.state.points_of("maria@acme.test") == 100


def test_healthz_reports_database_and_plum(bot: BotHarness) -> None:
    bot.bot.health.probe_seconds = 0.0  # probe Xoxoday on every request
    ok = httpx.get(f"{bot.url}/healthz", timeout=10)
    assert ok.status_code == 200
    assert ok.json()["database"] == "ok" and ok.json()["plum"] == "ok"
    bot.sandbox.stop()
    down = httpx.get(f"{bot.url}/healthz", timeout=30)
    assert down.status_code == 503
    assert down.json()["database"] == "ok"
    assert down.json()["plum"].startswith("unreachable")
