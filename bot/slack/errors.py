"""One error handler for every listener.

A `UserFacingError` becomes a short ephemeral message. Anything else is logged with a short
reference and the person sees "Something went wrong (ref …)"; Slack never gets a 500 or a stack
trace. A failure after the ack (the listener goes on working once Slack has its answer) is
reported the same way by `report_after_ack`.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)


class UserFacingError(Exception):
    """An error whose message is written for the person who caused it."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def new_ref() -> str:
    return secrets.token_hex(4)


def unexpected_text(ref: str) -> str:
    return (
        f":warning: Something went wrong on my side (ref `{ref}`). Nothing was sent twice. "
        "Please try again, and if it keeps happening, give an admin this ref."
    )


def register_error_handler(app: App, *, decorate: Any = None) -> None:
    """`decorate(payload) -> payload` adds what every message and view carries when it leaves
    (the sandbox notice: `bot.slack.sandbox_notice.noticed`)."""

    def finish(payload: dict[str, Any]) -> dict[str, Any]:
        return decorate(payload) if decorate else payload

    @app.error
    def handle(error: Exception, body: dict[str, Any], client: WebClient) -> BoltResponse:
        text = explain(error)
        payload = finish({"text": text})
        if (body or {}).get("type") == "view_submission":
            view = {
                "type": "modal",
                "title": {"type": "plain_text", "text": "Rewards"},
                "close": {"type": "plain_text", "text": "Close"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            }
            return BoltResponse(
                status=200,
                body=json.dumps({"response_action": "update", "view": finish(view)}),
                headers={"content-type": "application/json"},
            )
        _tell(body or {}, payload, client)
        return BoltResponse(status=200, body="")


def kept_text(ref: str) -> str:
    """A failure after the ack whose request stays in the intake journal: it is finished by
    itself at the next start, so the person must not send it again (it would be done twice)."""
    return (
        f":warning: Something went wrong on my side (ref `{ref}`). I've kept your request and "
        "will finish it by myself as soon as I can, so please don't send it again."
    )


def explain(error: BaseException, *, kept: bool = False) -> str:
    """What the person is told about `error` (logged here: a ref for anything unexpected).
    `kept`: the request could not be marked as ended, so it will be resumed."""
    if isinstance(error, UserFacingError) and not kept:
        log.info("user-facing error: %s", error.message)
        return error.message
    ref = new_ref()
    log.error("unexpected error (ref %s)", ref, exc_info=error)
    return kept_text(ref) if kept else unexpected_text(ref)


def report_after_ack(
    error: BaseException,
    body: dict[str, Any],
    client: WebClient,
    *,
    decorate: Any = None,
    kept: bool = False,
) -> None:
    """A listener failed after Slack had its ack: log it and tell the person, as the error
    handler does for a failure before the ack (through response_url, else a DM)."""
    payload = {"text": explain(error, kept=kept)}
    _tell(body or {}, decorate(payload) if decorate else payload, client)


def _tell(body: dict[str, Any], payload: dict[str, Any], client: WebClient) -> None:
    response_url = body.get("response_url") or next(
        (u.get("response_url") for u in body.get("response_urls") or []), None
    )
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    try:
        if response_url:
            WebhookClient(response_url).send(
                response_type="ephemeral", replace_original=False, **payload
            )
        elif user:
            channel = client.conversations_open(users=user)["channel"]["id"]
            client.chat_postMessage(channel=channel, **payload)
    except Exception:
        log.exception("could not tell the user about an error")
