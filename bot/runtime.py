"""Everything a running bot holds, built from the settings in one place.

`Runtime.build(settings)` opens the ledger (migrating SQLite by itself, refusing a PostgreSQL
database that is behind), starts the embedded Plum sandbox when PLUM_BASE_URL=sandbox (its state
kept beside the database, so it survives restarts), builds the Plum and Slack clients, the
services and the delivery worker. `start()` recovers rewards a crash left in `sending` and starts
the worker; `stop()` undoes it all. Tests build one Runtime each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot.foreground import Foreground
from bot.plum import PlumClient, PlumError, TokenStoreError, build_client
from bot.plum.builder import sandbox_credentials
from bot.plum.client import DEFAULT_TIMEOUT
from bot.rewards.approvals import ApprovalService
from bot.rewards.balances import BalanceService
from bot.rewards.cancel_service import CancelService
from bot.rewards.catalogue import Catalogue
from bot.rewards.delivery import DeliveryWorker
from bot.rewards.gifts import GiftService
from bot.rewards.home import AccountBalanceCache, HomeService
from bot.rewards.link_service import LinkService
from bot.rewards.lists import ListsService
from bot.rewards.managers import ManagersService
from bot.rewards.order_reports import OrderReportService
from bot.rewards.order_updates import OrderUpdates
from bot.rewards.order_worker import OrderWorker
from bot.rewards.redeem import RedeemService
from bot.rewards.redelivery import RetryPlan
from bot.rewards.service import RewardService
from bot.rewards.settle import SettleService
from bot.rewards.storefront import StoreFrontService
from bot.settings import ConfigError, Settings
from bot.slack import log_privacy
from bot.slack.blocks import approvals as approval_blocks
from bot.slack.gift_notices import SlackGiftNotices
from bot.slack.home_refresh import HomeRefresher
from bot.slack.intake import STALE_AFTER, Intake
from bot.slack.notifier import Notifier
from bot.slack.people import People
from bot.slack.sandbox_notice import NoticingWebClient
from storage import Store, clock, point_system, settings_log, store_from_settings
from storage.errors import SetupError
from storage.health import DAMAGED, describe, write_problem
from storage.intake import IntakeJournal, journal_url
from storage.migrations import ensure_current
from storage.states import PointSystem
from storage.urls import beside_database, sqlite_path

if TYPE_CHECKING:
    from bot.plum_webhook_web import PlumWebhookWeb
    from bot.simulators.plum_sandbox import SandboxServer
    from bot.storefront_web import StoreFrontWeb

log = logging.getLogger(__name__)

PLUM_PROBE_SECONDS = 30.0  # /healthz asks Xoxoday at most this often
PLUM_PROBE_WAIT_SECONDS = 3.0  # and waits this long for an answer before saying it is slow

SANDBOX_SENDER_EMAIL = "rewards-admin@sandbox.example"
# The rules that shape rewards: recorded at start, each change audited.
AUDITED_SETTINGS = (
    "PLUM_BASE_URL",
    "PLUM_SENDER_EMAIL",
    "REWARD_POINT_SYSTEM",
    "REWARD_ADMINS",
    "REWARD_APPROVERS",
    "REWARD_APPROVAL_THRESHOLD",
    "REWARD_MAX_PER_REWARD",
    "REWARD_ALLOWANCE",
    "REWARD_EXPIRY_MONTHS",
    "REWARD_VALUES",
    "REWARD_ANNOUNCE_CHANNEL",
    "REWARD_LOW_BALANCE",
    "REWARD_TIMEZONE",
)


def sandbox_state_path(settings: Settings) -> Path:
    return beside_database(settings.DATABASE_URL, ".sandbox.json") or Path("rewardbot.sandbox.json")


SANDBOX_STOREFRONT_API_KEY = "sandbox-storefront-api-key"
POINT_SYSTEM_NAMES = {
    PointSystem.PLUM: "at Xoxoday (plum)",
    PointSystem.STOREFRONT: "in the bot (storefront)",
}


def storefront_api_key(settings: Settings) -> str:
    """GetProfile's api_key: STOREFRONT_API_KEY, or a fixed one with the sandbox."""
    key = settings.STOREFRONT_API_KEY
    if key is not None and key.get_secret_value():
        return key.get_secret_value()
    if settings.uses_sandbox:
        return SANDBOX_STOREFRONT_API_KEY
    raise ConfigError(
        "STOREFRONT_API_KEY: is required with REWARD_POINT_SYSTEM=storefront (the key "
        "Xoxoday's store sends to GetProfile)"
    )


