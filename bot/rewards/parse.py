"""Parse the text of `/reward` into a typed command, or a typed error with a friendly message.

Pure: no Slack, HTTP or database. `parse_command(text)` never raises; a mistake comes back as a
`ParseError` whose `message` (Slack mrkdwn) says what was wrong and what to type instead.

Giving: `/reward <@U…> [<@U…> …] <amount> <citation>`. The mentions and exactly one amount come
first, in any order; the first word that is neither starts the citation, and everything from
there on is the citation (so numbers and mentions inside it are just text).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

EXAMPLE = "/reward @maria 50 thanks for the demo"
CITATION_MAX_CHARS = 500
REASON_MAX_CHARS = 500
AMOUNT_MAX_DIGITS = 18  # anything longer is refused here; fits a signed 64-bit column
CAMPAIGN_ID_MAX_DIGITS = 18
LINKS_MAX_COUNT = 1000  # per `/reward links` batch
DATE_FORMAT = "DD-MM-YYYY"

Period = Literal["week", "month"]


# ── results ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class GiveReward:
    """`/reward @a @b 100 thanks #teamwork`: `amount` points to *each* recipient."""

    recipients: tuple[str, ...]  # Slack user ids, duplicates removed, order kept
    amount: int
    citation: str  # as typed (Slack mrkdwn: mentions stay `<@U…|name>`), stripped
    values: tuple[str, ...] = ()  # `#words` in the citation, lowercased, deduplicated
    channel_tags: tuple[str, ...] = ()  # names of `#channel` links Slack made from `#words`

    def values_for(self, allowed: Sequence[str]) -> tuple[str, ...]:
        """The values to check and record, given the configured list (`REWARD_VALUES`).

        Slack turns `#kudos` into a channel link when a channel of that name exists, so a channel
        link counts as a value when its name is one of the allowed values.
        """
        extra = tuple(t for t in self.channel_tags if t in allowed and t not in self.values)
        return self.values + extra

    @property
    def total(self) -> int:
        return self.amount * len(self.recipients)


@dataclass(frozen=True, slots=True)
class OpenModal:
    """`/reward` with no text: open the reward form."""


@dataclass(frozen=True, slots=True)
class ShowHelp:
    """`/reward help`."""


@dataclass(frozen=True, slots=True)
class ShowBalance:
    """`/reward balance`."""


@dataclass(frozen=True, slots=True)
class ShowHistory:
    """`/reward history`."""


@dataclass(frozen=True, slots=True)
class ShowLeaderboard:
    """`/reward leaderboard [week|month]` (default month)."""

    period: Period = "month"


@dataclass(frozen=True, slots=True)
class ListApprovals:
    """`/reward approvals`."""


@dataclass(frozen=True, slots=True)
class SetManager:
    """`/reward manager <@member> <@manager>`; `manager` is None for `… <@member> none`."""

    member: str
    manager: str | None


@dataclass(frozen=True, slots=True)
class ListManagers:
    """`/reward managers`."""


@dataclass(frozen=True, slots=True)
class GenerateLink:
    """`/reward link <@U…> <campaign-id> [DD-MM-YYYY]`; `expiry` None means the default."""

    recipient: str
    campaign_id: int
    expiry: date | None = None


@dataclass(frozen=True, slots=True)
class GenerateLinks:
    """`/reward links <campaign-id> <count> [DD-MM-YYYY]`; `expiry` None means the default."""

    campaign_id: int
    count: int
    expiry: date | None = None


@dataclass(frozen=True, slots=True)
class CancelReward:
    """`/reward cancel <reward-id> <reason>`; `reward_id` as typed (without `#` or backticks)."""

    reward_id: str
    reason: str


class ErrorCode(StrEnum):
    NO_RECIPIENT = "no_recipient"
    UNESCAPED_MENTION = "unescaped_mention"
    BROADCAST_RECIPIENT = "broadcast_recipient"
    GROUP_RECIPIENT = "group_recipient"
    CHANNEL_RECIPIENT = "channel_recipient"
    NO_AMOUNT = "no_amount"
    TWO_AMOUNTS = "two_amounts"
    NEGATIVE_AMOUNT = "negative_amount"
    ZERO_AMOUNT = "zero_amount"
    FRACTIONAL_AMOUNT = "fractional_amount"
    NOT_A_NUMBER = "not_a_number"
    AMOUNT_TOO_BIG = "amount_too_big"
    NO_CITATION = "no_citation"
    CITATION_TOO_LONG = "citation_too_long"
    UNKNOWN_SUBCOMMAND = "unknown_subcommand"
    EXTRA_ARGUMENT = "extra_argument"
    MISSING_ARGUMENT = "missing_argument"
    BAD_PERIOD = "bad_period"
    SAME_PERSON = "same_person"
    BAD_CAMPAIGN = "bad_campaign"
    BAD_COUNT = "bad_count"
    BAD_DATE = "bad_date"
    PAST_DATE = "past_date"
    BAD_REWARD_ID = "bad_reward_id"
    NO_REASON = "no_reason"
    REASON_TOO_LONG = "reason_too_long"


@dataclass(frozen=True, slots=True)
class ParseError:
    """What was wrong, as a code for programs and a short mrkdwn message for the person."""

    code: ErrorCode
    message: str


Command = (
    GiveReward
    | OpenModal
    | ShowHelp
    | ShowBalance
    | ShowHistory
    | ShowLeaderboard
    | ListApprovals
    | SetManager
    | ListManagers
    | GenerateLink
    | GenerateLinks
    | CancelReward
)

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

*Admins*
• `/reward manager @member @manager` (or `none`), `/reward managers`
• `/reward link @person campaign-id [{DATE_FORMAT}]`  DM one reward link
• `/reward links campaign-id count [{DATE_FORMAT}]`  a batch of links, as a CSV in your DM
• `/reward cancel reward-id reason`  withdraw a reward's points"""


