"""Settling rewards in doubt from Xoxoday's own records, so that admins are asked only about
what those records cannot prove.

A reward is in doubt when its sendBalance left and the answer proved nothing (a timeout, a
connection broken after the request left, a 5xx that doesn't say it refused, a crash
mid-send). sendBalance has no idempotency key, so the reward is never sent again blindly; but
every sendBalance Xoxoday applies debits the company account, one row per recipient in the
payment report (`paymentHistory`), each under the `unique_id` sendBalance created. The ledger
knows the unique ids of every send it saw answered, so the report's rows it does not know are
the ones a lost answer may have made. For each reward in doubt (`read_records`):

- **sent**: the report has, since the send, exactly one unknown debit for each recipient's
  points, no row of those amounts that another unexplained spend could own (another reward in
  doubt, a send answered without ids, an order in doubt), none cancelled. The reward is
  settled as sent, with the unique ids where an amount names one row (so it can be cancelled
  later), and told as a delivery.
- **not sent**: the report has no unknown row of any of its recipients' amounts, and it is
  known to be up to date past the send: it already shows a send of the bot's own that started
  after this one went in doubt and was answered with its ids (the report is the account's
  ledger, in order). The reward goes back to the queue and is sent again.
- **unproven**: anything else (the report can't be read, rows that could be someone else's,
  no later send to show the report is up to date). Checked again later.

Checks begin `first_check` after the reward went in doubt (Xoxoday documents realtime work
taking up to 120 s: a request it is still working on must have shown up by then) and go on
until `ask_after` (`REWARD_IN_DOUBT_ADMIN_MINUTES`); what is still unproven then is the admins'
to settle, with the "It was sent" / "It failed" buttons, and the bot stops checking it.

The report is read by `bot.rewards.order_reports.all_payments`; the decision is pure.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum

from bot.plum import PaymentRecord, PlumClient, PlumError
from bot.rewards.cards import SETTLED_BY_RECORDS
from bot.rewards.events import RewardInDoubt, RewardSettled, Teller
from bot.rewards.kinds import MessageKind
from bot.rewards.order_reports import all_payments
from bot.rewards.settle import settlement_of
from storage import clock, once, queries
from storage import messages as message_repo
from storage import reconcile as ledger
from storage import rewards as reward_repo
from storage.db import Store
from storage.errors import AlreadyDecided
from storage.rewards import TOLD_KIND, RecipientResult, RewardDetails, told_key
from storage.states import OrderStatus, RecipientOutcome, RewardStatus

log = logging.getLogger(__name__)

FIRST_CHECK = timedelta(minutes=2)
CHECK_EVERY = timedelta(seconds=30)
IN_DOUBT_LIMIT = 200  # rewards looked at per check


class Finding(Enum):
    SENT = "sent"
    NOT_SENT = "not_sent"
    UNPROVEN = "unproven"


@dataclass(frozen=True, slots=True)
class Claim:
    """A reward in doubt as the report is read for it: each recipient's points."""

    reward_id: int
    points: tuple[tuple[int, int], ...]  # (member id, points), one per recipient
    in_doubt_at: datetime


@dataclass(frozen=True, slots=True)
class Proof:
    finding: Finding
    why: str
    unique_ids: Mapping[int, str] = field(default_factory=dict)  # member id → unique id


def amount(row: PaymentRecord) -> Decimal:
    """What a row took from the account, as a positive amount (credits are negative)."""
    return -(row.adjusted_amount or Decimal(0))


def _cancelled(row: PaymentRecord) -> bool:
    return (row.transaction_status or "").strip().lower() in ("cancelled", "canceled")


