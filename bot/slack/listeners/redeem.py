"""Redeem (points in the bot): a click opens Xoxoday's store for the person who clicked.

A button that carries a link on the bot's host (HTTP mode with PUBLIC_URL) has opened it in
the browser already; the click is only acknowledged, unless that link can no longer be used
(opened before, expired), when a small modal gives a fresh link to the store, as it does for
every click without a link (Socket Mode). The modal opens at once ("Opening…") and is updated
when Xoxoday has answered, so the click's trigger never runs out while Xoxoday is asked.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.rewards.refusal import Refusal
from bot.slack.blocks.redeem import link_id_of, store_failed, store_opening, store_ready
from bot.slack.ids import ActionId
from bot.slack.journal import ack_at_once, after_ack

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.action(ActionId.REDEEM)(ack=ack_at_once, lazy=[redeem_clicked])
    app.action(ActionId.STORE_OPEN)(ack_at_once)  # a link button: the browser opened it


@after_ack
def redeem_clicked(body: dict[str, Any], runtime: Runtime) -> None:
    redeem = runtime.redeem
    user_id = str((body.get("user") or {}).get("id") or "")
    if redeem is None or not user_id:
        return
    action = (body.get("actions") or [{}])[0]
    link_id = link_id_of(action.get("value"))
    on_button = action.get("url") or (link_id is not None and redeem.links_on_buttons)
    if on_button and redeem.link_is_live(link_id, user_id=user_id):
        return  # the browser has the store
    try:
        opened = runtime.slack.views_open(trigger_id=body["trigger_id"], view=store_opening())
    except (SlackApiError, KeyError) as err:
        log.info("could not open the store modal: %s", type(err).__name__)
        return
    view_id = (opened.get("view") or {}).get("id")
    outcome = redeem.store_link(user_id)
    view = store_failed(outcome.text) if isinstance(outcome, Refusal) else store_ready(outcome)
    try:
        runtime.slack.views_update(view_id=view_id, view=view)
    except SlackApiError as err:
        log.info("could not show the store link: %s", err.response.get("error"))
