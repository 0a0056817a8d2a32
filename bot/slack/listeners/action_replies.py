"""What button listeners share: who clicked, on what, and how to answer only them.

A click in a message (a DM or an ephemeral list) carries a `response_url`: the answer is an
ephemeral message there. A click in a view (the App Home) has none: the answer goes to the
clicker's DM with the bot.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rewards.cards import MessageRef
from bot.slack.blocks.common import text_only
from bot.slack.blocks.kit import plain, section
from bot.slack.listeners.in_time import soon

if TYPE_CHECKING:
    from bot.runtime import Runtime

NOTICE_TITLE_MAX = 24

log = logging.getLogger(__name__)


def user_of(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def team_of(body: dict[str, Any]) -> str:
    team = body.get("team") or {}
    return str(team.get("id") or (body.get("user") or {}).get("team_id") or "")


def action_value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "").strip()


def id_value(value: object) -> int | None:
    """A row id a button or option carried: ASCII digits that fit a 64-bit column, else None
    (`str.isdigit` also takes "²" and "١", which int() refuses or the database can't hold)."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    return None


def container(body: dict[str, Any]) -> dict[str, Any]:
    return body.get("container") or {}


def is_ephemeral(body: dict[str, Any]) -> bool:
    return bool(container(body).get("is_ephemeral"))


def clicked_message(body: dict[str, Any]) -> MessageRef | None:
    """The (non-ephemeral) message the button was in, to update it; None for views and
    ephemeral messages, which chat.update can't reach."""
    box = container(body)
    if box.get("type") != "message" or box.get("is_ephemeral"):
        return None
    channel = box.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = box.get("message_ts")
    if not channel or not ts:
        return None
    return MessageRef(channel_id=str(channel), ts=str(ts))


def tell(runtime: Runtime, body: dict[str, Any], respond: Respond | None, text: str) -> None:
    """An answer only the clicker sees."""
    payload = text_only(text)
    if respond is not None and body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, **payload)
        return
    user = user_of(body)
    if user:
        runtime.notifier.answer(user, payload)


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (e.g. a modal submission that came too late)."""
    return {
        "type": "modal",
        "title": plain(title, NOTICE_TITLE_MAX),
        "close": plain("Close", NOTICE_TITLE_MAX),
        "blocks": [section(text)],
    }


def open_soon(
    slack: WebClient,
    *,
    trigger_id: str,
    build: Callable[[], dict[str, Any]],
    waiting: dict[str, Any],
    what: str,
) -> bool:
    """Open the view `build` makes (it may wait on Xoxoday). A click's trigger lasts 3 s: if
    `build` takes longer than `in_time.FIRST_ANSWER_SECONDS`, the `waiting` view opens first
    and the built one takes its place when it comes (unless it was closed meanwhile). False
    when Slack would not open it (the trigger ran out)."""
    shown: dict[str, Any] = {}

    def open_now(view: dict[str, Any]) -> None:
        try:
            answer = slack.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as err:
            log.info("could not open %s: %s", what, err.response.get("error"))
            return
        shown.update(answer.get("view") or {})

    view = soon(build, meanwhile=lambda: open_now(waiting))
    if not shown.get("id"):
        open_now(view)
        return bool(shown.get("id"))
    try:
        slack.views_update(view_id=shown["id"], view=view)
    except SlackApiError as err:  # closed meanwhile
        log.info("could not show %s: %s", what, err.response.get("error"))
    return True
