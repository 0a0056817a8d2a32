"""Acknowledging Slack goes first: a gauge of the requests in flight, which background work
(giving after the ack, delivery, notifications) yields to.

Slack waits three seconds for an acknowledgement, and every ack a person waits for is recorded
durably before it leaves (`bot.slack.intake`), so the work behind it can safely wait a moment.
Python runs one thread at a time: a background thread busy with the ledger or with Xoxoday
takes that time from the threads that acknowledge. So background loops call
`Foreground.yield_to_requests()` between items: it returns at once when no request is in
flight, otherwise when they are all answered, or after `max_wait` seconds at the longest, so
background work still moves under a steady stream of requests.
"""

from __future__ import annotations

import threading
import time

DEFAULT_MAX_WAIT = 0.25


class Foreground:
    def __init__(self, *, max_wait: float = DEFAULT_MAX_WAIT) -> None:
        self._max_wait = max_wait
        self._in_flight = 0
        self._quiet = threading.Condition()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def begin(self) -> None:
        with self._quiet:
            self._in_flight += 1

    def end(self) -> None:
        with self._quiet:
            self._in_flight = max(0, self._in_flight - 1)
            if self._in_flight == 0:
                self._quiet.notify_all()

    def yield_to_requests(self, max_wait: float | None = None) -> float:
        """Wait while requests are in flight, at most `max_wait` s; the seconds waited."""
        if self._in_flight == 0:
            return 0.0
        started = time.monotonic()
        limit = self._max_wait if max_wait is None else max_wait
        with self._quiet:
            self._quiet.wait_for(lambda: self._in_flight == 0, timeout=limit)
        return time.monotonic() - started


# A gauge that never waits, for code run without a web server (jobs, tests, the CLI).
IDLE = Foreground(max_wait=0.0)