SANDBOX_WEBHOOK_API_KEY = "sandbox-webhook-api-key"


def plum_webhook_api_key(settings: Settings) -> str | None:
    """The x-api-key of POST /webhooks/plum: PLUM_WEBHOOK_API_KEY, or a fixed one with the
    embedded sandbox; None: the route is not served."""
    key = settings.PLUM_WEBHOOK_API_KEY
    if key is not None and key.get_secret_value():
        return key.get_secret_value()
    return SANDBOX_WEBHOOK_API_KEY if settings.uses_sandbox else None


def point_system_of(settings: Settings) -> PointSystem:
    return PointSystem(settings.REWARD_POINT_SYSTEM)


class PointSystemConflict(ConfigError):
    """The database holds rewards made in the other point system (one line saying why);
    `recorded`, `wanted` and `rewards` for callers that word it their own way (the
    playground's --state-dir)."""

    def __init__(self, *, recorded: PointSystem, wanted: PointSystem, rewards: int) -> None:
        super().__init__(
            f"REWARD_POINT_SYSTEM: this database holds {rewards} reward(s) whose points live "
            f"{POINT_SYSTEM_NAMES[recorded]}; start with REWARD_POINT_SYSTEM={recorded.value}, "
            f"or give {wanted.value} a new DATABASE_URL"
        )
        self.recorded = recorded
        self.wanted = wanted
        self.rewards = rewards


def _settle_point_system(session: Session, settings: Settings) -> None:
    wanted = point_system_of(settings)
    try:
        point_system.settle(session, wanted=wanted)
    except point_system.PointSystemMismatch as err:
        raise PointSystemConflict(
            recorded=err.recorded, wanted=wanted, rewards=err.rewards
        ) from None


def sender_email(settings: Settings) -> str:
    if settings.PLUM_SENDER_EMAIL:
        return settings.PLUM_SENDER_EMAIL
    if settings.uses_sandbox:
        return SANDBOX_SENDER_EMAIL
    raise ConfigError(
        "PLUM_SENDER_EMAIL: is required with a real Xoxoday account "
        "(the super admin email points are sent from)"
    )


SLACK_RATE_LIMIT_RETRIES = 3


def slack_client(settings: Settings) -> WebClient:
    """The Web API client. A 429 is waited out as Slack's Retry-After asks (a few times), so a
    burst of rewards does not lose the messages that tell people about them. With the embedded
    sandbox, every message and view it sends says no real reward was sent (`NoticingWebClient`)."""
    log_privacy.install()  # no request or answer body in the logs at DEBUG
    token = settings.SLACK_BOT_TOKEN.get_secret_value() if settings.SLACK_BOT_TOKEN else None
    kind = NoticingWebClient if settings.uses_sandbox else WebClient
    client = kind(token=token, base_url=settings.SLACK_API_URL)
    client.retry_handlers.append(
        RateLimitErrorRetryHandler(max_retry_count=SLACK_RATE_LIMIT_RETRIES)
    )
    return client


def _check_writable(store: Store, settings: Settings) -> None:
    """Start only on a ledger that is current and takes writes; else one line saying why."""
    try:
        ensure_current(store.engine)
        problem = write_problem(store.engine, name="start")
        if problem is None:
            with store.session() as session:
                _settle_point_system(session, settings)
                settings_log.record_setting_changes(
                    session,
                    settings={name: getattr(settings, name) for name in AUDITED_SETTINGS},
                )
    except DBAPIError as err:
        problem = describe(err)
    except (ConfigError, SetupError):
        store.dispose()
        raise
    if problem is not None:
        store.dispose()
        raise _cannot_write("the database", problem)


