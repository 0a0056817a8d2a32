"""The checker the builder tests rely on refuses what Slack refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.slack.blocks.blockkit_rules import check_message, check_view


def _ok_message() -> dict[str, Any]:
    return {
        "text": "hello",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Hi <@U1> &amp; co"}},
            {
                "type": "actions",
                "block_id": "approval_actions:AB12CD",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "reward_approve",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "value": "AB12CD",
                    }
                ],
            },
        ],
    }


def _ok_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "reward_modal",
        "title": {"type": "plain_text", "text": "Send a reward"},
        "submit": {"type": "plain_text", "text": "Send"},
        "private_metadata": "{}",
        "blocks": [
            {
                "type": "input",
                "block_id": "amount",
                "label": {"type": "plain_text", "text": "How many?"},
                "element": {
                    "type": "number_input",
                    "action_id": "amount_input",
                    "is_decimal_allowed": False,
                    "min_value": "1",
                },
            }
        ],
    }


def test_good_payloads_pass() -> None:
    assert check_message(_ok_message()) == []
    assert check_view(_ok_modal()) == []


def _set(path: str, value: Any):
    def change(payload: dict[str, Any]) -> None:
        node: Any = payload
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        last = keys[-1]
        if value is _DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()

MESSAGE_BREAKS = {
    "no fallback text": _set("text", ""),
    "section text over 3000": _set("blocks.0.text.text", "x" * 3001),
    "emoji counted as two": _set("blocks.0.text.text", "😀" * 1501),
    "cut mention": _set("blocks.0.text.text", "thanks <@U1|mar"),
    "cut entity": _set("blocks.0.text.text", "a &am"),
    "empty text": _set("blocks.0.text.text", " "),
    "unknown block": _set("blocks.0.type", "table"),
    "input in a message": _set("blocks.0.type", "input"),
    "button text over 75": _set("blocks.1.elements.0.text.text", "x" * 76),
    "button value over 2000": _set("blocks.1.elements.0.value", "x" * 2001),
    "mrkdwn button text": _set("blocks.1.elements.0.text.type", "mrkdwn"),
    "literal action id": _set("blocks.1.elements.0.action_id", "approve"),
    "literal block id": _set("blocks.1.block_id", "my_buttons"),
    "over 50 blocks": _set("blocks", [{"type": "divider"}] * 51),
    "eleven fields": _set(
        "blocks.0", {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}
    ),
    "context of 11": _set(
        "blocks.0", {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}
    ),
    "header over 150": _set(
        "blocks.0", {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    ),
    "too much text in all": _set(
        "blocks",
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5,
    ),
}


@pytest.mark.parametrize("name", sorted(MESSAGE_BREAKS))
def test_each_broken_message_is_refused(name: str) -> None:
    payload = copy.deepcopy(_ok_message())
    MESSAGE_BREAKS[name](payload)
    assert check_message(payload), f"{name} was accepted"


def test_repeated_ids_are_refused() -> None:
    payload = _ok_message()
    payload["blocks"].append(copy.deepcopy(payload["blocks"][1]))
    assert any("repeats" in e for e in check_message(payload))
    payload = _ok_message()
    payload["blocks"][1]["elements"].append(copy.deepcopy(payload["blocks"][1]["elements"][0]))
    assert any("action_id repeats" in e for e in check_message(payload))


VIEW_BREAKS = {
    "title over 24": _set("title.text", "x" * 25),
    "no submit with inputs": _set("submit", _DELETE),
    "metadata over 3000": _set("private_metadata", "x" * 3001),
    "metadata not json": _set("private_metadata", "channel=C1"),
    "literal callback id": _set("callback_id", "my_modal"),
    "decimal flag missing": _set("blocks.0.element.is_decimal_allowed", _DELETE),
    "min over max": _set("blocks.0.element.max_value", "0"),
    "number as int": _set("blocks.0.element.min_value", 1),
    "over 100 blocks": _set("blocks", [{"type": "divider"}] * 101),
    "bad text input length": _set(
        "blocks.0.element",
        {"type": "plain_text_input", "action_id": "citation_input", "max_length": 3001},
    ),
    "initial value over max": _set(
        "blocks.0.element",
        {
            "type": "plain_text_input",
            "action_id": "citation_input",
            "max_length": 5,
            "initial_value": "too long",
        },
    ),
    "initial option not an option": _set(
        "blocks.0.element",
        {
            "type": "static_select",
            "action_id": "values_select",
            "options": [{"text": {"type": "plain_text", "text": "#a"}, "value": "a"}],
            "initial_option": {"text": {"type": "plain_text", "text": "#b"}, "value": "b"},
        },
    ),
    "eleven checkboxes": _set(
        "blocks.0.element",
        {
            "type": "checkboxes",
            "action_id": "announce_checkbox",
            "options": [
                {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(11)
            ],
        },
    ),
    "initial users not ids": _set(
        "blocks.0.element",
        {
            "type": "multi_users_select",
            "action_id": "recipients_select",
            "initial_users": ["@maria"],
        },
    ),
}


@pytest.mark.parametrize("name", sorted(VIEW_BREAKS))
def test_each_broken_view_is_refused(name: str) -> None:
    view = copy.deepcopy(_ok_modal())
    VIEW_BREAKS[name](view)
    assert check_view(view), f"{name} was accepted"
