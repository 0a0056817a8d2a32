"""Everything a running bot holds, built from the settings in one place.

`Runtime.build(settings)` opens the ledger (migrating SQLite by itself, refusing a PostgreSQL
database that is behind), starts the embedded Plum sandbox when PLUM_BASE_URL=sandbox (its state
kept beside the database, so it survives restarts), builds the Plum and Slack clients, the
services and the delivery worker. `start()` recovers rewards a crash left in `sending` and starts
the worker; `stop()` undoes it all. Tests build one Runtime each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bot.plum import PlumClient, build_client
from bot.plum.builder import sandbox_credentials
from bot.plum.sandbox import SandboxServer
from bot.rewards.approvals import ApprovalService
from bot.rewards.delivery import DeliveryWorker
from bot.rewards.service import RewardService
from bot.settings import ConfigError, Settings
from bot.slack.notifier import Notifier
from bot.slack.people import People
from storage import Store, settings_log, store_from_settings
from storage.migrations import ensure_current

log = logging.getLogger(__name__)

SANDBOX_SENDER_EMAIL = "rewards-admin@sandbox.example"
# The rules that shape rewards: recorded at start, each change audited.
AUDITED_SETTINGS = (
    "PLUM_BASE_URL",
    "PLUM_SENDER_EMAIL",
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
    url = settings.DATABASE_URL
    if url.startswith("sqlite:///"):
        db = url.removeprefix("sqlite:///").split("?", 1)[0]
        if db and db != ":memory:":
            path = Path(db)
            return path.with_name(path.stem + ".sandbox.json")
    return Path("rewardbot.sandbox.json")


def sender_email(settings: Settings) -> str:
    if settings.PLUM_SENDER_EMAIL:
        return settings.PLUM_SENDER_EMAIL
    if settings.uses_sandbox:
        return SANDBOX_SENDER_EMAIL
    raise ConfigError(
        "PLUM_SENDER_EMAIL: is required with a real Xoxoday account "
        "(the super admin email points are sent from)"
    )


def slack_client(settings: Settings) -> WebClient:
    token = settings.SLACK_BOT_TOKEN.get_secret_value() if settings.SLACK_BOT_TOKEN else None
    return WebClient(token=token, base_url=settings.SLACK_API_URL)


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
    sandbox: SandboxServer | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    # Work done after Slack has its ack (giving from a slash command). One thread: SQLite has
    # one writer and giving is serialised by the audit-chain lock anyway, and fewer busy threads
    # leave the GIL to the threads that acknowledge (benchmarks/slack_ack.py).
    giving: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="giving")
    )

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
        ensure_current(store.engine)
        with store.session() as session:
            settings_log.record_setting_changes(
                session,
                settings={name: getattr(settings, name) for name in AUDITED_SETTINGS},
            )
        sandbox = None
        if plum is None:
            base_url = None
            if settings.uses_sandbox:
                client_id, client_secret = sandbox_credentials(settings)
                sandbox = SandboxServer(
                    client_id=client_id,
                    client_secret=client_secret,
                    state_path=sandbox_state_path(settings),
                )
                sandbox.start()
                base_url = sandbox.base_url
                log.info("embedded Plum sandbox at %s: no real rewards are sent", base_url)
            extra = {} if plum_timeout is None else {"timeout": plum_timeout}
            plum = build_client(
                settings, token_store=store.token_store(), base_url=base_url, **extra
            )
        slack = slack or slack_client(settings)
        people = People(slack=slack, settings=settings)
        notifier = Notifier(slack=slack, settings=settings, store=store)
        worker = DeliveryWorker(
            store=store,
            plum=plum,
            notifier=notifier,
            sender_email=sender,
            names=lambda ids: {uid: people.profile(uid).person.name for uid in ids},
            threads=worker_threads,
        )
        approvals = ApprovalService(
            store=store,
            people=people,
            notifier=notifier,
            slack=slack,
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
            sandbox=sandbox,
        )

    @property
    def sandboxed(self) -> bool:
        return self.settings.uses_sandbox

    def start(self, *, worker: bool = True) -> None:
        self.worker.recover()
        if worker:
            self.worker.start()

    def stop(self) -> None:
        self.giving.shutdown(wait=True)
        self.worker.stop()
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
        """Database and Plum reachability, for GET /healthz."""
        report: dict[str, object] = {}
        try:
            with self.store.session() as session:
                session.connection().exec_driver_sql("SELECT 1")
            report["database"] = "ok"
        except Exception as err:
            report["database"] = f"unreachable: {type(err).__name__}"
        try:
            self.plum.validate()
            report["plum"] = "ok"
        except Exception as err:
            report["plum"] = f"unreachable: {type(err).__name__}"
        report["sandbox"] = self.sandboxed
        report["ok"] = report["database"] == "ok" and report["plum"] == "ok"
        return report
