"""Answers to `/reward help`, `history`, `leaderboard`, `approvals`, `balance` and `managers`
(ephemeral messages; each a `{"text", "blocks"}` payload)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.rewards.cards import (
    AdjustmentLine,
    ApprovalCard,
    BalanceCard,
    Leaderboard,
    LeaderRow,
    ManagerLine,
    RewardCard,
    unique_rewards,
)
from bot.rewards.commands import EXAMPLE
from bot.rewards.lists import HISTORY_SIZE, LEADERBOARD_SIZE
from bot.rewards.redeem import RedeemButton
from bot.slack.blocks.adjustments import adjustment_rows
from bot.slack.blocks.approvals import approval_row
from bot.slack.blocks.common import (
    LIST_CITATION_MAX,
    MESSAGE_MAX_BLOCKS,
    MESSAGE_TEXT_BUDGET,
    REDEEM_HINT,
    SECTION_TEXT_MAX,
    clip,
    format_date,
    mention,
    message,
    money,
    one_line,
    people,
    points,
    short_id,
    status_emoji,
    status_label,
    text_len,
)
from bot.slack.blocks.kit import Block, context, divider, fitting, header, section, text_size
from bot.slack.blocks.redeem import STOREFRONT_HINT, redeem_actions
from bot.slack.blocks.reward_messages import citation

Payload = dict[str, Any]
MANAGERS_TEXT_MAX = 9000  # a message's whole text stays well under what Slack accepts
_MEDALS = ("🥇", "🥈", "🥉")


def help_message(*, text: str) -> Payload:
    """`/reward help` under a header: `text` is the grammar with examples (and the company
    values when set), as `bot.slack.listeners.subcommands.SUBCOMMANDS.help_text` writes it."""
    blocks = [header("How to use /reward"), section(text)]
    return message(f"How to use /reward, e.g. {EXAMPLE}", blocks)


# ── history ──────────────────────────────────────────────────────────────────────────────


def _row_citation(reward: RewardCard) -> str:
    return clip(one_line(citation(reward)), LIST_CITATION_MAX)


def given_row(reward: RewardCard, tz: str | None) -> str:
    who = people(reward.recipient_ids, limit=200)
    return (
        f"{status_emoji(reward.status)} {format_date(reward.created_at, tz)} · "
        f"*{points(reward.total)}* to {who} · {short_id(reward.short_id)} · "
        f"{status_label(reward.status)}\n      “{_row_citation(reward)}”"
    )


def received_row(reward: RewardCard, viewer_id: str, tz: str | None) -> str:
    mine = next((r for r in reward.recipients if r.user_id == viewer_id), None)
    status = reward.status
    if mine is not None and mine.outcome in ("failed", "cancelled", "in_doubt"):
        status = mine.outcome
    amount = mine.points if mine is not None else reward.total
    return (
        f"{status_emoji(status)} {format_date(reward.created_at, tz)} · "
        f"*{points(amount)}* from {mention(reward.giver_id)} · {short_id(reward.short_id)} · "
        f"{status_label(status)}\n      “{_row_citation(reward)}”"
    )


def _rows_section(title: str, rows: Sequence[str], empty: str) -> Block:
    body = "\n".join(rows) if rows else empty
    return section(clip(f"*{title}*\n{body}", SECTION_TEXT_MAX))


def history_message(
    *,
    viewer_id: str,
    given: Sequence[RewardCard],
    received: Sequence[RewardCard],
    tz: str | None,
    adjustments: Sequence[AdjustmentLine] = (),
) -> Payload:
    """Your last 10 rewards given and received, newest first as given, with their status;
    with points in the bot, the admins' adjustments of your points too."""
    given_rows = [given_row(r, tz) for r in unique_rewards(given)[:HISTORY_SIZE]]
    received_rows = [
        received_row(r, viewer_id, tz) for r in unique_rewards(received)[:HISTORY_SIZE]
    ]
    blocks = [
        header("Your rewards"),
        _rows_section(
            "Received",
            received_rows,
            "Nothing yet. When someone rewards you, it shows up here.",
        ),
        *(
            [divider(), _rows_section("Adjusted by an admin", adjustment_rows(adjustments, tz), "")]
            if adjustments
            else []
        ),
        divider(),
        _rows_section(
            "Given",
            given_rows,
            f"You haven't given any yet. Try `{EXAMPLE}`",
        ),
        context(
            "✅ sent · ⏳ waiting for approval · 🕓 about to be sent · 🔎 being checked · "
            "❌ not sent · ↩️ withdrawn · 🚫 rejected · ⌛ expired"
        ),
    ]
    text = f"Your last rewards: {len(received_rows)} received, {len(given_rows)} given."
    if adjustments:
        text += f" {len(adjustments)} adjustment{'s' if len(adjustments) != 1 else ''} by admins."
    return message(text, blocks)


