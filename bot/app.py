"""`build_app(runtime)`: the Bolt app, built on demand (nothing happens at import time).

An ordinary Bolt app: global middleware puts the running bot's services in `context["runtime"]`
(listeners name it as an argument, as they name `ack` or `body`) and records each request in
the intake journal before its listener runs (`bot.slack.journal`); listeners ack in the
request's thread (`process_before_response`, so Bolt answers Slack as soon as the ack function
returns) and do the rest as lazy listeners on Bolt's `listener_executor`; one `@app.error`
handler answers failures (`bot.slack.errors`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack import listeners
from bot.slack.errors import register_error_handler

if TYPE_CHECKING:
    from bot.runtime import Runtime

Middleware = Callable[..., Any]


class SharedClient(WebClient):
    """The Web API client every request's listeners get (`context.client`): one for the app,
    never copied. Bolt makes a client per request and deep-copies it, with the rest of the
    request, for each lazy listener: a third of the CPU of an acknowledged `/reward` went on
    that copy. The bot has one token and never changes a client's, so they share one."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedClient:
        return self


def _one_client(client: WebClient) -> Middleware:
    shared = SharedClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        logger=client.logger,
        retry_handlers=list(client.retry_handlers),
    )

    def one_client(context: BoltContext, next_: Callable[[], None]) -> None:
        context["client"] = shared
        for made_with_it in ("say", "complete", "fail"):  # Bolt makes them again when asked,
            context.pop(made_with_it, None)  # with the shared client
        next_()

    return one_client


def build_app(runtime: Runtime, *, middleware: Sequence[Middleware] = ()) -> App:
    """`middleware` runs before the bot's own (an add-on's: `bot.startup.AddOn`)."""
    app = App(
        client=runtime.slack,
        signing_secret=runtime.settings.signing_secret,
        # Over HTTP the request gate (`bot.slack.gate`) has verified every request before Bolt
        # sees it; Socket Mode has no signatures to check.
        request_verification_enabled=False,
        token_verification_enabled=False,  # no auth.test at start: the bot starts offline too
        process_before_response=True,
        listener_executor=runtime.listener_executor,
        logger=logging.getLogger("bot.slack"),
    )
    app.use(_one_client(app.client))
    for extra in middleware:
        app.use(extra)

    def provide_runtime(context: BoltContext, next_: Callable[[], None]) -> None:
        context["runtime"] = runtime
        next_()

    app.use(provide_runtime)
    app.use(runtime.requests.middleware)
    register_error_handler(app)
    listeners.register(app)
    return app
