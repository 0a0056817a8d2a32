"""What `GET /metrics` counts, in Prometheus's text format (prometheus-client).

One `Metrics` per running bot (`Runtime.metrics`), with a registry of its own: the counters and
histograms are updated where the thing happens, through the methods below (the web app for
Slack's requests, the Plum client's observer for Xoxoday's calls, a Slack retry handler for the
Web API's errors and rate limits, the scheduler for job runs); the figures read from the ledger
are collected when scraped (`bot.ledger_metrics`). The README ("Operating it") lists every
family and what to alert on.

Labels are kinds, states, operations, outcomes, methods and job names, never a person: no user
id, no email, no reward id. Values from outside (a Slack method, an error code) are kept only
when they look like what they should be; anything else is counted as `other`.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Slack wants an acknowledgement within 3 s.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
# A Xoxoday call may take up to 130 s (a realtime order).
PLUM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 130.0)
OTHER = "other"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,63}")


def label(value: str | None) -> str:
    """`value` as a label, if it looks like a name (a method, a code); else `other`."""
    return value if value is not None and _NAME.fullmatch(value) else OTHER


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # memory, CPU, open files of this process
        r = self.registry
        self._requests = Counter(
            "rewardbot_slack_requests",
            "Requests Slack sent to /slack/events, by kind and the HTTP status answered.",
            ["kind", "status"],
            registry=r,
        )
        self._ack = Histogram(
            "rewardbot_slack_ack_seconds",
            "Seconds from a Slack request's arrival to its acknowledgement, by kind.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self._plum_calls = Counter(
            "rewardbot_plum_calls",
            "HTTP calls to Xoxoday, by operation and outcome.",
            ["operation", "outcome"],
            registry=r,
        )
        self._plum_seconds = Histogram(
            "rewardbot_plum_call_seconds",
            "Seconds each HTTP call to Xoxoday took, by operation.",
            ["operation"],
            buckets=PLUM_BUCKETS,
            registry=r,
        )
        self._slack_errors = Counter(
            "rewardbot_slack_api_errors",
            "Slack Web API calls that failed, by method and Slack's error code "
            "(http_NNN for an HTTP error, connection when no answer came).",
            ["method", "error"],
            registry=r,
        )
        self._slack_limited = Counter(
            "rewardbot_slack_rate_limited",
            "Slack Web API calls answered 429 (rate limited), by method.",
            ["method"],
            registry=r,
        )
        self._jobs = Counter(
            "rewardbot_job_runs",
            "Scheduled job runs in this process, by job and outcome (ok, failed; elsewhere: "
            "another process had claimed it; unclaimed: the claim could not be made).",
            ["job", "outcome"],
            registry=r,
        )

    def add(self, collector: Collector) -> None:
        """A collector read at every scrape (the ledger's figures)."""
        self.registry.register(collector)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # ── where things happen ──────────────────────────────────────────────────────────────

    def slack_request(self, *, kind: str, status: int, seconds: float | None = None) -> None:
        """A request to /slack/events answered; `seconds` when it reached the bot's listeners."""
        self._requests.labels(label(kind), str(status)).inc()
        if seconds is not None:
            self._ack.labels(label(kind)).observe(seconds)

    def plum_call(self, operation: str, outcome: str, seconds: float) -> None:
        self._plum_calls.labels(label(operation), label(outcome)).inc()
        self._plum_seconds.labels(label(operation)).observe(seconds)

    def slack_api_error(self, method: str, error: str) -> None:
        self._slack_errors.labels(label(method), label(error)).inc()

    def slack_rate_limited(self, method: str) -> None:
        self._slack_limited.labels(label(method)).inc()

    def job_run(self, job: str, outcome: str) -> None:
        self._jobs.labels(label(job), label(outcome)).inc()
