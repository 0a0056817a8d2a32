"""What the Block Kit builders are given: small frozen dataclasses, filled in by the services.

No Slack client, database or Plum types here, so the builders stay pure and are tested with plain
tables of values.

Text conventions:
- `citation`, reasons, the admin's note, failure reasons and campaign names may be Slack mrkdwn
  as a slash command delivers it (mentions as `<@U…|name>`, `&amp;`, `&lt;`) or raw text (typed
  in a modal, or from Xoxoday): the builders pass them through `common.safe_mrkdwn`, which keeps
  Slack's markup and escapes everything else, so either form shows as the person typed it.
- Times are timezone-aware datetimes (UTC in the database); the builders show them in the time
  zone they are given. Dates (`date`) are calendar dates and shown as they are.
- Statuses are the ledger's strings (`pending_approval`, `queued`, `sending`, `sent`, `failed`,
  `in_doubt`, `cancelled`, `rejected`, `expired`); `storage.states.RewardStatus` members work too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from bot.rewards.policy import allowance_left
from storage.rewards import RewardDetails
from storage.states import RewardSource

# Reward statuses (the ledger's `RewardStatus` values).
PENDING_APPROVAL = "pending_approval"
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
IN_DOUBT = "in_doubt"
CANCELLED = "cancelled"
REJECTED = "rejected"
EXPIRED = "expired"
STATUSES: tuple[str, ...] = (
    PENDING_APPROVAL,
    QUEUED,
    SENDING,
    SENT,
    FAILED,
    IN_DOUBT,
    CANCELLED,
    REJECTED,
    EXPIRED,
)

Outcome = Literal["approved", "rejected", "expired", "cancelled"]
Settled = Literal["sent", "failed"]
Period = Literal["week", "month"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientLine:
    """One recipient of a reward. `outcome` is the ledger's per-recipient result
    (`pending`, `sent`, `failed`, `in_doubt`, `cancelled`, `not_sent`) when known."""

    user_id: str
    points: int
    outcome: str | None = None
    email: str | None = None  # shown to admins only (to look the reward up in Xoxoday)
    reason: str | None = None  # why this recipient failed, in plain words


@dataclass(frozen=True, slots=True, kw_only=True)
class RewardCard:
    short_id: str
    giver_id: str
    recipients: tuple[RecipientLine, ...]
    citation: str  # mrkdwn as stored
    values: tuple[str, ...] = ()  # company values, without `#`
    channel_id: str | None = None  # where it was given (or announced)
    status: str = QUEUED
    created_at: datetime
    expires_on: date | datetime | None = None  # when the points expire
    public: bool = True  # announce in the channel
    failure_reason: str | None = None  # plain words: what Plum said, for failed/in-doubt
    failure_kind: str | None = None  # a failed one's `policy.FailureKind` (None: not kept)
    celebration: bool = False  # the company's own (a birthday, anniversary or welcome)

    @property
    def total(self) -> int:
        return sum(r.points for r in self.recipients)

    @property
    def each(self) -> int | None:
        """The points every recipient gets, when they all get the same; else None."""
        amounts = {r.points for r in self.recipients}
        return amounts.pop() if len(amounts) == 1 else None

    @property
    def recipient_ids(self) -> tuple[str, ...]:
        return tuple(r.user_id for r in self.recipients)

    def points_for(self, user_id: str) -> int:
        return sum(r.points for r in self.recipients if r.user_id == user_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class GiverMonth:
    """The giver's calendar month so far, *not counting* the reward being decided."""

    given_before: int  # points
    rewards_before: int = 0
    allowance: int = 0  # REWARD_ALLOWANCE; 0 = no limit
    is_admin: bool = False  # admins are exempt from the allowance


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalCard:
    """A reward waiting for approval, as one approver sees it."""

    reward: RewardCard
    month: GiverMonth | None = None
    threshold: int | None = None  # REWARD_APPROVAL_THRESHOLD, to say why it needs approval
    as_manager: bool = False  # the viewer is asked as the giver's manager


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalDecision:
    """How a request ended: who decided (None for expiry), when, and the reason if any."""

    outcome: Outcome
    decided_at: datetime
    decided_by: str | None = None
    reason: str | None = None  # mrkdwn as stored