def _open_journal(store: Store, settings: Settings, *, worker_id: str) -> IntakeJournal:
    try:
        journal = IntakeJournal.open(
            ledger=store.engine, database_url=settings.DATABASE_URL, worker_id=worker_id
        )
        problem = write_problem(journal.engine, name="start")
    except (DBAPIError, OSError) as err:
        problem = describe(err)
    else:
        if problem is None:
            return journal
        journal.stop()
    store.dispose()
    url = journal_url(settings.DATABASE_URL)
    journal_file = sqlite_path(url) if url else None
    if problem == DAMAGED and journal_file is not None:
        raise ConfigError(
            f"DATABASE_URL: the intake journal {journal_file} is damaged. Move it aside and start "
            "again: the bot starts a new one (requests the old one held unfinished are not "
            "resumed; the ledger itself is untouched)."
        )
    raise _cannot_write("the intake journal beside the database", problem)


def _cannot_write(what: str, problem: str) -> ConfigError:
    if problem == DAMAGED:
        return ConfigError(
            f"DATABASE_URL: {what} is damaged (its file is not a SQLite database). Restore it "
            "from a backup, then start again."
        )
    return ConfigError(
        f"DATABASE_URL: {what} can't take writes ({problem}). Free some disk space or fix its "
        "permissions, then start again."
    )


