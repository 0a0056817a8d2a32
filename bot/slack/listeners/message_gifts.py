"""Giving in a message: `@maria ++ 20 for the release` in a channel the bot is in
(`message.channels`, `message.groups`), and deleting such a message inside the undo window.

Only a message that asks to give, or a deletion, is journaled (by Slack's event_id) and worked
on after the ack (`bot.rewards.message_gifts.worth_a_look`); every other message is acked by
the second listener here and forgotten. The bot never reads a channel's history: the event
carries the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App

from bot.rewards.message_gifts import GiftMessage, worth_a_look
from bot.slack.journal import ack_at_once, after_ack

if TYPE_CHECKING:
    from bot.runtime import Runtime

MESSAGE = "message"  # how Slack delivers message.channels and message.groups
_ID_MAX = 64


def register(app: App) -> None:
    app.event(MESSAGE, matchers=[_worth_a_look])(ack=ack_at_once, lazy=[message_event])
    app.event(MESSAGE)(ack_at_once)  # any other message: acknowledged, nothing more


def _worth_a_look(event: dict[str, Any]) -> bool:
    return worth_a_look(event)


def _id(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= _ID_MAX else None


@after_ack
def message_event(body: dict[str, Any], event: dict[str, Any], runtime: Runtime) -> None:
    channel = _id(event.get("channel"))
    if channel is None:
        return
    if event.get("subtype") == "message_deleted":
        ts, event_ts = _id(event.get("deleted_ts")), _id(event.get("event_ts") or event.get("ts"))
        if ts and event_ts:
            runtime.message_gifts.deleted(channel_id=channel, ts=ts, event_ts=event_ts)
        return
    team, user, ts = _id(body.get("team_id")), _id(event.get("user")), _id(event.get("ts"))
    text = event.get("text")
    if not (team and user and ts and isinstance(text, str)):
        return
    message = GiftMessage(team_id=team, channel_id=channel, ts=ts, author_id=user, text=text)
    runtime.message_gifts.posted(message)
