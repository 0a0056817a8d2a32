"""Blocking work of a web request, off the event loop, on a pool of threads of its own.

Starlette's `run_in_threadpool` (anyio's worker threads behind one process-wide capacity
limiter, with a cancel scope per call) cost more CPU per call than the work it carried for the
bot's hottest answers: Xoxoday's store asking a balance took 0.47 ms of the server's CPU per
request through it and 0.29 ms through an `Offload` (`benchmarks/storefront_load.py`, server
pinned to one CPU). An `Offload` is asyncio's own `run_in_executor` on a
`ThreadPoolExecutor`: its threads start when there is work, up to `threads`, and what waits
beyond that queues in order. Each kind of request (Slack's, Xoxoday's store's) has its own, so
one kind in a burst never takes the threads of the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload:
    def __init__(self, name: str, *, threads: int) -> None:
        if threads < 1:
            raise ValueError("an Offload needs at least one thread")
        self.name = name
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work(*args, **kwargs)` on one of the pool's threads; its result, or what it raised."""
        loop = asyncio.get_running_loop()
        if kwargs:
            return await loop.run_in_executor(self._pool, lambda: work(*args, **kwargs))
        return await loop.run_in_executor(self._pool, work, *args)

    def close(self) -> None:
        """Take no more work; what was queued and not started is dropped. Does not wait."""
        self._pool.shutdown(wait=False, cancel_futures=True)
