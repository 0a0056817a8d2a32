"""Fixtures for the domain tests: the services of `bot.rewards`, built as `bot.runtime` builds
them, on their ports alone (no Slack, no HTTP server of the bot, no threads started).

- the ledger: a SQLite file copied from one migrated once per test session
  (`tests.storage.support.ledger_database`), so no test pays for Alembic;
- Xoxoday: the real `PlumClient` against the Plum sandbox (`SandboxServer`), one per session
  (per xdist worker: its own port), reset before each test (its account, faults, rate limits,
  request log, webhook settings and clock);
- Slack's side: a `RecordingTeller` and a `MemoryDirectory` (`tests.domain.support`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.plum import PlumClient
from bot.rewards.approvals import ApprovalService
from bot.rewards.budgets import Budgets
from bot.rewards.bulk_service import BulkService
from bot.rewards.cancel_service import CancelService
from bot.rewards.catalogue import Catalogue
from bot.rewards.celebrations import CelebrationService
from bot.rewards.delivery import DeliveryWorker
from bot.rewards.doubt import DoubtSettler
from bot.rewards.flag_service import FlagService
from bot.rewards.gifts import GiftService
from bot.rewards.group_rewards import GroupRewards
from bot.rewards.home import AccountBalanceCache
from bot.rewards.locks import LockService
from bot.rewards.order_updates import OrderUpdates
from bot.rewards.order_worker import OrderWorker
from bot.rewards.redelivery import RetryPlan
from bot.rewards.refusal import Refusal
from bot.rewards.service import GiveRequest, RewardService
from bot.rewards.settle import SettleService
from bot.settings import Settings, load_settings
from bot.simulators.plum_sandbox import SandboxServer
from storage import rewards as reward_repo
from storage.db import Store
from storage.models import Reward
from storage.rewards import RewardDetails
from storage.states import PointSystem, RewardSource
from tests.domain.support import (
    ADMIN,
    APPROVER,
    SENDER_EMAIL,
    TEAM,
    MemoryDirectory,
    MemoryGroups,
    RecordingTeller,
)
from tests.storage.support import ledger_database

PLUM_TIMEOUT = 1.0  # seconds before a hung Xoxoday call is given up (the outcome unknown)


class SandboxClock:
    """The sandbox's clock: now, plus however far a test moves it (reset before each test)."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture(scope="session")
def _sandbox() -> Iterator[tuple[SandboxServer, SandboxClock]]:
    clock = SandboxClock()
    server = SandboxServer(rate_limits=False, clock=clock)
    server.start()
    yield server, clock
    server.stop()


@pytest.fixture
def xoxoday_clock(_sandbox: tuple[SandboxServer, SandboxClock]) -> SandboxClock:
    return _sandbox[1]


