"""`bot.offload.Offload`: a web request's blocking work on threads of its own, bounded."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.offload import Offload


def test_work_runs_off_the_event_loop_and_gives_back_its_result_or_its_error() -> None:
    offload = Offload("test", threads=2)

    def where(x: int, *, plus: int = 0) -> tuple[str, int]:
        return threading.current_thread().name, x + plus

    def boom() -> None:
        raise KeyError("nope")

    async def main() -> None:
        name, value = await offload.run(where, 40, plus=2)
        assert value == 42
        assert name.startswith("test") and name != threading.current_thread().name
        with pytest.raises(KeyError):
            await offload.run(boom)

    try:
        asyncio.run(main())
    finally:
        offload.close()


def test_no_more_than_its_threads_run_at_once_and_the_rest_wait_their_turn() -> None:
    offload = Offload("bounded", threads=2)
    running = 0
    most = 0
    lock = threading.Lock()

    def work(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(offload.run(work, i) for i in range(8))))

    try:
        assert asyncio.run(main()) == list(range(8))
        assert most == 2
    finally:
        offload.close()


def test_an_offload_needs_a_thread() -> None:
    with pytest.raises(ValueError):
        Offload("none", threads=0)


def test_a_close_drops_what_waits_and_never_waits_for_work_stuck_on_its_threads() -> None:
    """What a stop needs: work stuck behind a held lock neither delays `close` nor the
    process's exit (daemon threads), and what was queued behind it never starts."""
    offload = Offload("stuck", threads=1)
    release = threading.Event()
    started: list[int] = []

    def stuck(i: int) -> int:
        started.append(i)
        release.wait(30)
        return i

    async def main() -> None:
        first = asyncio.ensure_future(offload.run(stuck, 0))
        queued = asyncio.ensure_future(offload.run(stuck, 1))
        while not started:
            await asyncio.sleep(0.01)
        began = time.monotonic()
        offload.close()
        assert time.monotonic() - began < 1
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert not first.done()
        assert all(t.daemon for t in threading.enumerate() if t.name.startswith("stuck"))
        release.set()
        assert await first == 0

    asyncio.run(main())
    assert started == [0]
    with pytest.raises(RuntimeError):
        asyncio.run(offload.run(stuck, 2))
