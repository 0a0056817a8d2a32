"""The commands `/reward` understands, as typed values, and what parsing returns instead when
the text is wrong: a `Refusal` with a code for programs and a message for the person.

Pure: no Slack, HTTP or database. The limits here bound what a command may hold (a citation's
length, a batch's size); `bot.rewards.parse` checks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from bot.rewards.refusal import Refusal

EXAMPLE = "/reward @maria 50 thanks for the demo"  # shown in help and in answers to mistakes
CITATION_MAX_CHARS = 500
REASON_MAX_CHARS = 500
LINK_NOTE_MAX_CHARS = 500  # the admin's message with a reward link
AMOUNT_MAX_DIGITS = 18  # anything longer is refused here; fits a signed 64-bit column
CAMPAIGN_ID_MAX_DIGITS = 18
LINKS_MAX_COUNT = 1000  # per `/reward links` batch
DATE_FORMAT = "DD-MM-YYYY"
ADJUST_MAX_POINTS = 1_000_000  # the most one `/reward adjust` adds or deducts
ORDERS_REPORT_MAX_DAYS = 366  # the longest period `/reward orders report` covers
ALLOWANCE_MAX_POINTS = 10_000_000  # the most a monthly allowance may be

Period = Literal["week", "month"]


# ── results ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class GiveReward:
    """`/reward @a @b 100 thanks #teamwork`: `amount` points to *each* recipient."""

    recipients: tuple[str, ...]  # Slack user ids, duplicates removed, order kept
    amount: int
    citation: str  # as typed (Slack mrkdwn: mentions stay `<@U…|name>`), stripped
    values: tuple[str, ...] = ()  # `#words` in the citation, lowercased, deduplicated
    channel_tags: tuple[str, ...] = ()  # names of `#channel` links Slack made from `#words`
    groups: tuple[GroupRef, ...] = ()  # user groups named (`<!subteam^S…|@team>`): each member

    def values_for(self, allowed: Sequence[str]) -> tuple[str, ...]:
        """The values to check and record, given the configured list (`REWARD_VALUES`).

        Slack turns `#kudos` into a channel link when a channel of that name exists, so a channel
        link counts as a value when its name is one of the allowed values.
        """
        extra = tuple(t for t in self.channel_tags if t in allowed and t not in self.values)
        return self.values + extra

    @property
    def total(self) -> int:
        return self.amount * len(self.recipients)


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A Slack user group as named in a command: its id, and its handle as Slack wrote it
    (`@design-team`; untrusted text, shown only as plain words)."""

    group_id: str
    handle: str = ""

    @property
    def shown(self) -> str:
        return self.handle or f"@{self.group_id}"


@dataclass(frozen=True, slots=True)
class SetAllowance:
    """`/reward allowance <@U…|<!subteam^S…>> <points|default>` (admins): `points` None puts
    it back to the default."""

    person: str | None = None  # a Slack user id, or
    group: GroupRef | None = None  # a user group
    points: int | None = None


@dataclass(frozen=True, slots=True)
class ListAllowances:
    """`/reward allowances` (admins)."""


@dataclass(frozen=True, slots=True)
class OpenModal:
    """`/reward` with no text: open the reward form."""


@dataclass(frozen=True, slots=True)
class ShowHelp:
    """`/reward help`."""


@dataclass(frozen=True, slots=True)
class ShowBalance:
    """`/reward balance`."""


@dataclass(frozen=True, slots=True)
class ShowHistory:
    """`/reward history`."""


@dataclass(frozen=True, slots=True)
class ShowLeaderboard:
    """`/reward leaderboard [week|month]` (default month)."""

    period: Period = "month"


@dataclass(frozen=True, slots=True)
class ListApprovals:
    """`/reward approvals`."""


@dataclass(frozen=True, slots=True)
class SetManager:
    """`/reward manager <@member> <@manager>`; `manager` is None for `… <@member> none`."""

    member: str
    manager: str | None


@dataclass(frozen=True, slots=True)
class AdjustPoints:
    """`/reward adjust <@person> <+N|-N> <reason>` (admins; points in the bot): `points` is
    what to add (> 0) or deduct (< 0)."""

    member: str
    points: int
    reason: str


@dataclass(frozen=True, slots=True)
class ListManagers:
    """`/reward managers`."""


