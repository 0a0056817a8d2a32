"""The messages of `/reward bulk`: the form that takes the file, a rejected file's rows, a
checked file's preview (with Send and Cancel), the one progress message, and the comment on
the outcomes CSV."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.rewards.balances import Account
from bot.rewards.bulk import EXAMPLE, MAX_ROWS, problem_lines, shown
from bot.rewards.bulk_service import BulkPreview, BulkRejected
from bot.rewards.events import BulkCard
from bot.rewards.wording import clip, money
from bot.slack.blocks.common import message, one_line, points, short_id
from bot.slack.blocks.kit import (
    actions,
    button,
    confirm_dialog,
    context,
    input_block,
    plain,
    section,
)
from bot.slack.ids import ActionId, BlockId, CallbackId

SECTION_CHARS = 2_800  # under Block Kit's 3,000 per section
NOT_RECALLED = (
    "⚠️ Points sent can't be recalled by the bot: once Xoxoday has them, people can spend "
    "them at once."
)


def form() -> dict[str, Any]:
    """The modal with Slack's file input: one CSV file."""
    return {
        "type": "modal",
        "callback_id": str(CallbackId.BULK_MODAL),
        "title": plain("Awards from a file", 24),
        "submit": plain("Check the file", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(
                "Send many awards at once from a CSV file: a header row naming the columns "
                "`recipient` (an email or a Slack member id), `points`, `reason` and optionally "
                f"`value`, then one row per award (up to {MAX_ROWS:,}), like:\n```{EXAMPLE}```"
            ),
            input_block(
                block_id=BlockId.BULK_FILE,
                label="The CSV file",
                element={
                    "type": "file_input",
                    "action_id": str(ActionId.BULK_FILE_INPUT),
                    "filetypes": ["csv"],
                    "max_files": 1,
                },
            ),
            context(
                "I check every row first and show you what it will send; nothing is sent until "
                "you press Send."
            ),
        ],
    }


def checking(filename: str) -> dict[str, Any]:
    """The form once submitted: what happens now (the answer comes by DM)."""
    return {
        "type": "modal",
        "title": plain("Awards from a file", 24),
        "close": plain("Close", 24),
        "blocks": [
            section(
                f"Checking {shown(filename or 'your file')}: every row first, nothing is sent. "
                "I'll DM you what I found in a moment."
            )
        ],
    }


def rejected(found: BulkRejected) -> dict[str, Any]:
    """The whole file refused: why, row by row (the first few)."""
    count = len(found.problems)
    head = (
        f"I didn't send anything from {shown(found.filename)}: "
        f"{count:,} {'problem' if count == 1 else 'problems'} in its {found.rows:,} "
        f"{'row' if found.rows == 1 else 'rows'}. Fix them and send the whole file again with "
        "`/reward bulk`."
    )
    blocks = [section(head)]
    chunk: list[str] = []
    for line in problem_lines(found.problems):
        if chunk and len("\n".join([*chunk, line])) > SECTION_CHARS:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(f"• {line}")
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return message(head, blocks)


def _account(account: Account | None, total: int) -> str:
    if account is None:
        return (
            f"It sends *{points(total)}* from the company account; Xoxoday is slow to say "
            "what the account holds, so check its balance before you send."
        )
    if account.value is None:
        return (
            f"It sends *{points(total)}* from the company account; I couldn't get the "
            "account's balance from Xoxoday just now, so check it before you send."
        )
    return (
        f"It sends *{points(total)}* from the company account, which has "
        f"*{money(account.value, account.currency)}* left at Xoxoday."
    )


def preview(found: BulkPreview, account: Account | None) -> dict[str, Any]:
    """A checked file: how many awards, how many points, a few rows, what it costs the
    account, the warning, and Send / Cancel."""
    card = found.bulk
    head = (
        f"{shown(card.filename)} is ready: *{card.rows:,}* "
        f"{'award' if card.rows == 1 else 'awards'}, *{points(card.total)}* in all "
        f"(file {short_id(card.short_id)})."
    )
    sample = [
        f"• <@{a.user_id}>: {points(a.points)} for “{clip(one_line(a.reason), 120)}”"
        + (f" #{a.value}" if a.value else "")
        for a in found.sample
    ]
    more = card.rows - len(found.sample)
    if more > 0:
        sample.append(f"…and {more:,} more.")
    blocks = [section(head), section("\n".join(sample)), section(_account(account, card.total))]
    blocks.append(section(NOT_RECALLED))
    if found.needs_approval:
        blocks.append(
            section(
                "This many points together need an approver's OK: Send asks the approvers, "
                "and nothing is sent until one of them approves."
            )
        )
    send = button(
        "Ask for approval" if found.needs_approval else f"Send {points(card.total)}",
        action_id=ActionId.BULK_SEND,
        value=card.short_id,
        style="primary",
        confirm=confirm_dialog(
            title="Ask for approval?" if found.needs_approval else "Send these awards?",
            text=f"{card.rows:,} awards, {points(card.total)} in all. Sent points can't be "
            "recalled.",
            confirm="Ask" if found.needs_approval else "Send",
        ),
    )
    cancel = button("Cancel", action_id=ActionId.BULK_CANCEL, value=card.short_id)
    blocks.append(actions(str(BlockId.BULK_ACTIONS), send, cancel))
    return message(head, blocks)