def read_records(
    claim: Claim,
    *,
    rows: Sequence[PaymentRecord],
    known: Iterable[str],
    answered_after: bool,
    rival_amounts: Iterable[Decimal],
) -> Proof:
    """What Xoxoday's payment report proves of one reward in doubt (see the module doc).

    `rows`: the report since (at least) the day the reward was sent; `known`: the references
    the ledger accounts for (unique ids of sends it saw answered, orders); `answered_after`: the
    report shows a send of the bot's own answered after this reward went in doubt;
    `rival_amounts`: amounts of other spends the ledger can't pin to a row (other rewards in
    doubt, sends answered without ids, orders in doubt)."""
    known = set(known)
    unknown = [
        r
        for r in rows
        if r.adjusted_amount is not None
        and r.adjusted_amount < 0
        and (r.reference_id or "").strip() not in known
    ]
    wanted = Counter(Decimal(points) for _, points in claim.points)
    seen = Counter(amount(r) for r in unknown)
    if not any(seen[a] for a in wanted):
        if answered_after:
            return Proof(
                Finding.NOT_SENT,
                "Xoxoday's payment report shows no payment for it, and shows sends made after it",
            )
        return Proof(Finding.UNPROVEN, "the payment report shows nothing after it yet")
    rivals = set(rival_amounts)
    if any(seen[a] != n for a, n in wanted.items()) or rivals & set(wanted):
        return Proof(Finding.UNPROVEN, "the payment report's rows could belong to something else")
    mine = [r for r in unknown if amount(r) in wanted]
    if any(_cancelled(r) for r in mine):
        return Proof(Finding.UNPROVEN, "a matching payment was cancelled")
    ids: dict[int, str] = {}
    for member_id, points in claim.points:
        if wanted[Decimal(points)] == 1:
            (row,) = [r for r in mine if amount(r) == Decimal(points)]
            if row.reference_id:
                ids[member_id] = row.reference_id.strip()
    return Proof(Finding.SENT, "Xoxoday's payment report shows the points were paid", ids)


@dataclass(frozen=True, slots=True)
class Checked:
    """What one check did."""

    sent: tuple[str, ...] = ()  # short ids settled as sent
    requeued: tuple[str, ...] = ()  # short ids sent again
    asked: tuple[str, ...] = ()  # short ids now the admins'
    unproven: int = 0


