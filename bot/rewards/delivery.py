"""The outbox worker: claims queued rewards and sends them together, up to
PLUM_SEND_BATCH_MAX recipients in one sendBalance call (`bot.rewards.batching`: which rewards
share a call, and which of them its answer shows as sent), or, when points live in the bot,
credits them in the ledger in the claim's own transaction.

A claim (queued → sending) is committed before Plum is called, so a crash leaves the reward in
`sending`, which start-up (and, with several processes, a periodic sweep) turns into `in_doubt`
for an admin to settle. sendBalance has no idempotency key: a reward whose outcome is unknown is
never re-sent by itself.

Every claim ends in one of four ways for each reward of the call, whatever goes wrong after it
(`bot.rewards.redelivery` sorts Xoxoday's answers; `_attempt_batch` says how a call's answer
becomes each reward's): `sent`; `failed` (Xoxoday refused, or nothing left the process);
`in_doubt` (the request left and no usable answer came back: `bot.rewards.doubt` settles it
from Xoxoday's payment report where that proves the outcome, and asks the admins about the
rest after REWARD_IN_DOUBT_ADMIN_MINUTES); or back to
`queued` (the request provably never reached Xoxoday: it is tried again with backoff until
REWARD_DELIVERY_RETRY_HOURS have passed, the giver told once that it is delayed). While Xoxoday
is unreachable the whole outbox pauses between attempts, admins hear of it after
`outage_alert_after`, and the first answer releases every waiting reward at once. An outcome
the ledger cannot take (a full disk) is retried until it is recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from bot import logs
from bot.foreground import IDLE, Foreground
from bot.plum import PlumClient, PlumError, Recipient, SendBalanceResult
from bot.processes import is_gone, worker_id
from bot.rewards import batching
from bot.rewards.batching import DEFAULT_BATCH_MAX, Candidate, Line, Shown
from bot.rewards.doubt import DoubtSettler
from bot.rewards.events import (
    Event,
    RewardDelayed,
    RewardFailed,
    RewardInDoubt,
    RewardSent,
    RewardSettled,
    RewardsFoundInDoubt,
    Teller,
    XoxodayBack,
    XoxodayDown,
)
from bot.rewards.mrkdwn import mentioned_user_ids, to_plain_text
from bot.rewards.policy import FailureKind
from bot.rewards.redelivery import Reading, RetryPlan, Verdict, read_failure, refusal_kind
from bot.rewards.settle import settlement_of
from bot.rewards.told import RETELL_QUIET, ToldOutcomes
from storage import clock
from storage import points as points_repo
from storage import rewards as reward_repo
from storage.db import Store
from storage.errors import AlreadyDecided
from storage.reward_views import RecipientDetails
from storage.rewards import Delivered, RecipientResult, RewardDetails
from storage.states import PointSystem, RecipientOutcome, RewardStatus

log = logging.getLogger(__name__)

# Longer than any sendBalance can take (the client's read timeout and its retries).
STALE_SENDING_AFTER = timedelta(minutes=5)
OUTAGE_ALERT_AFTER = timedelta(minutes=5)
DOUBT_SWEEP_SECONDS = 1.0  # how often the settler is asked whether a check is due
# Recording an outcome the ledger refused (full disk): waits between tries, and how long to keep
# trying once the bot is stopping.
RECORD_RETRY_FIRST, RECORD_RETRY_MAX, RECORD_RETRY_WHEN_STOPPING = 0.5, 30.0, 10.0


@dataclass(frozen=True, slots=True)
class Outcome:
    status: RewardStatus  # QUEUED: deferred, to be tried again
    message: str | None
    recipients: tuple[RecipientResult, ...] = ()
    response: dict[str, object] | None = None
    reading: Reading | None = None  # why Xoxoday did not take it (deferred outcomes)
    retry_in: float = 0.0  # deferred outcomes: seconds until the next attempt


class _Outage:
    """This process's view of Xoxoday being unreachable (one per worker, shared by its
    threads): since when, why, whether the admins were told, and the pause of the outbox."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: datetime | None = None
        self.reading: Reading | None = None
        self.failures = 0
        self.alerted = False
        self.paused_until = 0.0  # time.monotonic()


