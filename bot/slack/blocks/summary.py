"""The weekly summary: the channel post, the admins' DM (adds spend, what the Xoxoday account paid
in the week in its currency, and the account balance) and the short message for a quiet week.

Every figure is shown against the week before: `1,250 points (▲ 25% vs 1,000)`. Pure: the job
(`bot.jobs.weekly_summary`) reads the ledger and Xoxoday and hands the numbers in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from bot.rewards.commands import EXAMPLE
from bot.rewards.spending import Spend
from bot.slack.blocks.common import (
    channel_link,
    format_date,
    mention,
    message,
    money,
    points,
    safe_mrkdwn,
    values_text,
)
from bot.slack.blocks.kit import Block, context, divider, header, section

Payload = dict[str, Any]
N = TypeVar("N", int, Decimal)  # a count of points or people, or an amount of money
TOP = 5  # rows in each ranking
_MEDALS = ("🥇", "🥈", "🥉")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
SPEND_RULE = (
    "Spend is what the Xoxoday account paid in the week: points sent (one point is one unit of "
    "the account's currency), gift cards and donations at what Xoxoday charged. Pending, failed "
    "and in-doubt ones don't count; a reward or order cancelled later does (its refund is a "
    "later credit). The daily reconciliation checks it against Xoxoday's payment report."
)
SPEND_RULE_POINTS_IN_BOT = (
    "Spend is what the Xoxoday account paid in the week: gift cards and donations at what "
    "Xoxoday charged (points live in the bot and cost nothing at Xoxoday until they buy one). "
    "Pending, failed and in-doubt orders don't count; one cancelled later does (its refund is a "
    "later credit). The daily reconciliation checks it against Xoxoday's payment report."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekFigures:
    """One week's totals over points delivered (sent) in it."""

    points: int = 0
    rewards: int = 0
    recipients: int = 0  # people recognised
    givers: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Ranked:
    """A person (Slack user id) or a value (without `#`) with its points this week and the
    week before."""

    key: str
    points: int
    rewards: int
    points_before: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class WeeklySummary:
    week_start: date  # the Monday
    week_end: date  # the Sunday (included)
    tz: str  # the time zone the week is counted in (REWARD_TIMEZONE)
    this_week: WeekFigures
    week_before: WeekFigures
    top_recipients: tuple[Ranked, ...] = ()
    top_givers: tuple[Ranked, ...] = ()
    top_values: tuple[Ranked, ...] = ()

    @property
    def quiet(self) -> bool:
        return self.this_week.rewards == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminExtras:
    """What only admins see. `account_balance` None: Xoxoday could not be asked."""

    account_balance: Decimal | None
    account_currency: str | None = None
    spend: Spend  # what the account paid this week
    spend_before: Spend = field(default_factory=Spend)  # and the week before
    low_balance: Decimal | None = None  # REWARD_LOW_BALANCE
    posted_in: str | None = None  # the channel the summary went (or should have gone) to
    channel_problem: str | None = None  # why it did not: None, "not_set" or Slack's error


# ── words and numbers ────────────────────────────────────────────────────────────────────


def week_text(start: date, end: date) -> str:
    """`2 – 8 March 2026`, `23 February – 1 March 2026`, `29 December 2025 – 4 January 2026`."""
    if start.year != end.year:
        return f"{format_date(start)} – {format_date(end)}"
    if start.month != end.month:
        return f"{start.day} {start:%B} – {format_date(end)}"
    return f"{start.day} – {format_date(end)}"


def change(now: N, before: N, show: Callable[[N], str] = "{:,}".format) -> str:
    """`▲ 25% vs 1,000`, `▼ 40% vs 500`, `▲ from 0`, `= same as the week before` (`show`
    writes the figure of the week before)."""
    if now == before:
        return "= same as the week before"
    if before == 0:
        return "▲ from 0"
    percent = abs(now - before) * 100 / before
    shown = f"{percent:.0f}%" if percent >= 1 else "<1%"
    return f"{'▲' if now > before else '▼'} {shown} vs {show(before)}"


def compared(now: int, before: int, noun: Callable[[int], str] = points) -> str:
    """`1,250 points (▲ 25% vs 1,000)`."""
    return f"{noun(now)} ({change(now, before)})"


