"""Blocking work of a web request, off the event loop, on a pool of threads of its own.

Starlette's `run_in_threadpool` (anyio's worker threads behind one process-wide capacity
limiter, with a cancel scope per call) cost more CPU per call than the work it carried for the
bot's hottest answers: Xoxoday's store asking a balance took 0.47 ms of the server's CPU per
request through it and 0.29 ms through an `Offload` (`benchmarks/storefront_load.py`, server
pinned to one CPU). An `Offload` is asyncio's own `run_in_executor` on a
`ThreadPoolExecutor`: its threads start when there is work, up to `threads`, and what waits
beyond that queues in order. Each kind of request (Slack's, Xoxoday's store's) has its own, so
one kind in a burst never takes the threads of the other.

Its threads are daemons: a stop never waits for them. What one is doing when the process ends
(a debit waiting for a database another process holds) ends as a SIGKILL would end it, which
the ledger's transactions leave whole; a `ThreadPoolExecutor`'s threads are joined at exit, so
a stop waited for every such call, minutes behind a held SQLite lock.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload:
    def __init__(self, name: str, *, threads: int) -> None:
        if threads < 1:
            raise ValueError("an Offload needs at least one thread")
        self.name = name
        self.threads = threads
        self._pool = _DaemonPool(threads, name)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work(*args, **kwargs)` on one of the pool's threads; its result, or what it raised."""
        loop = asyncio.get_running_loop()
        if kwargs:
            return await loop.run_in_executor(self._pool, lambda: work(*args, **kwargs))
        return await loop.run_in_executor(self._pool, work, *args)

    def close(self) -> None:
        """Take no more work; what was queued and not started is dropped. Does not wait."""
        self._pool.shutdown(wait=False, cancel_futures=True)


_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class _DaemonPool(Executor):
    """A `ThreadPoolExecutor` whose threads are daemons: up to `threads`, started when work
    waits and no thread is idle; work queues in order beyond that."""

    def __init__(self, threads: int, name: str) -> None:
        self._most = threads
        self._name = name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future: Future[T] = Future()
            self._queue.put((future, fn, args, kwargs))
            if not self._idle.acquire(timeout=0) and len(self._threads) < self._most:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.put(None)  # the next thread stops too
                return
            future, fn, args, kwargs = item
            del item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as err:
                    future.set_exception(err)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