class DoubtSettler:
    """Checks the rewards in doubt against Xoxoday's payment report (the delivery worker calls
    `check` now and then, `due` saying when)."""

    def __init__(
        self,
        *,
        store: Store,
        plum: PlumClient,
        teller: Teller,
        ask_after: timedelta,
        first_check: timedelta = FIRST_CHECK,
        every: timedelta = CHECK_EVERY,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._plum = plum
        self._teller = teller
        self.ask_after = ask_after
        # A short bound (tests, a hurried company) checks sooner, and more often.
        self.first_check = min(first_check, ask_after / 3)
        self.every = min(every, self.first_check)
        self._now = now
        self._last: datetime | None = None
        self._asked: set[int] = set()

    def due(self) -> bool:
        """Time for another check (at most every `every`)."""
        now = self._now()
        return self._last is None or now - self._last >= self.every

    def check(self) -> Checked:
        self._last = self._now()
        with self._store.read_session() as session:
            in_doubt = queries.rewards_in_doubt(session, limit=IN_DOUBT_LIMIT + 1)
        if not in_doubt:
            return Checked()
        if len(in_doubt) > IN_DOUBT_LIMIT:
            # Too many to weigh each against all the others: the admins settle them.
            log.warning("more than %d rewards in doubt: left to the admins", IN_DOUBT_LIMIT)
            in_doubt = in_doubt[:IN_DOUBT_LIMIT]
            asked = tuple(r.short_id for r in in_doubt if self._ask_admins(r))
            return Checked(asked=asked, unproven=len(in_doubt) - len(asked))
        now = self._now()
        asked = tuple(
            r.short_id for r in in_doubt if _age(r, now) >= self.ask_after and self._ask_admins(r)
        )
        ready = [r for r in in_doubt if self.first_check <= _age(r, now) < self.ask_after]
        if not ready:
            return Checked(asked=asked, unproven=len(in_doubt) - len(asked))
        try:
            proofs = self._read(ready, in_doubt)
        except PlumError as err:
            log.warning("could not read Xoxoday's payment report (%s)", type(err).__name__)
            return Checked(asked=asked, unproven=len(ready))
        sent, requeued, unproven = [], [], 0
        for reward, proof in proofs:
            if proof.finding is Finding.SENT and self._settle_sent(reward, proof):
                sent.append(reward.short_id)
            elif proof.finding is Finding.NOT_SENT and self._send_again(reward, proof):
                requeued.append(reward.short_id)
            else:
                unproven += 1
                log.info("reward %s is still in doubt: %s", reward.short_id, proof.why)
        return Checked(sent=tuple(sent), requeued=tuple(requeued), asked=asked, unproven=unproven)

    # --- reading --------------------------------------------------------------------------

    def _read(
        self, ready: Sequence[RewardDetails], in_doubt: Sequence[RewardDetails]
    ) -> list[tuple[RewardDetails, Proof]]:
        start = min(_started(r) for r in in_doubt)
        since = (start - timedelta(days=1)).date()
        until = (self._now() + timedelta(days=1)).date()
        # Rivals from as far back as the rows read (days in Xoxoday's time zone), and more.
        rivals_since = start - timedelta(days=2)
        rows, cut_short = all_payments(self._plum, since=since, until=until)
        if cut_short:
            return [(r, Proof(Finding.UNPROVEN, "the payment report is too long")) for r in ready]
        refs = [row.reference_id.strip() for row in rows if row.reference_id]
        with self._store.read_session() as session:
            points = ledger.points_by_unique_id(session, refs)
            orders = ledger.orders_by_reference(session, refs)
            started = [_aware(t) for t in ledger.answered_sends_started(session, refs)]
            answered_without_ids = [
                Decimal(p.points)
                for p in ledger.points_sent_between(session, since=rivals_since, until=self._now())
                if not p.plum_unique_id
            ]
            unsure_orders = [
                o.expected_charge
                for o in ledger.orders_paid_between(session, since=rivals_since, until=self._now())
                if o.status != OrderStatus.PLACED and o.expected_charge is not None
            ]
        known = set(points) | set(orders)
        proofs: list[tuple[RewardDetails, Proof]] = []
        # Rewards of one call (`rewards.send_batch`) are read together first: the rows of the
        # same amounts are then theirs, not rivals'. What that does not prove is read reward
        # by reward below.
        decided: set[int] = set()
        for group in _batches(ready):
            mates = {r.id for r in group}
            outside = [
                Decimal(line.points)
                for other in in_doubt
                if other.id not in mates
                for line in other.recipients
            ]
            claim, owners = _batch_claim(group)
            answered_after = any(when > claim.in_doubt_at for when in started)
            proof = read_records(
                claim,
                rows=rows,
                known=known,
                answered_after=answered_after,
                rival_amounts=[*outside, *answered_without_ids, *unsure_orders],
            )
            if proof.finding is Finding.UNPROVEN:
                continue
            for reward in group:
                ids = {
                    member: unique_id
                    for line_no, unique_id in proof.unique_ids.items()
                    for reward_id, member in [owners[line_no]]
                    if reward_id == reward.id
                }
                why = f"{proof.why} (sent together with {len(group) - 1} other reward(s))"
                proofs.append((reward, Proof(proof.finding, why, ids)))
                decided.add(reward.id)
        for reward in ready:
            if reward.id in decided:
                continue
            claim = _claim(reward)
            others = [
                Decimal(line.points)
                for other in in_doubt
                if other.id != reward.id
                for line in other.recipients
            ]
            # A send started after this one went in doubt, and answered with its ids: its row
            # was posted after that moment, so the report is up to date past it.
            answered_after = any(when > claim.in_doubt_at for when in started)
            proofs.append(
                (
                    reward,
                    read_records(
                        claim,
                        rows=rows,
                        known=known,
                        answered_after=answered_after,
                        rival_amounts=[*others, *answered_without_ids, *unsure_orders],
                    ),
                )
            )
        return proofs

    # --- acting ---------------------------------------------------------------------------

    def _settle_sent(self, reward: RewardDetails, proof: Proof) -> bool:
        results = [
            RecipientResult(
                member=line.member,
                outcome=RecipientOutcome.SENT,
                unique_id=proof.unique_ids.get(_member_id(line.member)),
            )
            for line in reward.recipients
        ]
        try:
            with self._store.session() as session:
                done = reward_repo.settle_in_doubt(
                    session,
                    reward_id=reward.id,
                    outcome=RewardStatus.SENT,
                    actor=SETTLED_BY_RECORDS,
                    reason=proof.why,
                    recipients=results,
                )
        except AlreadyDecided:
            return False
        log.info("reward %s settled as sent: %s", done.short_id, proof.why)
        settlement = settlement_of(done)
        if settlement is not None:
            self._tell(RewardSettled(done, settlement))
        return True

    def _send_again(self, reward: RewardDetails, proof: Proof) -> bool:
        try:
            with self._store.session() as session:
                done = reward_repo.requeue_in_doubt(
                    session, reward_id=reward.id, actor=SETTLED_BY_RECORDS, reason=proof.why
                )
        except AlreadyDecided:
            return False
        log.info("reward %s was not sent (%s): sending it again", done.short_id, proof.why)
        return True

    def _ask_admins(self, reward: RewardDetails) -> bool:
        """Past the bound: the admins settle it (asked once; their alerts are recorded)."""
        if reward.id in self._asked:
            return False
        with self._store.read_session() as session:
            alerts = message_repo.list_reward_messages(
                session, reward_id=reward.id, kind=MessageKind.IN_DOUBT_ALERT
            )
        self._asked.add(reward.id)
        if alerts:
            return False
        log.warning(
            "reward %s: Xoxoday's records don't prove what happened; asking the admins",
            reward.short_id,
        )
        reason = reward.reward.delivery_message or ""
        self._tell(RewardInDoubt(reward, reason, again=True, ask_admins=True))
        return True

    def _tell(self, event: RewardSettled | RewardInDoubt) -> None:
        try:
            self._teller.tell(event)
            if isinstance(event, RewardSettled):  # told: the delivery worker's retelling
                with self._store.session() as session:  # leaves it be
                    once.claim_once(session, kind=TOLD_KIND, key=told_key(event.reward))
        except Exception:
            log.exception("could not tell how a reward in doubt was settled")
            if isinstance(event, RewardInDoubt):
                self._asked.discard(event.reward.id)  # asked again at the next check


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _age(reward: RewardDetails, now: datetime) -> timedelta:
    """How long the reward has been in doubt."""
    return now - _claim(reward).in_doubt_at


def _started(reward: RewardDetails) -> datetime:
    row = reward.reward
    return _aware(row.sending_at or row.in_doubt_at or row.created_at)


def _member_id(member: object) -> int:
    found = getattr(member, "id", member)
    assert isinstance(found, int)
    return found


def _claim(reward: RewardDetails) -> Claim:
    row = reward.reward
    return Claim(
        reward_id=reward.id,
        points=tuple((_member_id(line.member), line.points) for line in reward.recipients),
        in_doubt_at=_aware(row.in_doubt_at or row.updated_at),
    )


def _batches(ready: Sequence[RewardDetails]) -> list[list[RewardDetails]]:
    """The rewards that went out in one call together, two or more of them each."""
    groups: dict[str, list[RewardDetails]] = {}
    for reward in ready:
        if reward.reward.send_batch:
            groups.setdefault(reward.reward.send_batch, []).append(reward)
    return [group for group in groups.values() if len(group) > 1]


def _batch_claim(group: Sequence[RewardDetails]) -> tuple[Claim, dict[int, tuple[int, int]]]:
    """One claim for the rewards of a call: each line numbered (a person may be in two of
    them), with the reward and member each number stands for. In doubt since the last of them
    went in doubt (a later answered send must be later than all of them)."""
    points: list[tuple[int, int]] = []
    owners: dict[int, tuple[int, int]] = {}
    for reward in group:
        for line in reward.recipients:
            owners[len(points)] = (reward.id, _member_id(line.member))
            points.append((len(points), line.points))
    since = max(_claim(r).in_doubt_at for r in group)
    return Claim(reward_id=group[0].id, points=tuple(points), in_doubt_at=since), owners
