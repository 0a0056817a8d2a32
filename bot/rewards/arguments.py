"""One argument of `/reward` at a time: a person, an amount, a citation, a date, a campaign id.

Pure: no Slack, HTTP or database. Each `parse_*` returns the value or a `Refusal` whose
message says what was wrong and what to type instead; none of them raises.
"""

from __future__ import annotations

import re
from datetime import date

from bot.rewards.commands import (
    AMOUNT_MAX_DIGITS,
    CAMPAIGN_ID_MAX_DIGITS,
    CITATION_MAX_CHARS,
    DATE_FORMAT,
    EXAMPLE,
    ErrorCode,
    GroupRef,
    parse_error,
)
from bot.rewards.mrkdwn import (
    BROADCAST,
    BROADCAST_WORDS,
    CHANNEL,
    SUBTEAM,
    SUBTEAM_ID,
    USER_MENTION,
    to_plain_text,
)
from bot.rewards.refusal import Refusal
from bot.rewards.typed_text import clean_typed_text

TRAILING = ",;:"  # punctuation after a word that is not part of it (`<@U1>,`, `50:`)
_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


# ── people ───────────────────────────────────────────────────────────────────────────────


def _unescaped(word: str) -> Refusal:
    return parse_error(
        ErrorCode.UNESCAPED_MENTION,
        f"I can't tell who `{word}` is. Pick the person from the list that pops up as you "
        "type `@`, so Slack turns the name into a mention. (Still stuck? An admin needs to "
        "switch on *Escape channels, users, and links* for the `/reward` command.)",
    )


def _broadcast(word: str) -> Refusal:
    return parse_error(
        ErrorCode.BROADCAST_RECIPIENT,
        f"Rewards go to people, not to `@{word}`. Mention each person, like "
        "`/reward @maria @sam 50 thanks for the demo`",
    )


def _group(label: str) -> Refusal:
    shown = label if label.startswith("@") else f"@{label}" if label else "a user group"
    return parse_error(
        ErrorCode.GROUP_RECIPIENT,
        f"Rewards go to people, not to a user group ({shown}). Mention each person, like "
        "`/reward @maria @sam 50 thanks for the demo`",
    )


def _channel(label: str) -> Refusal:
    shown = f"`#{label}`" if label else "That"
    return parse_error(
        ErrorCode.CHANNEL_RECIPIENT,
        f"{shown} is a channel, not a person. Mention each person you want to reward, like "
        f"`{EXAMPLE}`",
    )


def recipient_problem(token: str) -> Refusal | None:
    """A word where a person was expected that is clearly not a usable mention."""
    word = token.rstrip(TRAILING)
    if m := BROADCAST.match(word):
        return _broadcast(m.group(1))
    if m := SUBTEAM.match(word):
        return _group(m.group(1) or "")
    if m := CHANNEL.match(word):
        return _channel(m.group(2) or "")
    if word.startswith("@") and len(word) > 1:
        name = word[1:].lower()
        if name in BROADCAST_WORDS:
            return _broadcast(name)
        return _unescaped(word)
    return None


_HANDLE_CHARS = re.compile(r"[^\w.\-]")


def group_ref(word: str) -> GroupRef | None:
    """A user group mention (`<!subteam^S0123ABC|@design-team>`) as a `GroupRef`, else None.
    The handle keeps only what Slack allows in one (letters, digits, `.`, `-`, `_`), so no
    markup typed or forged into it is ever shown."""
    m = SUBTEAM_ID.fullmatch(word.rstrip(TRAILING))
    if m is None:
        return None
    handle = _HANDLE_CHARS.sub("", (m.group(2) or "").removeprefix("@"))[:40]
    return GroupRef(group_id=m.group(1), handle=f"@{handle}" if handle else "")


def parse_person(word: str | None, *, usage: str) -> str | Refusal:
    """The user id of a `<@U…>` mention; `usage` is the example shown when it is missing
    or not a mention."""
    if word is None:
        return parse_error(ErrorCode.MISSING_ARGUMENT, f"Mention who you mean, like `{usage}`")
    m = USER_MENTION.fullmatch(word.rstrip(TRAILING))
    if m:
        return m.group(1)
    problem = recipient_problem(word)
    if problem:  # worded for this command, not for giving a reward
        bare = word.rstrip(TRAILING)
        if (b := BROADCAST.match(bare)) or (
            bare[1:].lower() in BROADCAST_WORDS and bare.startswith("@")
        ):
            name = b.group(1) if b else bare[1:].lower()
            what = f"`@{name}` isn't a person"
        elif g := SUBTEAM.match(bare):
            label = g.group(1) or ""
            shown = label if label.startswith("@") else f"@{label}" if label else "That"
            what = f"{shown} is a user group, not a person"
        elif c := CHANNEL.match(bare):
            what = f"{'`#' + c.group(2) + '`' if c.group(2) else 'That'} is a channel, not a person"
        else:
            return problem
        return Refusal(f"{what}: mention one person, like `{usage}`", code=problem.code)
    return parse_error(
        ErrorCode.MISSING_ARGUMENT,
        f"`{word[:40]}` isn't a mention. Pick the person as you type `@`, like `{usage}`",
    )