def help_text(*, values: Sequence[str] = ()) -> str:
    """HELP_TEXT, plus the company values when `REWARD_VALUES` lists them."""
    if not values:
        return HELP_TEXT
    return HELP_TEXT + "\n\n*Company values*  " + ", ".join(f"`#{v}`" for v in values)


# ── tokens ───────────────────────────────────────────────────────────────────────────────

# A word: a run of non-space characters in which a `<…>` segment (which may hold spaces,
# e.g. `<@U1|maria lopez>`) counts as one piece.
_TOKEN = re.compile(r"(?:<[^<>]*>|\S)+")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_MENTIONS_ONLY = re.compile(r"(?:<@[UW][A-Z0-9]+(?:\|[^<>]*)?>[,;:]*)+")
_BROADCAST = re.compile(r"<!(channel|here|everyone|group)(?:\|[^<>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^<>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^<>]*))?>")
_SPECIAL = re.compile(r"<([^<>]*)>")
_NUMBERISH = re.compile(r"[+\-\u2212\u2013]?\.?\d")
_HASHTAG = re.compile(r"(?<![^\s(\[{\"'])#(\w[\w-]*)")
_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_REWARD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,39}")
_BROADCAST_WORDS = {"channel", "here", "everyone", "group"}
_CONNECTORS = {"and", "&amp;", "&"}
_TRAILING = ",;:"

_SUBCOMMANDS = (
    "help",
    "balance",
    "history",
    "leaderboard",
    "approvals",
    "manager",
    "managers",
    "link",
    "links",
    "cancel",
)


def mentioned_user_ids(text: str) -> list[str]:
    """The user ids of the `<@U…>` mentions in Slack mrkdwn, in order, without repeats."""
    return list(dict.fromkeys(_USER_MENTION.findall(text)))


