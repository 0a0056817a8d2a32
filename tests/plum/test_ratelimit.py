"""The client waits at Xoxoday's published per-minute limits instead of failing."""

from __future__ import annotations

import threading

from bot.plum.ratelimit import RateLimiter
from bot.plum.retry import RetryPolicy


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


def test_eleventh_get_balance_in_a_minute_waits_for_the_window():
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    for _ in range(10):
        assert limiter.acquire("getBalance") == 0
        t.now += 1
    waited = limiter.acquire("getBalance")
    assert waited == 50  # the first call was at 1000, the window ends at 1060; now is 1010
    assert t.slept == [50]


def test_operations_without_a_published_limit_never_wait():
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    for _ in range(1000):
        limiter.acquire("sendBalance")
    assert t.slept == []


def test_limits_are_per_operation():
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    for _ in range(10):
        limiter.acquire("getBalance")
    limiter.acquire("getVouchers")
    assert t.slept == []


def test_threads_never_exceed_the_limit_in_any_window():
    t = FakeTime()
    limiter = RateLimiter(limits={"getFilters": 50}, clock=t.clock, sleep=t.sleep)
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(15):
            limiter.acquire("getFilters")
            with lock:
                stamps.append(t.clock())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stamps.sort()
    assert len(stamps) == 120
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s < start + 60]
        assert len(in_window) <= 50


def test_backoff_is_bounded_and_jittered():
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0)
    delays = [policy.backoff(n) for n in range(10)]
    assert all(0 < d <= 8.0 for d in delays)
    assert 0.375 <= delays[0] <= 0.5
    assert delays[-1] >= 6.0  # capped at 8 with at most 25 % jitter off


def test_server_hint_is_obeyed_up_to_the_cap():
    policy = RetryPolicy(max_wait_hint=60)
    assert policy.delay(0, 42.0) == 42.0
    assert policy.delay(0, 61.0) is None  # too long: give the error to the caller instead