def _comparable(summary: WeeklySummary) -> bool:
    """Whether the week before had anything to compare with: the first summary (or one after
    a quiet week) shows its figures alone, not "(▲ from 0)" on every line."""
    return summary.week_before.rewards > 0


def _against(
    summary: WeeklySummary, now: int, before: int, noun: Callable[[int], str] = points
) -> str:
    """A figure against the week before, when there was one to compare with (`compared`)."""
    return compared(now, before, noun) if _comparable(summary) else noun(now)


def _counted(singular: str, plural: str) -> Callable[[int], str]:
    return lambda n: f"{n:,} {singular if n == 1 else plural}"


rewards_count = _counted("reward", "rewards")
people_count = _counted("person", "people")
givers_count = _counted("giver", "givers")


def _ranking(summary: WeeklySummary, rows: Sequence[Ranked], show: Callable[[str], str]) -> str:
    lines = []
    for i, row in enumerate(rows[:TOP]):
        rank = _MEDALS[i] if i < len(_MEDALS) else f"{i + 1}."
        lines.append(
            f"{rank} {show(row.key)} · {_against(summary, row.points, row.points_before)} "
            f"in {rewards_count(row.rewards)}"
        )
    return "\n".join(lines)


def _value(key: str) -> str:
    return values_text([key])


# ── blocks ───────────────────────────────────────────────────────────────────────────────


def _title(summary: WeeklySummary) -> str:
    return f"📊 Weekly rewards: {week_text(summary.week_start, summary.week_end)}"


def _period_note(summary: WeeklySummary) -> str:
    against = (
        "compared with the week before"
        if _comparable(summary)
        else "none were sent the week before, so there's nothing to compare with"
    )
    return (
        f"Monday {format_date(summary.week_start)} to Sunday {format_date(summary.week_end)}, "
        f"{summary.tz} time · {against} · points count once delivered"
    )


def _figures(summary: WeeklySummary) -> Block:
    now, before = summary.this_week, summary.week_before
    return section(
        fields=[
            f"*Points given*\n{_against(summary, now.points, before.points)}",
            f"*Rewards*\n{_against(summary, now.rewards, before.rewards, rewards_count)}",
            "*People recognised*\n"
            f"{_against(summary, now.recipients, before.recipients, people_count)}",
            f"*Givers*\n{_against(summary, now.givers, before.givers, givers_count)}",
        ]
    )


def _rankings(summary: WeeklySummary) -> list[Block]:
    blocks = [
        section(
            f"*Most recognised*\n{_ranking(summary, summary.top_recipients, mention) or 'Nobody.'}"
        ),
        section(f"*Most generous*\n{_ranking(summary, summary.top_givers, mention) or 'Nobody.'}"),
    ]
    if summary.top_values:
        values = _ranking(summary, summary.top_values, _value)
        blocks.append(section(f"*Values most recognised*\n{values}"))
    return blocks


def _fallback(summary: WeeklySummary) -> str:
    now, before = summary.this_week, summary.week_before
    return (
        f"Weekly rewards, {week_text(summary.week_start, summary.week_end)}: "
        f"{_against(summary, now.points, before.points)} in {rewards_count(now.rewards)} "
        f"to {people_count(now.recipients)}."
    )


def _quiet_text(summary: WeeklySummary) -> str:
    before = summary.week_before
    last_week = (
        f"The week before: {points(before.points)} in {rewards_count(before.rewards)}."
        if before.rewards
        else "The week before was quiet too."
    )
    return (
        f"🌿 *A quiet week for rewards.* None were sent from Monday "
        f"{format_date(summary.week_start)} to Sunday {format_date(summary.week_end)}. "
        f"{last_week}"
    )


def _quiet_fallback(summary: WeeklySummary) -> str:
    return (
        f"A quiet week for rewards: none were sent "
        f"{week_text(summary.week_start, summary.week_end)}."
    )


_NUDGE = f"Know someone who made a difference? Thank them with `{EXAMPLE}`"


