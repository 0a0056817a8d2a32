"""Messages the scheduled jobs send: expiry reminders to recipients, approval reminders and
escalations, and the admins' alerts (low account balance, a Plum token about to expire, the
daily list of rewards still in doubt, point books that don't add up) and their weekly audit
checkpoint.

Every function returns `{"text": fallback, "blocks": [...]}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from bot.rewards.cards import ApprovalCard, RewardCard, unique_rewards
from bot.rewards.redeem import RedeemButton
from bot.slack.blocks.approvals import request_blocks
from bot.slack.blocks.common import (
    REDEEM_HINT,
    escape_mrkdwn,
    format_date,
    format_datetime,
    local,
    mention,
    message,
    money,
    people,
    points,
    short_id,
)
from bot.slack.blocks.kit import Block, context, header, section
from bot.slack.blocks.redeem import STOREFRONT_HINT, redeem_actions
from bot.slack.blocks.reward_messages import in_doubt_list

Payload = dict[str, Any]
TokenKind = Literal["refresh", "access"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpiringGrant:
    """Points from one reward that expire on one day."""

    short_id: str
    points: int | Decimal
    expires_on: date


# ── wording ──────────────────────────────────────────────────────────────────────────────


def days_away(day: date, today: date) -> str:
    """`today`, `tomorrow`, `in 7 days` (`today` is the reader's own date)."""
    left = (day - today).days
    if left <= 0:
        return "today"
    if left == 1:
        return "tomorrow"
    return f"in {left} days"


def duration(span: timedelta) -> str:
    """`5 hours`, `1 day`, `3 days`: hours under two days, whole days after."""
    hours = max(int(span.total_seconds() // 3600), 0)
    if hours < 48:
        return "1 hour" if hours == 1 else f"{hours} hours"
    days = hours // 24
    return f"{days} days"


# ── recipients ───────────────────────────────────────────────────────────────────────────


def expiry_reminder(
    *,
    grants: Sequence[ExpiringGrant],
    balance: int | Decimal,
    today: date,
    tz: str | None,
    redeem: RedeemButton | None = None,
) -> Payload:
    """A recipient's reminder: which of their points expire when (dates as days, `today` in
    their time zone), how many they have to spend, and how to redeem. When they hold fewer
    points than the grants, at most what they hold can expire ("up to")."""
    if not grants:
        raise ValueError("an expiry reminder needs at least one grant")
    ordered = sorted(grants, key=lambda g: (g.expires_on, g.short_id))
    expiring = sum(g.points for g in ordered)
    at_stake = min(expiring, balance)
    amount = f"*{at_stake:,}*" if at_stake == expiring else f"up to *{at_stake:,}*"
    expire = "expires" if at_stake == 1 else "expire"
    first = ordered[0].expires_on
    dates = {g.expires_on for g in ordered}
    if len(dates) == 1:
        when = f"on *{format_date(first)}* ({days_away(first, today)})"
        lead = f"⏳ {amount[0].upper()}{amount[1:]} of your points {expire} {when}."
    else:
        lead = f"⏳ {amount[0].upper()}{amount[1:]} of your points {expire} soon:"
    blocks: list[Block] = []
    lines = [
        f"• *{points(g.points)}* from reward {short_id(g.short_id)}: "
        f"{format_date(g.expires_on)} ({days_away(g.expires_on, today)})"
        for g in ordered[:20]
    ]
    if len(ordered) > 20:
        lines.append(f"• …and {len(ordered) - 20} more rewards")
    blocks.append(section(lead if len(dates) == 1 else lead + "\n" + "\n".join(lines)))
    blocks.append(
        section(
            f"You have *{points(balance)}* to spend right now. Spend them before they expire: "
            f"expired points can't be brought back.\n"
            + (REDEEM_HINT if redeem is None else STOREFRONT_HINT)
        )
    )
    if redeem is not None:
        blocks.append(redeem_actions(redeem))
    if len(dates) == 1:
        ids = ", ".join(short_id(g.short_id) for g in ordered[:10])
        blocks.append(context(f"Reward{'s' if len(ordered) > 1 else ''} {ids}"))
    text = f"{at_stake:,} of your points {expire} on {format_date(first)}. Redeem them before then."
    return message(text, blocks)


# ── approvers and admins: requests waiting too long ─────────────────────────────────────


def approval_reminder(
    *,
    request: ApprovalCard,
    waited: timedelta,
    expires_at: datetime,
    tz: str | None,
    escalated: bool = False,
    asked: Sequence[str] = (),
) -> Payload:
    """A request that has waited too long, with Approve / Reject: a reminder to its approvers,
    or (`escalated`) the same request put to an admin, naming who was asked."""
    reward = request.reward
    deadline = format_datetime(expires_at, tz)
    if escalated:
        title = "Reward waiting too long"
        who = f"asked: {people(asked, limit=400)}" if asked else "nobody could be asked"
        lead = (
            f"⏫ Nobody has decided on this reward in {duration(waited)} ({who}). As an admin, "
            f"you can approve or reject it here. If nobody decides by {deadline}, it expires "
            "and nothing is sent."
        )
    else:
        title = "Reminder: reward to approve"
        lead = (
            f"⏰ This reward has waited {duration(waited)} for your decision. If nobody decides "
            f"by {deadline}, it expires and nothing is sent."
        )
    blocks = [header(title), section(lead), *request_blocks(request, tz)]
    text = (
        f"{'Still waiting' if escalated else 'Reminder'}: {mention(reward.giver_id)} asks to "
        f"approve {points(reward.total)} (reward {reward.short_id}), waiting {duration(waited)}."
    )
    return message(text, blocks)


# ── admins ───────────────────────────────────────────────────────────────────────────────


def low_balance_alert(*, balance: Decimal, currency: str | None, threshold: Decimal) -> Payload:
    """The daily alert when the Xoxoday account holds less than REWARD_LOW_BALANCE."""
    left, floor = money(balance, currency), money(threshold, currency)
    blocks = [
        header("Xoxoday balance is low"),
        section(
            f"⚠️ The Xoxoday account has *{left}* left, under the *{floor}* set in "
            "`REWARD_LOW_BALANCE`. When it runs out, rewards fail and their givers are told."
        ),
        section(
            "*What to do* Add funds to the account in Xoxoday's dashboard. I check once a day "
            "and tell you again tomorrow if it is still low."
        ),
    ]
    return message(f"Xoxoday balance is low: {left} left (under {floor}).", blocks)


def token_warning(
    *,
    kind: TokenKind,
    expires_at: datetime | None,
    now: datetime,
    tz: str | None,
    rejected: bool = False,
) -> Payload:
    """The Plum token the bot can't renew by itself is about to expire (or was rejected): only
    a person can replace it, in Xoxoday's dashboard."""
    when = ""
    if expires_at is not None:
        today = local(now, tz).date()
        when = (
            f" on *{format_datetime(expires_at, tz)}* "
            f"({days_away(local(expires_at, tz).date(), today)})"
        )
    if rejected:
        lead = (
            "🔑 Xoxoday rejected the bot's Plum refresh token, so the bot can't get new access "
            "tokens. Once the current access token expires"
            + (f"{when}," if when else ",")
            + " no rewards, balances or links will work."
        )
    elif kind == "refresh":
        lead = (
            f"🔑 The Xoxoday Plum refresh token expires{when or ' soon'}. After that the bot "
            "can't reach Xoxoday: no rewards, balances or links."
        )
    else:
        lead = (
            f"🔑 The Xoxoday Plum access token expires{when or ' soon'}, and the bot has no "
            "refresh token to renew it. After that the bot can't reach Xoxoday."
        )
    todo = (
        "*What to do* Only a person can replace it: generate a new token in Xoxoday's "
        "dashboard, set it as `PLUM_REFRESH_TOKEN` (and `PLUM_ACCESS_TOKEN`), and restart the "
        "bot. It switches to the new token as soon as the old one stops working."
    )
    blocks = [header("Xoxoday token needs replacing"), section(lead), section(todo)]
    if rejected:
        text = "Xoxoday rejected the bot's refresh token: replace it in Xoxoday's dashboard."
    else:
        day = f" on {format_date(expires_at, tz)}" if expires_at is not None else " soon"
        text = f"The Xoxoday {kind} token expires{day}: replace it in Xoxoday's dashboard."
    return message(text, blocks)


def in_doubt_report(
    *, rewards: Sequence[RewardCard], tz: str | None, total: int | None = None
) -> Payload:
    """The admins' daily list of rewards still in doubt, each with "It was sent" / "It failed"
    (as many as fit; the rest are counted). `total`: how many there are in all."""
    cards = unique_rewards(rewards)
    if not cards:
        raise ValueError("an in-doubt report needs at least one reward")
    n = max(total or 0, len(cards))
    plural = n != 1
    intro = (
        f"{n} reward{'s are' if plural else ' is'} still in doubt: Xoxoday never confirmed "
        f"whether the points arrived, and I won't send {'them' if plural else 'it'} again by "
        "myself. Check each in Xoxoday's dashboard and settle it here; the giver is told."
    )
    text = f"{n} reward{'s' if plural else ''} still in doubt: check and settle them."
    return in_doubt_list(
        title="Rewards still in doubt",
        intro=intro,
        cards=cards,
        total=n,
        tz=tz,
        text=text,
    )


def audit_checkpoint(*, line: str, count: int, at: datetime, tz: str | None) -> Payload:
    """The admins' weekly copy of an audit checkpoint: kept in Slack, it is out of reach of
    anyone who can change the database, and says how to check the trail against it."""
    command = f"rewardbot audit verify --anchor '{line}'"
    blocks = [
        header("Weekly audit checkpoint"),
        section(
            f"🔏 The audit trail held *{count:,} event{'s' if count != 1 else ''}* on "
            f"{format_datetime(at, tz)}. Please keep this DM: if any of those events are ever "
            "deleted from the database, the signed checkpoint below shows it."
        ),
        section(f"*To check* Run this where the bot is installed:\n```{command}```"),
    ]
    return message(f"Weekly audit checkpoint: {count:,} events. To check: {command}", blocks)


def point_books_alert(*, differences: Sequence[str], total: int, lots: int, people: int) -> Payload:
    """The admins' DM when the bot's point ledger doesn't add up (`points-verify`): the first
    `differences` of `total`, and what to do."""
    plural = total != 1
    lines = "\n".join(f"• {escape_mrkdwn(d)}" for d in differences)
    blocks: list[Block] = [
        header("The point books don't add up"),
        section(
            f"⚠️ I checked the bot's point ledger ({lots:,} lot{'s' if lots != 1 else ''} of "
            f"{people:,} {'people' if people != 1 else 'person'}) and found *{total:,} "
            f"difference{'s' if plural else ''}*:\n{lines}"
        ),
    ]
    if total > len(differences):
        blocks.append(context(f"…and {total - len(differences):,} more."))
    blocks.append(
        section(
            "*What to do* Run `rewardbot points verify --all` where the bot is installed: it "
            "lists every difference. Don't edit the ledger or give points to even it out: keep "
            "a copy of the database and send that output to whoever supports your rewardbot. "
            "The store keeps working; I check again tomorrow."
        )
    )
    text = (
        f"The point books don't add up: {total:,} difference{'s' if plural else ''}. "
        "Run `rewardbot points verify --all`."
    )
    return message(text, blocks)
