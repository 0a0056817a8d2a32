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
• `/reward @design-team 10 for the launch` gives 10 points to each member of a user group \
(you see who and the total before you send)
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

# The gift section's note for a member, by how they pay (an admin reads `GIFTS.note`).
GIFTS_FROM_COMPANY = "You send them from the company account."
GIFTS_WITH_POINTS = "You pay for them with your points."


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads `/reward help`: an admin reads every section; a member only what they can
    do (the gift section when they may send gift cards, said in their terms; no admin part)."""

    admin: bool = True
    gifts_note: str | None = GIFTS.note  # None: they can't send gift cards


ADMIN_READER = Reader()


def help_text(
    lines: Iterable[tuple[Section, str]],
    *,
    values: Sequence[str] = (),
    reader: Reader = ADMIN_READER,
) -> str:
    """Giving, then `lines` (a section and a line each) under their sections' titles, the
    sections in the order they first come; then the company values when `REWARD_VALUES` lists
    them. A member `reader` sees neither the admins' section nor, when they can't send gift
    cards, the gift section."""
    sections: dict[Section, list[str]] = {}
    for section, line in lines:
        if section is ADMINS and not reader.admin:
            continue
        if section is GIFTS and reader.gifts_note is None:
            continue
        sections.setdefault(section, []).append(f"• {line}")
    parts = [GIVING]
    for section, bullets in sections.items():
        block = [f"*{section.title}*", *bullets]
        note = reader.gifts_note if section is GIFTS else section.note
        if note:
            block.append(note)
        parts.append("\n".join(block))
    if values:
        parts.append("*Company values*  " + ", ".join(f"`#{v}`" for v in values))
    return "\n\n".join(parts)
