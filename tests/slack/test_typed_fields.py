"""The text fields people type in modals (the reward form, the reject reason) are read without
control characters, and a field with nothing visible in it counts as empty."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.ids import ActionId, BlockId
from bot.slack.listeners.approval_actions import reason_of, reason_problem
from bot.slack.listeners.reward_form import NO_CITATION, FormErrors, RewardForm, read_reward_form
from tests.e2e.modal_form import form

INVISIBLE = "\u200b\u2060\ufeff"


def reject_view(reason: str) -> dict[str, Any]:
    field = {"type": "plain_text_input", "value": reason}
    return {"state": {"values": {BlockId.REJECT_REASON: {ActionId.REJECT_REASON_INPUT: field}}}}


@pytest.mark.parametrize("citation", [INVISIBLE, f"  {INVISIBLE}\n", "\x00\x01\t"])
def test_an_invisible_citation_in_the_form_is_no_citation(citation: str) -> None:
    result = read_reward_form(form(recipients=["U1"], citation=citation))
    assert isinstance(result, FormErrors)
    assert result.errors == {str(BlockId.CITATION): NO_CITATION}


def test_the_forms_citation_is_kept_without_control_characters() -> None:
    typed = "thanks\x00 for\tthe <demo> \u202eok\n👩🏽‍💻 café"
    result = read_reward_form(form(recipients=["U1"], citation=typed))
    assert isinstance(result, RewardForm)
    assert result.citation == "thanks for the &lt;demo&gt; ok\n👩🏽‍💻 café"


def test_the_forms_amount_is_read_without_control_characters() -> None:
    result = read_reward_form(form(recipients=["U1"], amount="\x0050\u202e"))
    assert isinstance(result, RewardForm)
    assert result.amount == 50


@pytest.mark.parametrize("reason", [INVISIBLE, " \u200b ", "\x00"])
def test_an_invisible_reject_reason_is_no_reason(reason: str) -> None:
    assert reason_of(reject_view(reason)) == ""
    assert reason_problem(reason_of(reject_view(reason))) == reason_problem("")


def test_the_reject_reason_is_read_without_control_characters() -> None:
    assert reason_of(reject_view("over\x00 budget\x1b\tthis \u2066quarter\u2069")) == (
        "over budget this quarter"
    )