def summary_message(*, summary: WeeklySummary) -> Payload:
    """The channel post: the week's figures against the week before, the top recipients,
    givers and values; a quiet week gets a short, friendly note instead."""
    if summary.quiet:
        blocks = [section(_quiet_text(summary)), context(_NUDGE)]
        return message(_quiet_fallback(summary), blocks)
    blocks = [
        header(_title(summary)),
        _figures(summary),
        divider(),
        *_rankings(summary),
        context(_period_note(summary)),
    ]
    return message(_fallback(summary), blocks)


# ── the admins' version ──────────────────────────────────────────────────────────────────


def _amount(value: Decimal) -> str:
    return money(value, None)


def _spend(summary: WeeklySummary, extras: AdminExtras) -> str:
    spend, before = extras.spend, extras.spend_before.total
    text = f"*Spend*\n{money(spend.total, extras.account_currency)}"
    if before and _comparable(summary):  # else it stands alone, as the other figures do
        text += f" ({change(spend.total, before, _amount)})"
    parts = [f"gift cards {_amount(spend.gift_cards)}", f"donations {_amount(spend.donations)}"]
    if spend.points_at_xoxoday:
        parts.insert(0, f"points {_amount(spend.points)}")
    text += "\n" + " · ".join(parts)
    if spend.refunded:
        text += f"\n{_amount(spend.refunded)} refunded (rewards and orders cancelled)"
    if spend.orders_in_doubt:
        n = spend.orders_in_doubt
        text += f"\n{n:,} {'order' if n == 1 else 'orders'} in doubt not counted"
    return text


def _balance(extras: AdminExtras) -> str:
    if extras.account_balance is None:
        return "*Account balance*\nI couldn't get the balance from Xoxoday right now."
    text = (
        f"*Account balance*\n{money(extras.account_balance, extras.account_currency)} "
        "left at Xoxoday"
    )
    if extras.low_balance is not None and extras.account_balance < extras.low_balance:
        text += (
            f"\n⚠️ Under the low-balance mark of "
            f"{money(extras.low_balance, extras.account_currency)}: top up soon."
        )
    return text


def _channel_ref(channel: str) -> str:
    """A channel id as a link; a name as set in REWARD_SUMMARY_CHANNEL (`#kudos`) as text."""
    if _CHANNEL_ID.fullmatch(channel):
        return channel_link(channel)
    return safe_mrkdwn(f"#{channel.lstrip('#')}")


def _where(extras: AdminExtras) -> str:
    if extras.channel_problem == "not_set":
        return (
            "Only admins got this summary: set REWARD_SUMMARY_CHANNEL to share it with a channel."
        )
    if extras.channel_problem:
        where = _channel_ref(extras.posted_in) if extras.posted_in else "the summary channel"
        return (
            f"⚠️ I couldn't post it in {where} (Slack said `{extras.channel_problem}`). "
            "Invite me to the channel or check REWARD_SUMMARY_CHANNEL."
        )
    if extras.posted_in:
        where = _channel_ref(extras.posted_in)
        return f"Also posted, without spend and balance, in {where}."
    return ""


def _spend_rule(extras: AdminExtras) -> str:
    return SPEND_RULE if extras.spend.points_at_xoxoday else SPEND_RULE_POINTS_IN_BOT


def admin_summary_message(*, summary: WeeklySummary, extras: AdminExtras) -> Payload:
    """The admins' DM: the channel version plus spend and the account balance, how spend is
    counted, and where the summary was (or could not be) posted."""
    admin_blocks = [
        section(fields=[_spend(summary, extras), _balance(extras)]),
        context(*(t for t in (_spend_rule(extras), _where(extras)) if t)),
    ]
    if summary.quiet:
        blocks = [section(_quiet_text(summary)), divider(), *admin_blocks]
        text = _quiet_fallback(summary)
    else:
        blocks = [
            header(_title(summary)),
            _figures(summary),
            divider(),
            *_rankings(summary),
            context(_period_note(summary)),
            divider(),
            *admin_blocks,
        ]
        text = _fallback(summary)
    text += f" Spend: {money(extras.spend.total, extras.account_currency)}."
    if extras.account_balance is not None:
        text += f" Account balance: {money(extras.account_balance, extras.account_currency)}."
    return message(text, blocks)