@dataclass(frozen=True, slots=True)
class GenerateLink:
    """`/reward link <@U…> <campaign-id> [DD-MM-YYYY] [message]`; `expiry` None means the
    default; `note` is the admin's message for the recipient (mrkdwn as typed), if any."""

    recipient: str
    campaign_id: int
    expiry: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ListCampaigns:
    """`/reward campaigns`: the account's reward link campaigns, with their ids."""


@dataclass(frozen=True, slots=True)
class GenerateLinks:
    """`/reward links <campaign-id> <count> [DD-MM-YYYY]`; `expiry` None means the default."""

    campaign_id: int
    count: int
    expiry: date | None = None


@dataclass(frozen=True, slots=True)
class OpenGiftForm:
    """`/reward gift [@maria]` or `/reward donate [@maria]`: the catalogue form, for a gift card
    (`donation` False) or a charity donation in someone's name (none: the team's)."""

    recipient: str | None = None
    donation: bool = False


@dataclass(frozen=True, slots=True)
class CancelReward:
    """`/reward cancel <reward-id> <reason>`; `reward_id` as typed (without `#` or backticks)."""

    reward_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class LockGiver:
    """`/reward lock <@member> [reason]`; `reason` as typed (None when none was given)."""

    member: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class UnlockGiver:
    """`/reward unlock <@member>`."""

    member: str


@dataclass(frozen=True, slots=True)
class ListLocks:
    """`/reward locks`, or `/reward lock` alone."""


@dataclass(frozen=True, slots=True)
class OpenBulkForm:
    """`/reward bulk`: the form that takes a CSV file of awards (admins)."""


@dataclass(frozen=True, slots=True)
class Celebrations:
    """`/reward celebrations [on|off]`: `celebrate` None shows (an admin: the next 30 days; a
    member: whether they are celebrated); True / False opts in or out."""

    celebrate: bool | None = None


@dataclass(frozen=True, slots=True)
class ListOrders:
    """`/reward orders`: the latest gift card and donation orders, with their status."""


@dataclass(frozen=True, slots=True)
class OrdersReport:
    """`/reward orders report <from> <to>` (dates, both included) or `… this month` /
    `… last month` (`month`, resolved in REWARD_TIMEZONE by the service): two CSV files."""

    since: date | None = None
    until: date | None = None
    month: Literal["this", "last"] | None = None


# ── errors ───────────────────────────────────────────────────────────────────────────────


class ErrorCode(StrEnum):
    NO_RECIPIENT = "no_recipient"
    UNESCAPED_MENTION = "unescaped_mention"
    BROADCAST_RECIPIENT = "broadcast_recipient"
    GROUP_RECIPIENT = "group_recipient"
    CHANNEL_RECIPIENT = "channel_recipient"
    NO_AMOUNT = "no_amount"
    TWO_AMOUNTS = "two_amounts"
    NEGATIVE_AMOUNT = "negative_amount"
    ZERO_AMOUNT = "zero_amount"
    FRACTIONAL_AMOUNT = "fractional_amount"
    NOT_A_NUMBER = "not_a_number"
    AMOUNT_TOO_BIG = "amount_too_big"
    NO_CITATION = "no_citation"
    CITATION_TOO_LONG = "citation_too_long"
    UNKNOWN_SUBCOMMAND = "unknown_subcommand"
    EXTRA_ARGUMENT = "extra_argument"
    MISSING_ARGUMENT = "missing_argument"
    BAD_PERIOD = "bad_period"
    SAME_PERSON = "same_person"
    BAD_CAMPAIGN = "bad_campaign"
    BAD_COUNT = "bad_count"
    BAD_DATE = "bad_date"
    PAST_DATE = "past_date"
    BAD_REWARD_ID = "bad_reward_id"
    NO_REASON = "no_reason"
    REASON_TOO_LONG = "reason_too_long"
    NO_SIGN = "no_sign"


def parse_error(code: ErrorCode, message: str) -> Refusal:
    """What was wrong: `code` for programs, `text` a short mrkdwn message for the person."""
    return Refusal(message, code=code)


# ── any command ──────────────────────────────────────────────────────────────────────────

Command = (
    GiveReward
    | SetAllowance
    | ListAllowances
    | OpenModal
    | ShowHelp
    | ShowBalance
    | ShowHistory
    | ShowLeaderboard
    | ListApprovals
    | SetManager
    | ListManagers
    | GenerateLink
    | GenerateLinks
    | ListCampaigns
    | CancelReward
    | OpenGiftForm
    | ListOrders
    | OrdersReport
    | AdjustPoints
    | OpenBulkForm
    | Celebrations
)
