"""The composition root: every service of a running bot, built from the settings in one place.

`Runtime.build(settings)` opens the ledger and the intake journal (`bot.startup_checks`), builds
the Plum and Slack clients, the services, the workers and what tells people, and wires them
together; nothing is patched onto a service afterwards. It starts no thread: `start()` starts the
workers (`bot.startup` is the one place that calls it, in order), `stop()` undoes it all.
Listeners reach the services through Bolt's context (`context["runtime"]`, named `runtime` in
their arguments), jobs through their `JobContext`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.foreground import Foreground
from bot.ledger_metrics import LedgerCollector
from bot.metrics import Metrics
from bot.plum import PlumClient, build_client
from bot.plum.client import DEFAULT_TIMEOUT
from bot.rewards.adjustments import AdjustmentsService
from bot.rewards.approvals import ApprovalService
from bot.rewards.balances import BalanceService
from bot.rewards.budgets import Budgets
from bot.rewards.bulk_service import BulkService, BulkWatch, WatchedRows
from bot.rewards.cancel_service import CancelService
from bot.rewards.catalogue import Catalogue
from bot.rewards.celebrations import CelebrationService
from bot.rewards.delivery import DeliveryWorker
from bot.rewards.doubt import DoubtSettler
from bot.rewards.flag_service import FlagService
from bot.rewards.gifts import GiftService, may_open_gifts
from bot.rewards.group_rewards import GroupRewards
from bot.rewards.home import AccountBalanceCache, HomeService
from bot.rewards.link_service import LinkService
from bot.rewards.lists import ListsService
from bot.rewards.locks import LockService
from bot.rewards.managers import ManagersService
from bot.rewards.message_gifts import MessageGiving
from bot.rewards.order_reports import OrderReportService
from bot.rewards.order_updates import OrderUpdates
from bot.rewards.order_worker import OrderWorker
from bot.rewards.people_dm import PeopleDmImport
from bot.rewards.reactions import ReactionService
from bot.rewards.redeem import RedeemService
from bot.rewards.redelivery import RetryPlan
from bot.rewards.reports import ReportService
from bot.rewards.service import RewardService
from bot.rewards.settle import SettleService
from bot.rewards.storefront import StoreFrontService
from bot.settings import Settings
from bot.slack import log_privacy
from bot.slack.api_watch import SlackApiWatch
from bot.slack.home_refresh import HomeRefresher, publish_home
from bot.slack.journal import RequestJournal
from bot.slack.notifier import Notifier
from bot.slack.people import People, SlackGroups
from bot.startup_checks import open_journal, open_ledger
from storage import Store, clock
from storage.audit_anchors import AnchorWatch
from storage.intake import IntakeJournal
from storage.states import PointSystem

log = logging.getLogger(__name__)

SLACK_RATE_LIMIT_RETRIES = 3
# Work after Slack's acknowledgements (Bolt's lazy listeners): threads start as work arrives,
# up to this many (a slow Xoxoday or Slack holds one each).
LISTENER_THREADS = 32


def slack_client(settings: Settings, *, metrics: Metrics | None = None) -> WebClient:
    """The Web API client. A 429 is waited out as Slack's Retry-After asks (a few times), so a
    burst of rewards does not lose the messages that tell people about them. With `metrics`,
    every failed call and 429 is counted (`SlackApiWatch`, first of the retry handlers)."""
    log_privacy.install()  # no request or answer body in the logs at DEBUG
    token = settings.SLACK_BOT_TOKEN.get_secret_value() if settings.SLACK_BOT_TOKEN else None
    client = WebClient(token=token, base_url=settings.SLACK_API_URL)
    if metrics is not None:
        client.retry_handlers.insert(
            0,
            SlackApiWatch(
                on_error=metrics.slack_api_error, on_rate_limited=metrics.slack_rate_limited
            ),
        )
    client.retry_handlers.append(
        RateLimitErrorRetryHandler(max_retry_count=SLACK_RATE_LIMIT_RETRIES)
    )
    return client


@dataclass
class Runtime:
    settings: Settings
    store: Store
    plum: PlumClient
    slack: WebClient
    people: People
    notifier: Notifier  # the Slack side of telling people: `tell(event)` (bot.rewards.events)
    rewards: RewardService
    group_rewards: GroupRewards  # a reward to a user group: its preview, Send and Cancel
    worker: DeliveryWorker
    approvals: ApprovalService
    balances: BalanceService
    cancels: CancelService
    home: HomeService
    links: LinkService
    lists: ListsService
    adjustments: AdjustmentsService
    bulk: BulkService
    reports: ReportService
    reactions: ReactionService  # giving with an emoji reaction (REWARD_REACTIONS), and undo
    message_gifts: MessageGiving  # `@maria ++ 20 for …` in a channel (REWARD_MESSAGE_GIVING)
    managers: ManagersService
    locks: LockService  # /reward lock, unlock, locks; "Lock the giver" on a flag
    flags: FlagService  # the flag rules over the ledger, the admins' daily DM and its buttons
    celebrations: CelebrationService  # birthdays, anniversaries, welcomes: the company pays
    people_dm: PeopleDmImport  # people's dates from a CSV an admin drops in the bot's DM
    settle: SettleService
    order_reports: OrderReportService  # /reward orders, and its CSV reports
    journal: IntakeJournal  # every Slack request acknowledged, until its work is done
    requests: RequestJournal  # its Slack side: Bolt's middleware, and resuming after a crash
    foreground: Foreground
    # The company account balance, shared by App Home and /reward balance (getBalance allows
    # 10 calls a minute).
    account_balance: AccountBalanceCache
    # Gift cards and donations (placeOrder): the service and the worker that places orders.
    gifts: GiftService
    orders: OrderWorker
    # Gift cards' and donations' delivery status: Xoxoday's webhook and the order-status poll.
    order_updates: OrderUpdates
    # Republishes App Homes when rewards change (`Notifier.on_change`).
    home_refresher: HomeRefresher
    # Bolt's `listener_executor`: the work after Slack's acknowledgements.
    listener_executor: ThreadPoolExecutor
    # What GET /metrics counts (Slack's requests, Xoxoday's calls, job runs, the ledger).
    metrics: Metrics
    # Points in the bot (REWARD_POINT_SYSTEM=storefront): the endpoints Xoxoday's store calls,
    # and Redeem; None with points at Xoxoday.
    storefront: StoreFrontService | None = None
    redeem: RedeemService | None = None
    # Anchors the audit chain within AUDIT_ANCHOR_SECONDS of new events (`start_bot` starts it).
    anchoring: AnchorWatch | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Runtime:
        """A running bot's services are shared, never copied (Bolt copies a lazy listener's
        context, where listeners find them)."""
        return self

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        slack: WebClient | None = None,
        plum: PlumClient | None = None,
        plum_base_url: str | None = None,
        worker_threads: int = 4,
        plum_timeout: float | None = None,
        recorded: Settings | None = None,
        wrap_slack: Callable[[WebClient], WebClient] | None = None,
    ) -> Runtime:
        """`slack` and `plum` given are used as they are; `plum_base_url` overrides
        PLUM_BASE_URL for the client built here, `wrap_slack` makes the Slack client built here
        into another; `recorded` are the settings the ledger's settings log keeps (default
        `settings`)."""
        sender = settings.sender_email  # what is missing refuses before anything is opened
        api_key = settings.storefront_api_key if settings.storefront else None
        store = open_ledger(settings, recorded=recorded or settings)
        metrics = Metrics()
        if plum is None:
            plum = build_client(
                settings,
                clock=clock.timestamp,
                token_store=store.token_store(),
                base_url=plum_base_url,
                timeout=DEFAULT_TIMEOUT if plum_timeout is None else plum_timeout,
                observer=metrics.plum_call,
            )
        if slack is None:
            slack = slack_client(settings, metrics=metrics)
            slack = wrap_slack(slack) if wrap_slack is not None else slack
        people = People(slack=slack, settings=settings)
        groups = SlackGroups(slack=slack)
        budgets = Budgets(store=store, settings=settings, groups=groups, people=people)
        point_system = PointSystem(settings.REWARD_POINT_SYSTEM)
        redeem = None
        if settings.storefront:
            redeem = RedeemService(
                store=store,
                plum=plum,
                public_url=None if settings.socket_mode else settings.PUBLIC_URL,
                token_lifetime=timedelta(hours=settings.STOREFRONT_TOKEN_HOURS),
            )
        account_balance = AccountBalanceCache(fetch=plum.get_balance)
        home = HomeService(
            store=store,
            people=people,
            settings=settings,
            plum=plum,
            account=account_balance,
            budgets=budgets,
        )
        catalogue = Catalogue(plum=plum)

        def publish(user_id: str, soon: bool) -> None:
            gifts = may_open_gifts(settings, user_id)
            publish_home(
                slack=slack, home=home, user_id=user_id, redeem=redeem, gifts=gifts, soon=soon
            )

        home_refresher = HomeRefresher(publish=publish, store=store)
        notifier = Notifier(
            slack=slack,
            settings=settings,
            store=store,
            redeem=redeem,
            on_change=home_refresher.refresh,
            tz_of=lambda user_id: people.profile(user_id).person.tz,
        )
        foreground = Foreground()
        bulk_watch = BulkWatch(store=store, teller=notifier)
        rows_told = WatchedRows(notifier, watch=bulk_watch)  # a file's rows: watch its progress
        worker = DeliveryWorker(
            store=store,
            plum=plum,
            teller=rows_told,
            sender_email=sender,
            names=people.names,
            threads=worker_threads,
            retry=RetryPlan(window=timedelta(hours=settings.REWARD_DELIVERY_RETRY_HOURS)),
            outage_alert_after=timedelta(minutes=settings.REWARD_PLUM_OUTAGE_ALERT_MINUTES),
            foreground=foreground,
            point_system=point_system,
            batch_max=settings.PLUM_SEND_BATCH_MAX,
            doubts=(
                DoubtSettler(
                    store=store,
                    plum=plum,
                    teller=rows_told,
                    ask_after=timedelta(minutes=settings.REWARD_IN_DOUBT_ADMIN_MINUTES),
                )
                if settings.REWARD_IN_DOUBT_ADMIN_MINUTES > 0 and point_system is PointSystem.PLUM
                else None
            ),
        )
        journal = open_journal(store, settings, worker_id=worker.worker_id)
        metrics.add(LedgerCollector(ledger=store.engine, journal=journal.engine))
        approvals = ApprovalService(
            store=store,
            people=people,
            teller=notifier,
            settings=settings,
            on_queued=worker.wake,
            budgets=budgets,
        )
        rewards = RewardService(
            store=store,
            people=people,
            settings=settings,
            on_queued=worker.wake,
            on_pending=approvals.on_pending,
            budgets=budgets,
            teller=notifier,
        )
        storefront = None
        if api_key is not None:
            storefront = StoreFrontService(store=store, api_key=api_key, teller=notifier)
        in_doubt_minutes = settings.REWARD_IN_DOUBT_ADMIN_MINUTES
        order_updates = OrderUpdates(
            store=store,
            plum=plum,
            teller=notifier,
            ask_after=timedelta(minutes=in_doubt_minutes) if in_doubt_minutes > 0 else None,
        )
        orders = OrderWorker(
            store=store,
            plum=plum,
            settings=settings,
            teller=notifier,
            placed=order_updates.order_placed,
        )
        cancels = CancelService(
            store=store,
            plum=plum,
            settings=settings,
            people=people,
            teller=notifier,
            requests_withdrawn=approvals.refresh_copies,
        )
        gifts = GiftService(
            store=store,
            plum=plum,
            people=people,
            settings=settings,
            catalogue=catalogue,
            teller=notifier,
            on_queued=orders.wake,
            account=account_balance.get,
        )
        locks = LockService(store=store, people=people, settings=settings, teller=notifier)
        celebrations = CelebrationService(
            store=store, people=people, settings=settings, on_queued=worker.wake
        )
        return cls(
            settings=settings,
            store=store,
            plum=plum,
            slack=slack,
            people=people,
            notifier=notifier,
            rewards=rewards,
            group_rewards=GroupRewards(store=store, people=people, groups=groups, rewards=rewards),
            worker=worker,
            approvals=approvals,
            balances=BalanceService(
                store=store,
                plum=plum,
                settings=settings,
                account=account_balance.get,
                budgets=budgets,
            ),
            home=home,
            cancels=cancels,
            links=LinkService(
                store=store, plum=plum, people=people, settings=settings, teller=notifier
            ),
            lists=ListsService(store=store, people=people, settings=settings),
            managers=ManagersService(store=store, people=people, settings=settings),
            bulk=BulkService(
                store=store,
                people=people,
                settings=settings,
                teller=notifier,
                on_queued=worker.wake,
                watch=bulk_watch,
            ),
            adjustments=AdjustmentsService(
                store=store, people=people, settings=settings, teller=notifier
            ),
            reports=ReportService(
                store=store, people=people, settings=settings, teller=notifier, cancels=cancels
            ),
            reactions=ReactionService(
                store=store,
                people=people,
                settings=settings,
                rewards=rewards,
                teller=notifier,
                requests_withdrawn=approvals.refresh_copies,
            ),
            message_gifts=MessageGiving(
                store=store,
                people=people,
                settings=settings,
                rewards=rewards,
                teller=notifier,
                requests_withdrawn=approvals.refresh_copies,
            ),
            locks=locks,
            flags=FlagService(
                store=store,
                people=people,
                settings=settings,
                teller=notifier,
                locks=locks,
                budgets=budgets,
            ),
            celebrations=celebrations,
            people_dm=PeopleDmImport(celebrations=celebrations, settings=settings),
            settle=SettleService(store=store, people=people, settings=settings, teller=notifier),
            order_reports=OrderReportService(
                store=store, plum=plum, people=people, settings=settings, teller=notifier
            ),
            journal=journal,
            requests=RequestJournal(journal),
            foreground=foreground,
            account_balance=account_balance,
            gifts=gifts,
            orders=orders,
            order_updates=order_updates,
            home_refresher=home_refresher,
            listener_executor=ThreadPoolExecutor(
                max_workers=LISTENER_THREADS, thread_name_prefix="slack-work"
            ),
            metrics=metrics,
            storefront=storefront,
            redeem=redeem,
        )

    def start(self, *, requests: bool = True, worker: bool = True) -> None:
        """With `requests` (a process that answers Slack): the journal's writer, and rewards a
        crash left mid-send become in doubt (the delivery worker's recovery); with `worker`,
        delivery and order placing start."""
        if requests:
            self.journal.start()
            self.worker.recover()
        if worker:
            self.worker.start()
            self.orders.start()
            self.bulk.resume()  # the progress of files a previous life was sending

    def stop(self) -> None:
        self.requests.stop()
        # What listeners are still doing after their ack; then the journal, so the entries
        # they finished are written.
        self.listener_executor.shutdown(wait=True)
        self.balances.close()
        self.journal.stop()
        self.worker.stop()
        self.orders.stop()
        self.bulk.close()
        self.home_refresher.stop()
        self.notifier.group_updates.stop()  # (after the worker: its last updates are drawn)
        if self.anchoring is not None:
            self.anchoring.close()  # what the stopping workers appended, anchored now
        self.plum.close()
        self.store.dispose()
