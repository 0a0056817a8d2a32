"""`/reward @maria 100 …` end to end: signed command → ack → ledger → sendBalance → DMs."""

from __future__ import annotations

from tests.e2e.harness import BOB, CHEN, MARIA, BotHarness


def test_reward_is_sent_once_and_everyone_is_told(bot: BotHarness) -> None:
    response = bot.driver.command(
        f"<@{MARIA}|maria> 100 shipped the release #ownership", user_id=BOB
    )
    assert response.status_code == 200

    dm = bot.wait(lambda: [t for t in bot.dm_texts(MARIA) if "100 points" in t])
    assert "<@UBOB0001>" in dm[0] and "shipped the release" in dm[0]
    assert "expire" in dm[0]

    sends = bot.sends()
    assert len(sends) == 1
    variables = sends[0]["variables"]
    recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
    assert [r["to_email"] for r in recipients] == ["maria@acme.test"]
    assert recipients[0]["amount"] == "100"
    assert "shipped the release" in recipients[0]["citation"]
    assert bot.sandbox.state.points_of("maria@acme.test") == 100

    announcement = bot.wait(lambda: [t for t in bot.channel_texts("C0GENERAL") if "rewarded" in t])
    assert "<@UMARIA01>" in announcement[0]
    confirmation = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "Sent!" in t])
    assert confirmation


def test_many_recipients_one_send(bot: BotHarness) -> None:
    bot.driver.command(f"<@{MARIA}> <@{CHEN}> 50 great teamwork", user_id=BOB)
    bot.wait(lambda: bot.dm_texts(CHEN) and bot.dm_texts(MARIA))
    assert len(bot.sends()) == 1
    assert bot.sandbox.state.points_of("chen@acme.test") == 50
    assert bot.sandbox.state.points_of("maria@acme.test") == 50
