"""Background work yields to Slack's requests: at once when Slack is quiet, after a quiet moment
during a burst, and never longer than its limit."""

from __future__ import annotations

import threading
import time

from bot.foreground import IDLE, Foreground


def test_quiet_means_no_wait() -> None:
    gauge = Foreground(max_wait=5, quiet=0.0)
    assert gauge.yield_to_requests() == 0.0
    assert IDLE.yield_to_requests() == 0.0


def test_a_request_in_flight_holds_background_work_until_it_is_answered() -> None:
    gauge = Foreground(max_wait=5, quiet=0.05, poll=0.01)
    gauge.begin()
    threading.Timer(0.2, gauge.end).start()
    waited = gauge.yield_to_requests()
    assert 0.2 <= waited < 1.0


def test_a_steady_stream_never_holds_it_longer_than_the_limit() -> None:
    gauge = Foreground(max_wait=0.3, quiet=0.05, poll=0.01)
    gauge.begin()  # never answered
    started = time.monotonic()
    gauge.yield_to_requests()
    assert 0.3 <= time.monotonic() - started < 0.6
