"""Parse the text of `/reward` into a typed command, or a typed error with a friendly message.

Pure: no Slack, HTTP or database. `parse_command(text)` never raises; a mistake comes back as a
`Refusal` (its code an `ErrorCode`) whose `text` (Slack mrkdwn) says what was wrong and what to
type instead.

Giving: `/reward <@U…> [<@U…> …] <amount> <citation>`. The mentions and exactly one amount come
first, in any order; the first word that is neither starts the citation, and everything from
there on is the citation (so numbers and mentions inside it are just text).

Subcommands: `/reward <name> …`, the name one of the words `parse_command` is given, each with
its grammar (declared once, with their handlers, in `bot.slack.listeners.subcommands`; the
grammars are in `bot.rewards.subcommands`). A lone word close to one of them gets a suggestion.

The results are in `bot.rewards.commands`; the arguments (people, amounts, dates, …) are read
by `bot.rewards.arguments`, Slack's markup by `bot.rewards.mrkdwn`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date

from bot.rewards.arguments import group_ref, parse_amount, parse_citation, recipient_problem
from bot.rewards.commands import (
    EXAMPLE,
    Command,
    ErrorCode,
    GiveReward,
    GroupRef,
    OpenModal,
    parse_error,
)
from bot.rewards.mrkdwn import (
    CHANNEL,
    MENTIONS_ONLY,
    TOKEN,
    USER_MENTION,
    channel_tags,
    hashtags,
)
from bot.rewards.refusal import Refusal
from bot.rewards.subcommands import Grammar, suggest_subcommand
from bot.rewards.typed_text import clean_typed_text

_NUMBERISH = re.compile(r"[+\-\u2212\u2013]?\.?\d")
_CONNECTORS = {"and", "&amp;", "&"}


def _is_mention(word: str) -> bool:
    return bool(MENTIONS_ONLY.fullmatch(word)) or group_ref(word) is not None


def _no_recipient() -> Refusal:
    return parse_error(ErrorCode.NO_RECIPIENT, f"Who is it for? Mention them like `{EXAMPLE}`")


def _is_not_a_number(word: str) -> bool:
    result = parse_amount(word)
    return isinstance(result, Refusal) and result.code is ErrorCode.NOT_A_NUMBER


def _parse_give(text: str, *, subcommands: Collection[str]) -> Command | Refusal:
    tokens = list(TOKEN.finditer(text))
    recipients: list[str] = []
    groups: list[GroupRef] = []
    amounts: list[str] = []
    citation_start = len(text)
    for i, match in enumerate(tokens):
        word = match.group(0)
        if MENTIONS_ONLY.fullmatch(word):
            for uid in USER_MENTION.findall(word):
                if uid not in recipients:
                    recipients.append(uid)
            continue
        if (group := group_ref(word)) is not None:
            if all(g.group_id != group.group_id for g in groups):
                groups.append(group)
            continue
        if amounts and CHANNEL.match(word):
            # After the amount, `#kudos` that Slack turned into a channel link is citation.
            citation_start = match.start()
            break
        problem = recipient_problem(word)
        if problem:
            return problem
        if (
            word.lower() in _CONNECTORS
            and i + 1 < len(tokens)
            and _is_mention(tokens[i + 1].group(0))
        ):
            continue
        if _NUMBERISH.match(word):
            second = bool(amounts)
            if second and _is_not_a_number(word):
                # `@maria 50 1st place in the hackathon`: a word, not a second amount.
                citation_start = match.start()
                break
            amounts.append(word)
            continue
        citation_start = match.start()
        break

    if not recipients and not groups:
        if not amounts and tokens:
            suggestion = suggest_subcommand(tokens[0].group(0), subcommands)
            if suggestion:
                return suggestion
        return _no_recipient()
    if len(amounts) > 1:
        shown = " and ".join(f"`{a[:20]}`" for a in amounts[:2])
        return parse_error(
            ErrorCode.TWO_AMOUNTS,
            f"Give one amount only: I found {shown}. If your message starts with a number, "
            f"put a word in front of it, like `{EXAMPLE}`",
        )
    if not amounts:
        return parse_error(
            ErrorCode.NO_AMOUNT,
            f"How many points? Put a whole number before your message, like `{EXAMPLE}`",
        )
    amount = parse_amount(amounts[0])
    if isinstance(amount, Refusal):
        return amount
    citation = parse_citation(text[citation_start:])
    if isinstance(citation, Refusal):
        return citation
    return GiveReward(
        recipients=tuple(recipients),
        amount=amount,
        citation=citation,
        values=hashtags(citation),
        channel_tags=channel_tags(citation),
        groups=tuple(groups),
    )


# Giving in a message: mentions first, then `++`, then what `/reward` takes after the mentions
# (`<@maria> ++ 20 for the release`). Anything else in a message is never a reward.
_MESSAGE_GIFT = re.compile(
    r"\A\s*((?:<@[UW][A-Z0-9]+(?:\|[^<>]*)?>[\s,;:]*(?:(?:and|&amp;|&)\s+)?)+)\+\+(?=\s|\Z|\d)(.*)\Z",
    re.DOTALL,
)
MESSAGE_EXAMPLE = "@maria ++ 20 for the release"


def looks_like_a_gift(text: str | None) -> bool:
    """Whether a channel message asks to give (`@maria ++ 20 for …`): mentions first, then
    `++`. A message that merely mentions people and a number is not one."""
    return bool(text) and _MESSAGE_GIFT.match(clean_typed_text(text or "")) is not None


def parse_message_gift(text: str | None) -> GiveReward | Refusal | None:
    """A channel message as a gift: None when it isn't one (`looks_like_a_gift`), else what
    `/reward` would make of the mentions, the amount and the reason (a `Refusal` saying what
    to write when they don't make a reward)."""
    cleaned = clean_typed_text(text or "").strip()
    found = _MESSAGE_GIFT.match(cleaned)
    if found is None:
        return None
    parsed = _parse_give(f"{found.group(1)} {found.group(2).strip()}", subcommands=())
    if isinstance(parsed, Refusal):
        return Refusal(f"{parsed.text.replace(EXAMPLE, MESSAGE_EXAMPLE)}", code=parsed.code)
    if not isinstance(parsed, GiveReward):  # pragma: no cover - _parse_give gives or refuses
        return None
    return parsed


def subcommand_word(text: str | None) -> str:
    """The word that names the subcommand (the first, lowercased, after `clean_typed_text`);
    "" for an empty command. Whether it is one is for the caller's list of subcommands."""
    words = clean_typed_text(text or "").split(maxsplit=1)
    return words[0].lower() if words else ""


def parse_command(
    text: str | None,
    *,
    subcommands: Mapping[str, Grammar[Command]],
    today: date | None = None,
) -> Command | Refusal:
    """Parse the text after `/reward`, cleaned of control characters first (`clean_typed_text`).
    Never raises.

    `subcommands` maps each word that names a subcommand (lowercase; aliases included) to its
    grammar, which reads the rest of the text. `today` (the person's local date), when given,
    makes link expiry dates that are not after it an error.
    """
    text = clean_typed_text(text or "").strip()
    if not text:
        return OpenModal()
    grammar = subcommands.get(subcommand_word(text))
    if grammar is not None:
        rest = text.split(maxsplit=1)[1:]
        return grammar(rest[0] if rest else "", today=today)
    return _parse_give(text, subcommands=subcommands.keys())
