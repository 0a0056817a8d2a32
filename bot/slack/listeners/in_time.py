"""Within Slack's 3 seconds. A form's check: work that may wait on Slack or the ledger runs on
its own thread, and the ack waits for it only as long as the budget allows (what is not known
by then is checked after the ack and said by DM). A command's answer that waits on Xoxoday
(`answer_soon`): the answer if it comes within `FIRST_ANSWER_SECONDS`; else a note saying
what is being fetched at once, and the answer when it comes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as WaitedTooLong
from typing import Any, TypeVar

from bot.slack.blocks.common import text_only
from bot.slack.listeners.command_replies import reply

SUBMIT_BUDGET_SECONDS = 2.0  # answer within Slack's 3 s, with room for the network
FIRST_ANSWER_SECONDS = 2.0  # after a command's empty ack: Slack's own 3 s is what people expect

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


def soon(
    work: Callable[[], T], *, meanwhile: Callable[[], object], wait: float = FIRST_ANSWER_SECONDS
) -> T:
    """What `work` (which may wait on Xoxoday) returns. If that takes longer than `wait`
    seconds, `meanwhile()` is called first, to say at once what is under way; then `work`
    is awaited. A failure of `work` is raised here, for the listener's error handling."""
    pending = in_background(work, name="in-time")
    try:
        return pending.result(timeout=wait)
    except WaitedTooLong:
        meanwhile()
        return pending.result()


def answer_soon(
    respond: Callable[..., Any],
    work: Callable[[], Mapping[str, Any]],
    *,
    fetching: str,
    wait: float = FIRST_ANSWER_SECONDS,
) -> None:
    """A command's answer from `work` (which asks Xoxoday): one reply if it is ready within
    `wait` seconds; else first "⏳ Xoxoday is slow…: `fetching`" and then the answer, so
    nobody looks at nothing for longer than Slack's 3 seconds."""
    note = text_only(
        f"⏳ Xoxoday is slow to answer right now: {fetching}. I'll post the answer here as "
        "soon as it comes."
    )
    reply(respond, soon(work, meanwhile=lambda: reply(respond, note), wait=wait))


def slow_note(doing: str) -> dict[str, Any]:
    """What a message whose button was clicked says while Xoxoday is slow to answer."""
    return text_only(
        f"⏳ {doing}: Xoxoday is slow to answer right now. This message shows the outcome "
        "as soon as it does."
    )
