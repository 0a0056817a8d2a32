"""The shortcuts: "Send a reward" (global) and "Reward this message" (on a message).

Both acknowledge at once and open the reward modal. "Reward this message" starts it with the
message's author as the recipient (unless that is a bot or the person clicking) and a citation
that links to the message: the link comes from `chat.getPermalink`, asked with a short timeout
so the trigger_id (three seconds) is still good; when that fails, the link is built from the
workspace's domain, and without one the citation just thanks them for the message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rewards.cards import MessageRef
from bot.rewards.states import RewardSource
from bot.slack.blocks.common import text_only
from bot.slack.blocks.give_modal import RewardModalMetadata, message_citation
from bot.slack.ids import Shortcut
from bot.slack.journal import ack_at_once, after_ack
from bot.slack.listeners.open_modal import COULD_NOT_OPEN, open_reward_modal

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PERMALINK_TIMEOUT_SECONDS = 1  # WebClient takes whole seconds


def register(app: App) -> None:
    app.shortcut(Shortcut.SEND_REWARD)(ack=ack_at_once, lazy=[send_reward])
    app.shortcut(Shortcut.REWARD_MESSAGE)(ack=ack_at_once, lazy=[reward_message])


@after_ack
def send_reward(body: dict[str, Any], runtime: Runtime) -> None:
    user_id = body["user"]["id"]
    opened = open_reward_modal(
        runtime,
        trigger_id=body.get("trigger_id") or "",
        user_id=user_id,
        metadata=RewardModalMetadata(source=RewardSource.SHORTCUT),
    )
    if not opened:
        runtime.notifier.answer(user_id, text_only(COULD_NOT_OPEN))


@after_ack
def reward_message(body: dict[str, Any], runtime: Runtime) -> None:
    user_id = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or ""
    message = body.get("message") or {}
    ts = str(body.get("message_ts") or message.get("ts") or "")
    author = message_author(message, clicker=user_id)
    quick = WebClient(
        token=runtime.slack.token,
        base_url=runtime.slack.base_url,
        timeout=PERMALINK_TIMEOUT_SECONDS,
    )
    link = permalink(quick, channel=channel, ts=ts) or fallback_permalink(
        domain=(body.get("team") or {}).get("domain"), channel=channel, ts=ts
    )
    opened = open_reward_modal(
        runtime,
        trigger_id=body.get("trigger_id") or "",
        user_id=user_id,
        metadata=RewardModalMetadata(
            source=RewardSource.SHORTCUT,
            channel_id=channel or None,
            message=MessageRef(channel_id=channel, ts=ts) if channel and ts else None,
        ),
        initial_users=(author,) if author else (),
        initial_citation=message_citation(link),
    )
    if not opened:
        runtime.notifier.answer(user_id, text_only(COULD_NOT_OPEN))


def message_author(message: dict[str, Any], *, clicker: str) -> str | None:
    """Who to prefill: the message's author, unless a bot wrote it or it is the clicker's own."""
    author = message.get("user")
    if not isinstance(author, str) or not author or author == clicker:
        return None
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    return author


def permalink(client: WebClient, *, channel: str, ts: str) -> str | None:
    if not channel or not ts:
        return None
    try:
        found = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as err:
        log.info("no permalink for a rewarded message: %s", err.response.get("error"))
        return None
    except OSError as err:  # timeouts and connection errors: the fallback will do
        log.info("no permalink for a rewarded message: %s", type(err).__name__)
        return None
    return found if isinstance(found, str) and found.startswith(("https://", "http://")) else None


def fallback_permalink(*, domain: str | None, channel: str, ts: str) -> str | None:
    """The link Slack would give, built from the workspace's domain (no thread parameters)."""
    if not domain or not channel or not ts or not domain.replace("-", "").isalnum():
        return None
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