class DeliveryWorker:
    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        teller: Teller,
        sender_email: str,
        names: Callable[[Sequence[str]], dict[str, str]] = lambda ids: {},
        threads: int = 4,
        notify_threads: int = 4,
        poll_seconds: float = 2.0,
        retry: RetryPlan | None = None,
        outage_alert_after: timedelta = OUTAGE_ALERT_AFTER,
        foreground: Foreground = IDLE,
        now: Callable[[], datetime] = clock.now,
        point_system: PointSystem = PointSystem.PLUM,
        doubts: DoubtSettler | None = None,
        batch_max: int = DEFAULT_BATCH_MAX,
    ) -> None:
        self._store = store
        # Recipients per sendBalance call (`bot.rewards.batching`; 1: one reward per call).
        self._batch_max = max(1, batch_max)
        # Settles rewards in doubt from Xoxoday's records before asking the admins (None: the
        # admins are asked at once).
        self._doubts = doubts
        self._doubting: threading.Thread | None = None
        self._point_system = point_system
        self._plum = plum
        self._teller = teller
        self._sender_email = sender_email
        self._names = names
        self._threads = max(1, threads)
        self._poll = poll_seconds
        self._retry = retry or RetryPlan()
        self._alert_after = outage_alert_after
        self._foreground = foreground
        self._now = now
        self._wake = threading.Condition()
        self._pending_wakes = 0
        # For `idle()`, guarded by `_wake`: delivery threads waiting for work, and messages
        # handed to the telling pool that are not posted yet.
        self._waiting = 0
        self._unposted = 0
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        self._outage = _Outage()
        self._probing = threading.Lock()
        # Slack messages about a delivery are posted from their own small pool, so a delivery
        # thread goes back to the outbox as soon as the ledger has the outcome.
        self._notify_threads = max(1, notify_threads)
        self._telling: ThreadPoolExecutor | None = None
        self.worker_id = worker_id()
        self._told = ToldOutcomes(store=store, now=now)

    # --- lifecycle ------------------------------------------------------------------------

    def recover(self, *, at_start: bool = True) -> list[RewardDetails]:
        """At start (and, with several processes, now and then): rewards a crash left in
        `sending` become `in_doubt`; admins are told."""
        older_than = STALE_SENDING_AFTER if self._store.is_postgres else None
        with self._store.session() as session:
            claimants = reward_repo.sending_claimants(session)
            # At start nothing is being sent by this process yet: its own id on a send is a
            # previous life's. Later, its sends in flight are its own business.
            gone = [w for w in claimants if (at_start and w == self.worker_id) or is_gone(w)]
            stale = reward_repo.mark_stale_sending_in_doubt(
                session, older_than=older_than, abandoned_by=gone
            )
        if stale:
            log.warning("%d reward(s) were left in sending and are now in doubt", len(stale))
            self._notify(self._tell_recovered, stale)
        return stale

    def check_doubts(self) -> None:
        """Settle what Xoxoday's records prove of the rewards in doubt (`bot.rewards.doubt`);
        the ones proven not sent are queued again, and sent now."""
        if self._doubts is None:
            return
        checked = self._doubts.check()
        for _ in checked.requeued[: self._threads]:
            self.wake()

    def retell(self, *, quiet_for: timedelta = RETELL_QUIET) -> int:
        """Tell the outcomes that were recorded but never told (the process stopped in
        between, or Slack failed while telling); returns how many are being told."""
        untold = self._told.untold(quiet_for=quiet_for)
        for reward in untold:
            log.info(
                "telling how reward %s ended (%s), which nobody heard",
                reward.short_id,
                reward.status.value,
            )
            self._notify(self._tell_outcome, reward, again=True)
        return len(untold)

    def start(self) -> None:
        """One delivery thread, which polls the outbox; more start as work arrives (`_grow`),
        up to `threads`. The telling pool's threads start with the first message."""
        self._stopping.clear()
        self._telling = ThreadPoolExecutor(
            max_workers=self._notify_threads, thread_name_prefix="delivery-tell"
        )
        # Alone on SQLite, every untold outcome is a previous life's; sharing PostgreSQL,
        # another process may be telling one right now.
        quiet = RETELL_QUIET if self._store.is_postgres else timedelta(0)
        self.retell(quiet_for=quiet)
        self._grow()
        if self._doubts is not None:  # on a thread of its own: reading the report waits
            self._doubting = threading.Thread(
                target=self._doubt_loop, name="delivery-doubts", daemon=True
            )
            self._doubting.start()

    def _doubt_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._doubts is not None and self._doubts.due():
                    self.check_doubts()
            except Exception:
                log.exception("checking the rewards in doubt failed; trying again later")
            self._stopping.wait(DOUBT_SWEEP_SECONDS)

    def _grow(self) -> None:
        """Work came: one more delivery thread, up to `threads`."""
        with self._wake:
            if self._stopping.is_set() or len(self._workers) >= self._threads:
                return
            thread = threading.Thread(
                target=self._loop, name=f"delivery-{len(self._workers)}", daemon=True
            )
            self._workers.append(thread)  # before it starts: `idle` counts it as busy
        thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        with self._wake:
            workers = list(self._workers)
        for thread in workers:
            thread.join(timeout)
        with self._wake:
            self._workers.clear()
        if self._doubting is not None:
            self._doubting.join(timeout)
            self._doubting = None
        if self._telling is not None:
            self._telling.shutdown(wait=True)  # every outcome already recorded is still told
            self._telling = None

    def wake(self) -> None:
        with self._wake:
            self._pending_wakes += 1
            self._wake.notify()

    def idle(self) -> bool:
        """Nothing in hand right now: every delivery thread is waiting for work with no wake-up
        pending, and every message about a delivery handed to the telling pool has been posted
        (or has failed). Rewards due later (deferred while Xoxoday is unreachable) are not in
        hand; a thread waiting out an outage pause is busy. A snapshot, for tests and tools that
        must know the worker has done what it was given: a reward queued next makes it busy."""
        with self._wake:
            waiting = self._waiting == len(self._workers)
            woken = bool(self._workers) and self._pending_wakes > 0
            return waiting and not woken and self._unposted == 0

    @property
    def unreachable_since(self) -> datetime | None:
        """When this process last found Xoxoday unreachable (None: it answers)."""
        return self._outage.since

    # --- work -----------------------------------------------------------------------------

    def _loop(self) -> None:
        sweeps = 0
        while not self._stopping.is_set():
            try:
                while self._outbox_open() and self._next():
                    self._grow()  # there may be more: another thread helps
                sweeps += 1
                if sweeps % 15 == 0:
                    self.retell()
                if self._store.is_postgres and sweeps % 30 == 0:
                    self.recover(at_start=False)  # another process may have died mid-send
            except Exception:
                log.exception("delivery loop error; retrying shortly")
            with self._wake:
                if self._pending_wakes == 0:
                    self._waiting += 1
                    self._wake.wait(self._poll)
                    self._waiting -= 1
                self._pending_wakes = max(0, self._pending_wakes - 1)

    def _outbox_open(self) -> bool:
        """Wait out a pause while Xoxoday is unreachable (holding the rewards that arrive
        meanwhile, telling the admins when it lasts), then let Slack's requests in flight go
        first. False when the worker is stopping."""
        while not self._stopping.is_set():
            remaining = self._outage.paused_until - time.monotonic()
            if remaining <= 0:
                break
            self._hold_arrivals()
            self._alert_if_due()
            self._stopping.wait(min(remaining, 1.0))
        self._foreground.yield_to_requests()
        return not self._stopping.is_set()

    def _next(self) -> bool:
        """One delivery; while Xoxoday is unreachable, only one thread at a time tries (the
        others wait for its answer). False when nothing is due."""
        if self._outage.since is None:
            return self.run_once()
        if not self._probing.acquire(blocking=False):
            self._stopping.wait(0.2)
            return True
        try:
            return self.run_once()
        finally:
            self._probing.release()

    def run_once(self) -> bool:
        """Claim the due rewards of one sendBalance call (`bot.rewards.batching`) and deliver
        them. False when nothing is due."""
        if self._point_system is PointSystem.STOREFRONT:
            return self._credit_once()
        claimed = self._claim()
        if not claimed:
            return False
        if len(claimed) == 1:
            reward = claimed[0]
            with logs.bound(reward_id=reward.short_id):  # on every line about it (LOG_FORMAT=json)
                self._finish(reward, self._attempt(reward))
            return True
        with logs.bound(send_batch=claimed[0].reward.send_batch):
            outcomes = self._attempt_batch(claimed)
            pauses = [o for _, o in outcomes if o.reading is not None]
            for reward, outcome, done in self._record_all(outcomes):
                with logs.bound(reward_id=reward.short_id):
                    if done is not None:
                        self._tell(done, outcome)
            if pauses:
                longest = max(pauses, key=lambda o: o.retry_in)
                assert longest.reading is not None
                self._pause(longest.retry_in, longest.reading)
        return True

    def _claim(self) -> list[RewardDetails]:
        """queued → sending, in one transaction, for the rewards of the next call: the oldest
        due one and those that go with it (`batching.compose`). Committed before Xoxoday is
        called, so a crash leaves each of them in `sending`, then in doubt."""
        with self._store.session() as session:
            if self._batch_max <= 1:
                one = reward_repo.claim_next_queued(session, claimed_by=self.worker_id)
                return [] if one is None else [one]
            due = reward_repo.due_queued(session, limit=self._batch_max)
            chosen = batching.compose([_candidate(r) for r in due], max_recipients=self._batch_max)
            return reward_repo.claim_many(
                session,
                reward_ids=[c.reward_id for c in chosen],
                claimed_by=self.worker_id,
                batch=batching.new_batch_id() if len(chosen) > 1 else None,
            )

    def _finish(self, reward: RewardDetails, outcome: Outcome) -> None:
        """Record how a reward's send ended, pause the outbox if Xoxoday asked, tell."""
        done = self._record(reward, outcome)
        if outcome.reading is not None:
            self._pause(outcome.retry_in, outcome.reading)
        if done is not None:
            self._tell(done, outcome)

    def _credit_once(self) -> bool:
        """StoreFront: claim a due reward and credit its recipients in the ledger, in one
        transaction, so a crash leaves it either queued or credited, never in between (and
        never in doubt: nothing leaves the process). A ledger that refuses the write leaves
        the reward queued for the next sweep."""
        try:
            with self._store.session() as session:
                claimed = reward_repo.claim_next_queued(session, claimed_by=self.worker_id)
                if claimed is None:
                    return False
                done = points_repo.credit_reward(session, reward_id=claimed.id)
        except Exception as err:
            log.error(
                "could not credit a reward in the ledger (%s); it stays queued", type(err).__name__
            )
            return False
        if self._told.take(done):
            self._notify(self._tell_outcome, done)
        return True

    def _prepare(self, reward: RewardDetails) -> list[Recipient] | Outcome:
        """What goes out for a reward, or how it ends without being sent."""
        try:
            return self._recipients(reward)
        except Exception:
            log.exception(
                "reward %s: could not prepare the send; nothing was sent", reward.short_id
            )
            return Outcome(
                RewardStatus.FAILED,
                "The bot failed before sending, so nothing was sent.",
                response={"kind": FailureKind.PASSING},
            )

    def _attempt(self, reward: RewardDetails) -> Outcome:
        """One reward's send; never raises (see the module doc for the four endings)."""
        recipients = self._prepare(reward)
        if isinstance(recipients, Outcome):
            return recipients
        return self._send_alone(reward, recipients)

    def _send_alone(self, reward: RewardDetails, recipients: list[Recipient]) -> Outcome:
        try:
            result = self._plum.send_balance(
                sender_email=self._sender_email,
                expiry_month=reward.reward.expiry_months or 12,
                recipients=recipients,
            )
        except PlumError as err:
            return self._after_failure(reward, err)
        except Exception:
            log.exception("reward %s: sendBalance crashed; marking in doubt", reward.short_id)
            return Outcome(RewardStatus.IN_DOUBT, "The bot failed while sending.")
        self._reachable(through=[reward])
        message = _storable(result.message)
        return Outcome(
            RewardStatus.SENT,
            message,
            recipients=_recipient_results(reward, result),
            response={
                "message": message,
                "ids_known": result.ids_known,
                "unique_ids": list(result.unique_ids),
            },
        )

    def _attempt_batch(self, rewards: list[RewardDetails]) -> list[tuple[RewardDetails, Outcome]]:
        """The rewards of one call; each ends in one of the four ways a single send does.

        - Xoxoday took the call: each reward as its answer shows it (`batching.match`): sent,
          or in doubt when the answer does not show it.
        - The outcome is unknown: every reward of the call is in doubt, settled together
          (`bot.rewards.doubt`); none is ever sent again blindly.
        - Provably not applied (unreachable, 429 / penaltySeconds): every reward waits for the
          next try, and the outbox pauses as Xoxoday asked.
        - Refused: for want of balance, each reward fails as the call did; any other refusal
          may be one recipient's (an email Xoxoday won't take), and nothing was applied, so
          each reward is sent alone now, and the refusal lands on the one it is about.
        Never raises."""
        outcomes: list[tuple[RewardDetails, Outcome]] = []
        going: list[tuple[RewardDetails, list[Recipient]]] = []
        for reward in rewards:
            prepared = self._prepare(reward)
            if isinstance(prepared, Outcome):
                outcomes.append((reward, prepared))
            else:
                going.append((reward, prepared))
        if len(going) <= 1:
            return outcomes + [(r, self._send_alone(r, recipients)) for r, recipients in going]
        batch = going[0][0].reward.send_batch or "?"
        every = [recipient for _, recipients in going for recipient in recipients]
        try:
            result = self._plum.send_balance(
                sender_email=self._sender_email,
                expiry_month=going[0][0].reward.expiry_months or 12,
                recipients=every,
            )
        except PlumError as err:
            reading = read_failure(err)
            if (
                reading.verdict is Verdict.REFUSED
                and refusal_kind(err) is not FailureKind.LOW_BALANCE
            ):
                log.warning(
                    "call %s (%d rewards) refused (%s); sending each reward alone",
                    batch,
                    len(going),
                    type(err).__name__,
                )
                return outcomes + self._send_each(going)
            return outcomes + [(r, self._after_failure(r, err)) for r, _ in going]
        except Exception:
            log.exception("call %s: sendBalance crashed; its rewards are in doubt", batch)
            return outcomes + [
                (r, Outcome(RewardStatus.IN_DOUBT, "The bot failed while sending."))
                for r, _ in going
            ]
        self._reachable(through=[r for r, _ in going])
        message = _storable(result.message)
        lines = [
            Line(
                reward_id=r.id,
                member_id=_member_id(line),
                email=line.member.email or "",
                points=line.points,
            )
            for r, _ in going
            for line in r.recipients
        ]
        shown = batching.match(lines, result.rows, listed=result.listed)
        for reward, _ in going:
            seen = shown[reward.id]
            if seen.shown is Shown.UNMATCHED:
                log.warning(
                    "reward %s: call %s was taken but its answer does not show this reward; "
                    "in doubt",
                    reward.short_id,
                    batch,
                )
                outcomes.append(
                    (
                        reward,
                        Outcome(
                            RewardStatus.IN_DOUBT,
                            "Xoxoday's answer didn't show this reward among the ones it sent.",
                            response={"message": message, "send_batch": batch},
                        ),
                    )
                )
                continue
            ids = seen.unique_ids
            recipients = tuple(
                RecipientResult(
                    member=line.member,
                    outcome=RecipientOutcome.SENT,
                    unique_id=(
                        None
                        if ids.get(_member_id(line)) is None
                        else _storable(str(ids[_member_id(line)]), 100)
                    ),
                )
                for line in reward.recipients
            )
            outcomes.append(
                (
                    reward,
                    Outcome(
                        RewardStatus.SENT,
                        message,
                        recipients=recipients,
                        response={
                            "message": message,
                            "ids_known": len(ids) == len(reward.recipients),
                            "unique_ids": [ids[k] for k in sorted(ids)],
                            "send_batch": batch,
                        },
                    ),
                )
            )
        return outcomes

    def _send_each(
        self, going: list[tuple[RewardDetails, list[Recipient]]]
    ) -> list[tuple[RewardDetails, Outcome]]:
        """After a refused call (nothing applied): each reward alone. Once Xoxoday says to
        wait, the rest wait too, unsent."""
        out: list[tuple[RewardDetails, Outcome]] = []
        waiting: Outcome | None = None
        for reward, recipients in going:
            if waiting is not None:
                out.append((reward, waiting))
                continue
            outcome = self._send_alone(reward, recipients)
            out.append((reward, outcome))
            if outcome.status is RewardStatus.QUEUED:
                waiting = outcome
        return out

    def _recipients(self, reward: RewardDetails) -> list[Recipient] | Outcome:
        missing = [r.member.slack_user_id for r in reward.recipients if not r.member.email]
        if missing:
            people = ", ".join(f"<@{uid}>" for uid in missing)
            return Outcome(
                RewardStatus.FAILED,
                f"{people} has no email address in Slack any more, so nothing was sent.",
                response={"kind": FailureKind.NO_EMAIL},
            )
        text = reward.reward.citation
        citation = to_plain_text(text, names=self._names(mentioned_user_ids(text)))
        return [
            Recipient(
                email=r.member.email or "",
                points=r.points,
                name=r.member.real_name or r.member.name,
                citation=citation,
            )
            for r in reward.recipients
        ]

    def _after_failure(self, reward: RewardDetails, err: PlumError) -> Outcome:
        reading = read_failure(err)
        short = reward.short_id
        if reading.verdict is Verdict.UNKNOWN:
            log.warning("reward %s: sendBalance outcome unknown (%s)", short, type(err).__name__)
            reason = reading.reason
            return Outcome(RewardStatus.IN_DOUBT, f"{reason[:1].upper()}{reason[1:]}.")
        if reading.verdict is Verdict.REFUSED:
            self._reachable()
            log.warning("reward %s: Xoxoday refused: %s", short, err)
            status = getattr(err, "status", None)
            return Outcome(
                RewardStatus.FAILED,
                reading.reason,
                response={
                    "status": status,
                    "error_id": getattr(err, "error_id", None),
                    "kind": refusal_kind(err),
                },
            )
        now = self._now()
        until = reward.reward.retry_until or now + self._retry.window
        if now >= until:
            log.warning("reward %s: Xoxoday still unreachable after the retry window", short)
            hours = self._retry.window.total_seconds() / 3600
            # the giver reads it: the bot's set-up (the admins' alert says what) in plain words
            said = "Xoxoday didn't take the bot's requests" if reading.setup_problem else None
            return Outcome(
                RewardStatus.FAILED,
                f"{said or reading.reason} for {hours:g} hours, so nothing was sent.",
                response={
                    "kind": FailureKind.SETUP if reading.setup_problem else FailureKind.PASSING
                },
            )
        # The longer Xoxoday has been unreachable (or this reward refused), the longer the wait.
        attempt = max(reward.reward.attempts, self._outage.failures) + 1
        wait = self._retry.delay(attempt, reading.retry_after)
        log.warning("reward %s: not sent (%s); next try in %.0f s", short, reading.reason, wait)
        return Outcome(RewardStatus.QUEUED, reading.reason, reading=reading, retry_in=wait)

    # --- recording ------------------------------------------------------------------------

    def _record(self, reward: RewardDetails, outcome: Outcome) -> RewardDetails | None:
        """Write the outcome, trying again until the ledger takes it (None: given up while
        stopping, or someone else had already ended the send). An outcome the ledger refuses
        for what it holds (not for a full disk) is written again with less: without
        Xoxoday's words and ids, and as a last resort as in doubt, for an admin to settle."""
        wait, gave_up_at = RECORD_RETRY_FIRST, None
        fallbacks = list(_simpler(outcome))
        while True:
            try:
                with self._store.session() as session:
                    return self._write(session, reward, outcome)
            except AlreadyDecided as err:
                log.error("reward %s changed while being sent (now %s)", reward.short_id, err)
                return None
            except Exception as err:
                if not _transient(err) and fallbacks:
                    log.error(
                        "the ledger refused how reward %s ended (%s); recording less",
                        reward.short_id,
                        type(err).__name__,
                    )
                    outcome = fallbacks.pop(0)
                    continue
                if self._stopping.is_set():
                    gave_up_at = gave_up_at or time.monotonic() + RECORD_RETRY_WHEN_STOPPING
                    if time.monotonic() > gave_up_at:
                        log.error(
                            "reward %s ended %s but the ledger could not record it (%s); the "
                            "next start marks it in doubt for an admin to settle",
                            reward.short_id,
                            outcome.status,
                            type(err).__name__,
                        )
                        return None
                log.error(
                    "could not record that reward %s ended %s (%s); trying again in %.1f s",
                    reward.short_id,
                    outcome.status,
                    type(err).__name__,
                    wait,
                )
                time.sleep(wait)
                wait = min(wait * 2, RECORD_RETRY_MAX)

    def _record_all(
        self, outcomes: list[tuple[RewardDetails, Outcome]]
    ) -> list[tuple[RewardDetails, Outcome, RewardDetails | None]]:
        """The outcomes of one call, written in one transaction (one commit for the call, not
        one per reward); if the ledger refuses any of it, each is written on its own as
        `_record` does."""
        ended = [(r, o) for r, o in outcomes if o.status is not RewardStatus.QUEUED]
        try:
            with self._store.session() as session:
                done = dict(
                    zip(
                        [r.id for r, _ in ended],
                        reward_repo.record_deliveries(
                            session,
                            [
                                Delivered(r.id, o.status, o.recipients, o.response, o.message)
                                for r, o in ended
                            ],
                        ),
                        strict=True,
                    )
                )
                for reward, outcome in outcomes:
                    if outcome.status is RewardStatus.QUEUED:
                        done[reward.id] = self._write(session, reward, outcome)
            return [(r, o, done[r.id]) for r, o in outcomes]
        except Exception as err:
            log.warning(
                "could not record the call's outcomes together (%s); recording each",
                type(err).__name__,
            )
        return [(r, o, self._record(r, o)) for r, o in outcomes]

    def _write(self, session: Session, reward: RewardDetails, outcome: Outcome) -> RewardDetails:
        if outcome.status is RewardStatus.QUEUED:
            now = self._now()
            return reward_repo.defer_delivery(
                session,
                reward_id=reward.id,
                message=outcome.message or "",
                next_attempt_at=now + timedelta(seconds=outcome.retry_in),
                retry_until=now + self._retry.window,
            )
        return reward_repo.record_delivery(
            session,
            reward_id=reward.id,
            outcome=outcome.status,
            recipients=outcome.recipients,
            response=outcome.response,
            message=outcome.message,
        )

    def _tell(self, done: RewardDetails, outcome: Outcome) -> None:
        if outcome.status is RewardStatus.QUEUED:
            self._notify(self._teller.tell, RewardDelayed(done, outcome.message or ""))
        elif self._told.take(done):
            self._notify(self._tell_outcome, done)

    def _tell_outcome(self, done: RewardDetails, *, again: bool = False) -> None:
        """Tell how a reward ended (taken with `ToldOutcomes.take`), then note it told."""
        reason = done.reward.delivery_message or ""
        event: Event
        settlement = settlement_of(done)
        if settlement is not None:  # an admin's settling, cut short by a restart
            event = RewardSettled(done, settlement, again=again)
        elif done.status is RewardStatus.SENT:
            event = RewardSent(done, again=again)
        elif done.status is RewardStatus.FAILED:
            event = RewardFailed(done, reason, again=again)
        else:
            event = RewardInDoubt(done, reason, again=again, ask_admins=self._doubts is None)
        self._told.tell(done, lambda: self._teller.tell(event))

    def _tell_recovered(self, stale: list[RewardDetails]) -> None:
        self._teller.tell(RewardsFoundInDoubt(tuple(stale), ask_admins=self._doubts is None))
        self._told.note_told(stale)

    # --- Xoxoday unreachable --------------------------------------------------------------

    def _pause(self, seconds: float, reading: Reading) -> None:
        outage = self._outage
        with outage.lock:
            if outage.since is None:
                outage.since = self._now()
            outage.reading = reading
            outage.failures += 1
            outage.paused_until = max(outage.paused_until, time.monotonic() + seconds)
        self._alert_if_due()

    def _hold_arrivals(self) -> None:
        """Rewards queued while Xoxoday is known to be down wait for the next try without
        being sent into the outage; their givers hear at once that they are delayed."""
        outage = self._outage
        if outage.since is None or outage.reading is None:
            return
        until = self._now() + timedelta(seconds=max(outage.paused_until - time.monotonic(), 0))
        try:
            with self._store.session() as session:
                held = reward_repo.hold_queued(
                    session, until=until, retry_until=self._now() + self._retry.window
                )
        except Exception:
            log.exception("could not hold the rewards that arrived while Xoxoday is down")
            return
        for reward in held:
            self._notify(self._teller.tell, RewardDelayed(reward, outage.reading.reason))

    def _alert_if_due(self) -> None:
        outage = self._outage
        with outage.lock:
            since, reading = outage.since, outage.reading
            if since is None or reading is None or outage.alerted:
                return
            if not reading.setup_problem and self._now() - since < self._alert_after:
                return
            outage.alerted = True
        with self._store.read_session() as session:
            waiting = reward_repo.count_deferred(session)
        down = XoxodayDown(
            since=since, reason=reading.reason, waiting=waiting, setup_problem=reading.setup_problem
        )
        self._notify(self._teller.tell, down)

    def _reachable(self, through: Sequence[RewardDetails] = ()) -> None:
        """Xoxoday answered: end the pause, release every waiting reward, tell the admins if
        they were told it was down. `through`: the rewards Xoxoday just took, counted with the
        waiting ones when they were among them (they are what a waiting reward's retry
        sends)."""
        outage = self._outage
        with outage.lock:
            since, alerted = outage.since, outage.alerted
            if since is None:
                return
            outage.since, outage.reading, outage.failures = None, None, 0
            outage.alerted, outage.paused_until = False, 0.0
        try:
            with self._store.session() as session:
                waiting = reward_repo.release_deferred(session)
        except Exception:
            log.exception("could not release the rewards waiting for Xoxoday")
            waiting = 0
        waiting += sum(1 for r in through if r.reward.attempts or r.reward.next_attempt_at)
        log.info("Xoxoday answers again; %d waiting reward(s) released", waiting)
        for _ in range(min(waiting, self._threads)):
            self.wake()
        if alerted:
            self._notify(self._teller.tell, XoxodayBack(since=since, waiting=waiting))

    # --- telling --------------------------------------------------------------------------

    def _notify(self, fn: Callable[..., object], *args: object, **kwargs: object) -> None:
        telling = self._telling
        if telling is None:  # not started (start-up recovery, tests driving run_once)
            self._post(fn, *args, **kwargs)
            return
        with self._wake:
            self._unposted += 1
        try:
            telling.submit(self._post_counted, fn, *args, **kwargs)
        except RuntimeError:  # shutting down: tell now rather than not at all
            self._post_counted(fn, *args, **kwargs)

    def _post_counted(self, fn: Callable[..., object], *args: object, **kwargs: object) -> None:
        """`_post` for a message `_notify` counted as not posted yet (see `idle`)."""
        try:
            self._post(fn, *args, **kwargs)
        finally:
            with self._wake:
                self._unposted -= 1

    def _post(self, fn: Callable[..., object], *args: object, **kwargs: object) -> None:
        self._foreground.yield_to_requests()
        try:
            fn(*args, **kwargs)
        except Exception:
            log.exception("could not post a delivery notification")


