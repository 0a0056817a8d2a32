"""The answer to `/reward help`: how to give, then each subcommand's lines grouped in sections,
with examples, in Slack mrkdwn.

The subcommands' lines are declared with the subcommands (`bot.slack.listeners.subcommands`);
here are the parts that belong to no subcommand: giving, and the sections' titles and notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.rewards.commands import CITATION_MAX_CHARS, EXAMPLE

GIVING = f"""\
*Give points*  `/reward @person [@more people] amount what it's for`
• `{EXAMPLE}`
• `/reward @maria @sam 100 a smooth launch #teamwork` gives 100 points to *each* of them
• `/reward` on its own opens a form
Pick each person from the list that pops up as you type `@`. The amount is a whole number of \
points per person; the message (up to {CITATION_MAX_CHARS} characters) is shown to them. \
`#words` in it tag company values."""


@dataclass(frozen=True, slots=True)
class Section:
    """A heading in `/reward help`, and a note under its lines (when there is one)."""

    title: str
    note: str = ""


STANDING = Section("See where you stand")
GIFTS = Section(
    "Gift cards and charity",
    note="Admins and the people REWARD_GIFT_SENDERS names send them from the company account.",
)
ADMINS = Section("Admins")


def help_text(lines: Iterable[tuple[Section, str]], *, values: Sequence[str] = ()) -> str:
    """Giving, then `lines` (a section and a line each) under their sections' titles, the
    sections in the order they first come; then the company values when `REWARD_VALUES` lists
    them."""
    sections: dict[Section, list[str]] = {}
    for section, line in lines:
        sections.setdefault(section, []).append(f"• {line}")
    parts = [GIVING]
    for section, bullets in sections.items():
        block = [f"*{section.title}*", *bullets]
        if section.note:
            block.append(section.note)
        parts.append("\n".join(block))
    if values:
        parts.append("*Company values*  " + ", ".join(f"`#{v}`" for v in values))
    return "\n\n".join(parts)