def to_plain_text(mrkdwn: str, *, names: Mapping[str, str] | None = None) -> str:
    """What a person sees: `<@U1|maria>` → `@maria`, `<#C1|general>` → `#general`,
    `<https://x|label>` → `label`, `&amp;` → `&`. `names` (user id → name) fills in bare
    `<@U1>` mentions; the citation's length is measured on this text."""
    names = names or {}

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            return "@" + (names.get(uid) or label or uid)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            if label:
                return label
            word = target[1:].split("^", 1)[0]
            return "@" + word
        if label:
            return label
        return target.removeprefix("mailto:")

    text = _SPECIAL.sub(one, mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def hashtags(citation: str) -> tuple[str, ...]:
    """`#words` in a citation (outside `<…>` links), lowercased, deduplicated, order kept.
    All-digit tags (`#1`) are not values."""
    bare = _SPECIAL.sub(" ", citation)
    found: list[str] = []
    for match in _HASHTAG.finditer(bare):
        tag = match.group(1).rstrip("-_").lower()
        if tag and not tag.isdigit() and tag not in found:
            found.append(tag)
    return tuple(found)


def _channel_tags(citation: str) -> tuple[str, ...]:
    found: list[str] = []
    for match in _CHANNEL.finditer(citation):
        name = (match.group(2) or "").lower()
        if name and name not in found:
            found.append(name)
    return tuple(found)


# ── messages ─────────────────────────────────────────────────────────────────────────────


def _err(code: ErrorCode, message: str) -> ParseError:
    return ParseError(code=code, message=message)


def _no_recipient() -> ParseError:
    return _err(ErrorCode.NO_RECIPIENT, f"Who is it for? Mention them like `{EXAMPLE}`")


def _unescaped(word: str) -> ParseError:
    return _err(
        ErrorCode.UNESCAPED_MENTION,
        f"I can't tell who `{word}` is. Pick the person from the list that pops up as you "
        "type `@`, so Slack turns the name into a mention. (Still stuck? An admin needs to "
        "switch on *Escape channels, users, and links* for the `/reward` command.)",
    )


def _broadcast(word: str) -> ParseError:
    return _err(
        ErrorCode.BROADCAST_RECIPIENT,
        f"Rewards go to people, not to `@{word}`. Mention each person, like "
        "`/reward @maria @sam 50 thanks for the demo`",
    )


def _group(label: str) -> ParseError:
    shown = label if label.startswith("@") else f"@{label}" if label else "a user group"
    return _err(
        ErrorCode.GROUP_RECIPIENT,
        f"Rewards go to people, not to a user group ({shown}). Mention each person, like "
        "`/reward @maria @sam 50 thanks for the demo`",
    )


def _channel(label: str) -> ParseError:
    shown = f"`#{label}`" if label else "That"
    return _err(
        ErrorCode.CHANNEL_RECIPIENT,
        f"{shown} is a channel, not a person. Mention each person you want to reward, like "
        f"`{EXAMPLE}`",
    )


def _recipient_problem(token: str) -> ParseError | None:
    """A word where a person was expected that is clearly not a usable mention."""
    word = token.rstrip(_TRAILING)
    if m := _BROADCAST.match(word):
        return _broadcast(m.group(1))
    if m := _SUBTEAM.match(word):
        return _group(m.group(1) or "")
    if m := _CHANNEL.match(word):
        return _channel(m.group(2) or "")
    if word.startswith("@") and len(word) > 1:
        name = word[1:].lower()
        if name in _BROADCAST_WORDS:
            return _broadcast(name)
        return _unescaped(word)
    return None


# ── amounts, ids, dates ──────────────────────────────────────────────────────────────────


def parse_amount(text: str) -> int | ParseError:
    """A positive whole number of points (`+100` and `1,000` accepted). Never raises, however
    long the number; upper limits are the policy's (`REWARD_MAX_PER_REWARD`)."""
    word = text.strip().rstrip(_TRAILING)
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
            return _err(
                ErrorCode.ZERO_AMOUNT,
                "A reward needs at least 1 point. Give a whole number above zero, like `50`.",
            )
        if sign == "-":
            return _err(
                ErrorCode.NEGATIVE_AMOUNT,
                f"`{shown}` is below zero: you can only give points, not take them. "
                "Use a whole number above zero, like `50`.",
            )
        if len(digits) > AMOUNT_MAX_DIGITS:
            return _err(
                ErrorCode.AMOUNT_TOO_BIG,
                f"`{shown}` is far too many points. Use a smaller whole number, like `50`.",
            )
        return int(digits)
    if sign == "-" and re.fullmatch(r"[\d.,]*\d[\d.,]*", body):
        return _err(
            ErrorCode.NEGATIVE_AMOUNT,
            f"`{shown}` is below zero: you can only give points, not take them. "
            "Use a whole number above zero, like `50`.",
        )
    if re.fullmatch(r"\d*[.,]\d+", body):
        return _err(
            ErrorCode.FRACTIONAL_AMOUNT,
            f"Points are whole numbers, so `{shown}` won't work. Use digits only, like `50`.",
        )
    return _err(
        ErrorCode.NOT_A_NUMBER,
        f"`{shown}` isn't a number of points. Write the amount in plain digits, like `50`.",
    )


def parse_citation(text: str) -> str | ParseError:
    """A required citation of at most CITATION_MAX_CHARS characters as the person sees them."""
    citation = text.strip()
    if not citation:
        return _err(
            ErrorCode.NO_CITATION,
            f"Say what it's for: add a few words after the amount, like `{EXAMPLE}`",
        )
    length = len(to_plain_text(citation))
    if length > CITATION_MAX_CHARS:
        over = length - CITATION_MAX_CHARS
        return _err(
            ErrorCode.CITATION_TOO_LONG,
            f"Your message is {length:,} characters long and the limit is "
            f"{CITATION_MAX_CHARS}. Please shorten it by {over:,} and try again.",
        )
    return citation


def parse_date(text: str, *, today: date | None = None) -> date | ParseError:
    """A DD-MM-YYYY date (`/` and `.` also accepted); after `today` when given."""
    m = _DATE.fullmatch(text.strip())
    shown = text.strip()[:40]
    bad = _err(
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
        return _err(
            ErrorCode.PAST_DATE,
            f"The expiry date `{value:%d-%m-%Y}` has to be after today. "
            f"Pick a later date ({DATE_FORMAT}).",
        )
    return value


def _positive_int(word: str, *, max_digits: int) -> int | None:
    if not re.fullmatch(r"\+?\d+", word):
        return None
    digits = word.lstrip("+").lstrip("0")
    if not digits or len(digits) > max_digits:
        return None
    return int(digits)


# ── subcommands ──────────────────────────────────────────────────────────────────────────


def _extra(usage: str) -> ParseError:
    return _err(
        ErrorCode.EXTRA_ARGUMENT,
        f"`{usage}` doesn't take anything after it. Try just `{usage}`",
    )


def _person(word: str | None, *, usage: str) -> str | ParseError:
    if word is None:
        return _err(ErrorCode.MISSING_ARGUMENT, f"Mention who you mean, like `{usage}`")
    m = _USER_MENTION.fullmatch(word.rstrip(_TRAILING))
    if m:
        return m.group(1)
    problem = _recipient_problem(word)
    if problem:
        return problem
    return _err(
        ErrorCode.MISSING_ARGUMENT,
        f"`{word[:40]}` isn't a mention. Pick the person as you type `@`, like `{usage}`",
    )


def _campaign(word: str | None, *, usage: str) -> int | ParseError:
    if word is None:
        return _err(
            ErrorCode.MISSING_ARGUMENT,
            f"Which campaign? Add its id (a number from Xoxoday), like `{usage}`",
        )
    value = _positive_int(word, max_digits=CAMPAIGN_ID_MAX_DIGITS)
    if value is None:
        return _err(
            ErrorCode.BAD_CAMPAIGN,
            f"`{word[:40]}` isn't a campaign id. Campaign ids are numbers, like `{usage}`",
        )
    return value


def _optional_date(words: list[str], *, usage: str, today: date | None) -> date | ParseError | None:
    if not words:
        return None
    if len(words) > 1:
        return _err(
            ErrorCode.EXTRA_ARGUMENT,
            f"I don't know what to do with `{' '.join(words[1:])[:60]}`. Try `{usage}`",
        )
    return parse_date(words[0], today=today)


def _parse_leaderboard(words: list[str]) -> Command | ParseError:
    periods: dict[str, Period] = {
        "week": "week",
        "weekly": "week",
        "month": "month",
        "monthly": "month",
    }
    if not words:
        return ShowLeaderboard()
    if len(words) == 1 and words[0].lower() in periods:
        return ShowLeaderboard(period=periods[words[0].lower()])
    return _err(
        ErrorCode.BAD_PERIOD,
        "Pick `week` or `month`, like `/reward leaderboard week`",
    )


def _parse_manager(words: list[str]) -> Command | ParseError:
    usage = "/reward manager @maria @sam"
    if len(words) < 2:
        return _err(
            ErrorCode.MISSING_ARGUMENT,
            f"Mention the person and then their manager, like `{usage}` "
            "(or `/reward manager @maria none` to remove hers)",
        )
    if len(words) > 2:
        return _err(
            ErrorCode.EXTRA_ARGUMENT,
            f"One person and one manager at a time, like `{usage}`",
        )
    member = _person(words[0], usage=usage)
    if isinstance(member, ParseError):
        return member
    if words[1].lower() in ("none", "-", "nobody"):
        return SetManager(member=member, manager=None)
    manager = _person(words[1], usage=usage)
    if isinstance(manager, ParseError):
        return manager
    if manager == member:
        return _err(
            ErrorCode.SAME_PERSON,
            f"Someone can't be their own manager. Mention two different people, like `{usage}`",
        )
    return SetManager(member=member, manager=manager)


def _parse_link(words: list[str], *, today: date | None) -> Command | ParseError:
    usage = "/reward link @maria 7890 31-12-2030"
    recipient = _person(words[0] if words else None, usage=usage)
    if isinstance(recipient, ParseError):
        return recipient
    campaign = _campaign(words[1] if len(words) > 1 else None, usage=usage)
    if isinstance(campaign, ParseError):
        return campaign
    expiry = _optional_date(words[2:], usage=usage, today=today)
    if isinstance(expiry, ParseError):
        return expiry
    return GenerateLink(recipient=recipient, campaign_id=campaign, expiry=expiry)


def _parse_links(words: list[str], *, today: date | None) -> Command | ParseError:
    usage = "/reward links 7890 25 31-12-2030"
    campaign = _campaign(words[0] if words else None, usage=usage)
    if isinstance(campaign, ParseError):
        return campaign
    if len(words) < 2:
        return _err(
            ErrorCode.MISSING_ARGUMENT,
            f"How many links? Add a number after the campaign id, like `{usage}`",
        )
    count = _positive_int(words[1], max_digits=6)
    if count is None or count > LINKS_MAX_COUNT:
        return _err(
            ErrorCode.BAD_COUNT,
            f"`{words[1][:40]}` isn't a number of links I can make. Ask for 1 to "
            f"{LINKS_MAX_COUNT:,} at a time, like `{usage}`",
        )
    expiry = _optional_date(words[2:], usage=usage, today=today)
    if isinstance(expiry, ParseError):
        return expiry
    return GenerateLinks(campaign_id=campaign, count=count, expiry=expiry)


def _parse_cancel(rest: str) -> Command | ParseError:
    usage = "/reward cancel 4F7Q2K sent to the wrong person"
    words = rest.split(maxsplit=1)
    if not words:
        return _err(
            ErrorCode.MISSING_ARGUMENT,
            "Which reward? Add its id (shown in the reward's confirmation) and a reason, "
            f"like `{usage}`",
        )
    reward_id = words[0].strip("`").lstrip("#").rstrip(_TRAILING)
    if not _REWARD_ID.fullmatch(reward_id):
        return _err(
            ErrorCode.BAD_REWARD_ID,
            f"`{words[0][:40]}` doesn't look like a reward id. You'll find the id in the "
            f"reward's confirmation; then type `{usage}`",
        )
    reason = words[1].strip() if len(words) > 1 else ""
    if not reason:
        return _err(
            ErrorCode.NO_REASON,
            f"Say why you're cancelling (the recipients will see it), like `{usage}`",
        )
    length = len(to_plain_text(reason))
    if length > REASON_MAX_CHARS:
        return _err(
            ErrorCode.REASON_TOO_LONG,
            f"Your reason is {length:,} characters long and the limit is {REASON_MAX_CHARS}. "
            f"Please shorten it by {length - REASON_MAX_CHARS:,} and try again.",
        )
    return CancelReward(reward_id=reward_id, reason=reason)


def _parse_subcommand(name: str, rest: str, *, today: date | None) -> Command | ParseError:
    words = rest.split()
    simple: dict[str, Command] = {
        "balance": ShowBalance(),
        "history": ShowHistory(),
        "approvals": ListApprovals(),
        "managers": ListManagers(),
    }
    if name == "help":
        return ShowHelp()
    if name in simple:
        return _extra(f"/reward {name}") if words else simple[name]
    if name == "leaderboard":
        return _parse_leaderboard(words)
    if name == "manager":
        return _parse_manager(_TOKEN.findall(rest))
    if name == "link":
        return _parse_link(_TOKEN.findall(rest), today=today)
    if name == "links":
        return _parse_links(words, today=today)
    return _parse_cancel(rest)


# ── giving ───────────────────────────────────────────────────────────────────────────────


def _unknown_word(word: str) -> ParseError | None:
    """A lone first word close to a subcommand (`/reward balanse`): suggest the right one."""
    if not word.isalpha():
        return None
    close = difflib.get_close_matches(word.lower(), _SUBCOMMANDS, n=1, cutoff=0.75)
    if not close:
        return None
    return _err(
        ErrorCode.UNKNOWN_SUBCOMMAND,
        f"I don't know `/reward {word[:40]}`. Did you mean `/reward {close[0]}`? "
        "Type `/reward help` to see everything I can do.",
    )


def _is_not_a_number(word: str) -> bool:
    result = parse_amount(word)
    return isinstance(result, ParseError) and result.code is ErrorCode.NOT_A_NUMBER


def _parse_give(text: str) -> Command | ParseError:
    tokens = list(_TOKEN.finditer(text))
    recipients: list[str] = []
    amounts: list[str] = []
    citation_start = len(text)
    for i, match in enumerate(tokens):
        word = match.group(0)
        if _MENTIONS_ONLY.fullmatch(word):
            for uid in _USER_MENTION.findall(word):
                if uid not in recipients:
                    recipients.append(uid)
            continue
        if amounts and _CHANNEL.match(word):
            # After the amount, `#kudos` that Slack turned into a channel link is citation.
            citation_start = match.start()
            break
        problem = _recipient_problem(word)
        if problem:
            return problem
        if (
            word.lower() in _CONNECTORS
            and i + 1 < len(tokens)
            and _MENTIONS_ONLY.fullmatch(tokens[i + 1].group(0))
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

    if not recipients:
        if not amounts and tokens:
            suggestion = _unknown_word(tokens[0].group(0))
            if suggestion:
                return suggestion
        return _no_recipient()
    if len(amounts) > 1:
        shown = " and ".join(f"`{a[:20]}`" for a in amounts[:2])
        return _err(
            ErrorCode.TWO_AMOUNTS,
            f"Give one amount only: I found {shown}. If your message starts with a number, "
            f"put a word in front of it, like `{EXAMPLE}`",
        )
    if not amounts:
        return _err(
            ErrorCode.NO_AMOUNT,
            f"How many points? Put a whole number before your message, like `{EXAMPLE}`",
        )
    amount = parse_amount(amounts[0])
    if isinstance(amount, ParseError):
        return amount
    citation = parse_citation(text[citation_start:])
    if isinstance(citation, ParseError):
        return citation
    return GiveReward(
        recipients=tuple(recipients),
        amount=amount,
        citation=citation,
        values=hashtags(citation),
        channel_tags=_channel_tags(citation),
    )


def parse_command(text: str | None, *, today: date | None = None) -> Command | ParseError:
    """Parse the text after `/reward`. Never raises.

    `today` (the person's local date), when given, makes link expiry dates that are not after it
    an error.
    """
    text = (text or "").strip()
    if not text:
        return OpenModal()
    first, *rest = text.split(maxsplit=1)
    head = first.lower()
    if head in ("help", "?"):
        return ShowHelp()
    if head in _SUBCOMMANDS:
        return _parse_subcommand(head, rest[0] if rest else "", today=today)
    return _parse_give(text)
