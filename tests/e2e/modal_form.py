"""Filling in and submitting the reward modal as a person would (shared by the modal, shortcut
and App Home tests), and reading what the ledger holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import select

from bot.slack.ids import ActionId, BlockId, CallbackId
from storage.models import Reward
from tests.e2e.harness import BotHarness

ANNOUNCE = {"text": {"type": "plain_text", "text": "Announce"}, "value": "announce"}


def form(
    *,
    recipients: Sequence[str] = (),
    amount: str | None = "100",
    citation: str | None = "thanks for the demo",
    value: str | None = None,
    announce: bool = True,
) -> dict[str, Any]:
    """`view.state.values` of a filled-in reward modal."""
    values: dict[str, Any] = {
        str(BlockId.RECIPIENTS): {
            str(ActionId.RECIPIENTS_SELECT): {
                "type": "multi_users_select",
                "selected_users": list(recipients),
            }
        },
        str(BlockId.AMOUNT): {
            str(ActionId.AMOUNT_INPUT): {"type": "number_input", "value": amount}
        },
        str(BlockId.CITATION): {
            str(ActionId.CITATION_INPUT): {"type": "plain_text_input", "value": citation}
        },
        str(BlockId.ANNOUNCE): {
            str(ActionId.ANNOUNCE_CHECKBOX): {
                "type": "checkboxes",
                "selected_options": [ANNOUNCE] if announce else [],
            }
        },
    }
    if value is not None:
        values[str(BlockId.VALUES)] = {
            str(ActionId.VALUES_SELECT): {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": f"#{value}"},
                    "value": value,
                },
            }
        }
    return values


def modal_of(bot: BotHarness, user_id: str) -> dict[str, Any]:
    """The reward modal on `user_id`'s screen (waits for it)."""
    stack = bot.wait(lambda: bot.fake.modal_stack(user_id))
    view = stack[-1]
    assert view["callback_id"] == CallbackId.REWARD_MODAL
    return view


def open_by_command(bot: BotHarness, user_id: str, channel_id: str = "C0GENERAL") -> dict:
    response = bot.driver.command("", user_id=user_id, channel_id=channel_id)
    assert response.status_code == 200
    return modal_of(bot, user_id)


def submit(bot: BotHarness, user_id: str, view: dict[str, Any], **fields: Any) -> dict:
    """Submit the modal; the ack's JSON ({} when it just closes the modal)."""
    response = bot.driver.view_submission(user_id=user_id, view=view, values=form(**fields))
    assert response.status_code == 200
    return response.json() if response.content.strip() else {}


def rewards(bot: BotHarness) -> list[Reward]:
    with bot.runtime.store.session() as session:
        return list(session.exec(select(Reward).order_by(Reward.id)).all())  # type: ignore[arg-type]


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return block["element"]