# ── leaderboard ──────────────────────────────────────────────────────────────────────────


def _board(rows: Sequence[LeaderRow], verb: str) -> str:
    lines = []
    for i, row in enumerate(rows[:LEADERBOARD_SIZE]):
        rank = _MEDALS[i] if i < len(_MEDALS) else f"{i + 1}."
        count = f" in {row.rewards} reward{'s' if row.rewards != 1 else ''}" if row.rewards else ""
        lines.append(f"{rank} {mention(row.user_id)} · {points(row.points)} {verb}{count}")
    return "\n".join(lines)


def leaderboard_message(*, board: Leaderboard) -> Payload:
    """`/reward leaderboard [week|month]`: top recipients and givers since `board.since`."""
    period = "this week" if board.period == "week" else "this month"
    since = f"Since {format_date(board.since)}"
    if not board.recipients and not board.givers:
        blocks = [
            header(f"Leaderboard {period}"),
            section(
                f"No rewards {period} yet. Be the first: `{EXAMPLE}`",
            ),
            context(since),
        ]
        return message(f"No rewards {period} yet.", blocks)
    blocks = [
        header(f"Leaderboard {period}"),
        section(f"*Most recognised*\n{_board(board.recipients, 'received') or 'Nobody yet.'}"),
        section(f"*Most generous*\n{_board(board.givers, 'given') or 'Nobody yet.'}"),
        context(since),
    ]
    top = board.recipients[0] if board.recipients else None
    text = f"Leaderboard {period}" + (
        f": {mention(top.user_id)} leads with {points(top.points)}." if top else "."
    )
    return message(text, blocks)


# ── approvals waiting ────────────────────────────────────────────────────────────────────


def approvals_list(*, requests: Sequence[ApprovalCard], tz: str | None) -> Payload:
    """`/reward approvals`: what waits for the viewer, each with Approve / Reject."""
    seen: set[str] = set()
    unique = []
    for req in requests:
        if req.reward.short_id not in seen:
            seen.add(req.reward.short_id)
            unique.append(req)
    if not unique:
        nothing = [section("🎉 Nothing is waiting for your approval.")]
        return message("Nothing is waiting for your approval.", nothing)
    n = len(unique)
    blocks: list[Block] = [header(f"Waiting for your approval ({n})")]
    rows = [[*approval_row(req, tz), divider()] for req in unique]
    room = fitting(
        rows,
        blocks_left=MESSAGE_MAX_BLOCKS - len(blocks) - 2,  # room for a last line, "more" line
        chars_left=MESSAGE_TEXT_BUDGET - text_size(blocks) - 200,
    )
    for row in rows[:room]:
        blocks += row
    if n > room:
        blocks.append(context(f"…and {n - room} more. Decide on these to see the rest."))
    else:
        blocks.pop()  # the last divider
    text = f"{n} reward{'s' if n != 1 else ''} waiting for your approval."
    return message(text, blocks)


# ── balance ──────────────────────────────────────────────────────────────────────────────


def balance_lines(balance: BalanceCard, *, follows: str | None = None) -> list[str]:
    """The person's points and allowance, as mrkdwn lines (shared with the App Home, whose
    `follows` says where Xoxoday's figure will show when it is slow)."""
    if balance.storefront:
        mine = _storefront_points(balance)
    elif balance.fetching:
        mine = f"Xoxoday is slow to answer right now: {follows or FOLLOWS}"
    elif balance.points is None:
        mine = "I couldn't look up your points right now. Please try again in a minute."
    elif not balance.points_found or balance.points == 0:
        mine = "You have no points to redeem yet. When someone rewards you, they show up here."
    else:
        mine = f"You have *{points(balance.points)}* to redeem. {REDEEM_HINT}"
    left = balance.allowance_left
    if left is None:
        give = (
            "As an admin, you have no monthly limit on giving."
            if balance.is_admin
            else "There's no monthly limit on what you give."
        )
    else:
        resets = f" It resets on {format_date(balance.resets_on)}." if balance.resets_on else ""
        carried = (
            f", {balance.carried:,} of it carried over from last month" if balance.carried else ""
        )
        give = (
            f"You can still give *{points(left)}* this month "
            f"(of {balance.allowance:,}{carried}; {balance.given_this_month:,} given).{resets}"
        )
    return [mine, give]