def _tally_words(tally: Mapping[str, int]) -> str:
    parts = []
    for status, word in (
        ("sent", "sent"),
        ("failed", "failed"),
        ("in_doubt", "in doubt (being checked against Xoxoday's records)"),
        ("cancelled", "cancelled"),
    ):
        if tally.get(status):
            parts.append(f"{tally[status]:,} {word}")
    return ", ".join(parts) or "none yet"


def progress(card: BulkCard, tally: Mapping[str, int]) -> dict[str, Any]:
    """The one message that shows how far a file got (updated in place)."""
    done = sum(n for s, n in tally.items() if s not in ("queued", "sending", "in_doubt"))
    text = (
        f"Sending file {short_id(card.short_id)} ({shown(card.filename)}): *{done:,} of "
        f"{card.rows:,}* done ({_tally_words(tally)})."
    )
    return message(text, [section(text), context(NOT_RECALLED)])


def finished(card: BulkCard, tally: Mapping[str, int]) -> dict[str, Any]:
    trouble = tally.get("failed", 0)
    text = (
        f"Done: file {short_id(card.short_id)} ({shown(card.filename)}), {card.rows:,} "
        f"{'award' if card.rows == 1 else 'awards'}: {_tally_words(tally)}. The outcome of "
        "each row is in the CSV I sent you."
    )
    lines = [text]
    if trouble:
        lines.append(
            "Failed rows were not paid: the CSV says which, and why is in each reward "
            "(`/reward history`)."
        )
    return message(text, [section("\n".join(lines))])


def outcomes_comment(card: BulkCard, tally: Mapping[str, int]) -> str:
    return (
        f"The outcome of each row of file {short_id(card.short_id)} "
        f"({shown(card.filename)}): {_tally_words(tally)}."
    )


def started(card: BulkCard) -> dict[str, Any]:
    """In place of the preview, once Send was pressed (the progress follows)."""
    return progress(card, {"queued": card.rows})


def sent_before(card: BulkCard) -> dict[str, Any]:
    text = (
        f"File {short_id(card.short_id)} was sent already: it is sent once, however often "
        "Send is pressed. Its progress message shows how far it got."
    )
    return message(text, [section(text)])


def cancelled(card: BulkCard) -> dict[str, Any]:
    text = f"Cancelled: nothing from {shown(card.filename)} was sent."
    return message(text, [section(text)])


def waiting(card: BulkCard, approvers: tuple[str, ...]) -> dict[str, Any]:
    """The admin's message while a file waits for an approver."""
    who = " or ".join(f"<@{a}>" for a in approvers[:10])
    text = (
        f"File {short_id(card.short_id)} ({shown(card.filename)}, {card.rows:,} awards, "
        f"{points(card.total)}) is waiting for approval: I asked {who}. Nothing is sent until "
        "one of them approves."
    )
    return message(text, [section(text)])


def approval_request(card: BulkCard) -> dict[str, Any]:
    """An approver's question: who sends how much to how many, and Approve / Reject."""
    text = (
        f"<@{card.admin_id}> wants to send *{card.rows:,}* awards, *{points(card.total)}* in all, "
        f"from the file {shown(card.filename)} (file {short_id(card.short_id)}). It needs your "
        "OK."
    )
    approve = button(
        "Approve",
        action_id=ActionId.BULK_APPROVE,
        value=card.short_id,
        style="primary",
        confirm=confirm_dialog(
            title="Approve these awards?",
            text=f"{card.rows:,} awards, {points(card.total)} in all. Sent points can't be "
            "recalled.",
            confirm="Approve",
        ),
    )
    reject = button("Reject", action_id=ActionId.BULK_REJECT, value=card.short_id)
    return message(
        text,
        [
            section(text),
            context(NOT_RECALLED),
            actions(str(BlockId.BULK_APPROVAL), approve, reject),
        ],
    )


def decided(card: BulkCard, *, approver: str, approved: bool) -> dict[str, Any]:
    """In place of a question (the approver's) or of the waiting note (the admin's)."""
    if approved:
        text = (
            f"<@{approver}> approved file {short_id(card.short_id)} ({card.rows:,} awards, "
            f"{points(card.total)}): it is being sent."
        )
    else:
        text = (
            f"<@{approver}> rejected file {short_id(card.short_id)} ({card.rows:,} awards, "
            f"{points(card.total)}): nothing was sent."
        )
    return message(text, [section(text)])
