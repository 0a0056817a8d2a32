"""The Redeem button (points in the bot) and the small modal that answers a click with a
fresh link to Xoxoday's store."""

from __future__ import annotations

import json
from typing import Any

from bot.rewards.redeem import RedeemButton
from bot.slack.blocks.kit import actions, button, md, plain, section
from bot.slack.ids import ActionId, BlockId, CallbackId

STOREFRONT_HINT = "Press *Redeem* to spend them in Xoxoday's store: gift cards, charity and more."


def redeem_button(found: RedeemButton) -> dict[str, Any]:
    element = button(
        "Redeem",
        action_id=ActionId.REDEEM,
        value=json.dumps({"link": found.link_id}),
        style="primary",
    )
    if found.url:
        element["url"] = found.url
    return element


def redeem_actions(found: RedeemButton) -> dict[str, Any]:
    return actions(BlockId.REDEEM_ACTIONS, redeem_button(found))


def link_id_of(value: str | None) -> int | None:
    """The link id a Redeem button carries (None: none, or a value Slack never sent)."""
    try:
        found = json.loads(value or "{}")
    except ValueError:
        return None
    link = found.get("link") if isinstance(found, dict) else None
    return link if isinstance(link, int) and not isinstance(link, bool) else None


def _modal(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": str(CallbackId.STORE_LINK),
        "title": plain("Redeem your points", 24),
        "close": plain("Close"),
        "blocks": list(blocks),
    }


def store_opening() -> dict[str, Any]:
    return _modal(section("Opening Xoxoday's store for you…"))


def store_ready(url: str) -> dict[str, Any]:
    open_button = {
        "type": "button",
        "action_id": str(ActionId.STORE_OPEN),
        "text": plain("Open the store"),
        "url": url,
        "style": "primary",
    }
    return _modal(
        section(
            "Your store is ready. It opens signed in as you, so keep this link to yourself.",
        ),
        {"type": "actions", "elements": [open_button]},
    )


def store_failed(text: str) -> dict[str, Any]:
    return _modal({"type": "section", "text": md(text)})
