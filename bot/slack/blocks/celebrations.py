"""Messages about celebrations: the person's DM and the channel's announcement when the company
pays a birthday, work anniversary or welcome, the admins' note when one was not sent, and
what `/reward celebrations` answers. They name the person and the occasion, never an age or a
birth year.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.rewards.cards import RewardCard
from bot.rewards.celebrations import MyCelebrations, Upcoming
from bot.rewards.policy import Occasion
from bot.rewards.redeem import RedeemButton
from bot.rewards.wording import plain_reason
from bot.slack.blocks.common import (
    REDEEM_HINT,
    SECTION_TEXT_MAX,
    format_date,
    mention,
    message,
    points,
    safe_mrkdwn,
    short_id,
    text_len,
)
from bot.slack.blocks.kit import context, section
from bot.slack.blocks.redeem import STOREFRONT_HINT, redeem_actions

Payload = dict[str, Any]
LISTED = 40  # rows of `/reward celebrations` shown (a message has room for about this many)

WHAT = {
    Occasion.BIRTHDAY: "birthday",
    Occasion.ANNIVERSARY: "work anniversary",
    Occasion.WELCOME: "welcome",
}


def occasion(reward: RewardCard) -> str:
    """The reward's occasion as it says it ("Happy birthday"), without its "!"."""
    return safe_mrkdwn(reward.citation.strip().rstrip("!"))


def recipient_dm(
    *, reward: RewardCard, recipient_id: str, tz: str | None, redeem: RedeemButton | None = None
) -> Payload:
    mine = reward.points_for(recipient_id) or reward.total
    lead = f"🎉 *{occasion(reward)}!* The company sent you *{points(mine)}* to celebrate."
    how = REDEEM_HINT if redeem is None else STOREFRONT_HINT
    if reward.expires_on is not None:
        how += f" Your points expire on *{format_date(reward.expires_on, tz)}*."
    blocks = [
        section(lead),
        section(how),
        *([redeem_actions(redeem)] if redeem is not None else []),
        context(
            f"Reward {short_id(reward.short_id)} · you can turn celebrations off with "
            "`/reward celebrations off`"
        ),
    ]
    return message(f"🎉 {occasion(reward)}! The company sent you {points(mine)}.", blocks)


def announcement(*, reward: RewardCard) -> Payload:
    who = ", ".join(mention(u) for u in reward.recipient_ids)
    lead = f"🎉 {occasion(reward)}, {who}!"
    return message(lead, [section(lead), context(f"The company sent {points(reward.total)}.")])


def admin_not_sent(*, reward: RewardCard) -> Payload:
    """For admins: a celebration Xoxoday refused (nobody gave it, so nobody else hears)."""
    who = ", ".join(mention(u) for u in reward.recipient_ids)
    reason = safe_mrkdwn(plain_reason(reward.failure_reason)) or "Xoxoday refused it"
    text = (
        f"❌ The celebration for {who} ({occasion(reward)}, {points(reward.total)}) wasn't "
        f"sent: {reason}. Give it by hand with `/reward` if it should still be."
    )
    return message(text, [section(text), context(f"Reward {short_id(reward.short_id)}")])


def upcoming(rows: Sequence[Upcoming], *, days: int, active: bool = True) -> Payload:
    """`/reward celebrations` for an admin: the next `days` days, by day."""
    if not active:
        text = (
            "Celebrations are off: no kind has points. Set REWARD_BIRTHDAY_POINTS, "
            "REWARD_ANNIVERSARY_POINTS or REWARD_WELCOME_POINTS to turn them on."
        )
        return message(text, [section(text)])
    if not rows:
        text = (
            f"No celebrations in the next {days} days. People's dates come from "
            "`rewardbot people import FILE`."
        )
        return message(text, [section(text)])
    lines: list[str] = []
    used = 0
    # Whole lines only, as many as the section holds with room left to say how many more
    # (a big workspace's list would otherwise be cut mid-line, with no word of the rest).
    budget = SECTION_TEXT_MAX - text_len(f"\n… and {len(rows):,} more")
    for row in rows[:LISTED]:
        who = mention(row.who) if row.matched else f"{safe_mrkdwn(row.who)} (not matched yet)"
        what = WHAT[row.kind]
        if row.kind is Occasion.ANNIVERSARY:
            what = f"{row.years}-year work anniversary"
        off = " · _opted out_" if row.opted_out else ""
        line = f"• {format_date(row.on)} · {who} · {what} · {points(row.points)}{off}"
        if used + text_len(line) + 1 > budget:
            break
        lines.append(line)
        used += text_len(line) + 1
    more = len(rows) - len(lines)
    if more > 0:
        lines.append(f"… and {more:,} more")
    lead = f"*Celebrations in the next {days} days* (sent at 9:00 in each person's time zone)"
    return message(lead, [section(lead), section("\n".join(lines))])


def mine(state: MyCelebrations) -> str:
    """What a member hears about their own celebrations (and after `on` / `off`)."""
    if not state.celebrated:
        first = (
            "Done: celebrations are off for you."
            if state.changed
            else "Celebrations are off for you."
        )
        return (
            f"{first} You won't get birthday, work anniversary or welcome points, and they "
            "won't be announced. `/reward celebrations on` turns them back on."
        )
    first = (
        "Done: celebrations are on for you." if state.changed else "Celebrations are on for you."
    )
    if not state.active:
        return (
            f"{first} This workspace doesn't celebrate birthdays or work anniversaries with "
            "points right now; if it starts, you'll be included. `/reward celebrations off` "
            "turns them off."
        )
    dates = (
        "The company celebrates your birthday and work anniversaries with points."
        if state.has_dates
        else "The bot has no dates for you yet: an admin adds them."
    )
    return f"{first} {dates} `/reward celebrations off` turns them off."
