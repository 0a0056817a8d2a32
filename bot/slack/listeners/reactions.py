"""Emoji reactions that give (REWARD_REACTIONS): `reaction_added` and `reaction_removed`.

Both are journaled before the ack (`bot.slack.journal`, keyed by Slack's event_id, so Slack's
retries are handled once) and acked at once; the work after the ack is one call to
`ReactionService` (`bot.rewards.reactions`). The only Slack call here is `chat.getPermalink`,
for the reward's reason, made only when a reward emoji lands on a message: the bot never
reads the message (no `conversations.history`). A reaction on anything but a message (a file)
or an event of a shape Slack never sends is ignored.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rewards.reactions import Reaction
from bot.slack.ids import Event
from bot.slack.journal import ack_at_once, after_ack

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

_ID_MAX = 64  # Slack's ids and timestamps are far shorter
_EMOJI_MAX = 200  # a name and a skin tone


def register(app: App) -> None:
    app.event(Event.REACTION_ADDED)(ack=ack_at_once, lazy=[reaction_added])
    app.event(Event.REACTION_REMOVED)(ack=ack_at_once, lazy=[reaction_removed])


def _text(value: object, limit: int = _ID_MAX) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def reaction_of(body: dict[str, Any], event: dict[str, Any]) -> Reaction | None:
    """The reaction an event is about, or None when it isn't on a message or has a shape
    Slack never sends."""
    item = event.get("item")
    if not isinstance(item, dict) or item.get("type") != "message":
        return None
    team, channel, ts = (
        _text(body.get("team_id")),
        _text(item.get("channel")),
        _text(item.get("ts")),
    )
    user, emoji = _text(event.get("user")), _text(event.get("reaction"), _EMOJI_MAX)
    event_ts = _text(event.get("event_ts")) or _text(str(body.get("event_time") or ""))
    if not (team and channel and ts and user and emoji and event_ts):
        return None
    author = event.get("item_user")
    return Reaction(
        team_id=team,
        channel_id=channel,
        message_ts=ts,
        reactor_id=user,
        author_id=_text(author),
        emoji=emoji,
        event_ts=event_ts,
    )


def _permalink(client: WebClient, reaction: Reaction) -> str | None:
    try:
        answer = client.chat_getPermalink(
            channel=reaction.channel_id, message_ts=reaction.message_ts
        )
    except SlackApiError as err:
        log.info("no permalink for a reacted message: %s", err.response.get("error"))
        return None
    link = answer.get("permalink")
    if not isinstance(link, str) or not link.startswith(("https://", "http://")):
        return None
    return None if len(link) > 300 or any(c in link for c in "<>| \n\t") else link


@after_ack
def reaction_added(
    body: dict[str, Any], event: dict[str, Any], client: WebClient, runtime: Runtime
) -> None:
    reaction = reaction_of(body, event)
    if reaction is None or not runtime.reactions.gives(reaction.emoji):
        return
    runtime.reactions.added(reaction, link=lambda: _permalink(client, reaction))


@after_ack
def reaction_removed(body: dict[str, Any], event: dict[str, Any], runtime: Runtime) -> None:
    reaction = reaction_of(body, event)
    if reaction is None:
        return
    runtime.reactions.removed(reaction)
