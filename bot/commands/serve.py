"""`rewardbot serve` (and `python -m bot`): run the bot.

Socket Mode when SLACK_APP_TOKEN is set; otherwise HTTP on $PORT under uvicorn, with Slack's
requests at POST /slack/events and GET /healthz. The delivery worker runs inside, and so does the
job scheduler unless `--no-scheduler` is given (for extra web processes; see `rewardbot clock`).
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys

from slack_sdk.errors import SlackApiError

from bot.settings import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)
# How long a stop (SIGTERM, Ctrl-C) waits for the requests in flight before it drops them.
SHUTDOWN_GRACE_SECONDS = 3


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="run the bot (HTTP on $PORT, or Socket Mode)")
    parser.add_argument("--host", default="0.0.0.0", help="HTTP interface (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default $PORT)")
    parser.add_argument(
        "--no-scheduler",
        action="store_true",
        help="don't run the scheduled jobs here (extra web processes; `rewardbot clock` runs them)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.commands.running import start_for

    settings = load_settings()
    if settings.socket_mode:
        _check_app_token(settings)  # before anything is opened: Socket Mode can't work without
    port = args.port or settings.PORT
    # Switch threads more often than CPython's default 5 ms: the threads that acknowledge Slack
    # then wait less behind busy ones (measured in benchmarks/slack_ack.py).
    sys.setswitchinterval(0.001)
    bot = start_for(
        settings, command="serve", slack_requests=True, port=port, scheduler=not args.no_scheduler
    )
    # Everything built so far lives as long as the process: take it out of the collector's
    # sight, so a collection looks only at what requests create (measured in
    # benchmarks/slack_ack.py: the collector was a large share of the bot's CPU per request).
    gc.collect()
    gc.freeze()
    # SIGTERM (what platforms send to stop a process) stops the bot as Ctrl-C does: uvicorn shuts
    # down, then raises the signal again once its own handler is gone; here it ends the process
    # through `finally`, so the workers finish what they started and the journal is closed.
    signal.signal(signal.SIGTERM, _stop)
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            assert settings.SLACK_APP_TOKEN is not None and bot.bolt is not None
            log.info("connecting to Slack in Socket Mode")
            handler = SocketModeHandler(bot.bolt, settings.SLACK_APP_TOKEN.get_secret_value())
            try:
                handler.start()  # connects, then answers Slack until a signal stops serve
            except SlackApiError as err:  # the connection was refused
                raise ConfigError(socket_mode_refused(err)) from None
        else:
            import uvicorn
            from uvicorn.config import LOGGING_CONFIG

            log.info("serving Slack requests at http://%s:%d/slack/events", args.host, port)
            assert bot.web is not None
            uvicorn.run(
                bot.web,
                host=args.host,
                port=port,
                log_level="info",
                access_log=False,
                # Stopping waits this long for the requests in flight, no longer: one stuck
                # behind a held database must not keep the process from stopping (what it was
                # doing is the ledger's, which a stop at any point leaves whole).
                timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
                # LOG_FORMAT=json: uvicorn's lines go through the bot's own handler, as JSON
                log_config=None if settings.LOG_FORMAT == "json" else LOGGING_CONFIG,
            )
    finally:
        bot.stop()
        log.info("serve: stopped")
    return 0


def _check_app_token(settings: Settings) -> None:
    from bot.checks.lines import Status
    from bot.checks.slack import app_token

    found = app_token(settings)
    if found.status is Status.FAIL:
        raise ConfigError(found.text)


def socket_mode_refused(err: SlackApiError) -> str:
    """One line for an app-level token Slack won't open a Socket Mode connection with."""
    code = str(err.response.get("error") or "refused") if err.response else "refused"
    return (
        f"SLACK_APP_TOKEN: Slack refused the app-level token ({code}). Make one with the "
        "connections:write scope under Basic Information, App-Level Tokens, and set it; or unset "
        "it to serve HTTP"
    )


def _stop(signum: int, _frame: object) -> None:
    log.info("serve: stopping (%s)", signal.Signals(signum).name)
    raise SystemExit(0)
