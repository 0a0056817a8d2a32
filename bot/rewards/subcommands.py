"""The grammar of each `/reward` subcommand: `parse_<name>(rest, today=…)` reads what follows
the subcommand's name into a typed command (`bot.rewards.commands`), and a suggestion for a
mistyped name.

Which names `/reward` knows, who may run them and their help lines are declared once, with
their handlers, in `bot.slack.listeners.subcommands`; `bot.rewards.parse.parse_command` is
given the names and grammars from there.

Pure: no Slack, HTTP or database. Nothing here raises; a mistake is a `Refusal`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date
from typing import Protocol, TypeVar

from bot.rewards.arguments import (
    TRAILING,
    group_ref,
    parse_amount,
    parse_campaign,
    parse_date,
    parse_person,
    positive_int,
)
from bot.rewards.commands import (
    ADJUST_MAX_POINTS,
    ALLOWANCE_MAX_POINTS,
    AMOUNT_MAX_DIGITS,
    LINK_NOTE_MAX_CHARS,
    LINKS_MAX_COUNT,
    ORDERS_REPORT_MAX_DAYS,
    REASON_MAX_CHARS,
    AdjustPoints,
    CancelReward,
    Celebrations,
    ErrorCode,
    GenerateLink,
    GenerateLinks,
    ListAllowances,
    ListApprovals,
    ListCampaigns,
    ListLocks,
    ListManagers,
    ListOrders,
    LockGiver,
    OpenBulkForm,
    OpenGiftForm,
    OrdersReport,
    Period,
    SetAllowance,
    SetManager,
    ShowBalance,
    ShowHelp,
    ShowHistory,
    ShowLeaderboard,
    UnlockGiver,
    parse_error,
)
from bot.rewards.mrkdwn import TOKEN, USER_MENTION, to_plain_text
from bot.rewards.refusal import Refusal
from bot.rewards.typed_text import clean_typed_text

C = TypeVar("C")
C_co = TypeVar("C_co", covariant=True)


class Grammar(Protocol[C_co]):
    """A subcommand's grammar: the text after its name (as typed, cleaned of control characters)
    to its command, or a `Refusal` saying what to type instead. `today` (the person's local
    date), when given, makes dates that are not after it an error where a date must be in the
    future. Pure; never raises."""

    def __call__(self, rest: str, *, today: date | None = None) -> C_co | Refusal: ...


_REWARD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,39}")


def _extra(usage: str) -> Refusal:
    return parse_error(
        ErrorCode.EXTRA_ARGUMENT,
        f"`{usage}` doesn't take anything after it. Try just `{usage}`",
    )


def _nothing_after(command: C, name: str) -> Grammar[C]:
    """The grammar of a subcommand that takes no arguments: `command`, or a refusal when
    something follows `/reward {name}`."""

    def parse(rest: str, *, today: date | None = None) -> C | Refusal:
        return _extra(f"/reward {name}") if rest.split() else command

    return parse


def parse_help(rest: str, *, today: date | None = None) -> ShowHelp:
    """`help` (or `?`), whatever follows it."""
    return ShowHelp()


parse_balance = _nothing_after(ShowBalance(), "balance")
parse_history = _nothing_after(ShowHistory(), "history")
parse_approvals = _nothing_after(ListApprovals(), "approvals")
parse_managers = _nothing_after(ListManagers(), "managers")
parse_campaigns = _nothing_after(ListCampaigns(), "campaigns")
parse_locks = _nothing_after(ListLocks(), "locks")
parse_bulk = _nothing_after(OpenBulkForm(), "bulk")
parse_allowances = _nothing_after(ListAllowances(), "allowances")

_DEFAULT_WORDS = frozenset({"default", "none", "reset", "remove", "-"})


def parse_allowance(rest: str, *, today: date | None = None) -> SetAllowance | Refusal:
    """`@person 500`, `@user-group 2000`, or either with `default` (back to the default)."""
    usage = "/reward allowance @design-team 2000"
    words = TOKEN.findall(rest)
    if len(words) < 2:
        return parse_error(
            ErrorCode.MISSING_ARGUMENT,
            f"Mention a person or a user group, then their monthly allowance, like `{usage}` "
            "(or `default` instead of the number to go back to the default)",
        )
    if len(words) > 2:
        return parse_error(
            ErrorCode.EXTRA_ARGUMENT,
            f"One person or user group and one number at a time, like `{usage}`",
        )
    group = group_ref(words[0])
    person: str | None = None
    if group is None:
        found = parse_person(words[0], usage="/reward allowance @maria 500")
        if isinstance(found, Refusal):
            return found
        person = found
    amount = words[1].rstrip(TRAILING)
    if amount.lower() in _DEFAULT_WORDS:
        return SetAllowance(person=person, group=group, points=None)
    points = parse_amount(amount)
    if isinstance(points, Refusal):
        if points.code is ErrorCode.ZERO_AMOUNT:
            return parse_error(
                ErrorCode.ZERO_AMOUNT,
                "An allowance is at least 1 point a month. To pause someone's giving, use "
                "`/reward lock @maria`; to go back to the default, "
                "`/reward allowance @maria default`.",
            )
        return points
    if points > ALLOWANCE_MAX_POINTS:
        return parse_error(
            ErrorCode.AMOUNT_TOO_BIG,
            f"An allowance is at most {ALLOWANCE_MAX_POINTS:,} points a month. Use a smaller "
            "number.",
        )
    return SetAllowance(person=person, group=group, points=points)


def parse_celebrations(rest: str, *, today: date | None = None) -> Celebrations | Refusal:
    """Nothing, `on` or `off`."""
    words = rest.lower().split()
    if not words:
        return Celebrations()
    if len(words) == 1 and words[0] in ("on", "off"):
        return Celebrations(celebrate=words[0] == "on")
    return parse_error(
        ErrorCode.EXTRA_ARGUMENT,
        "Try `/reward celebrations off` (no birthday or anniversary points for you, and no "
        "announcement), `/reward celebrations on`, or `/reward celebrations` to see which.",
    )


def _optional_date(words: list[str], *, usage: str, today: date | None) -> date | Refusal | None:
    if not words:
        return None
    if len(words) > 1:
        return parse_error(
            ErrorCode.EXTRA_ARGUMENT,
            f"I don't know what to do with `{' '.join(words[1:])[:60]}`. Try `{usage}`",
        )
    return parse_date(words[0], today=today)


def parse_leaderboard(rest: str, *, today: date | None = None) -> ShowLeaderboard | Refusal:
    """`[week|month]`."""
    words = rest.split()
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
    return parse_error(
        ErrorCode.BAD_PERIOD,
        "Pick `week` or `month`, like `/reward leaderboard week`",
    )


def parse_manager(rest: str, *, today: date | None = None) -> SetManager | Refusal:
    """`@member @manager` or `@member none`."""
    usage = "/reward manager @maria @sam"
    words = TOKEN.findall(rest)
    if len(words) < 2:
        return parse_error(
            ErrorCode.MISSING_ARGUMENT,
            f"Mention the person and then their manager, like `{usage}` "
            "(or `/reward manager @maria none` to remove hers)",
        )
    if len(words) > 2:
        return parse_error(
            ErrorCode.EXTRA_ARGUMENT,
            f"One person and one manager at a time, like `{usage}`",
        )
    member = parse_person(words[0], usage=usage)
    if isinstance(member, Refusal):
        return member
    if words[1].lower() in ("none", "-", "nobody"):
        return SetManager(member=member, manager=None)
    manager = parse_person(words[1], usage=usage)
    if isinstance(manager, Refusal):
        return manager
    if manager == member:
        return parse_error(
            ErrorCode.SAME_PERSON,
            f"Someone can't be their own manager. Mention two different people, like `{usage}`",
        )
    return SetManager(member=member, manager=manager)


def parse_link(rest: str, *, today: date | None = None) -> GenerateLink | Refusal:
    """`@maria 7890 [DD-MM-YYYY] [a message for Maria…]`: after the campaign id, a date if the
    next word looks like one, then everything else is the message (as typed)."""
    usage = "/reward link @maria 7890 31-12-2030 Thanks for a great quarter!"
    words = TOKEN.findall(rest)
    recipient = parse_person(words[0] if words else None, usage=usage)
    if isinstance(recipient, Refusal):
        return recipient
    campaign = parse_campaign(words[1] if len(words) > 1 else None, usage=usage)
    if isinstance(campaign, Refusal):
        return campaign
    taken = 2
    expiry: date | None = None
    if len(words) > 2 and _looks_like_date(words[2]):
        found = parse_date(words[2], today=today)
        if isinstance(found, Refusal):
            return found
        expiry, taken = found, 3
    note = clean_typed_text(_after_tokens(rest, taken)).strip() or None
    if note is not None and len(to_plain_text(note)) > LINK_NOTE_MAX_CHARS:
        length = len(to_plain_text(note))
        return parse_error(
            ErrorCode.REASON_TOO_LONG,
            f"Your message is {length:,} characters long and the limit is "
            f"{LINK_NOTE_MAX_CHARS}. Please shorten it by {length - LINK_NOTE_MAX_CHARS:,}.",
        )
    return GenerateLink(recipient=recipient, campaign_id=campaign, expiry=expiry, note=note)


# A word that is meant as a date, even one that isn't a valid date: digits with separators
# (`15-01`, `1/2/2027`), a run of digits (`15012027`), a day word or a month's name. Such a
# word after the campaign id is read as the expiry (and refused when it isn't one), never as
# the start of the message, so a mistyped date never sends a link that expires by default.
_LOOKS_LIKE_DATE = re.compile(r"\d{1,4}(?:[-/.]\d{1,4}){1,2}|\d{5,}|\d{1,2}(?:st|nd|rd|th)")
_DATE_WORDS = frozenset(
    {"today", "tomorrow", "yesterday", "tonight"}
    | {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
    | {"january", "february", "march", "april", "june", "july", "august", "september"}
    | {"october", "november", "december"}
)  # not "may": a message may well start with it


def _looks_like_date(word: str) -> bool:
    bare = word.strip(TRAILING).lower()
    return bool(_LOOKS_LIKE_DATE.fullmatch(bare)) or bare in _DATE_WORDS


def _after_tokens(text: str, count: int) -> str:
    """`text` after its first `count` tokens (as `TOKEN` finds them), as typed."""
    end = 0
    for i, match in enumerate(TOKEN.finditer(text)):
        if i == count:
            return text[match.start() :]
        end = match.end()
    return text[end:] if count == 0 else ""


def parse_links(rest: str, *, today: date | None = None) -> GenerateLinks | Refusal:
    """`campaign-id count [DD-MM-YYYY]`."""
    usage = "/reward links 7890 25 31-12-2030"
    words = rest.split()
    campaign = parse_campaign(words[0] if words else None, usage=usage)
    if isinstance(campaign, Refusal):
        return campaign
    if len(words) < 2:
        return parse_error(
            ErrorCode.MISSING_ARGUMENT,
            f"How many links? Add a number after the campaign id, like `{usage}`",
        )
    count = positive_int(words[1], max_digits=6)
    if count is None or count > LINKS_MAX_COUNT:
        return parse_error(
            ErrorCode.BAD_COUNT,
            f"`{words[1][:40]}` isn't a number of links I can make. Ask for 1 to "
            f"{LINKS_MAX_COUNT:,} at a time, like `{usage}`",
        )
    expiry = _optional_date(words[2:], usage=usage, today=today)
    if isinstance(expiry, Refusal):
        return expiry
    return GenerateLinks(campaign_id=campaign, count=count, expiry=expiry)


def parse_cancel(rest: str, *, today: date | None = None) -> CancelReward | Refusal:
    """`reward-id reason…`."""
    usage = "/reward cancel 4F7Q2K sent to the wrong person"
    words = rest.split(maxsplit=1)
    if not words:
        return parse_error(
            ErrorCode.MISSING_ARGUMENT,
            "Which reward? Add its id (shown in the reward's confirmation) and a reason, "
            f"like `{usage}`",
        )
    reward_id = words[0].strip("`").lstrip("#").rstrip(TRAILING)
    if not _REWARD_ID.fullmatch(reward_id):
        return parse_error(
            ErrorCode.BAD_REWARD_ID,
            f"`{words[0][:40]}` doesn't look like a reward id. You'll find the id in the "
            f"reward's confirmation; then type `{usage}`",
        )
    reason = clean_typed_text(words[1]).strip() if len(words) > 1 else ""
    if not reason:
        return parse_error(
            ErrorCode.NO_REASON,
            f"Say why you're cancelling (the recipients will see it), like `{usage}`",
        )
    too_long = _reason_too_long(reason)
    if too_long is not None:
        return too_long
    return CancelReward(reward_id=reward_id, reason=reason)


def parse_lock(rest: str, *, today: date | None = None) -> LockGiver | ListLocks | Refusal:
    """`@member [reason…]`; nothing at all lists who is locked."""
    usage = "/reward lock @maria rewards going round in a circle"
    words = rest.split(maxsplit=1)
    if not words:
        return ListLocks()
    member = parse_person(words[0], usage=usage)
    if isinstance(member, Refusal):
        return member
    reason = clean_typed_text(words[1]).strip() if len(words) > 1 else ""
    too_long = _reason_too_long(reason)
    if too_long is not None:
        return too_long
    return LockGiver(member=member, reason=reason or None)


def parse_unlock(rest: str, *, today: date | None = None) -> UnlockGiver | Refusal:
    """`@member`."""
    usage = "/reward unlock @maria"
    words = rest.split()
    if len(words) > 1:
        return parse_error(
            ErrorCode.EXTRA_ARGUMENT, f"One person at a time, and nothing after them: `{usage}`"
        )
    member = parse_person(words[0] if words else None, usage=usage)
    if isinstance(member, Refusal):
        return member
    return UnlockGiver(member=member)


def parse_adjust(rest: str, *, today: date | None = None) -> AdjustPoints | Refusal:
    """`@person +50 reason…` or `@person -50 reason…`: the sign says add or deduct."""
    usage = "/reward adjust @maria -50 points given twice by mistake"
    words = rest.split(maxsplit=2)
    member = parse_person(words[0] if words else None, usage=usage)
    if isinstance(member, Refusal):
        return member
    if len(words) < 2:
        return parse_error(
            ErrorCode.NO_AMOUNT,
            f"How many points? Write `+50` to add or `-50` to deduct, then why, like `{usage}`",
        )
    if USER_MENTION.match(words[1]):
        return parse_error(
            ErrorCode.EXTRA_ARGUMENT,
            f"One person at a time: `{words[1][:40]}` comes where the points go. Write it like "
            f"`{usage}`",
        )
    word = words[1].rstrip(TRAILING).replace("\u2212", "-")  # Slack may type a minus sign
    sign, digits = word[:1], word[1:]
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", digits):
        digits = digits.replace(",", "")
    if sign in ("+", "-") and re.fullmatch(r"[0-9]+", digits):
        if not digits.strip("0"):
            return parse_error(
                ErrorCode.ZERO_AMOUNT,
                f"`{words[1][:40]}` changes nothing: an adjustment adds or deducts at least 1 "
                f"point, like `{usage}`",
            )
        if len(digits.lstrip("0")) > AMOUNT_MAX_DIGITS:
            return parse_error(
                ErrorCode.AMOUNT_TOO_BIG,
                f"One adjustment can change at most {ADJUST_MAX_POINTS:,} points. Use a "
                "smaller number.",
            )
    amount = positive_int(digits, max_digits=AMOUNT_MAX_DIGITS) if digits else None
    if sign not in ("+", "-") or amount is None:
        shown = words[1][:40]
        if sign not in ("+", "-") and positive_int(word.replace(",", ""), max_digits=18):
            return parse_error(
                ErrorCode.NO_SIGN,
                f"Add or deduct? Write `+{shown}` to add or `-{shown}` to deduct, like `{usage}`",
            )
        return parse_error(
            ErrorCode.NOT_A_NUMBER,
            f"`{shown}` isn't a number of points. Write `+50` to add or `-50` to deduct "
            f"(whole points), like `{usage}`",
        )
    if amount > ADJUST_MAX_POINTS:
        return parse_error(
            ErrorCode.AMOUNT_TOO_BIG,
            f"One adjustment can change at most {ADJUST_MAX_POINTS:,} points. Use a smaller "
            "number.",
        )
    reason = clean_typed_text(words[2]).strip() if len(words) > 2 else ""
    if not reason:
        return parse_error(
            ErrorCode.NO_REASON,
            f"Say why (the person sees it in their history), like `{usage}`",
        )
    too_long = _reason_too_long(reason)
    if too_long is not None:
        return too_long
    return AdjustPoints(member=member, points=amount if sign == "+" else -amount, reason=reason)


def _reason_too_long(reason: str) -> Refusal | None:
    """The refusal of a typed reason over REASON_MAX_CHARS (as Slack shows it), or None."""
    length = len(to_plain_text(reason))
    if length <= REASON_MAX_CHARS:
        return None
    return parse_error(
        ErrorCode.REASON_TOO_LONG,
        f"Your reason is {length:,} characters long and the limit is {REASON_MAX_CHARS}. "
        f"Please shorten it by {length - REASON_MAX_CHARS:,} and try again.",
    )


def parse_gift(rest: str, *, today: date | None = None) -> OpenGiftForm | Refusal:
    """`[@person]`: the gift card form."""
    return _gift_form(rest, donation=False)


def parse_donate(rest: str, *, today: date | None = None) -> OpenGiftForm | Refusal:
    """`[@person]`: the donation form (no person: in the team's name)."""
    return _gift_form(rest, donation=True)


def _gift_form(rest: str, *, donation: bool) -> OpenGiftForm | Refusal:
    usage = "/reward donate @maria" if donation else "/reward gift @maria"
    words = TOKEN.findall(rest)
    if not words:
        return OpenGiftForm(recipient=None, donation=donation)
    if len(words) > 1:
        return parse_error(
            ErrorCode.EXTRA_ARGUMENT,
            f"Only the person goes after the command, like `{usage}`: you pick the "
            + ("charity and amount" if donation else "gift card and amount")
            + " in the form.",
        )
    member = parse_person(words[0], usage=usage)
    if isinstance(member, Refusal):
        return member
    return OpenGiftForm(recipient=member, donation=donation)


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_THIS_MONTH = ("this month", "month", "this")
_LAST_MONTH = ("last month", "previous month", "last")


def _report_date(word: str, *, usage: str) -> date | Refusal:
    """A date as 2026-11-01 (or DD-MM-YYYY, as elsewhere)."""
    m = _ISO_DATE.fullmatch(word.strip(TRAILING))
    if m:
        try:
            return date(*(int(g) for g in m.groups()))
        except ValueError:
            pass
        return parse_error(
            ErrorCode.BAD_DATE,
            f"`{word[:40]}` isn't a date I can read. Write it like `2026-11-01`: `{usage}`",
        )
    found = parse_date(word.strip(TRAILING))
    if isinstance(found, Refusal):
        return parse_error(
            ErrorCode.BAD_DATE,
            f"`{word[:40]}` isn't a date I can read. Write it like `2026-11-01`: `{usage}`",
        )
    return found


def parse_orders(rest: str, *, today: date | None = None) -> ListOrders | OrdersReport | Refusal:
    """`orders` alone lists the latest; `orders report [from to | this month | last month]`."""
    usage = "/reward orders report 2026-11-01 2026-11-30"
    words = rest.split()
    if not words:
        return ListOrders()
    if words[0].lower() != "report":
        return parse_error(
            ErrorCode.EXTRA_ARGUMENT,
            "`/reward orders` lists the latest orders. For a period's CSV reports type "
            f"`{usage}` or `/reward orders report last month`",
        )
    period = words[1:]
    said = " ".join(period).lower()
    if not period or said in _THIS_MONTH:
        return OrdersReport(month="this")
    if said in _LAST_MONTH:
        return OrdersReport(month="last")
    if len(period) > 2:
        return parse_error(
            ErrorCode.EXTRA_ARGUMENT,
            f"Give the first and the last day of the period, like `{usage}` "
            "(or `this month`, `last month`)",
        )
    since = _report_date(period[0], usage=usage)
    if isinstance(since, Refusal):
        return since
    until = _report_date(period[1], usage=usage) if len(period) > 1 else since
    if isinstance(until, Refusal):
        return until
    if until < since:
        return parse_error(
            ErrorCode.BAD_DATE,
            f"The period ends before it starts. Put the first day first, like `{usage}`",
        )
    if (until - since).days + 1 > ORDERS_REPORT_MAX_DAYS:
        return parse_error(
            ErrorCode.BAD_DATE,
            f"That's {(until - since).days + 1:,} days; a report covers at most "
            f"{ORDERS_REPORT_MAX_DAYS}. Ask for a shorter period, like `{usage}`",
        )
    return OrdersReport(since=since, until=until)


def suggest_subcommand(word: str, names: Iterable[str]) -> Refusal | None:
    """A lone first word close to one of `names` (`/reward balanse`): suggest the right one."""
    if not word.isalpha():
        return None
    close = difflib.get_close_matches(word.lower(), list(names), n=1, cutoff=0.75)
    if not close:
        return None
    return parse_error(
        ErrorCode.UNKNOWN_SUBCOMMAND,
        f"I don't know `/reward {word[:40]}`. Did you mean `/reward {close[0]}`? "
        "Type `/reward help` to see everything I can do.",
    )