@pytest.fixture
def xoxoday(_sandbox: tuple[SandboxServer, SandboxClock]) -> SandboxServer:
    """The session's sandbox as new: a fresh account, no faults, no rate limits, an empty
    request log, no webhook target, its clock at now."""
    server, clock = _sandbox
    clock.ahead = timedelta(0)
    context = server.context
    context.state.reset()
    context.faults.clear()
    context.faults.latency_ms = 0
    context.limiter.reset()
    server.rate_limits = False
    hooks = context.hooks
    hooks.disconnect()
    hooks.drop_next(0)
    hooks.cancel_next(0)
    hooks.delay_seconds = 0.0
    hooks.log.clear()
    server.requests.clear()
    return server


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite ledger of this test's own (a copy of the session's template)."""
    with ledger_database("sqlite", tmp_path=tmp_path) as database:
        yield database.store


@dataclass
class Domain:
    """The domain's services on in-memory ports, as `bot.runtime.Runtime.build` wires them."""

    settings: Settings
    store: Store
    plum: PlumClient
    people: MemoryDirectory
    teller: RecordingTeller
    xoxoday: SandboxServer
    groups: MemoryGroups = field(default_factory=MemoryGroups)
    wakes: dict[str, int] = field(default_factory=lambda: {"delivery": 0, "orders": 0})
    _keys: Iterator[int] = field(default_factory=itertools.count)

    # --- the services -------------------------------------------------------------------------

    @cached_property
    def worker(self) -> DeliveryWorker:
        settings = self.settings
        return DeliveryWorker(
            store=self.store,
            plum=self.plum,
            teller=self.teller,
            sender_email=settings.sender_email,
            names=self.people.names,
            threads=1,
            retry=RetryPlan(window=timedelta(hours=settings.REWARD_DELIVERY_RETRY_HOURS)),
            outage_alert_after=timedelta(minutes=settings.REWARD_PLUM_OUTAGE_ALERT_MINUTES),
            point_system=PointSystem(settings.REWARD_POINT_SYSTEM),
        )

    @cached_property
    def celebrations(self) -> CelebrationService:
        return CelebrationService(
            store=self.store,
            people=self.people,
            settings=self.settings,
            on_queued=lambda: self._wake("delivery"),
        )

    @cached_property
    def approvals(self) -> ApprovalService:
        return ApprovalService(
            store=self.store,
            people=self.people,
            teller=self.teller,
            settings=self.settings,
            on_queued=lambda: self._wake("delivery"),
            budgets=self.budgets,
        )

    @cached_property
    def budgets(self) -> Budgets:
        return Budgets(
            store=self.store,
            settings=self.settings,
            groups=self.groups,
            people=self.people,
        )

    @cached_property
    def rewards(self) -> RewardService:
        return RewardService(
            store=self.store,
            people=self.people,
            settings=self.settings,
            on_queued=lambda: self._wake("delivery"),
            on_pending=self.approvals.on_pending,
            budgets=self.budgets,
            teller=self.teller,
        )

    @cached_property
    def group_rewards(self) -> GroupRewards:
        return GroupRewards(
            store=self.store,
            people=self.people,
            groups=self.groups,
            rewards=self.rewards,
        )

    @cached_property
    def cancels(self) -> CancelService:
        return CancelService(
            store=self.store,
            plum=self.plum,
            settings=self.settings,
            people=self.people,
            teller=self.teller,
            requests_withdrawn=self.approvals.refresh_copies,
        )

    @cached_property
    def settle(self) -> SettleService:
        return SettleService(
            store=self.store, people=self.people, settings=self.settings, teller=self.teller
        )

    @cached_property
    def order_updates(self) -> OrderUpdates:
        return OrderUpdates(store=self.store, plum=self.plum, teller=self.teller)

    @cached_property
    def orders(self) -> OrderWorker:
        return OrderWorker(
            store=self.store,
            plum=self.plum,
            settings=self.settings,
            teller=self.teller,
            placed=self.order_updates.order_placed,
        )

    @cached_property
    def gifts(self) -> GiftService:
        return GiftService(
            store=self.store,
            plum=self.plum,
            people=self.people,
            settings=self.settings,
            catalogue=Catalogue(plum=self.plum),
            teller=self.teller,
            on_queued=lambda: self._wake("orders"),
            account=AccountBalanceCache(fetch=self.plum.get_balance).get,
        )

    @cached_property
    def bulk(self) -> BulkService:
        return BulkService(
            store=self.store,
            people=self.people,
            settings=self.settings,
            teller=self.teller,
            on_queued=lambda: self._wake("delivery"),
        )

    @cached_property
    def locks(self) -> LockService:
        return LockService(
            store=self.store, people=self.people, settings=self.settings, teller=self.teller
        )

    @cached_property
    def flags(self) -> FlagService:
        return FlagService(
            store=self.store,
            people=self.people,
            settings=self.settings,
            teller=self.teller,
            locks=self.locks,
            budgets=self.budgets,
        )

    def _wake(self, worker: str) -> None:
        self.wakes[worker] += 1

    # --- doing --------------------------------------------------------------------------------

    def give(
        self,
        giver: str,
        to: str | list[str],
        amount: int,
        citation: str = "shipped the release",
        *,
        key: str | None = None,
    ) -> RewardDetails:
        """`/reward` as the listener calls it; the reward as committed (a refusal fails)."""
        recipients = (to,) if isinstance(to, str) else tuple(to)
        outcome = self.rewards.give(
            GiveRequest(
                giver_id=giver,
                team_id=TEAM,
                recipient_ids=recipients,
                amount=amount,
                citation=citation,
                values=(),
                channel_id="C0GENERAL",
                source=RewardSource.COMMAND,
                idempotency_key=key or f"test:{next(self._keys)}",
            )
        )
        assert not isinstance(outcome, Refusal), outcome.text
        return outcome.reward

    def deliver(self) -> int:
        """Run the delivery worker until nothing is due; how many rewards it claimed."""
        done = 0
        while self.worker.run_once():
            done += 1
        return done

    def given_and_sent(self, giver: str, to: str | list[str], amount: int, citation: str) -> Any:
        reward = self.give(giver, to, amount, citation)
        self.deliver()
        return self.reward(reward.short_id)

    # --- reading ------------------------------------------------------------------------------

    def reward(self, short: str) -> RewardDetails:
        with self.store.read_session() as session:
            found = reward_repo.get_reward_by_short_id(session, short_id=short)
        assert found is not None, short
        return found

    def statuses(self) -> list[str]:
        with self.store.read_session() as session:
            return [r.status for r in session.exec(select(Reward).order_by(col(Reward.id))).all()]

    def calls(self, operation: str) -> list[dict[str, Any]]:
        """What Xoxoday received of `operation` (sendBalance, cancelBalance, placeOrder, ...)."""
        return [r for r in self.xoxoday.requests if r["operation"] == operation]

    def sends(self) -> list[dict[str, Any]]:
        return self.calls("sendBalance")