@dataclass
class Runtime:
    settings: Settings
    store: Store
    plum: PlumClient
    slack: WebClient
    people: People
    notifier: Notifier
    rewards: RewardService
    worker: DeliveryWorker
    approvals: ApprovalService
    balances: BalanceService
    cancels: CancelService
    home: HomeService
    links: LinkService
    lists: ListsService
    managers: ManagersService
    settle: SettleService
    order_reports: OrderReportService  # /reward orders, and its CSV reports
    intake: Intake
    foreground: Foreground
    # The company account balance, shared by App Home and /reward balance (getBalance allows
    # 10 calls a minute).
    account_balance: AccountBalanceCache
    # Gift cards and donations (placeOrder): the service and the worker that places orders.
    gifts: GiftService
    orders: OrderWorker
    # Gift cards' and donations' delivery status: Xoxoday's webhook and the order-status poll.
    order_updates: OrderUpdates
    # Points in the bot (REWARD_POINT_SYSTEM=storefront): the endpoints Xoxoday's store calls,
    # and Redeem; None with points at Xoxoday.
    storefront: StoreFrontService | None = None
    redeem: RedeemService | None = None
    sandbox: SandboxServer | None = None  # the embedded Plum sandbox (PLUM_BASE_URL=sandbox)
    # Republishes App Homes when rewards change (set when the App Home listener is registered).
    home_refresher: HomeRefresher | None = None
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    # Work done after Slack has its ack (giving from a slash command). One thread: SQLite has
    # one writer and giving is serialised by the audit-chain lock anyway, and fewer busy threads
    # leave the GIL to the threads that acknowledge (benchmarks/slack_ack.py).
    giving: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="giving")
    )
    plum_probe_seconds: float = PLUM_PROBE_SECONDS
    _probe_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _probe: tuple[float, str] | None = field(default=None, repr=False)
    _probing: tuple[float, threading.Event] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        slack: WebClient | None = None,
        plum: PlumClient | None = None,
        worker_threads: int = 4,
        plum_timeout: float | None = None,
    ) -> Runtime:
        sender = sender_email(settings)
        store = store_from_settings(settings)
        _check_writable(store, settings)
        sandbox = None
        if plum is None:
            base_url = None
            if settings.uses_sandbox:
                from bot.simulators.plum_sandbox import SandboxServer  # only when asked for

                client_id, client_secret = sandbox_credentials(settings)
                sandbox = SandboxServer(
                    client_id=client_id,
                    client_secret=client_secret,
                    state_path=sandbox_state_path(settings),
                )
                sandbox.start()
                base_url = sandbox.base_url
                if settings.storefront:  # its store spends from this bot's endpoints
                    sandbox.connect_storefront(
                        f"http://127.0.0.1:{settings.PORT}/storefront",
                        storefront_api_key(settings),
                    )
                webhook_key = plum_webhook_api_key(settings)  # its deliveries are posted here
                if webhook_key is not None:
                    sandbox.connect_webhook(
                        f"http://127.0.0.1:{settings.PORT}/webhooks/plum", webhook_key
                    )
                log.info("embedded Plum sandbox at %s: no real rewards are sent", base_url)
            plum = build_client(
                settings,
                clock=clock.timestamp,
                token_store=store.token_store(),
                base_url=base_url,
                timeout=DEFAULT_TIMEOUT if plum_timeout is None else plum_timeout,
            )
        slack = slack or slack_client(settings)  # one given is used as it is, notice or not
        people = People(slack=slack, settings=settings)
        notifier = Notifier(slack=slack, settings=settings, store=store)
        foreground = Foreground()
        worker = DeliveryWorker(
            store=store,
            plum=plum,
            notifier=notifier,
            sender_email=sender,
            names=people.names,
            threads=worker_threads,
            retry=RetryPlan(window=timedelta(hours=settings.REWARD_DELIVERY_RETRY_HOURS)),
            outage_alert_after=timedelta(minutes=settings.REWARD_PLUM_OUTAGE_ALERT_MINUTES),
            foreground=foreground,
            point_system=point_system_of(settings),
        )
        journal = _open_journal(store, settings, worker_id=worker.worker_id)
        intake = Intake(
            journal=journal,
            slack=slack,
            notifier=notifier,
            sandboxed=settings.uses_sandbox,
            shared=store.is_postgres,
        )
        approvals = ApprovalService(
            store=store,
            people=people,
            notifier=notifier,
            views=approval_blocks,
            settings=settings,
            on_queued=worker.wake,
        )
        rewards = RewardService(
            store=store,
            people=people,
            settings=settings,
            on_queued=worker.wake,
            on_pending=approvals.on_pending,
        )
        account_balance = AccountBalanceCache(fetch=plum.get_balance)
        storefront, redeem = None, None
        if settings.storefront:
            storefront = StoreFrontService(
                store=store, api_key=storefront_api_key(settings), on_change=notifier.on_change
            )
            redeem = RedeemService(
                store=store,
                plum=plum,
                public_url=None if settings.socket_mode else settings.PUBLIC_URL,
                token_lifetime=timedelta(hours=settings.STOREFRONT_TOKEN_HOURS),
            )
            notifier.redeem = redeem
        catalogue = Catalogue(plum=plum)
        gift_notices = SlackGiftNotices(notifier, settings)
        order_updates = OrderUpdates(store=store, plum=plum, teller=notifier)
        orders = OrderWorker(
            store=store,
            plum=plum,
            settings=settings,
            notices=lambda: gift_notices,
            placed=order_updates.order_placed,
        )
        gifts = GiftService(
            store=store,
            plum=plum,
            people=people,
            settings=settings,
            catalogue=catalogue,
            notices=gift_notices,
            on_queued=orders.wake,
            account=account_balance.get,
        )
        return cls(
            settings=settings,
            store=store,
            plum=plum,
            slack=slack,
            people=people,
            notifier=notifier,
            rewards=rewards,
            worker=worker,
            approvals=approvals,
            balances=BalanceService(
                store=store, plum=plum, settings=settings, account=account_balance.get
            ),
            home=HomeService(
                store=store,
                people=people,
                settings=settings,
                plum=plum,
                account=account_balance,
            ),
            cancels=CancelService(store=store, plum=plum, settings=settings, people=people),
            links=LinkService(store=store, plum=plum, people=people, settings=settings),
            lists=ListsService(store=store, people=people, settings=settings),
            managers=ManagersService(store=store, people=people, settings=settings),
            settle=SettleService(store=store, people=people, settings=settings),
            order_reports=OrderReportService(
                store=store, plum=plum, people=people, settings=settings
            ),
            intake=intake,
            foreground=foreground,
            account_balance=account_balance,
            order_updates=order_updates,
            storefront=storefront,
            redeem=redeem,
            gifts=gifts,
            orders=orders,
            sandbox=sandbox,
        )

    def storefront_web(self) -> StoreFrontWeb | None:
        """The StoreFront routes for the web app (None with points at Xoxoday)."""
        if self.storefront is None or self.redeem is None:
            return None
        from bot.storefront_web import StoreFrontWeb

        return StoreFrontWeb(
            service=self.storefront,
            redeem=self.redeem,
            allowed=tuple(self.settings.STOREFRONT_ALLOWED_IPS),
        )

    def plum_webhook_web(self) -> PlumWebhookWeb | None:
        """Xoxoday's delivery webhook for the web app (None without PLUM_WEBHOOK_API_KEY)."""
        key = plum_webhook_api_key(self.settings)
        if key is None:
            return None
        from bot.plum_webhook_web import PlumWebhookWeb

        web = PlumWebhookWeb(service=self.order_updates, api_key=key)
        self.on_stop.append(web.stop)
        return web

    @property
    def sandboxed(self) -> bool:
        return self.settings.uses_sandbox

    def start(self, *, worker: bool = True) -> None:
        self.intake.journal.start()
        self.worker.recover()
        if worker:
            self.worker.start()
            self.orders.start()

    def resume_unfinished(self) -> threading.Thread:
        """Once the listeners are registered (`build_app`): in the background, resume the
        requests a crash left unfinished; with several processes, keep sweeping for those a
        dead process left."""

        def resume() -> None:
            # Alone on SQLite: everything pending was left by a crash. Sharing PostgreSQL: what
            # a gone process of this host left, or what nobody has touched for a while.
            self.intake.resume(stale_after=STALE_AFTER if self.store.is_postgres else None)
            self.intake.start_sweeping()

        thread = threading.Thread(target=resume, name="intake-resume", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.intake.stop()
        self.giving.shutdown(wait=True)
        self.intake.journal.stop()  # after giving: the entries it finished are written
        self.worker.stop()
        self.orders.stop()
        for stop in reversed(self.on_stop):  # what listeners and jobs started, newest first
            try:
                stop()
            except Exception:
                log.exception("a component failed to stop cleanly")
        self.plum.close()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.store.dispose()

    def health(self) -> dict[str, object]:
        """For GET /healthz: does the ledger (and the intake journal) take writes now, does
        Xoxoday answer (probed at most every `plum_probe_seconds`, however often it is asked),
        and is delivery waiting for Xoxoday. Each part says what is wrong in plain words."""
        report: dict[str, object] = {}
        name = self.worker.worker_id
        problem = write_problem(self.store.engine, name=name)
        report["database"] = "ok" if problem is None else f"can't take writes: {problem}"
        checks = [report["database"]]
        journal = self.intake.journal.engine
        if journal is not self.store.engine:
            problem = write_problem(journal, name=name)
            report["intake"] = "ok" if problem is None else f"can't take writes: {problem}"
            checks.append(report["intake"])
        report["plum"] = self._plum_status()
        checks.append(report["plum"])
        since = self.worker.unreachable_since
        if since is not None:
            report["delivery"] = f"waiting: Xoxoday has not taken a send since {since:%H:%M} UTC"
        report["sandbox"] = self.sandboxed
        report["ok"] = all(check == "ok" for check in checks)
        return report

    def _plum_status(self) -> str:
        """The latest probe's answer. A probe runs on its own thread when the last one is
        older than `plum_probe_seconds`; this waits for it at most `PLUM_PROBE_WAIT_SECONDS`,
        so a Xoxoday that hangs makes health say so instead of making health hang."""
        with self._probe_lock:
            now = time.monotonic()
            fresh = self._probe is not None and now - self._probe[0] < self.plum_probe_seconds
            if not fresh and self._probing is None:
                self._probing = (now, threading.Event())
                threading.Thread(target=self._run_probe, name="plum-probe", daemon=True).start()
            probing = self._probing
        if probing is not None:
            probing[1].wait(PLUM_PROBE_WAIT_SECONDS)
        with self._probe_lock:
            if self._probing is not None and time.monotonic() - self._probing[0] >= (
                PLUM_PROBE_WAIT_SECONDS
            ):
                waited = time.monotonic() - self._probing[0]
                return f"slow: Xoxoday has not answered for {waited:.0f} s"
            return self._probe[1] if self._probe is not None else "not checked yet"

    def _run_probe(self) -> None:
        try:
            self.plum.validate()
            status = "ok"
        except TokenStoreError:
            status = "can't save Xoxoday's new token (the database refused it)"
        except PlumError as err:
            status = f"unreachable: {type(err).__name__}"
        except Exception as err:  # the probe thread must always report
            status = f"unreachable: {type(err).__name__}"
        with self._probe_lock:
            self._probe = (time.monotonic(), status)
            done, self._probing = self._probing, None
        if done is not None:
            done[1].set()
