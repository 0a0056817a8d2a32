"""The one start-up: how `rewardbot serve`, `rewardbot clock`, `rewardbot jobs run`, the
playground and the tests build and start the bot, always in this order:

1. build: `Runtime.build` (the ledger checked and migrated, the clients, the services, wired);
2. start: the intake journal's writer, rewards a crash left mid-send recovered (in doubt),
   the delivery and order workers (`Runtime.start`);
3. the audit chain's head anchored outside the database, and again within AUDIT_ANCHOR_SECONDS
   of each audit event this process commits (`bot.jobs.audit_anchor.watch`);
4. the Bolt app (`bot.app.build_app`) with its middleware;
5. what a crash left unfinished resumed, in the background, then swept for now and then;
6. the web app (`bot.web`): Slack's requests, /healthz, /livez, /readyz and /metrics, the
   StoreFront routes, Xoxoday's webhook;
7. the scheduled jobs, when asked for.

`stop()` undoes it, newest first. What is started depends on the process: `serve` answers Slack
(`slack_requests`) and delivers (`worker`); `clock` runs only the jobs; `jobs run` none of it.

An `AddOn` gives what does not come from the settings (a stand-in for Xoxoday that the commands
start when asked for it by name, `bot.simulators.embedded`); the start-up knows nothing more of
what it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from starlette.applications import Starlette

from bot.app import Middleware, build_app
from bot.health import Health
from bot.offload import Offload
from bot.plum import PlumClient
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack.journal import STALE_AFTER

if TYPE_CHECKING:
    from bot.jobs.scheduler import JobScheduler
    from bot.plum_webhook_web import PlumWebhookWeb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddOn:
    """What a start-up is given besides the settings.

    `settings`: the settings the bot runs with, made from the configured ones (defaults the
    add-on supplies; the ledger's settings log keeps the configured ones); `plum_base_url`:
    where the Plum client goes instead of PLUM_BASE_URL; `slack`: the Slack client made from
    the usual one; `middleware`: Bolt middleware run before the bot's own; `health`: added to
    every /healthz report; `stop`: run after the bot has stopped."""

    settings: Callable[[Settings], Settings] = lambda settings: settings
    plum_base_url: str | None = None
    slack: Callable[[WebClient], WebClient] = lambda client: client
    middleware: Sequence[Middleware] = ()
    health: Mapping[str, object] = field(default_factory=dict)
    stop: Callable[[], None] = lambda: None


@dataclass
class Bot:
    """A started bot: its services (`runtime`), and what this process runs of it."""

    runtime: Runtime
    health: Health
    bolt: App | None = None  # answering Slack (serve): the Bolt app, for Socket Mode
    web: Starlette | None = None  # … and the web app, for HTTP
    scheduler: JobScheduler | None = None
    resuming: threading.Thread | None = None
    plum_webhook: PlumWebhookWeb | None = None
    offloads: list[Offload] = field(default_factory=list)  # the web app's threads
    addon: AddOn | None = None
    _stopped: bool = False

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.plum_webhook is not None:
            self.plum_webhook.stop()
        for offload in self.offloads:
            offload.close()
        self.runtime.stop()
        if self.addon is not None:
            self.addon.stop()


def start_bot(
    settings: Settings,
    *,
    addon: AddOn | None = None,
    slack_requests: bool = True,
    worker: bool = True,
    scheduler: bool = False,
    anchor: bool = True,
    watch_audit: bool | None = None,
    slack: WebClient | None = None,
    plum: PlumClient | None = None,
    plum_timeout: float | None = None,
    worker_threads: int = 4,
) -> Bot:
    """Build and start the bot (the module's docstring says in what order). `slack_requests`:
    answer Slack (the Bolt app, resuming, the web app) and recover interrupted sends; `worker`:
    deliver rewards and place orders; `scheduler`: run the scheduled jobs; `anchor`: anchor the
    audit chain at start; `watch_audit` (default: as `anchor`): anchor it within
    AUDIT_ANCHOR_SECONDS of each audit event this process commits, and as it stops. `slack`
    and `plum` given are used as they are (tests)."""
    extra = addon or AddOn()
    try:
        runtime = Runtime.build(
            extra.settings(settings),
            recorded=settings,
            slack=slack,
            plum=plum,
            plum_base_url=extra.plum_base_url,
            plum_timeout=plum_timeout,
            worker_threads=worker_threads,
            wrap_slack=extra.slack,
        )
    except BaseException:
        extra.stop()
        raise
    bot = Bot(runtime=runtime, health=Health(runtime, extra=extra.health), addon=extra)
    try:
        if anchor if watch_audit is None else watch_audit:
            from bot.jobs.audit_anchor import watch

            runtime.anchoring = watch(runtime)  # before anything can append an event
        runtime.start(requests=slack_requests, worker=worker)
        if anchor:
            from bot.jobs.audit_anchor import anchor_at_start

            anchor_at_start(runtime)
        if slack_requests:
            bot.bolt = build_app(runtime, middleware=extra.middleware)
            bot.resuming = resume_unfinished(runtime, bot.bolt)
            bot.web, bot.plum_webhook, bot.offloads = _web_app(runtime, bot.bolt, bot.health)
        if scheduler:
            from bot.jobs.registry import JOBS
            from bot.jobs.scheduler import JobScheduler

            bot.scheduler = JobScheduler(runtime=runtime, jobs=JOBS)
            bot.scheduler.start()
    except BaseException:
        bot.stop()
        raise
    return bot


def resume_unfinished(runtime: Runtime, app: App) -> threading.Thread:
    """In the background, resume the requests a crash left unfinished; with several processes,
    keep sweeping for those a dead process left."""

    def resume() -> None:
        # Alone on SQLite: everything pending was left by a crash. Sharing PostgreSQL: what a
        # gone process of this host left, or what nobody has touched for a while.
        runtime.requests.resume(app, stale_after=STALE_AFTER if runtime.store.is_postgres else None)
        runtime.requests.start_sweeping(app)

    thread = threading.Thread(target=resume, name="intake-resume", daemon=True)
    thread.start()
    return thread


def _web_app(
    runtime: Runtime, app: App, health: Health
) -> tuple[Starlette, PlumWebhookWeb | None, list[Offload]]:
    """The web app: Slack's requests, health, the probes and metrics, the StoreFront routes
    when points live in the bot, Xoxoday's delivery webhook when it has a key; and the threads
    it offloads requests to (`bot.offload`: closed when the bot stops)."""
    from bot.probes_web import ProbesWeb
    from bot.web import SLACK_THREADS, create_web_app

    offloads = [Offload("slack", threads=SLACK_THREADS)]
    storefront = None
    if runtime.storefront is not None and runtime.redeem is not None:
        from bot.storefront_web import StoreFrontWeb, storefront_threads

        storefront = StoreFrontWeb(
            service=runtime.storefront,
            redeem=runtime.redeem,
            allowed=tuple(runtime.settings.STOREFRONT_ALLOWED_IPS),
            offload=storefront_threads(runtime.store.max_connections),
        )
        offloads.append(storefront.offload)
    webhook = None
    key = runtime.settings.plum_webhook_api_key
    if key is not None:
        from bot.plum_webhook_web import PlumWebhookWeb

        webhook = PlumWebhookWeb(service=runtime.order_updates, api_key=key)
    web = create_web_app(
        bolt_app=app,
        health=health.report,
        signing_secret=runtime.settings.signing_secret,
        foreground=runtime.foreground,
        storefront=storefront,
        plum_webhook=webhook,
        probes=ProbesWeb(
            readiness=health.readiness,
            metrics=runtime.metrics,
            metrics_token=runtime.settings.metrics_token,
        ),
        metrics=runtime.metrics,
        offload=offloads[0],
    )
    return web, webhook, offloads
