"""The playground in one process: the bot, the Plum sandbox, and a stand-in Slack with a page.

One HTTP server on 127.0.0.1 serves, under one port:
- `/`            the page (`/static/…` its script and styles, `/ui/…` its endpoints),
- `/slack/…`     the fake Slack Web API (`bot.simulators.fakeslack`), which the bot's
                 SLACK_API_URL names
                 (its permalinks, /slack/archives/…, open the message on the page),
- `/bot/…`       the bot's own ASGI app (`bot.web`): Slack's requests at /bot/slack/events
                 (and, with `storefront=True`, the StoreFront endpoints at /bot/storefront/…).
The embedded Plum sandbox (`bot.simulators.embedded`) runs beside them, on its own loopback
port; the bot is started through the one start-up (`bot.startup`) with its add-on.
With `storefront=True` points live in the bot (REWARD_POINT_SYSTEM=storefront): the sandbox's
store, which Redeem opens in the browser, spends them through the bot's /bot/storefront/….
State lives in the state directory: the bot's ledger (rewardbot.db), the sandbox's account, and
the Slack side (slack.db: messages and DMs with their edits, App Homes, files, people added);
ephemeral messages and open modals are gone after a restart, as in Slack.

    playground = Playground(state_dir=Path("playground-data"), port=0).start()
    ...  # playground.url
    playground.stop()
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import sqlite3
import threading
import time
import zlib
from datetime import date
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.simulators.embedded import EmbeddedSandbox
from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.fakeslack.sqlite_store import SqliteWorkspaceStore
from bot.simulators.playground import config
from bot.simulators.playground.api import Ui
from bot.simulators.playground.clock import PlaygroundClock, read_offset
from bot.simulators.playground.jobs import available_jobs
from bot.simulators.playground.sandbox_view import SandboxView, sandbox_view
from bot.simulators.playground.screens import Screens
from bot.simulators.playground.session import Visitors
from bot.startup import Bot, start_bot
from bot.startup_checks import PointSystemConflict
from storage import clock, queries

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 15.0
EXPIRY_HORIZON_DAYS = 366 * 10  # REWARD_EXPIRY_MONTHS is at most 120
SLACK_DATABASE = "slack.db"
BOT_MOUNT = "/bot"  # where the bot's web app is served under the page's port
STATIC = resources.files("bot.simulators.playground") / "static"


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


async def favicon(request: Request) -> Response:
    """The page's icon (an SVG), also where browsers look by themselves."""
    return Response(
        (STATIC / "favicon.svg").read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "max-age=86400"},
    )


class PlaygroundError(Exception):
    """The playground can't start here (port taken, state directory unusable); the message
    says what to change."""


def _open_slack(state_dir: Path) -> tuple[Workspace, SqliteWorkspaceStore]:
    """The demo workspace with what the last run left in `state_dir`, writing each change back."""
    path = state_dir / SLACK_DATABASE
    try:
        store = SqliteWorkspaceStore(path=path)
    except sqlite3.Error as err:
        raise PlaygroundError(
            f"can't use the Slack state in {path} ({err}); move it away to start afresh"
        ) from None
    workspace = Workspace.demo()
    try:
        workspace.restore(store)
    except (sqlite3.Error, ValueError, KeyError, TypeError) as err:
        store.close()
        raise PlaygroundError(
            f"can't read the Slack state in {path} ({err}); move it away to start afresh"
        ) from None
    workspace.attach(store)
    return workspace, store


def _other_mode(conflict: PointSystemConflict, state_dir: Path) -> PlaygroundError:
    """One line for a state directory made in the other point system (the ledger keeps its
    own: `bot.runtime.PointSystemConflict`)."""
    made = "with" if conflict.recorded.value == "storefront" else "without"
    where = "in the bot" if made == "with" else "at Xoxoday"
    return PlaygroundError(
        f"the state directory {state_dir} holds {conflict.rewards} reward(s) made {made} "
        f"--storefront (points {where}); run it {made} --storefront, or pick another "
        "--state-dir"
    )


