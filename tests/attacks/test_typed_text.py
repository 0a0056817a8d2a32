"""Text people type, on the real `rewardbot serve`: a reason that tries to ping everyone or to
disguise a link is repeated harmlessly wherever the bot shows it (channel, DMs, approval cards,
App Home, Xoxoday's citation); a reason of invisible characters is no reason; control characters
never reach the ledger, on SQLite or on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.slack.ids import ActionId, BlockId
from bot.slack.listeners.reward_form import NO_CITATION
from tests.attacks.conftest import DATABASES, on_database
from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import APPROVER, BOB, MARIA
from tests.e2e.modal_form import form

HOSTILE = (
    "thanks <!channel> <!here|here> <!everyone> <!subteam^S0DEVS|@devs> "
    "<https://evil.example|https://xoxoday.com/claim>"
)
ADDRESS = "https://evil.example"
DISGUISE = "xoxoday.com/claim"
INVISIBLE = "\u200b\u2060\ufeff"
EMPTY_REASON = "Say what it's for"
CONTROLS = "thanks\x00 for\x07 the \u202erelease\x1b\tparty\x85"
CLEANED = "thanks for the release party"


def shown(message: dict[str, Any]) -> str:
    """Everything in a message or view (texts, blocks, fallback) as one string."""
    return json.dumps(message, ensure_ascii=False)


def assert_harmless(message: dict[str, Any]) -> None:
    everything = shown(message)
    assert "<!" not in everything, everything
    assert "@channel" in everything and "@devs" in everything
    assert f"<{ADDRESS}>" in everything
    assert DISGUISE not in everything


def dms_with(serve: ServeProcess, user_id: str, words: str) -> list[dict[str, Any]]:
    return [m for m in serve.fake.dms_to(user_id) if words in shown(m)]


def has_buttons(message: dict[str, Any]) -> bool:
    return any(b.get("type") == "actions" for b in message.get("blocks") or [])


def button_value(message: dict[str, Any]) -> str:
    """The Approve button's value (the reward's short id)."""
    return next(
        element["value"]
        for block in message["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == ActionId.APPROVE
    )


def citation_sent(serve: ServeProcess) -> str:
    """The citation of the only sendBalance Xoxoday received."""
    [send] = serve.sends()
    variables = send["variables"]
    recipients = variables.get("recipients") or variables["recipients_data"]["recipients"]
    return recipients[0]["citation"]


def test_a_hostile_reason_pings_nobody_and_shows_where_its_link_goes(serve: ServeProcess) -> None:
    serve.driver.command(f"<@{MARIA}|maria> 10 {HOSTILE}", user_id=BOB)

    [announcement] = serve.wait(
        lambda: [m for m in serve.fake.messages("C0GENERAL") if "rewarded" in shown(m)]
    )
    [to_maria] = serve.wait(lambda: dms_with(serve, MARIA, "sent you"))
    [to_bob] = serve.wait(lambda: dms_with(serve, BOB, "Sent!"))
    for message in (announcement, to_maria, to_bob):
        assert_harmless(message)

    serve.driver.app_home_opened(user_id=MARIA)
    home = serve.wait(lambda: serve.fake.home(MARIA))
    assert_harmless(home)

    citation = citation_sent(serve)
    assert ADDRESS in citation and DISGUISE not in citation
    assert "@channel" in citation and "<!" not in citation


def test_a_hostile_reason_on_an_approval_card_and_its_decided_copy(serve: ServeProcess) -> None:
    serve.driver.command(f"<@{MARIA}|maria> 500 {HOSTILE}", user_id=BOB)
    [card] = serve.wait(lambda: [m for m in dms_with(serve, APPROVER, "approve") if has_buttons(m)])
    assert_harmless(card)

    serve.driver.block_action(
        user_id=APPROVER, action_id=ActionId.APPROVE, value=button_value(card), message=card
    )

    def decided() -> dict[str, Any] | None:
        copy = serve.fake.workspace.message(card["channel"], card["ts"])
        return None if has_buttons(copy) else copy

    copy = serve.wait(decided)
    assert "Approved" in shown(copy)
    assert_harmless(copy)
    [to_maria] = serve.wait(lambda: dms_with(serve, MARIA, "sent you"))
    assert_harmless(to_maria)


def test_a_reason_of_invisible_characters_is_no_reason(serve: ServeProcess) -> None:
    serve.driver.command(f"<@{MARIA}|maria> 10 {INVISIBLE}", user_id=BOB)
    serve.wait(lambda: [t for t in serve.replies_to(BOB) if EMPTY_REASON in t])

    serve.driver.command("", user_id=BOB)
    [view] = serve.wait(lambda: serve.fake.modal_stack(BOB))
    values = form(recipients=[MARIA], citation=f" {INVISIBLE} ")
    answer = serve.driver.view_submission(user_id=BOB, view=view, values=values).json()
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {BlockId.CITATION: NO_CITATION}

    assert serve.statuses() == {}
    assert serve.sends() == []
    assert serve.fake.dms_to(MARIA) == []


# ── control characters, on both databases ──────────────────────────────────────────────


@pytest.fixture(params=DATABASES)
def ledger(
    request: pytest.FixtureRequest, make_serve: Callable[..., ServeProcess]
) -> Iterator[tuple[ServeProcess, Callable[[str], list[tuple[Any, ...]]]]]:
    """The bot, migrated and started, on each database; and a way to query its ledger."""
    with on_database(request, make_serve, request.param) as (serve, sql):
        yield serve.start(), sql


def test_control_characters_never_reach_the_ledger(
    ledger: tuple[ServeProcess, Callable[[str], list[tuple[Any, ...]]]],
) -> None:
    serve, sql = ledger
    serve.driver.command(f"<@{MARIA}|maria> 10 {CONTROLS}", user_id=BOB)

    [to_maria] = serve.wait(lambda: dms_with(serve, MARIA, "sent you"), timeout=30)
    assert CLEANED in shown(to_maria)
    assert sql("SELECT citation, status FROM rewards") == [(CLEANED, "sent")]
    assert citation_sent(serve) == CLEANED
    assert not [t for t in serve.replies_to(BOB) if "Something went wrong" in t]
