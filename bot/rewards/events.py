"""What happened, as the domain tells it: one event for each thing people hear about.

Services report events through one port, `Teller.tell(event)`; the Slack side
(`bot.slack.notifier.Notifier`) turns each into the right messages, drawn in `bot.slack.blocks`.
The domain never builds a message, and never knows who is told how.

`tell` returns False when Slack refused something for good (a deactivated account), True when
everything was posted; it raises when a message could not be posted for a passing reason (an
outage, rate limits), so that an outcome kept as untold is told again later (delivery does).
`again`: the outcome may have been told in part before (a process stopped while telling it):
post only what was not posted then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from bot.rewards.cards import (
    ApprovalCard,
    ApprovalDecision,
    LinkBatchCard,
    MessageRef,
    RewardLink,
    Settlement,
)
from storage.rewards import RewardDetails

if TYPE_CHECKING:
    from bot.rewards.cancel_service import Cancelled
    from bot.rewards.flags import FlagCard
    from bot.rewards.gifts import GiftCard
    from bot.rewards.link_service import MadeLinks
    from bot.rewards.order_reports import OrderReportFiles
    from bot.rewards.order_updates import DeliveryChange, OrderCard
    from storage.models import Member

# ── rewards ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class RewardSent:
    """Delivered (or settled as sent): the recipients, the channel and the giver hear it."""

    reward: RewardDetails
    again: bool = False


@dataclass(frozen=True, slots=True)
class RewardFailed:
    reward: RewardDetails
    reason: str
    again: bool = False


@dataclass(frozen=True, slots=True)
class RewardInDoubt:
    """Xoxoday's answer proved nothing (`reason` says which kind of failure it was): the giver
    hears it is being checked. `ask_admins`: the admins are asked to settle it now; otherwise
    the bot checks Xoxoday's records first (`bot.rewards.doubt`) and asks them later, as
    another `RewardInDoubt` (`again`, `ask_admins`), about what those don't prove."""

    reward: RewardDetails
    reason: str
    again: bool = False
    ask_admins: bool = True


@dataclass(frozen=True, slots=True)
class RewardDelayed:
    """The send never reached Xoxoday and waits for a retry (told once per reward)."""

    reward: RewardDetails
    reason: str


@dataclass(frozen=True, slots=True)
class RewardsFoundInDoubt:
    """A restart found these mid-send. `ask_admins` as for `RewardInDoubt`."""

    rewards: tuple[RewardDetails, ...]
    ask_admins: bool = True


@dataclass(frozen=True, slots=True)
class RewardSettled:
    """An admin settled a reward in doubt after checking with Xoxoday: every admin's alert
    shows it; sent, the recipients, the channel and the giver hear it as for a delivery;
    failed, the giver hears the points never arrived."""

    reward: RewardDetails
    settlement: Settlement
    again: bool = False  # told again after a restart: what was posted before is not repeated


@dataclass(frozen=True, slots=True)
class RewardCancelled:
    outcome: Cancelled
    admin_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class XoxodayDown:
    since: datetime
    reason: str
    waiting: int
    setup_problem: bool


@dataclass(frozen=True, slots=True)
class XoxodayBack:
    since: datetime
    waiting: int


# ── approvals ────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ApprovalAsk:
    """One person asked to decide, and what their copy shows."""

    member: Member
    card: ApprovalCard


@dataclass(frozen=True, slots=True)
class ApprovalAsked:
    """Each asks' copy is posted and recorded, so the first decision updates it too."""

    reward: RewardDetails
    asks: tuple[ApprovalAsk, ...]


@dataclass(frozen=True, slots=True)
class ApprovalCopy:
    """A recorded copy of a request: where it is, what it shows, in whose time zone."""

    channel_id: str
    ts: str
    card: ApprovalCard
    tz: str


@dataclass(frozen=True, slots=True)
class ApprovalEnded:
    """The request was decided, cancelled or expired: every copy shows it, without buttons."""

    reward: RewardDetails
    decision: ApprovalDecision
    copies: tuple[ApprovalCopy, ...]


@dataclass(frozen=True, slots=True)
class GiverDecided:
    """The giver hears how their reward was decided."""

    reward: RewardDetails
    decision: ApprovalDecision


# ── links ────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class RewardLinkMade:
    """A reward link for one person: DM'd to them alone (False from `tell`: it wasn't)."""

    link: RewardLink


@dataclass(frozen=True, slots=True)
class LinkBatchMade:
    """A batch of reward links: a CSV file in the admin's DM (False from `tell`: it isn't)."""

    batch: LinkBatchCard
    made: MadeLinks


@dataclass(frozen=True, slots=True)
class OrdersReportMade:
    """Xoxoday's orders and payments for a period: two CSV files in the admin's DM, in one
    message (False from `tell`: Slack would not take them)."""

    admin_id: str
    report: OrderReportFiles


# ── gift cards and donations ─────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class OrderQueued:
    card: GiftCard


@dataclass(frozen=True, slots=True)
class OrderAwaitsApproval:
    card: GiftCard
    approvers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderDecided:
    card: GiftCard
    approver: str
    approved: bool


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    card: GiftCard


@dataclass(frozen=True, slots=True)
class OrderFailed:
    card: GiftCard