class Playground:
    def __init__(self, *, state_dir: Path, port: int = 3000, storefront: bool = False) -> None:
        self.state_dir = state_dir
        self.storefront = storefront
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise PlaygroundError(
                f"can't use the state directory {state_dir} ({err.strerror})"
            ) from None
        workspace, self._slack_store = _open_slack(state_dir)
        try:
            self._socket = _bind(HOST, port)
        except OSError as err:
            self._slack_store.close()
            raise PlaygroundError(
                f"can't listen on {HOST}:{port} ({err.strerror}); pick another --port"
            ) from None
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}/"
        signing_secret, bot_token = config.new_secrets()
        api_key = config.new_storefront_api_key() if storefront else None
        self.fake = FakeSlack(
            workspace=workspace, bot_token=bot_token, public_url=self.url + "slack/"
        )
        self.settings = config.playground_settings(
            state_dir=state_dir,
            slack_api_url=self.fake.api_url,
            signing_secret=signing_secret,
            bot_token=bot_token,
            storefront_api_key=api_key,
        )
        # The clock before the bot: the ledger, the sandbox and Slack's messages carry on in
        # the future the last run left them in (bot.simulators.playground.clock).
        clock.reset()
        clock.set_offset(read_offset(state_dir))
        try:
            embedded = EmbeddedSandbox.start(self.settings)
            self.sandbox = embedded.server
            self.bot: Bot = start_bot(self.settings, addon=embedded.addon())
        except BaseException as err:
            self._socket.close()
            self._close_slack()
            clock.reset()
            if isinstance(err, PointSystemConflict):
                raise _other_mode(err, state_dir) from None
            raise
        self.runtime = self.bot.runtime
        # Its store and webhooks call the bot's endpoints where this server mounts the bot's app.
        embedded.connect(self.bot_url)
        self.clock = PlaygroundClock(
            runtime=self.runtime, state_dir=state_dir, earliest_expiry=self._earliest_expiry
        )
        self.visitors = Visitors(
            fake=self.fake,
            bot_url=self.bot_url + "/slack/events",
            signing_secret=signing_secret,
            admins=self.settings.REWARD_ADMINS,
            approvers=self.settings.REWARD_APPROVERS,
        )
        self.job_results: dict[str, str] = {}
        self.clock_log: list[str] = []  # what the last jump did
        self.stopping = threading.Event()
        self._stopped = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    def __repr__(self) -> str:
        return f"Playground({self.url}, state_dir={str(self.state_dir)!r})"

    @property
    def bot_url(self) -> str:
        """The root of the bot's web app here (no trailing slash)."""
        return f"http://{HOST}:{self.port}{BOT_MOUNT}"

    # ------------------------------------------------------------------ what the page reads
    def version(self) -> str:
        """Changes whenever the workspace or the sandbox does (what the page waits on): its
        requests, its faults, however they were set, and its store's orders and refunds."""
        sandbox = self.sandbox
        ahead = f"{clock.offset().total_seconds():.0f}"
        faults = zlib.crc32(json.dumps(sandbox.faults.to_json(), sort_keys=True).encode())
        orders = sandbox.state.store.orders()
        store = f"{len(orders)}-{sum(len(o.refunds) for o in orders)}"
        return f"{self.fake.workspace.version}.{len(sandbox.requests)}.{faults:x}.{ahead}.{store}"

    def sandbox_view(self) -> SandboxView | None:
        return sandbox_view(self.sandbox, users=self.fake.workspace.users())

    def sandbox_json(self) -> dict[str, Any] | None:
        found = self.sandbox_view()
        return found.as_json() if found is not None else None

    def _earliest_expiry(self, on_or_after: date) -> date | None:
        """The first day delivered points expire on, on or after `on_or_after` (the ledger's)."""
        with self.runtime.store.read_session() as session:
            found = queries.expiring_points(
                session, within_days=EXPIRY_HORIZON_DAYS, today=on_or_after, limit=1
            )
        return found[0].expires_on if found else None

    def about(self) -> str:
        points = (
            "Points live in the bot (StoreFront): Redeem opens the sandbox's store, which spends "
            "them from the bot's ledger. "
            if self.storefront
            else ""
        )
        return (
            "Everything here is local: the bot runs in this process against a fake Slack and "
            "the Plum sandbox. "
            + points
            + "Admin: Ada Lovelace · approver: Arthur Approver · rewards of "
            f"{config.APPROVAL_THRESHOLD} points or more need approval · company values: "
            + ", ".join(f"#{v}" for v in config.COMPANY_VALUES)
            + f" · state in {self.state_dir}."
        )

    # ------------------------------------------------------------------ the app
    def _build_app(self) -> Starlette:
        bot_app = self.bot.web
        assert bot_app is not None  # it answers Slack
        screens = Screens(
            fake=self.fake,
            visitors=self.visitors,
            sandbox=self.sandbox_view,
            jobs=available_jobs,
            job_results=self.job_results,
            clock=self.clock,
            clock_log=self.clock_log,
            reactions=list(self.settings.REWARD_REACTIONS),
        )
        template = Template((STATIC / "index.html").read_text(encoding="utf-8"))
        ui = Ui(
            fake=self.fake,
            visitors=self.visitors,
            screens=screens,
            template=template,
            version=self.version,
            runtime=self.runtime,
            sandbox=self.sandbox,
            sandbox_json=self.sandbox_json,
            job_results=self.job_results,
            clock=self.clock,
            clock_log=self.clock_log,
            about=self.about(),
            stopping=self.stopping,
        )
        e = ui.endpoint
        return Starlette(
            routes=[
                Route("/", e(ui.page), methods=["GET"]),
                Route("/ui/pane", e(ui.pane), methods=["GET"]),
                Route("/ui/wait", e(ui.wait), methods=["GET"]),
                Route("/ui/send", e(ui.send), methods=["POST"]),
                Route("/ui/action", e(ui.action), methods=["POST"]),
                Route("/ui/submit", e(ui.submit), methods=["POST"]),
                Route("/ui/suggest", e(ui.suggest), methods=["POST"]),
                Route("/ui/close", e(ui.close), methods=["POST"]),
                Route("/ui/shortcut", e(ui.shortcut), methods=["POST"]),
                Route("/ui/react", e(ui.react), methods=["POST"]),
                Route("/ui/jobs/run", e(ui.run_job), methods=["POST"]),
                Route("/ui/clock", e(ui.jump_clock), methods=["POST"]),
                Route("/ui/sandbox", e(ui.sandbox), methods=["GET"]),
                Route("/ui/sandbox/faults", e(ui.set_fault), methods=["POST"]),
                Route("/ui/sandbox/faults/clear", e(ui.clear_fault), methods=["POST"]),
                Route("/favicon.ico", favicon, methods=["GET"]),
                Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
                Route("/slack/archives/{channel}/{stamp}", e(ui.permalink), methods=["GET"]),
                Mount("/slack", app=self.fake.app),
                Mount(BOT_MOUNT, app=bot_app),
            ]
        )

    # ------------------------------------------------------------------ lifecycle
    def _uvicorn(self) -> uvicorn.Server:
        config_ = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config_)
        return self._server

    def start(self) -> Playground:
        """Serve in a daemon thread; returns once the page answers."""
        server = self._uvicorn()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[self._socket])),
            name="playground",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the playground did not start")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve until Ctrl-C or SIGTERM; then stop everything, in order."""
        self.start()
        asked = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: asked.set())
        try:
            while not asked.wait(0.5):
                if self._thread is None or not self._thread.is_alive():
                    break
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stop()

    def stop(self) -> None:
        """The bot first (the delivery worker finishes what it started, telling people through
        the fake Slack, which is still served), then the server."""
        if self._stopped:
            return
        self._stopped = True
        self.stopping.set()
        self.bot.stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.visitors.close()
        self._socket.close()
        self._close_slack()
        clock.reset()

    def _close_slack(self) -> None:
        self.fake.workspace.detach()
        self._slack_store.close()
