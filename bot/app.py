"""`build_app(runtime)`: the Bolt app, built on demand (nothing happens at import time)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import App

from bot.slack import listeners
from bot.slack.errors import register_error_handler
from bot.slack.sandbox_notice import noticed

if TYPE_CHECKING:
    from bot.runtime import Runtime


def build_app(runtime: Runtime) -> App:
    settings = runtime.settings
    secret = (
        settings.SLACK_SIGNING_SECRET.get_secret_value() if settings.SLACK_SIGNING_SECRET else None
    )
    app = App(
        client=runtime.slack,
        signing_secret=secret,
        # Socket Mode has no signatures to check; over HTTP every request is verified.
        request_verification_enabled=not settings.socket_mode,
        token_verification_enabled=False,  # no auth.test at start: the bot starts offline too
        # Listeners are run by `bot.slack.intake` on its own pool, which returns to Bolt the
        # moment a listener acks; Bolt itself answers as soon as the listener function returns
        # (rather than polling for the ack every 10 ms on another thread).
        process_before_response=True,
        logger=logging.getLogger("bot.slack"),
    )
    register_error_handler(app, decorate=noticed if runtime.sandboxed else None)
    listeners.register(app, runtime)
    return app
