"""The App Home: your balance and allowance left, your recent rewards, a "Send a reward" button;
approvers also see what waits for them (with the buttons); admins also see the account
balance, the rewards in doubt (with settle buttons) and the last link batches (never links)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.rewards.cards import HomeCard, LinkBatchCard, unique_rewards
from bot.rewards.redeem import RedeemButton
from bot.slack.blocks.adjustments import adjustment_rows
from bot.slack.blocks.approvals import approval_row
from bot.slack.blocks.common import (
    SECTION_TEXT_MAX,
    VIEW_MAX_BLOCKS,
    clip,
    format_date,
    format_datetime,
    mention,
    money,
    one_line,
    safe_mrkdwn,
)
from bot.slack.blocks.kit import Block, actions, button, context, divider, header, section
from bot.slack.blocks.lists import account_lines, balance_lines, given_row, received_row
from bot.slack.blocks.redeem import redeem_button
from bot.slack.blocks.reward_messages import in_doubt_row, settle_buttons
from bot.slack.ids import ActionId, BlockId

RECENT_SIZE = 5
BATCHES_SIZE = 5
MAX_LISTED = 20  # approvals and in-doubt rewards shown, each (two blocks apiece)


def batch_row(batch: LinkBatchCard, tz: str | None) -> str:
    """One link batch, without its links: when, how many, which campaign, by whom."""
    if batch.campaign_name and batch.campaign_name.strip():
        name = f"*{safe_mrkdwn(one_line(batch.campaign_name))}* ({safe_mrkdwn(batch.campaign_id)})"
    else:
        name = f"campaign {safe_mrkdwn(batch.campaign_id)}"
    value = f" of {money(batch.amount, batch.currency)}" if batch.amount is not None else ""
    valid = batch.expires_on is not None and batch.status == "created"  # a failed one made none
    until = f" · valid until {format_date(batch.expires_on)}" if valid and batch.expires_on else ""
    status = "" if batch.status == "created" else f" · {batch.status}"
    return (
        f"{format_date(batch.created_at, tz)} · {batch.count:,} link"
        f"{'s' if batch.count != 1 else ''}{value} · {name} · by {mention(batch.requested_by)}"
        f"{until}{status}"
    )


def _recent(home: HomeCard, tz: str | None) -> list[Block]:
    received = [received_row(r, home.user_id, tz) for r in unique_rewards(home.received)]
    given = [given_row(r, tz) for r in unique_rewards(home.given)]
    adjusted = adjustment_rows(home.adjustments[:RECENT_SIZE], tz)
    return [
        section(
            "*Recently received*\n"
            + ("\n".join(received[:RECENT_SIZE]) or "Nothing yet. It shows up here when you do.")
        ),
        *(
            [section(clip("*Adjusted by an admin*\n" + "\n".join(adjusted), SECTION_TEXT_MAX))]
            if adjusted
            else []
        ),
        section(
            "*Recently given*\n"
            + (
                "\n".join(given[:RECENT_SIZE])
                or "Nothing yet. Press *Send a reward* to thank someone."
            )
        ),
    ]


def _approvals(home: HomeCard, tz: str | None) -> list[Block]:
    seen: set[str] = set()
    pending = []
    for req in home.pending:
        if req.reward.short_id not in seen:
            seen.add(req.reward.short_id)
            pending.append(req)
    blocks: list[Block] = [divider(), header(f"Waiting for your approval ({len(pending)})")]
    if not pending:
        return [*blocks, section("Nothing is waiting for you. 🎉")]
    for req in pending[:MAX_LISTED]:
        blocks += approval_row(req, tz)
    if len(pending) > MAX_LISTED:
        blocks.append(context(f"…and {len(pending) - MAX_LISTED} more: `/reward approvals`"))
    return blocks


SHOWS_HERE = "its figure shows here as soon as it does."


def _admin(home: HomeCard, tz: str | None) -> list[Block]:
    blocks: list[Block] = [divider(), header("Admin")]
    blocks.append(section("\n".join(account_lines(home.balance, follows=SHOWS_HERE))))
    doubt = unique_rewards(home.in_doubt)
    blocks.append(section(f"*Rewards in doubt ({len(doubt)})*" + ("" if doubt else "\nNone. 👍")))
    for card in doubt[:MAX_LISTED]:
        blocks += [in_doubt_row(card, tz), settle_buttons(card)]
    if len(doubt) > MAX_LISTED:
        blocks.append(context(f"…and {len(doubt) - MAX_LISTED} more in doubt."))
    rows = [batch_row(b, tz) for b in home.link_batches[:BATCHES_SIZE]]
    blocks.append(section("*Last link batches*\n" + ("\n".join(rows) or "None yet.")))
    return blocks


def home_view(
    *,
    home: HomeCard,
    tz: str | None,
    updated_at: datetime | None = None,
    redeem: RedeemButton | None = None,
    gifts: bool = False,
) -> dict[str, Any]:
    """The App Home view for `views.publish` (with points in the bot and some to spend, a
    Redeem button beside "Send a reward")."""
    spend = redeem is not None and home.balance.storefront and bool(home.balance.points)
    send = button(
        "Send a reward",
        action_id=ActionId.OPEN_REWARD_MODAL,
        value="home",
        style=None if spend else "primary",
    )
    row = [redeem_button(redeem), send] if spend and redeem is not None else [send]
    if gifts:  # may send gift cards and donations
        row += [
            button("Send a gift card", action_id=ActionId.OPEN_GIFT_MODAL, value="home"),
            button("Donate", action_id=ActionId.OPEN_DONATE_MODAL, value="home"),
        ]
    blocks: list[Block] = [
        header("Rewards"),
        section("\n\n".join(balance_lines(home.balance, follows=SHOWS_HERE))),
        actions(str(BlockId.HOME_ACTIONS), *row),
        divider(),
        *_recent(home, tz),
    ]
    if home.is_approver or home.pending:
        blocks += _approvals(home, tz)
    if home.is_admin:
        blocks += _admin(home, tz)
    if updated_at is not None:
        blocks.append(context(f"Updated {format_datetime(updated_at, tz)}"))
    return {"type": "home", "blocks": blocks[: VIEW_MAX_BLOCKS - 1]}  # room for the notice
