"""A form's check within Slack's 3 seconds: work that may wait on Slack or the ledger runs on
its own thread, and the ack waits for it only as long as the budget allows (what is not known
by then is checked after the ack and said by DM)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

SUBMIT_BUDGET_SECONDS = 2.0  # answer within Slack's 3 s, with room for the network

T = TypeVar("T")


def in_background(work: Callable[[], T], *, name: str = "form-check") -> Future[T]:
    """Run `work` on its own thread; its result (or exception) arrives in the future."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work())
        except BaseException as err:
            future.set_exception(err)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
