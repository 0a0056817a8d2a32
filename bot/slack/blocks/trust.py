"""Messages about trust: a locked (or unlocked) giver's DM, `/reward locks`, and the admins'
daily DM of flags with its buttons (Dismiss, Hold future ones, Lock the giver).

Every function returns `{"text": fallback, "blocks": [...]}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.rewards.flags import FlagCard, FlagRule
from bot.rewards.locks import LockLine, reason_shown
from bot.rewards.wording import plain_reason
from bot.slack.blocks.common import (
    clip,
    format_date,
    format_datetime,
    mention,
    message,
    one_line,
    points,
    safe_mrkdwn,
    short_id,
)
from bot.slack.blocks.kit import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    header,
    keyed,
    section,
)
from bot.slack.ids import ActionId, BlockId

Payload = dict[str, Any]
GIFTS_SHOWN = 6  # rewards listed under one flag; the rest are counted
REASON_SHOWN = 60  # characters of a reason in a flag's list (a DM holds 12,000 in all)

LOCKED_DM = (
    "🔒 An admin has paused your giving: for now you can't give rewards, gift cards or "
    "donations. You can still receive rewards as usual. If you'd like to know why, or think "
    "this is a mistake, talk to an admin."
)
UNLOCKED_DM = "🔓 You can give rewards again: an admin has lifted the pause on your giving."


def lock_dm(*, locked: bool) -> Payload:
    text = LOCKED_DM if locked else UNLOCKED_DM
    return message(text, [section(text)])


LOCKS_SHOWN = 40  # `/reward locks` lists this many; the rest are counted


def locks_list(*, lines: Sequence[LockLine], tz: str | None) -> Payload:
    """`/reward locks`: who is locked, since when, by whom and why (admins only)."""
    if not lines:
        text = "Nobody is locked. Lock a giver with `/reward lock @person reason`."
        return message(text, [section(text)])
    rows = []
    shown = lines[:LOCKS_SHOWN]
    for line in shown:
        locker = line.locked_by or ""
        by = f" by {mention(locker)}" if locker[:1] in ("U", "W") else ""
        rows.append(
            f"• {mention(line.user_id)}: since {format_datetime(line.locked_at, tz)}{by}. "
            f"Why: {clip(reason_shown(line.reason), 200)}"
        )
    if len(lines) > len(shown):
        rows.append(f"…and {len(lines) - len(shown)} more locked givers not shown here.")
    blocks: list[Block] = [header(f"Locked givers ({len(lines)})")]
    chunk: list[str] = []
    for row in rows:
        if sum(len(r) + 1 for r in chunk) + len(row) > 2800:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(row)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks.append(context("`/reward unlock @person` lets someone give again."))
    return message(f"{len(lines)} locked giver(s).", blocks)


def _what(card: FlagCard) -> str:
    who = ", ".join(mention(p) for p in card.people)
    giver = mention(card.giver)
    match card.rule:
        case FlagRule.RING:
            return f"{who} gave mostly to each other in the last weeks."
        case FlagRule.REPEAT:
            return f"{giver} gave the same reason to the same person again and again."
        case FlagRule.ALLOWANCE:
            return f"{giver} gave their whole allowance to one person, month after month."
        case FlagRule.BURST:
            return f"{giver} gave the same person several rewards just under the approval limit."
    return who  # pragma: no cover - every rule is matched above


def _gift_lines(card: FlagCard, tz: str | None) -> str:
    lines = []
    for gift in card.gifts[:GIFTS_SHOWN]:
        reason = clip(safe_mrkdwn(one_line(plain_reason(gift.reason))), REASON_SHOWN)
        lines.append(
            f"• {short_id(gift.reward_id)} {format_date(gift.at, tz)}: "
            f"{mention(gift.giver)} → {mention(gift.recipient)}, {points(gift.points)}: "
            f"“{reason}”"
        )
    more = len(card.gifts) - GIFTS_SHOWN
    if more > 0:
        lines.append(f"…and {more} more")
    return "\n".join(lines)


def flag_blocks(card: FlagCard, *, tz: str | None) -> list[Block]:
    giver = mention(card.giver)
    return [
        section(f"*Flag {card.flag_id}: {card.title}*\n{_what(card)}"),
        section(_gift_lines(card, tz) or "(no rewards)"),
        actions(
            keyed(BlockId.FLAG_ACTIONS, str(card.flag_id)),  # `flag_decided` finds it by it
            button("Dismiss", action_id=ActionId.FLAG_DISMISS, value=str(card.flag_id)),
            button("Hold future ones", action_id=ActionId.FLAG_HOLD, value=str(card.flag_id)),
            button(
                "Lock the giver",
                action_id=ActionId.FLAG_LOCK,
                value=str(card.flag_id),
                style="danger",
                confirm=confirm_dialog(
                    title="Lock the giver?",
                    text=f"{giver} won't be able to give until an admin unlocks them. They "
                    "can still receive, and they're told their giving is paused.",
                    confirm="Lock",
                    style="danger",
                ),
            ),
        ),
    ]


def flags_report(*, flags: Sequence[FlagCard], tz: str | None) -> Payload:
    """The admins' daily DM of new flags. A flag holds nothing by itself."""
    n = len(flags)
    if not n:
        raise ValueError("a flags report needs at least one flag")
    intro = (
        f"{n} new flag{'s' if n != 1 else ''}: patterns in giving worth a look. Nothing was "
        "held or stopped. For each: *Dismiss* if it's fine, *Hold future ones* to have new "
        "rewards like these wait for an admin, or *Lock the giver*."
    )
    blocks: list[Block] = [header("Flags to look at"), section(intro)]
    for card in flags:
        blocks += flag_blocks(card, tz=tz)
    text = f"{n} new flag{'s' if n != 1 else ''} to look at."
    return message(text, blocks)


def flag_decided(message: Mapping[str, Any], *, flag_id: int, said: str) -> Payload | None:
    """The admins' DM `message` with flag `flag_id`'s buttons replaced by what was decided
    (`said`); None when the message doesn't hold that flag's buttons."""
    blocks = message.get("blocks") or []
    row = keyed(BlockId.FLAG_ACTIONS, str(flag_id))
    if not any(b.get("block_id") == row for b in blocks):
        return None
    edited = [context(said) if b.get("block_id") == row else b for b in blocks]
    return {"text": message.get("text") or said, "blocks": edited}