# ── amounts, ids, dates ──────────────────────────────────────────────────────────────────


def parse_amount(text: str) -> int | Refusal:
    """A positive whole number of points (`+100` and `1,000` accepted). Never raises, however
    long the number; upper limits are the policy's (`REWARD_MAX_PER_REWARD`)."""
    word = text.strip().rstrip(TRAILING)
    shown = word[:40] + ("…" if len(word) > 40 else "")
    sign = ""
    body = word
    if body[:1] in "+-\u2212\u2013" and body:
        sign, body = ("-" if body[0] != "+" else "+"), body[1:]
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", body):
        body = body.replace(",", "")
    if re.fullmatch(r"\d+", body):
        digits = body.lstrip("0") or "0"
        if digits == "0":
            return parse_error(
                ErrorCode.ZERO_AMOUNT,
                "A reward needs at least 1 point. Give a whole number above zero, like `50`.",
            )
        if sign == "-":
            return parse_error(
                ErrorCode.NEGATIVE_AMOUNT,
                f"`{shown}` is below zero: you can only give points, not take them. "
                "Use a whole number above zero, like `50`.",
            )
        if len(digits) > AMOUNT_MAX_DIGITS:
            return parse_error(
                ErrorCode.AMOUNT_TOO_BIG,
                f"`{shown}` is far too many points. Use a smaller whole number, like `50`.",
            )
        return int(digits)
    if sign == "-" and re.fullmatch(r"[\d.,]*\d[\d.,]*", body):
        return parse_error(
            ErrorCode.NEGATIVE_AMOUNT,
            f"`{shown}` is below zero: you can only give points, not take them. "
            "Use a whole number above zero, like `50`.",
        )
    if re.fullmatch(r"\d*[.,]\d+", body):
        return parse_error(
            ErrorCode.FRACTIONAL_AMOUNT,
            f"Points are whole numbers, so `{shown}` won't work. Use digits only, like `50`.",
        )
    return parse_error(
        ErrorCode.NOT_A_NUMBER,
        f"`{shown}` isn't a number of points. Write the amount in plain digits, like `50`.",
    )


def parse_citation(text: str) -> str | Refusal:
    """A required citation of at most CITATION_MAX_CHARS characters as the person sees them
    (without control characters; only invisible characters count as none)."""
    citation = clean_typed_text(text).strip()
    if not citation:
        return parse_error(
            ErrorCode.NO_CITATION,
            f"Say what it's for: add a few words after the amount, like `{EXAMPLE}`",
        )
    length = len(to_plain_text(citation))
    if length > CITATION_MAX_CHARS:
        over = length - CITATION_MAX_CHARS
        return parse_error(
            ErrorCode.CITATION_TOO_LONG,
            f"Your message is {length:,} characters long and the limit is "
            f"{CITATION_MAX_CHARS}. Please shorten it by {over:,} and try again.",
        )
    return citation


def parse_date(text: str, *, today: date | None = None) -> date | Refusal:
    """A DD-MM-YYYY date (`/` and `.` also accepted); after `today` when given."""
    m = _DATE.fullmatch(text.strip())
    shown = text.strip()[:40]
    bad = parse_error(
        ErrorCode.BAD_DATE,
        f"`{shown}` isn't a date I can read. Write it as {DATE_FORMAT}, like `31-12-2030`.",
    )
    if not m:
        return bad
    day, month, year = (int(g) for g in m.groups())
    try:
        value = date(year, month, day)
    except ValueError:
        return bad
    if today is not None and value <= today:
        return parse_error(
            ErrorCode.PAST_DATE,
            f"The expiry date `{value:%d-%m-%Y}` has to be after today. "
            f"Pick a later date ({DATE_FORMAT}).",
        )
    return value


def positive_int(word: str, *, max_digits: int) -> int | None:
    """A whole number above zero of at most `max_digits` digits (`+` allowed), else None."""
    if not re.fullmatch(r"\+?\d+", word):
        return None
    digits = word.lstrip("+").lstrip("0")
    if not digits or len(digits) > max_digits:
        return None
    return int(digits)


def parse_campaign(word: str | None, *, usage: str) -> int | Refusal:
    """A Xoxoday campaign id (a number); `usage` is the example shown when it is wrong."""
    if word is None:
        return parse_error(
            ErrorCode.MISSING_ARGUMENT,
            f"Which campaign? Add its id (a number: `/reward campaigns` lists them), like "
            f"`{usage}`",
        )
    value = positive_int(word, max_digits=CAMPAIGN_ID_MAX_DIGITS)
    if value is None:
        return parse_error(
            ErrorCode.BAD_CAMPAIGN,
            f"`{word[:40]}` isn't a campaign id. Campaign ids are numbers (`/reward campaigns` "
            f"lists them), like `{usage}`",
        )
    return value
