"""The outbox worker: claims queued rewards and sends each with one sendBalance call.

A claim (queued → sending) is committed before Plum is called, so a crash leaves the reward in
`sending`, which start-up (and, with several processes, a periodic sweep) turns into `in_doubt`
for an admin to settle. sendBalance has no idempotency key: a reward whose outcome is unknown is
never re-sent by itself.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.plum import (
    PlumAPIError,
    PlumClient,
    PlumConnectionError,
    PlumError,
    PlumOutcomeUnknownError,
    Recipient,
    SendBalanceResult,
)
from bot.rewards.mrkdwn import mentioned_user_ids, to_plain_text
from storage import rewards as reward_repo
from storage.db import Store
from storage.rewards import RecipientResult, RewardDetails
from storage.states import RecipientOutcome, RewardStatus

log = logging.getLogger(__name__)

# Longer than any sendBalance can take (the client's read timeout and its retries).
STALE_SENDING_AFTER = timedelta(minutes=5)


class DeliveryNotifier(Protocol):
    def delivered(self, reward: RewardDetails) -> None: ...

    def failed(self, reward: RewardDetails, reason: str) -> None: ...

    def in_doubt(self, reward: RewardDetails, reason: str) -> None: ...

    def recovered_in_doubt(self, rewards: Sequence[RewardDetails]) -> None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    status: RewardStatus
    message: str | None
    recipients: tuple[RecipientResult, ...] = ()
    response: dict[str, object] | None = None


class DeliveryWorker:
    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        notifier: DeliveryNotifier,
        sender_email: str,
        names: Callable[[Sequence[str]], dict[str, str]] = lambda ids: {},
        threads: int = 4,
        notify_threads: int = 4,
        poll_seconds: float = 2.0,
    ) -> None:
        self._store = store
        self._plum = plum
        self._notifier = notifier
        self._sender_email = sender_email
        self._names = names
        self._threads = max(1, threads)
        self._poll = poll_seconds
        self._wake = threading.Condition()
        self._pending_wakes = 0
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        # Slack messages about a delivery are posted from their own small pool, so a delivery
        # thread goes back to the outbox as soon as the ledger has the outcome.
        self._notify_threads = max(1, notify_threads)
        self._telling: ThreadPoolExecutor | None = None
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"

    # --- lifecycle ------------------------------------------------------------------------

    def recover(self) -> list[RewardDetails]:
        """At start: rewards a crash left in `sending` become `in_doubt`; admins are told."""
        older_than = STALE_SENDING_AFTER if self._store.is_postgres else None
        with self._store.session() as session:
            stale = reward_repo.mark_stale_sending_in_doubt(session, older_than=older_than)
        if stale:
            log.warning("%d reward(s) were left in sending and are now in doubt", len(stale))
            self._notify(self._notifier.recovered_in_doubt, stale)
        return stale

    def start(self) -> None:
        self._stopping.clear()
        self._telling = ThreadPoolExecutor(
            max_workers=self._notify_threads, thread_name_prefix="delivery-tell"
        )
        for n in range(self._threads):
            thread = threading.Thread(target=self._loop, name=f"delivery-{n}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._workers:
            thread.join(timeout)
        self._workers.clear()
        if self._telling is not None:
            self._telling.shutdown(wait=True)  # every outcome already recorded is still told
            self._telling = None

    def wake(self) -> None:
        with self._wake:
            self._pending_wakes += 1
            self._wake.notify()

    # --- work -----------------------------------------------------------------------------

    def _loop(self) -> None:
        sweeps = 0
        while not self._stopping.is_set():
            try:
                while not self._stopping.is_set() and self.run_once():
                    pass
                sweeps += 1
                if self._store.is_postgres and sweeps % 30 == 0:
                    self.recover()  # another process may have died mid-send
            except Exception:
                log.exception("delivery loop error; retrying shortly")
            with self._wake:
                if self._pending_wakes == 0:
                    self._wake.wait(self._poll)
                self._pending_wakes = max(0, self._pending_wakes - 1)

    def run_once(self) -> bool:
        """Claim and deliver one queued reward. False when the outbox is empty."""
        with self._store.session() as session:
            reward = reward_repo.claim_next_queued(session, claimed_by=self.worker_id)
        if reward is None:
            return False
        outcome = self._send(reward)
        with self._store.session() as session:
            done = reward_repo.record_delivery(
                session,
                reward_id=reward.id,
                outcome=outcome.status,
                recipients=outcome.recipients,
                response=outcome.response,
                message=outcome.message,
            )
        if outcome.status == RewardStatus.SENT:
            self._notify(self._notifier.delivered, done)
        elif outcome.status == RewardStatus.FAILED:
            self._notify(self._notifier.failed, done, outcome.message or "")
        else:
            self._notify(self._notifier.in_doubt, done, outcome.message or "")
        return True

    def _send(self, reward: RewardDetails) -> Outcome:
        missing = [r.member.slack_user_id for r in reward.recipients if not r.member.email]
        if missing:
            people = ", ".join(f"<@{uid}>" for uid in missing)
            return Outcome(
                RewardStatus.FAILED,
                f"{people} has no email address in Slack any more, so nothing was sent.",
            )
        citation = to_plain_text(
            reward.reward.citation, names=self._names(mentioned_user_ids(reward.reward.citation))
        )
        recipients = [
            Recipient(
                email=r.member.email or "",
                points=r.points,
                name=r.member.real_name or r.member.name,
                citation=citation,
            )
            for r in reward.recipients
        ]
        try:
            result = self._plum.send_balance(
                sender_email=self._sender_email,
                expiry_month=reward.reward.expiry_months or 12,
                recipients=recipients,
            )
        except PlumOutcomeUnknownError as err:
            log.warning("reward %s: sendBalance outcome unknown (%s)", reward.short_id, err.reason)
            return Outcome(RewardStatus.IN_DOUBT, f"Xoxoday's answer was lost ({err.reason}).")
        except PlumAPIError as err:
            log.warning("reward %s: Xoxoday refused: %s", reward.short_id, err)
            return Outcome(
                RewardStatus.FAILED,
                err.message,
                response={"status": err.status, "error_id": err.error_id},
            )
        except PlumConnectionError as err:
            # The client only raises this for a request that provably never reached Xoxoday.
            log.warning("reward %s: Xoxoday unreachable: %s", reward.short_id, err)
            return Outcome(
                RewardStatus.FAILED, "Xoxoday could not be reached, so nothing was sent."
            )
        except PlumError as err:
            log.warning("reward %s: unexpected Plum error: %s", reward.short_id, err)
            return Outcome(RewardStatus.IN_DOUBT, "Xoxoday's answer could not be understood.")
        except Exception:
            log.exception("reward %s: sendBalance crashed; marking in doubt", reward.short_id)
            return Outcome(RewardStatus.IN_DOUBT, "The bot failed while sending.")
        return Outcome(
            RewardStatus.SENT,
            result.message,
            recipients=_recipient_results(reward, result),
            response={
                "message": result.message,
                "ids_known": result.ids_known,
                "unique_ids": list(result.unique_ids),
            },
        )

    def _notify(self, fn: Callable[..., None], *args: object) -> None:
        telling = self._telling
        if telling is None:  # not started (start-up recovery, tests driving run_once)
            self._tell(fn, *args)
            return
        try:
            telling.submit(self._tell, fn, *args)
        except RuntimeError:  # shutting down: tell now rather than not at all
            self._tell(fn, *args)

    @staticmethod
    def _tell(fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("could not post a delivery notification")


def _recipient_results(
    reward: RewardDetails, result: SendBalanceResult
) -> tuple[RecipientResult, ...]:
    by_email = {r.email.lower(): r for r in result.recipients}
    out = []
    for line in reward.recipients:
        sent = by_email.get((line.member.email or "").lower())
        unique_id = sent.unique_id if sent is not None else None
        out.append(
            RecipientResult(
                member=line.member,
                outcome=RecipientOutcome.SENT,
                unique_id=None if unique_id is None else str(unique_id),
            )
        )
    return tuple(out)
