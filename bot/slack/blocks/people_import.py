"""What an admin reads after dropping a people file in the bot's DM: the summary the CLI
prints (`rewardbot people import`), or why the file was not imported, row by row."""

from __future__ import annotations

from typing import Any

from bot.rewards.bulk import escape
from bot.rewards.people_dm import DmImported, rejected_head, rejected_tail, summary
from bot.slack.blocks.common import SECTION_TEXT_MAX, message, text_only
from bot.slack.blocks.kit import section


def _name(name: str) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)[:100]
    return "`" + escape(clean.replace("`", "'")) + "`"


def imported(done: DmImported) -> dict[str, Any]:
    """Stored: how many people were added, updated and unchanged."""
    return text_only(f":white_check_mark: {summary(done.result, _name(done.name))}.")


def rejected(done: DmImported) -> dict[str, Any]:
    """Not imported: every problem (the first few), one a line, and what to do."""
    head = rejected_head(_name(done.name))
    blocks = [section(head)]
    chunk: list[str] = []
    for line in done.result.file.report().splitlines():
        line = f"• {escape(line)}"
        if chunk and len("\n".join([*chunk, line])) > SECTION_TEXT_MAX - 100:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks.append(section(rejected_tail(done.result)))
    return message(f"{head} {rejected_tail(done.result)}", blocks)
