"""Updating announcements that show several rewards, within Slack's limit of about one message a
second per channel: a burst of rewards joining one announcement (twenty people reacting at once)
is one `chat.update`, not twenty.

`request(group)` asks for the group's announcement to be drawn again from the ledger; requests
for a group already waiting are one. A channel's next update waits until a second after its last
post or update (`posted(channel)` counts the bot's own posts there). One daemon thread, started
with the first request, does the updates; `refresh(group)` draws and updates (and never raises
out: a failure is logged, the next request draws it again).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from storage.reactions import Group

log = logging.getLogger(__name__)

PER_CHANNEL_SECONDS = 1.0


class GroupUpdates:
    def __init__(
        self,
        *,
        refresh: Callable[[Group], object],
        per_channel: float = PER_CHANNEL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._refresh = refresh
        self._per_channel = per_channel
        self._clock = clock
        self._wake = threading.Condition()
        self._waiting: dict[Group, None] = {}  # in the order asked
        self._last: dict[str, float] = {}  # channel → when the bot last posted or updated there
        self._busy = False
        self._thread: threading.Thread | None = None
        self._stopping = False

    def posted(self, channel_id: str) -> None:
        """The bot just posted in this channel: its next update there waits a second."""
        with self._wake:
            self._last[channel_id] = self._clock()

    def request(self, group: Group) -> None:
        with self._wake:
            if self._stopping:
                return
            self._waiting[group] = None
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="announcement-updates", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def idle(self) -> bool:
        with self._wake:
            return not self._waiting and not self._busy

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, then draw what is still waiting (a stop is not a burst)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._wake:
            left, self._waiting = list(self._waiting), {}
        for group in left:
            try:
                self._refresh(group)
            except Exception:
                log.exception("could not update an announcement while stopping")

    def _next(self) -> Group | None:
        """The first waiting group whose channel may be updated now (waiting for one)."""
        with self._wake:
            while not self._stopping:
                now = self._clock()
                soonest: float | None = None
                for group in self._waiting:
                    due = self._last.get(group.channel_id, -1e9) + self._per_channel
                    if due <= now:
                        del self._waiting[group]
                        self._last[group.channel_id] = now
                        self._busy = True
                        return group
                    soonest = due if soonest is None else min(soonest, due)
                self._wake.wait(None if soonest is None else soonest - now)
            return None

    def _run(self) -> None:
        while (group := self._next()) is not None:
            try:
                self._refresh(group)
            except Exception:
                log.exception("could not update an announcement; the next change draws it again")
            finally:
                with self._wake:
                    self._busy = False
