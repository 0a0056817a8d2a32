"""The answer to `/reward help`: the grammar, with examples, in Slack mrkdwn."""

from __future__ import annotations

from collections.abc import Sequence

from bot.rewards.commands import CITATION_MAX_CHARS, DATE_FORMAT, EXAMPLE

HELP_TEXT = f"""\
*Give points*  `/reward @person [@more people] amount what it's for`
• `{EXAMPLE}`
• `/reward @maria @sam 100 a smooth launch #teamwork` gives 100 points to *each* of them
• `/reward` on its own opens a form
Pick each person from the list that pops up as you type `@`. The amount is a whole number of \
points per person; the message (up to {CITATION_MAX_CHARS} characters) is shown to them. \
`#words` in it tag company values.

*See where you stand*
• `/reward balance`  your points, and what you can still give this month
• `/reward history`  your last 10 rewards, given and received
• `/reward leaderboard week` or `month`  top recipients and givers
• `/reward approvals`  rewards waiting for your decision

*Gift cards and charity*
• `/reward gift @person`  pick a gift card for them from Xoxoday's catalogue
• `/reward donate [@person]`  donate to a charity in their name (or the team's)
Admins and the people REWARD_GIFT_SENDERS names send them from the company account.

*Admins*
• `/reward manager @member @manager` (or `none`), `/reward managers`
• `/reward link @person campaign-id [{DATE_FORMAT}] [message]`  DM one reward link
• `/reward links campaign-id count [{DATE_FORMAT}]`  a batch of links, as a CSV in your DM
• `/reward campaigns`  the reward link campaigns and their ids
• `/reward cancel reward-id reason`  withdraw a reward's points
• `/reward orders`  the latest gift cards and donations, with their status
• `/reward orders report 2026-11-01 2026-11-30` (or `last month`)  Xoxoday's orders and \
payments for a period, as CSVs in your DM"""


def help_text(*, values: Sequence[str] = ()) -> str:
    """HELP_TEXT, plus the company values when `REWARD_VALUES` lists them."""
    if not values:
        return HELP_TEXT
    return HELP_TEXT + "\n\n*Company values*  " + ", ".join(f"`#{v}`" for v in values)
