"""Republish the App Home of people whose rewards changed, if they have ever opened it.

`HomeRefresher.opened(user_id)` records that someone looked at their App Home (in memory and in
the ledger's do-once keys, so it survives restarts and is shared by every bot process).
`refresh(user_ids)` queues a republish for those of them who did, and returns at once: a single
background thread publishes, one person at a time, so a delivery or a click never waits for
Slack. Requests for the same person that pile up are merged into one publish. The thread starts
when there is work and ends after a few idle seconds.

Whether someone has opened their App Home is read from the ledger at most once every
`RECHECK_SECONDS` per person while the answer is no: a burst of changes for people who never
opened it (a store checkout, a busy channel) costs one read each, not one read per change. Another
process may record an opening in the meantime; the people whose refresh was skipped on a "no"
are asked again once it is that old, and refreshed then if they have opened it since.

`publish_now(user_id)` publishes in the caller's thread; publishes for one person never overlap,
so an older view cannot overwrite a newer one that was built later. With `soon=True` (someone
opening the tab), a Xoxoday slow to give the balances does not leave the tab blank: what the
ledger knows is published first, marked as being fetched, and the whole view when it comes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rewards.home import HomeService
from bot.rewards.kinds import OnceKind
from bot.rewards.redeem import RedeemService
from bot.slack.blocks.home import home_view
from bot.slack.listeners.in_time import soon as in_time
from storage import clock, once
from storage.db import Store

log = logging.getLogger(__name__)

OPENED_KIND = OnceKind.APP_HOME_OPENED
IDLE_SECONDS = 2.0
RECHECK_SECONDS = 5.0


class HomeRefresher:
    def __init__(
        self,
        *,
        publish: Callable[[str, bool], None],
        store: Store,
        idle_seconds: float = IDLE_SECONDS,
        recheck_seconds: float = RECHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publish = publish
        self._store = store
        self._idle = idle_seconds
        self._recheck_after = recheck_seconds
        self._monotonic = monotonic
        self._known: set[str] = set()
        # people last found not to have opened their App Home, and when (monotonic)
        self._not_opened: dict[str, float] = {}
        # refreshes skipped on a "no" still fresh: asked again once it is stale
        self._skipped: dict[str, None] = {}
        self._pending: dict[str, None] = {}  # insertion-ordered set
        self._locks: dict[str, threading.Lock] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = 0
        self._stopped = False

    # --- who has an App Home ------------------------------------------------------------------

    def opened(self, user_id: str) -> None:
        """`user_id` opened their App Home: from now on their home follows every change."""
        if user_id in self._known:
            return
        with self._store.session() as session:
            once.claim_once(session, kind=OPENED_KIND, key=user_id)
        self._known.add(user_id)
        self._not_opened.pop(user_id, None)

    def has_opened(self, user_id: str) -> bool:
        if user_id in self._known:
            return True
        checked = self._not_opened.get(user_id)
        if checked is not None and self._monotonic() - checked < self._recheck_after:
            with self._cond:
                self._skipped[user_id] = None
            return False
        with self._store.read_session() as session:  # a read: it takes no writer's turn
            seen = once.was_claimed(session, kind=OPENED_KIND, key=user_id)
        if seen:
            self._known.add(user_id)
            self._not_opened.pop(user_id, None)
        else:
            self._not_opened[user_id] = self._monotonic()
        return seen

    # --- publishing ---------------------------------------------------------------------------

    def publish_now(self, user_id: str, *, soon: bool = False) -> None:
        with self._cond:
            lock = self._locks.setdefault(user_id, threading.Lock())
        with lock:
            self._publish(user_id, soon)

    def refresh(self, user_ids: Iterable[str]) -> None:
        """Queue a republish for each of `user_ids` who has opened their App Home."""
        wanted = [uid for uid in dict.fromkeys(user_ids) if uid]
        if not wanted:
            return
        with self._cond:
            if self._stopped:
                return
            for uid in wanted:
                self._pending[uid] = None
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="home-refresh", daemon=True)
                self._thread.start()
            self._cond.notify()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or being published (for tests and shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._pending.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending and not self._stopped:
                    self._cond.wait(self._idle if not self._skipped else self._stale_in())
                if not self._pending and self._skipped and self._stale_in() <= 0:
                    self._pending.update(self._skipped)  # their "no" is stale: ask again
                    self._skipped.clear()
                if self._stopped or (not self._pending and not self._skipped):
                    self._thread = None
                    self._cond.notify_all()
                    return
                if not self._pending:
                    continue
                uid = next(iter(self._pending))
                del self._pending[uid]
                self._busy += 1
            try:
                if self.has_opened(uid):
                    self.publish_now(uid)
            except Exception:
                log.exception("could not refresh the App Home of %s", uid)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _stale_in(self) -> float:
        """Seconds until the oldest "not opened" of a skipped person is stale (under _cond)."""
        now = self._monotonic()
        oldest = min(
            (self._not_opened.get(uid, now - self._recheck_after) for uid in self._skipped),
            default=now,
        )
        return max(0.0, oldest + self._recheck_after - now)


def publish_home(
    *,
    slack: WebClient,
    home: HomeService,
    user_id: str,
    redeem: RedeemService | None,
    gifts: bool,
    soon: bool = False,
) -> None:
    """Publish `user_id`'s App Home as it is now (`gifts`: it offers the gift card buttons).
    `soon`: if Xoxoday takes longer than `FIRST_ANSWER_SECONDS`, first what the ledger knows
    (the balances marked as being fetched), then the whole view, one after the other."""

    def view(ask_xoxoday: bool) -> dict[str, Any]:
        found = home.home(user_id, ask_xoxoday=ask_xoxoday)
        spend = redeem is not None and bool(found.card.balance.points)
        button = redeem.button(user_id) if spend and redeem is not None else None
        return home_view(
            home=found.card, tz=found.tz, updated_at=clock.now(), redeem=button, gifts=gifts
        )

    def publish(built: dict[str, Any]) -> None:
        try:
            slack.views_publish(user_id=user_id, view=built)
        except SlackApiError as err:
            log.warning("could not publish %s's App Home: %s", user_id, err.response.get("error"))

    if not soon:
        publish(view(True))
        return
    publish(in_time(lambda: view(True), meanwhile=lambda: publish(view(False))))
