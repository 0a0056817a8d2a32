"""Which delivery outcomes people have been told, so that none goes untold.

A delivery outcome is recorded in the ledger first and told afterwards (giver, recipients,
channel, admins). A process that stops in between, or a Slack that fails while telling, would
leave an outcome nobody hears of; so an outcome is noted told (a once-key per reward and
status) only after the notifier has finished, and `untold` finds the ones a stopped process
left, for the delivery worker to tell again. Telling again is safe: the notifier skips each
message it had already posted (it records them with the reward).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from storage import once
from storage import rewards as reward_repo
from storage.db import Store
from storage.rewards import RewardDetails

# An outcome recorded this long ago and still untold was left by a stopped process (or its
# telling failed); older than `RETELL_WITHIN`, it is stale news and left alone.
RETELL_QUIET = timedelta(minutes=2)
RETELL_WITHIN = timedelta(days=1)
# After a telling fails, wait this long (doubling up to the maximum) before the next try.
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 120.0, 3600.0


class ToldOutcomes:
    def __init__(self, *, store: Store, now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now
        self._lock = threading.Lock()
        self._in_hand: set[str] = set()
        self._next_try: dict[str, tuple[float, float]] = {}  # key -> (monotonic, wait)

    def take(self, reward: RewardDetails) -> bool:
        """Claim the telling of this outcome in this process (False: it is in hand already, or
        its last try failed too recently)."""
        key = reward_repo.told_key(reward)
        with self._lock:
            if key in self._in_hand:
                return False
            due = self._next_try.get(key)
            if due is not None and time.monotonic() < due[0]:
                return False
            self._in_hand.add(key)
            return True

    def tell(self, reward: RewardDetails, tell: Callable[[], object]) -> None:
        """Run `tell` (the notifier) for a taken outcome, then note it told; if `tell` raises,
        the outcome stays untold and is tried again later."""
        key = reward_repo.told_key(reward)
        try:
            tell()
            with self._store.session() as session:
                once.claim_once(session, kind=reward_repo.TOLD_KIND, key=key)
            with self._lock:
                self._next_try.pop(key, None)
        except BaseException:
            with self._lock:
                wait = self._next_try.get(key, (0.0, RETRY_FIRST_SECONDS / 2))[1] * 2
                wait = min(wait, RETRY_MAX_SECONDS)
                self._next_try[key] = (time.monotonic() + wait, wait)
            raise
        finally:
            with self._lock:
                self._in_hand.discard(key)

    def note_told(self, rewards: list[RewardDetails]) -> None:
        """Note outcomes told by other means (the admins' alert after a crash)."""
        with self._store.session() as session:
            for reward in rewards:
                once.claim_once(
                    session, kind=reward_repo.TOLD_KIND, key=reward_repo.told_key(reward)
                )

    def untold(self, *, quiet_for: timedelta = RETELL_QUIET) -> list[RewardDetails]:
        """Outcomes recorded at least `quiet_for` ago (and within `RETELL_WITHIN`) that nobody
        was told of, and that this process may take now."""
        now = self._now()
        with self._store.read_session() as session:
            found = reward_repo.untold_outcomes(
                session, ended_before=now - quiet_for, ended_after=now - RETELL_WITHIN
            )
        return [reward for reward in found if self.take(reward)]
