"""The figures `GET /metrics` reads from the ledger and the intake journal when scraped.

Rewards and orders by state, the outbox (queued rewards and orders) and the age of its oldest
entry, what is in doubt, the journal's unfinished entries and when each job last ended well: a
few aggregate queries (`storage.ledger_figures`), read at most once every `fresh_for` seconds
however many scrape. A ledger that cannot be read shows as `rewardbot_ledger_figures_ok 0`
and the figures are left out (never made up).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from storage.ledger_figures import JournalFigures, LedgerFigures, journal_figures, ledger_figures
from storage.states import OrderStatus, RewardStatus
from storage.types import utcnow

log = logging.getLogger(__name__)

FRESH_FOR = 2.0  # seconds a reading of the ledger serves scrapes
OUTBOX = {"reward": RewardStatus.QUEUED.value, "order": OrderStatus.QUEUED.value}
IN_DOUBT = {"reward": RewardStatus.IN_DOUBT.value, "order": OrderStatus.UNKNOWN.value}


class LedgerCollector(Collector):
    def __init__(self, *, ledger: Engine, journal: Engine, fresh_for: float = FRESH_FOR) -> None:
        self._ledger = ledger
        self._journal = journal
        self._fresh_for = fresh_for
        self._lock = threading.Lock()
        self._read: tuple[float, LedgerFigures, JournalFigures] | None = None

    def _figures(self) -> tuple[LedgerFigures, JournalFigures] | None:
        with self._lock:
            now = time.monotonic()
            if self._read is None or now - self._read[0] >= self._fresh_for:
                try:
                    self._read = (now, ledger_figures(self._ledger), journal_figures(self._journal))
                except Exception as err:
                    log.warning("metrics: could not read the ledger (%s)", type(err).__name__)
                    self._read = None
                    return None
            return self._read[1], self._read[2]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        read = self._figures()
        yield GaugeMetricFamily(
            "rewardbot_ledger_figures_ok",
            "1 when the figures below could be read from the ledger and the journal, else 0.",
            value=0 if read is None else 1,
        )
        if read is None:
            return
        ledger, journal = read
        now = utcnow()

        def age(when: datetime | None) -> float:
            return max(0.0, (now - when).total_seconds()) if when is not None else 0.0

        rewards = GaugeMetricFamily(
            "rewardbot_rewards", "Rewards in the ledger, by state.", labels=["state"]
        )
        for status in RewardStatus:
            found = ledger.rewards.get(status.value)
            rewards.add_metric([status.value], found.count if found else 0)
        yield rewards
        orders = GaugeMetricFamily(
            "rewardbot_orders",
            "Gift card and donation orders in the ledger, by state.",
            labels=["state"],
        )
        for order_status in OrderStatus:
            found = ledger.orders.get(order_status.value)
            orders.add_metric([order_status.value], found.count if found else 0)
        yield orders
        depth = GaugeMetricFamily(
            "rewardbot_outbox_depth",
            "Rewards and orders queued to go to Xoxoday, by kind.",
            labels=["kind"],
        )
        oldest = GaugeMetricFamily(
            "rewardbot_outbox_oldest_age_seconds",
            "Seconds the oldest queued reward (since it was queued) or order (since it last "
            "changed) has waited; 0 when none waits.",
            labels=["kind"],
        )
        doubt = GaugeMetricFamily(
            "rewardbot_in_doubt",
            "Rewards in doubt and orders whose outcome is unknown, waiting to be settled.",
            labels=["kind"],
        )
        for kind, states in (("reward", ledger.rewards), ("order", ledger.orders)):
            queued = states.get(OUTBOX[kind])
            depth.add_metric([kind], queued.count if queued else 0)
            oldest.add_metric([kind], age(queued.oldest) if queued else 0.0)
            unsure = states.get(IN_DOUBT[kind])
            doubt.add_metric([kind], unsure.count if unsure else 0)
        yield depth
        yield oldest
        yield doubt
        yield GaugeMetricFamily(
            "rewardbot_intake_unfinished",
            "Acknowledged Slack requests whose work is not finished (the intake journal).",
            value=journal.unfinished,
        )
        yield GaugeMetricFamily(
            "rewardbot_intake_unfinished_oldest_age_seconds",
            "Seconds since the oldest unfinished request was received; 0 when none.",
            value=age(journal.oldest),
        )
        last_ok = GaugeMetricFamily(
            "rewardbot_job_last_success_timestamp_seconds",
            "When each scheduled job's latest run that ended well finished (any process), "
            "as a Unix time.",
            labels=["job"],
        )
        for job, when in sorted(ledger.last_ok.items()):
            last_ok.add_metric([job], when.timestamp())
        yield last_ok
