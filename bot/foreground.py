"""Acknowledging Slack goes first: a gauge of Slack's requests, which background work (giving
after the ack, delivery, notifications) yields to.

Slack waits three seconds for an acknowledgement, and every ack a person waits for is recorded
durably before it leaves (`bot.slack.intake`), so the work behind it can safely wait a moment.
Python runs one thread at a time: a background thread busy with the ledger or with Xoxoday
takes that time from the threads that acknowledge. So background loops call
`Foreground.yield_to_requests()` between items. It returns at once when Slack is quiet (no
request in flight and none for `QUIET_SECONDS`); during a burst it waits for a quiet moment, at
most `max_wait` seconds, so background work still moves under a steady stream of requests.
A request counts from when it has passed the gate (signed by Slack) until it is answered: a
flood of forged requests cannot hold the bot's work back.
"""

from __future__ import annotations

import threading
import time

DEFAULT_MAX_WAIT = 2.0
# A burst looks like requests back to back: a gap this long means Slack is quiet.
QUIET_SECONDS = 0.05
POLL_SECONDS = 0.1


class Foreground:
    def __init__(
        self,
        *,
        max_wait: float = DEFAULT_MAX_WAIT,
        quiet: float = QUIET_SECONDS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self._max_wait = max_wait
        self._quiet_for = quiet
        self._poll = poll
        self._in_flight = 0
        self._last = -quiet  # time.monotonic() of the last request's start or end
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def begin(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._last = time.monotonic()

    def end(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._last = time.monotonic()

    def quiet(self) -> bool:
        """No request in flight, and none for the last `quiet` seconds."""
        return self._in_flight == 0 and time.monotonic() - self._last >= self._quiet_for

    def yield_to_requests(self, max_wait: float | None = None) -> float:
        """Wait for a quiet moment, at most `max_wait` s; the seconds waited. (Waiters look
        every `poll` seconds rather than being woken: during a burst, waking every waiting
        thread whenever the requests in flight drop to none would cost more than it saves.)"""
        if self.quiet():
            return 0.0
        started = time.monotonic()
        deadline = started + (self._max_wait if max_wait is None else max_wait)
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(self._poll, left))
            if self.quiet():
                break
        return time.monotonic() - started


# A gauge that never waits, for code run without a web server (jobs, tests, the CLI).
IDLE = Foreground(max_wait=0.0)