BASE_SETTINGS: dict[str, object] = {
    "PLUM_CLIENT_ID": "sandbox",
    "PLUM_CLIENT_SECRET": "sandbox",
    "PLUM_SENDER_EMAIL": SENDER_EMAIL,
    "REWARD_ADMINS": ADMIN,
    "REWARD_APPROVERS": APPROVER,
    # Orders in doubt go to the admins at once (their tests); later, where a test sets a bound.
    "REWARD_IN_DOUBT_ADMIN_MINUTES": 0,
}


@pytest.fixture
def make_domain(ledger: Store, xoxoday: SandboxServer) -> Iterator[Callable[..., Domain]]:
    """`make_domain(**settings)`: the services with these settings over the defaults (the
    e2e harness's: ADMIN an admin, APPROVER the approver)."""
    clients: list[PlumClient] = []

    def make(*, plum_timeout: float = PLUM_TIMEOUT, **overrides: object) -> Domain:
        settings = load_settings(
            **{**BASE_SETTINGS, "PLUM_BASE_URL": xoxoday.base_url, **overrides}
        )
        plum = PlumClient(
            base_url=xoxoday.base_url,
            client_id="sandbox",
            client_secret="sandbox",
            token_store=ledger.token_store(),
            timeout=plum_timeout,
            rate_limit=False,
            sleep=lambda seconds: None,  # the client's waits between retries cost no time
        )
        clients.append(plum)
        domain = Domain(
            settings=settings,
            store=ledger,
            plum=plum,
            people=MemoryDirectory(settings),
            teller=RecordingTeller(ledger),
            xoxoday=xoxoday,
        )
        domains.append(domain)
        return domain

    domains: list[Domain] = []
    yield make
    for made in domains:
        if "bulk" in vars(made):  # its watch may be running
            made.bulk.close()
    for client in clients:
        client.close()


@pytest.fixture
def domain(make_domain: Callable[..., Domain]) -> Domain:
    return make_domain()


def batching(
    domain: Domain, batch_max: int = 50, doubts: DoubtSettler | None = None
) -> DeliveryWorker:
    """The domain's delivery worker, sending up to `batch_max` recipients a call."""
    domain.worker = DeliveryWorker(  # type: ignore[misc]
        store=domain.store,
        plum=domain.plum,
        teller=domain.teller,
        sender_email=domain.settings.sender_email,
        names=domain.people.names,
        threads=1,
        retry=RetryPlan(),
        doubts=doubts,
        batch_max=batch_max,
    )
    return domain.worker
