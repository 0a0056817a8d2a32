"""The reward modal, its metadata and its inline errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.rewards.cards import MessageRef
from bot.rewards.policy import Person, Rules, evaluate
from bot.slack.blocks import give_modal as gm
from bot.slack.ids import ActionId, BlockId, CallbackId
from tests.slack.blocks import samples as s
from tests.slack.blocks.blockkit_rules import assert_valid_view, visible

PERMALINK = "https://acme.slack.com/archives/C0GENERAL/p1712345678000100"


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_plain_modal_has_the_fields_in_order() -> None:
    view = gm.reward_modal(metadata=gm.RewardModalMetadata(source="command"), announce_in="C0KUDOS")
    assert_valid_view(view)
    assert view["callback_id"] == CallbackId.REWARD_MODAL
    assert view["title"]["text"] == "Send a reward"
    inputs = _inputs(view)
    assert list(inputs) == [BlockId.RECIPIENTS, BlockId.AMOUNT, BlockId.CITATION, BlockId.ANNOUNCE]
    recipients = inputs[BlockId.RECIPIENTS]["element"]
    assert recipients["type"] == "multi_users_select"
    assert recipients["action_id"] == ActionId.RECIPIENTS_SELECT
    assert "initial_users" not in recipients
    amount = inputs[BlockId.AMOUNT]["element"]
    assert amount["type"] == "number_input" and amount["action_id"] == ActionId.AMOUNT_INPUT
    assert amount["is_decimal_allowed"] is False and amount["min_value"] == "1"
    citation = inputs[BlockId.CITATION]["element"]
    assert citation["type"] == "plain_text_input" and citation["multiline"] is True
    assert citation["max_length"] == 500 and citation["action_id"] == ActionId.CITATION_INPUT
    announce = inputs[BlockId.ANNOUNCE]
    assert announce["optional"] is True
    assert announce["element"]["action_id"] == ActionId.ANNOUNCE_CHECKBOX
    assert announce["element"]["initial_options"] == announce["element"]["options"]
    assert announce["element"]["options"][0]["text"]["text"] == "Announce it in <#C0KUDOS>"


def test_with_nowhere_to_announce_the_form_says_so_instead_of_offering_it() -> None:
    view = gm.reward_modal(metadata=gm.RewardModalMetadata(source="home"))
    assert_valid_view(view)
    assert BlockId.ANNOUNCE not in _inputs(view)
    notes = [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert any("won't be announced in a channel from here" in n for n in notes)


def test_announce_can_start_unchecked() -> None:
    view = gm.reward_modal(
        metadata=gm.RewardModalMetadata(source="modal"), announce=False, announce_in="C0GENERAL"
    )
    assert "initial_options" not in _inputs(view)[BlockId.ANNOUNCE]["element"]


def test_value_select_appears_when_values_are_configured() -> None:
    view = gm.reward_modal(
        metadata=gm.RewardModalMetadata(source="modal"),
        values=["teamwork", "#Ownership", "teamwork"],
        initial_value="ownership",
    )
    assert_valid_view(view)
    block = _inputs(view)[BlockId.VALUES]
    assert block["optional"] is True
    element = block["element"]
    assert element["type"] == "static_select" and element["action_id"] == ActionId.VALUES_SELECT
    assert [o["value"] for o in element["options"]] == ["teamwork", "ownership"]
    assert [o["text"]["text"] for o in element["options"]] == ["#teamwork", "#ownership"]
    assert element["initial_option"]["value"] == "ownership"


def test_limits_and_allowance_show_in_the_amount_hint() -> None:
    view = gm.reward_modal(
        metadata=gm.RewardModalMetadata(source="modal"),
        max_per_reward=5000,
        allowance_left=700,
        initial_amount=50,
    )
    amount = _inputs(view)[BlockId.AMOUNT]
    assert amount["element"]["max_value"] == "5000"
    assert amount["element"]["initial_value"] == "50"
    assert "Up to 5,000 points per person" in amount["hint"]["text"]
    assert "700 points left" in amount["hint"]["text"]


def test_message_shortcut_prefills_the_author_and_a_link_to_the_message() -> None:
    meta = gm.RewardModalMetadata(
        source="shortcut",
        channel_id="C0GENERAL",
        message=MessageRef(channel_id="C0GENERAL", ts="1712345678.000100"),
    )
    view = gm.reward_modal(
        metadata=meta,
        initial_users=[s.MARIA],
        initial_citation=gm.message_citation(PERMALINK),
    )
    assert_valid_view(view)
    inputs = _inputs(view)
    assert inputs[BlockId.RECIPIENTS]["element"]["initial_users"] == [s.MARIA]
    assert PERMALINK in inputs[BlockId.CITATION]["element"]["initial_value"]
    assert gm.decode_reward_modal_metadata(view["private_metadata"]) == meta
    assert "no real reward was sent" not in visible(view)  # added as it leaves, not here


def test_an_overlong_permalink_is_left_out_rather_than_cut() -> None:
    citation = gm.message_citation("https://x.test/" + "p" * 600)
    assert "https://" not in citation and len(citation) <= 500


@pytest.mark.parametrize("text", [None, "", "nope", "[1, 2]", '{"message": 5}'])
def test_unreadable_metadata_falls_back_to_a_plain_modal(text: str | None) -> None:
    assert gm.decode_reward_modal_metadata(text) == gm.RewardModalMetadata(source="modal")


def _decision(**kw: Any):
    giver = Person(user_id="UGIVER01", email="g@example.com")
    rules = Rules(max_per_reward=100, allowance=0, approval_threshold=10**6, values=("teamwork",))
    return evaluate(rules=rules, giver=giver, now=datetime(2026, 3, 5, tzinfo=UTC), **kw)


def test_policy_problems_come_back_on_their_fields_in_plain_words() -> None:
    decision = _decision(
        recipients=[
            Person(user_id="UGIVER01", email="g@example.com"),
            Person(user_id="UBOT", is_bot=True),
        ],
        amount=500,
        values=["kudos"],
    )
    body = gm.reward_modal_errors(decision.errors_by_field(), names={"UBOT": "deploybot"})
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert set(errors) == {BlockId.RECIPIENTS, BlockId.AMOUNT, BlockId.VALUES}
    assert "yourself" in errors[BlockId.RECIPIENTS]
    assert "@deploybot is a bot" in errors[BlockId.RECIPIENTS]
    assert "<@" not in errors[BlockId.RECIPIENTS] and "`" not in errors[BlockId.VALUES]
    assert "100 points" in errors[BlockId.AMOUNT]
    assert "#kudos" in errors[BlockId.VALUES]


def test_value_errors_go_on_the_citation_when_there_is_no_value_select() -> None:
    body = gm.reward_modal_errors(
        {"values": "`#kudos` isn't one of our values."}, has_values_select=False
    )
    assert body["errors"] == {BlockId.CITATION: "#kudos isn't one of our values."}