def account_lines(balance: BalanceCard, *, follows: str | None = None) -> list[str]:
    """Admins only: the company account balance and the low-balance warning."""
    if not balance.is_admin:
        return []
    if balance.fetching:
        return [f"*Company account:* Xoxoday is slow to answer right now: {follows or FOLLOWS}"]
    if balance.account_balance is None:
        return ["*Company account:* I couldn't get the balance from Xoxoday right now."]
    lines = [
        f"*Company account:* {money(balance.account_balance, balance.account_currency)} "
        "left at Xoxoday."
    ]
    if balance.low and balance.low_balance is not None:
        lines.append(
            f"⚠️ That's under the low-balance mark of "
            f"{money(balance.low_balance, balance.account_currency)}. Top up the Xoxoday "
            "account soon, or rewards will start failing."
        )
    return lines


def _storefront_points(balance: BalanceCard) -> str:
    if not balance.points:
        return "You have no points to spend right now. When someone rewards you, they show up here."
    mine = f"You have *{points(balance.points)}* to spend. {STOREFRONT_HINT}"
    if balance.next_expiry is not None and balance.expiring:
        mine += (
            f" {points(balance.expiring)} of them expire on *{format_date(balance.next_expiry)}*."
        )
    return mine


FOLLOWS = "I'll send the figure here as soon as it does."


def balance_followup_message(*, balance: BalanceCard) -> Payload:
    """What Xoxoday answered after `balance_message` said it was slow: the figures only."""
    mine = [] if balance.storefront else [balance_lines(balance)[0]]
    lines = [*mine, *account_lines(balance)]
    blocks: list[Block] = [section("\n\n".join(lines))]
    return message(one_line(" ".join(lines).replace("*", "")), blocks)


def balance_message(*, balance: BalanceCard, redeem: RedeemButton | None = None) -> Payload:
    """`/reward balance`: your redeemable points and what you may still give this month; admins
    also see the account balance, with a warning when it is low. With points in the bot and
    some to spend, a Redeem button."""
    blocks: list[Block] = [section("\n\n".join(balance_lines(balance)))]
    if redeem is not None and balance.storefront and balance.points:
        blocks.append(redeem_actions(redeem))
    account = account_lines(balance)
    if account:
        blocks += [divider(), section("\n".join(account))]
    text = one_line(balance_lines(balance)[0].replace("*", ""))
    if balance.low:
        text += " The company account balance is low."
    return message(text, blocks)


# ── managers ─────────────────────────────────────────────────────────────────────────────


def managers_message(*, managers: Sequence[ManagerLine]) -> Payload:
    """`/reward managers`: who approves for whom."""
    if not managers:
        nothing = [
            section(
                "No managers recorded yet. Add one with `/reward manager @member @manager`; "
                "until then, approvers decide for everyone."
            )
        ]
        return message("No managers recorded yet.", nothing)
    lines = [f"{mention(m.member_id)} → {mention(m.manager_id)}" for m in managers]
    shown: list[str] = []
    for line in lines:
        if text_len("\n".join([*shown, line])) > MANAGERS_TEXT_MAX:
            break
        shown.append(line)
    blocks: list[Block] = [header(f"Managers ({len(lines)})")]
    chunk: list[str] = []
    for line in shown:
        if text_len("\n".join([*chunk, line])) > SECTION_TEXT_MAX:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk)))
    more = f"…and {len(lines) - len(shown)} more. " if len(shown) < len(lines) else ""
    blocks.append(
        context(
            f"{more}Change one with `/reward manager @member @manager`, remove one with "
            "`/reward manager @member none`."
        )
    )
    return message(f"{len(lines)} managers recorded.", blocks)