# Who settled a reward in doubt when no admin did: Xoxoday's own records proved the outcome
# (`bot.rewards.doubt`).
SETTLED_BY_RECORDS = "xoxoday:payment-report"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """An admin's answer to an in-doubt reward."""

    outcome: Settled
    settled_by: str
    settled_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRef:
    """A message the bot posted (to update it later)."""

    channel_id: str
    ts: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceCard:
    """What `/reward balance` and the App Home show about one person."""

    points: int | Decimal | None  # redeemable points (user_balance); None = lookup failed
    points_found: bool = True  # False: Xoxoday has no points account for them yet
    storefront: bool = False  # points live in the bot: spent with Redeem
    next_expiry: date | None = None  # storefront: the earliest day some of them expire
    expiring: int | Decimal | None = None  # … and how many
    allowance: int = 0  # this month's (`bot.rewards.budgets`), carry-over included; 0 = no limit
    carried: int = 0  # of which carried over from last month
    given_this_month: int = 0
    resets_on: date | None = None  # first day of next month, in their time zone
    is_admin: bool = False
    account_balance: Decimal | None = None  # getBalance; admins only; None = unknown
    account_currency: str | None = None
    low_balance: Decimal | None = None  # REWARD_LOW_BALANCE
    fetching: bool = False  # Xoxoday is slow: its figures are unknown yet and follow

    @property
    def allowance_left(self) -> int | None:
        """None when unlimited (no allowance set, or an admin)."""
        return allowance_left(
            self.allowance, given_this_month=self.given_this_month, is_admin=self.is_admin
        )

    @property
    def low(self) -> bool:
        return (
            self.is_admin
            and self.account_balance is not None
            and self.low_balance is not None
            and self.account_balance < self.low_balance
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderRow:
    user_id: str
    points: int
    rewards: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Leaderboard:
    period: Period
    since: date  # first day counted, in the viewer's time zone
    recipients: tuple[LeaderRow, ...] = ()
    givers: tuple[LeaderRow, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagerLine:
    member_id: str
    manager_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignLine:
    """One reward link campaign of the account (`/reward campaigns`)."""

    campaign_id: str
    name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    country: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class RewardLink:
    """One reward link for one person. `url` is a secret: it is left out of `repr`, and only
    `links.link_dm` puts it in a message."""

    recipient_id: str
    admin_id: str
    url: str = field(repr=False)
    campaign_id: str
    campaign_name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    expires_on: date | None = None
    note: str | None = None  # the admin's message, mrkdwn as stored


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkBatchCard:
    """A batch of reward links (the links themselves are never part of it)."""

    batch_id: str
    campaign_id: str
    count: int
    requested_by: str
    created_at: datetime
    status: str = "created"  # requested | created | failed
    campaign_name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    expires_on: date | None = None
    filename: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustmentLine:
    """One adjustment by an admin as its person sees it in their history."""

    points: int | Decimal  # added (> 0) or deducted (< 0), in points (a Decimal for cents)
    reason: str
    by: str  # the admin's Slack user id
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeCard:
    """Everything the App Home shows one person. Sections for approvers and admins appear only
    when `is_approver` / `is_admin` is set."""

    user_id: str
    balance: BalanceCard
    received: tuple[RewardCard, ...] = ()
    given: tuple[RewardCard, ...] = ()
    is_approver: bool = False
    pending: tuple[ApprovalCard, ...] = ()
    is_admin: bool = False
    in_doubt: tuple[RewardCard, ...] = ()
    link_batches: tuple[LinkBatchCard, ...] = ()
    adjustments: tuple[AdjustmentLine, ...] = ()  # by admins, with points in the bot


def unique_rewards(cards: Sequence[RewardCard]) -> list[RewardCard]:
    """The cards with repeated short ids dropped (first kept), so block ids stay unique."""
    seen: set[str] = set()
    kept: list[RewardCard] = []
    for card in cards:
        if card.short_id not in seen:
            seen.add(card.short_id)
            kept.append(card)
    return kept


def card_for(reward: RewardDetails) -> RewardCard:
    row = reward.reward
    expires = next(
        (r.recipient.expires_on for r in reward.recipients if r.recipient.expires_on), None
    )
    return RewardCard(
        short_id=row.short_id,
        giver_id=reward.giver.slack_user_id,
        recipients=tuple(
            RecipientLine(
                user_id=r.member.slack_user_id,
                points=r.points,
                outcome=r.recipient.outcome,
                email=r.member.email,
                reason=r.recipient.message,
            )
            for r in reward.recipients
        ),
        citation=row.citation,
        values=reward.values,
        channel_id=row.channel_id,
        status=row.status,
        created_at=row.created_at,
        expires_on=expires,
        public=row.public,
        failure_reason=row.delivery_message,
        failure_kind=failure_kind_of(row.delivery_response),
        celebration=row.source == RewardSource.CELEBRATION,
    )


def failure_kind_of(response: object) -> str | None:
    """The `policy.FailureKind` a failed delivery recorded with Xoxoday's answer (None: none)."""
    kind = response.get("kind") if isinstance(response, dict) else None
    return kind if isinstance(kind, str) else None


def people_of(reward: RewardDetails) -> list[str]:
    """The giver and recipients of a reward (whose App Home shows it)."""
    return [reward.giver.slack_user_id, *(r.member.slack_user_id for r in reward.recipients)]