def _transient(err: BaseException) -> bool:
    """A database error that may pass (disk full, locked, connection lost), not one about
    what was written."""
    return isinstance(err, OperationalError | InterfaceError | OSError)


def _simpler(outcome: Outcome) -> Iterator[Outcome]:
    """Ever plainer versions of an outcome, for a ledger that refuses the full one."""
    if outcome.status is RewardStatus.QUEUED:
        yield replace(outcome, message=None)
        return
    plain = [RecipientResult(member=r.member, outcome=r.outcome) for r in outcome.recipients]
    yield replace(outcome, message=None, response=None, recipients=tuple(plain))
    if outcome.status is RewardStatus.SENT:
        yield Outcome(RewardStatus.IN_DOUBT, "Xoxoday's answer could not be stored.")


def _storable(value: str | None, limit: int = 2000) -> str | None:
    """Text from Xoxoday as the ledger can hold it (no lone surrogates, not unbounded)."""
    if value is None:
        return None
    return value.encode("utf-8", "replace").decode("utf-8")[:limit]


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
                unique_id=None if unique_id is None else _storable(str(unique_id), 100),
            )
        )
    return tuple(out)


def _member_id(line: RecipientDetails) -> int:
    found = line.member.id
    assert found is not None
    return found


def _candidate(reward: RewardDetails) -> Candidate:
    return Candidate(
        reward_id=reward.id,
        expiry_months=reward.reward.expiry_months,
        lines=tuple(
            Line(
                reward_id=reward.id,
                member_id=_member_id(line),
                email=line.member.email or "",
                points=line.points,
            )
            for line in reward.recipients
        ),
    )