@dataclass(frozen=True, slots=True)
class OrderInDoubt:
    card: GiftCard
    admins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderDeliveryChanged:
    """Delivered or canceled by Xoxoday: the recipient and the sender hear it (once per
    change)."""

    change: DeliveryChange


@dataclass(frozen=True, slots=True)
class OrderUnresolved:
    """An order's outcome needs a person: each admin hears it (once per order)."""

    order: OrderCard
    reason: str


# ── trust: locks and flags ───────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class LockChanged:
    """An admin locked (or unlocked) this person's giving: they are told once, by DM."""

    user_id: str
    locked: bool


@dataclass(frozen=True, slots=True)
class FlagsReported:
    """The daily DM of new flags, to one admin, with a button row per flag."""

    admin_id: str
    flags: tuple[FlagCard, ...]


# ── what people see ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class PeopleChanged:
    """These people's rewards changed: what they see of them (App Home) is redrawn."""

    user_ids: tuple[str, ...]

    @classmethod
    def of(cls, user_ids: Sequence[str]) -> PeopleChanged:
        return cls(tuple(dict.fromkeys(uid for uid in user_ids if uid)))


@dataclass(frozen=True, slots=True)
class RewardReported:
    """Someone reported a reward from its announcement: each admin gets a DM with the reward,
    who reported it and why, and Restore / Cancel (once each; `again`: only those not told
    before, after a restart)."""

    reward: RewardDetails
    reporter: str
    reason: str
    again: bool = False


@dataclass(frozen=True, slots=True)
class ReportDecided:
    """An admin restored a reported reward: every admin's copy of the report says so."""

    reward: RewardDetails
    admin: str


@dataclass(frozen=True, slots=True)
class ReactionRefused:
    """A reward emoji gave nothing (a rule refused it): only the person who reacted hears why,
    privately, in the channel (`text` says what to do)."""

    user_id: str
    channel_id: str
    text: str


@dataclass(frozen=True, slots=True)
class MessageGiftRefused:
    """A message asking to give (`@maria ++ 20 for …`) gave nothing: only its author hears why,
    privately, in the message's thread (`text` says what to write)."""

    user_id: str
    channel_id: str
    thread_ts: str
    text: str


@dataclass(frozen=True, slots=True)
class ReactionTooLate:
    """A reaction removed after its undo window: the reward is on its way or sent. The giver
    hears it once, privately (an admin can cancel it)."""

    reward: RewardDetails


@dataclass(frozen=True, slots=True)
class PointsAdjusted:
    """An admin added (`points` > 0) or deducted points by hand: the person hears it, once per
    adjustment (`key`), with why and their balance now (points in the bot)."""

    user_id: str
    points: int
    reason: str
    admin_id: str
    balance: int | Decimal
    key: str
    repeat: bool = False  # the adjustment was recorded before (a request resumed after a
    #                       crash): told only if it wasn't yet, by one of those repeating it


@dataclass(frozen=True, slots=True)
class AllowanceReached:
    """A giver has given all of this month's allowance: they hear it once that month, by DM,
    with when it resets."""

    user_id: str
    allowance: int
    resets_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkCard:
    """A bulk award as its admin sees it: which file, how many rows and points, and where its
    progress message is (None before it is sent)."""

    short_id: str
    admin_id: str
    filename: str
    rows: int
    total: int
    message: MessageRef | None = None


@dataclass(frozen=True, slots=True)
class BulkProgressed:
    """Rows of a bulk award reached an outcome: its one progress message shows the tally
    (reward status → rows)."""

    bulk: BulkCard
    tally: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class BulkApprovalAsked:
    """A file's total needs an approver's OK: each approver gets the question (Approve /
    Reject); the admin's message says who was asked."""

    bulk: BulkCard
    approvers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BulkDecided:
    """An approver approved (its rows are on their way) or rejected a file: the admin's
    message says so."""

    bulk: BulkCard
    approver: str
    approved: bool


@dataclass(frozen=True, slots=True)
class BulkFinished:
    """Every row of a bulk award has an outcome: the progress message says so and the CSV of
    outcomes goes to the admin's DM. Raises when Slack could not take it (told again)."""

    bulk: BulkCard
    tally: Mapping[str, int]
    filename: str
    csv: str


Event = (
    AllowanceReached
    | BulkApprovalAsked
    | BulkDecided
    | BulkProgressed
    | BulkFinished
    | PointsAdjusted
    | RewardReported
    | ReportDecided
    | ReactionRefused
    | MessageGiftRefused
    | ReactionTooLate
    | RewardSent
    | RewardFailed
    | RewardInDoubt
    | RewardDelayed
    | RewardsFoundInDoubt
    | RewardSettled
    | RewardCancelled
    | XoxodayDown
    | XoxodayBack
    | ApprovalAsked
    | ApprovalEnded
    | GiverDecided
    | RewardLinkMade
    | LinkBatchMade
    | OrdersReportMade
    | OrderQueued
    | OrderAwaitsApproval
    | OrderDecided
    | OrderPlaced
    | OrderFailed
    | OrderInDoubt
    | OrderDeliveryChanged
    | OrderUnresolved
    | LockChanged
    | FlagsReported
    | PeopleChanged
)


class Teller(Protocol):
    """The one way the domain tells people what happened."""

    def tell(self, event: Event) -> bool: ...
