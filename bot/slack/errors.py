"""One error handler for every listener, before the ack and after it.

A `UserFacingError` becomes a short ephemeral message. Anything else is logged with a short
reference and the person sees "Something went wrong (ref …)"; Slack never gets a 500 or a stack
trace. `report` is the rule, shared by Bolt's `@app.error` handler (a failure before the ack) and
`bot.slack.journal.after_ack` (a failure in the work after it): the request's journal entry is
ended, so the person can safely try again, or, when that cannot be recorded, kept to be finished
by itself later, and the person is told not to send it again. A request resumed after a restart
that fails says so.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.slack.blocks.common import text_only
from bot.slack.blocks.kit import plain, section
from bot.slack.request_entry import NOT_FINISHED, entry_of, stop_work

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


def kept_text(ref: str) -> str:
    """A failure whose request stays in the intake journal: it is finished by itself later, so
    the person must not send it again (it would be done twice)."""
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
    log.error("unexpected error (ref %s)", ref, exc_info=error, extra={"ref": ref})
    return kept_text(ref) if kept else unexpected_text(ref)


def failure_text(error: BaseException, context: BoltContext) -> str | None:
    """End the request's journal entry after `error` and say what the person is told (None:
    nothing, for a resumed request that stays pending and is tried again)."""
    entry = entry_of(context)
    ended = True
    if entry is not None and entry.act:
        ended = entry.ended()
        stop_work(context)
    if entry is not None and entry.resumed:
        ref = new_ref()
        log.error("resuming a request failed (ref %s)", ref, exc_info=error, extra={"ref": ref})
        return NOT_FINISHED if ended else None
    return explain(error, kept=not ended)


def report(error: BaseException, context: BoltContext) -> None:
    """A listener's work failed after Slack had its ack: end its entry and tell the person."""
    text = failure_text(error, context)
    if text is not None:
        tell(context, text_only(text))


def register_error_handler(app: App) -> None:
    @app.error
    def handle(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse:
        text = failure_text(error, context)
        if text is None:
            return BoltResponse(status=200, body="")
        if (body or {}).get("type") == "view_submission":
            view = {
                "type": "modal",
                "title": plain("Rewards", 24),
                "close": plain("Close", 24),
                "blocks": [section(text)],
            }
            ack = context.ack
            ack(response_action="update", view=view)
            return ack.response or BoltResponse(status=200, body="")
        tell(context, text_only(text))
        return BoltResponse(status=200, body="")


def tell(context: BoltContext, payload: dict[str, Any]) -> None:
    """An answer only this person sees: through the request's response_url when it has one (a
    resumed request's `LateReply` falls back to a DM), else by DM."""
    entry = entry_of(context)
    try:
        respond = context.respond
        if respond is not None and (context.response_url or (entry and entry.resumed)):
            respond(response_type="ephemeral", replace_original=False, **payload)
            return
        user = context.user_id
        client = context.client
        if user and client is not None:
            channel = client.conversations_open(users=user)["channel"]["id"]
            client.chat_postMessage(channel=channel, **payload)
    except Exception:
        log.exception("could not tell the user about an error")
