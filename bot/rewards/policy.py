"""The giving rules, as pure functions over plain dataclasses (no Slack, HTTP or database).

`evaluate(...)` checks one reward and returns a `Decision`: either every problem at once (each a
short sentence naming the person it is about, with what to do), or ok with `total` and whether
the reward needs approval.

Decisions recorded here (the README's rules section says the same):
- `REWARD_MAX_PER_REWARD` caps the amount each recipient gets (the number typed), not the
  reward's total; the total across recipients is bounded by the allowance and, from
  `REWARD_APPROVAL_THRESHOLD` upwards, by an approver.
- The allowance counts every recipient: `given_this_month + amount × recipients` must stay within
  `REWARD_ALLOWANCE` (0 = no limit). Admins are exempt. The month is the calendar month in
  `REWARD_TIMEZONE` (`Rules.timezone`) for every giver, the month the leaderboard and the
  summaries count too; count `given_this_month` from `month_start(now, tz)` so the query and
  this message agree.
- A reward whose total reaches the threshold (`>=`) waits for approval, whoever gives it.
- One reward goes to at most `MAX_RECIPIENTS` people (mentioned, or the members of a user group
  the giver named): more is a bulk award, not a thank-you.
- A giver's monthly allowance (`monthly_allowance`): their own if an admin set one, else the
  largest of their user groups' allowances, else `REWARD_ALLOWANCE`; plus what they left unspent
  of last month's, up to `REWARD_ALLOWANCE_CARRYOVER_MAX` (`carried_over`).
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.rewards.refusal import Refusal

if TYPE_CHECKING:
    from bot.settings import Settings

SLACKBOT_ID = "USLACKBOT"
MAX_RECIPIENTS = 100  # people in one reward, mentioned or in a user group named


@dataclass(frozen=True, slots=True)
class Person:
    """A Slack member as the rules see them. `is_admin` is the bot's admin role, not Slack's."""

    user_id: str
    name: str = ""
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    is_admin: bool = False
    tz: str | None = None  # IANA name from Slack's profile, e.g. "Europe/Berlin"

    @classmethod
    def from_slack_user(cls, user: Mapping[str, Any], *, is_admin: bool = False) -> Person:
        """Build from the `user` object of `users.info` / `users.lookupByEmail`."""
        profile = user.get("profile") or {}
        uid = str(user.get("id", ""))
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or uid
        )
        return cls(
            user_id=uid,
            name=str(name),
            email=(profile.get("email") or None),
            is_bot=bool(user.get("is_bot")) or uid == SLACKBOT_ID,
            deleted=bool(user.get("deleted")),
            is_admin=is_admin,
            tz=user.get("tz") or None,
        )


@dataclass(frozen=True, slots=True)
class Rules:
    max_per_reward: int  # per recipient
    allowance: int  # per giver per calendar month, all recipients counted; 0 = no limit
    approval_threshold: int  # a reward's total from this amount up waits for approval
    values: tuple[str, ...] = ()  # allowed company values, lowercased; empty = any
    timezone: str = "UTC"  # when the giver's own time zone is unknown
    carryover_max: int = 0  # the most of last month's unspent allowance carried over; 0 = none

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            max_per_reward=settings.REWARD_MAX_PER_REWARD,
            allowance=settings.REWARD_ALLOWANCE,
            approval_threshold=settings.REWARD_APPROVAL_THRESHOLD,
            values=tuple(settings.REWARD_VALUES),
            timezone=settings.REWARD_TIMEZONE,
            carryover_max=settings.REWARD_ALLOWANCE_CARRYOVER_MAX,
        )


class ProblemCode(StrEnum):
    NO_RECIPIENT = "no_recipient"
    SELF = "self"
    BOT = "bot"
    DEACTIVATED = "deactivated"
    NO_EMAIL = "no_email"
    BAD_AMOUNT = "bad_amount"
    OVER_MAX = "over_max"
    OVER_ALLOWANCE = "over_allowance"
    UNKNOWN_VALUE = "unknown_value"
    TOO_MANY = "too_many"


class Field(StrEnum):
    """The form field a problem belongs to (for the modal's inline errors)."""

    RECIPIENTS = "recipients"
    AMOUNT = "amount"
    VALUES = "values"


_FIELDS = {
    ProblemCode.NO_RECIPIENT: Field.RECIPIENTS,
    ProblemCode.SELF: Field.RECIPIENTS,
    ProblemCode.BOT: Field.RECIPIENTS,
    ProblemCode.DEACTIVATED: Field.RECIPIENTS,
    ProblemCode.NO_EMAIL: Field.RECIPIENTS,
    ProblemCode.BAD_AMOUNT: Field.AMOUNT,
    ProblemCode.OVER_MAX: Field.AMOUNT,
    ProblemCode.OVER_ALLOWANCE: Field.AMOUNT,
    ProblemCode.UNKNOWN_VALUE: Field.VALUES,
    ProblemCode.TOO_MANY: Field.RECIPIENTS,
}


@dataclass(frozen=True, slots=True)
class Problem:
    code: ProblemCode
    message: str  # one friendly mrkdwn sentence or two
    user_id: str | None = None  # the recipient it is about, when it is about one

    @property
    def field(self) -> Field:
        return _FIELDS[self.code]


@dataclass(frozen=True, slots=True)
class Decision:
    problems: tuple[Problem, ...]
    total: int  # amount × recipients
    needs_approval: bool = False
    allowance_left: int | None = None  # after this reward; None = unlimited (or admin)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(p.message for p in self.problems)

    @property
    def text(self) -> str:
        """All problems as one mrkdwn message (a bullet list when there are several)."""
        if len(self.problems) == 1:
            return self.problems[0].message
        return "That reward can't go out yet:\n" + "\n".join(f"• {m}" for m in self.messages)

    def errors_by_field(self) -> dict[Field, str]:
        """Problems grouped by form field, each field's messages joined (for modal errors)."""
        grouped: dict[Field, list[str]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.field, []).append(problem.message)
        return {f: " ".join(msgs) for f, msgs in grouped.items()}

    def refusal(self) -> Refusal:
        """The refused reward's answer: all problems as text, and by form field."""
        return Refusal(
            self.text,
            code=self.problems[0].code.value if self.problems else None,
            fields={str(f): m for f, m in self.errors_by_field().items()},
        )


# ── time ─────────────────────────────────────────────────────────────────────────────────


def _zone(tz: str | ZoneInfo | None, fallback: str) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    for name in (tz, fallback, "UTC"):
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")  # pragma: no cover - "UTC" always exists


def month_start(now: datetime, tz: str | ZoneInfo | None, *, fallback: str = "UTC") -> datetime:
    """Midnight on the first of `now`'s month in `tz` (aware). `now` must be timezone-aware."""
    local = now.astimezone(_zone(tz, fallback))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(
    now: datetime, tz: str | ZoneInfo | None, *, fallback: str = "UTC"
) -> datetime:
    """Midnight on the first of the next month in `tz`: when the allowance resets."""
    first = month_start(now, tz, fallback=fallback)
    following = (first + timedelta(days=32)).replace(day=1)
    return following.replace(tzinfo=first.tzinfo)


# ── rules ────────────────────────────────────────────────────────────────────────────────


def _points(n: int) -> str:
    return f"{n:,} point" if n == 1 else f"{n:,} points"


def recipient_problems(giver: Person, recipient: Person) -> list[Problem]:
    """Why this person can't receive a reward from this giver (empty when they can)."""
    uid = recipient.user_id
    who = f"<@{uid}>"
    if uid == giver.user_id:
        return [
            Problem(
                ProblemCode.SELF,
                "You can't reward yourself. Take yourself off the list and thank someone else!",
                uid,
            )
        ]
    if recipient.is_bot:
        return [
            Problem(
                ProblemCode.BOT,
                f"{who} is a bot, and bots can't receive points. Mention a person instead.",
                uid,
            )
        ]
    if recipient.deleted:
        return [
            Problem(
                ProblemCode.DEACTIVATED,
                f"{who}'s Slack account is deactivated, so they can't receive points.",
                uid,
            )
        ]
    if not (recipient.email or "").strip():
        return [
            Problem(
                ProblemCode.NO_EMAIL,
                f"{who} has no email address in Slack, and points are sent by email. Ask them "
                "to add an email to their Slack profile, or ask an admin for help.",
                uid,
            )
        ]
    return []


def split_group(
    giver: Person, members: Sequence[Person]
) -> tuple[list[Person], list[tuple[Person, ProblemCode]]]:
    """The members of a user group the giver named: who gets the reward, and who is left out
    and why (the giver themselves, bots, deactivated accounts, no email: whoever
    `recipient_problems` would refuse), each once, in the group's order."""
    given: list[Person] = []
    left_out: list[tuple[Person, ProblemCode]] = []
    for person in {p.user_id: p for p in members}.values():
        problems = recipient_problems(giver, person)
        if problems:
            left_out.append((person, problems[0].code))
        else:
            given.append(person)
    return given, left_out


def amount_problems(amount: int, rules: Rules) -> list[Problem]:
    if amount < 1:
        return [
            Problem(
                ProblemCode.BAD_AMOUNT,
                "Give a whole number of points above zero, like `50`.",
            )
        ]
    if amount > rules.max_per_reward:
        return [
            Problem(
                ProblemCode.OVER_MAX,
                f"The most one person can get in one reward is {_points(rules.max_per_reward)}, "
                f"and you asked for {amount:,}. Lower the amount.",
            )
        ]
    return []


def allowance_left(allowance: int, *, given_this_month: int, is_admin: bool) -> int | None:
    """What a giver may still give this month; None when unlimited (no allowance set, or an
    admin, who is exempt). The one place the allowance is computed. `allowance` is the giver's
    (`monthly_allowance`)."""
    if allowance == 0 or is_admin:
        return None
    return max(allowance - given_this_month, 0)


def base_allowance(*, default: int, own: int | None = None, groups: Sequence[int] = ()) -> int:
    """A person's monthly allowance before any carry-over: their own if an admin set one, else
    the largest of their user groups' (of those an admin set one for), else the default
    (`REWARD_ALLOWANCE`); 0 = no limit."""
    if own is not None:
        return own
    if groups:
        return max(groups)
    return default


def carried_over(*, last_allowance: int, given_last_month: int, cap: int) -> int:
    """What a person left unspent of last month's allowance (`last_allowance`: their base
    allowance, not what it carried), up to `cap` (`REWARD_ALLOWANCE_CARRYOVER_MAX`; 0 = nothing
    is carried). Nothing is carried from an unlimited month."""
    if cap <= 0 or last_allowance <= 0:
        return 0
    return min(max(last_allowance - given_last_month, 0), cap)


def monthly_allowance(*, base: int, carried: int = 0) -> int:
    """What a person may give this month: their base allowance and what they carried over;
    0 = no limit (an unlimited base stays unlimited)."""
    return base + carried if base else 0


def reached_limit(allowance: int, *, given_this_month: int, is_admin: bool) -> bool:
    """Whether a giver has given all of this month's allowance (they hear it once a month)."""
    return allowance_left(allowance, given_this_month=given_this_month, is_admin=is_admin) == 0


def allowance_problems(
    *,
    rules: Rules,
    giver: Person,
    amount: int,
    count: int,
    given_this_month: int,
    now: datetime,
    tz: str | ZoneInfo | None,
    allowance: int | None = None,
) -> list[Problem]:
    """`allowance`: the giver's (`monthly_allowance`); default `rules.allowance`."""
    allowance = rules.allowance if allowance is None else allowance
    left = allowance_left(allowance, given_this_month=given_this_month, is_admin=giver.is_admin)
    if left is None or amount < 1 or count < 1:
        return []
    total = amount * count
    if total <= left:
        return []
    resets = next_month_start(now, tz, fallback=rules.timezone)
    when = f"{resets.day} {resets:%B %Y}"  # as every message writes a date (wording.format_date)
    asked = (
        f"That's {_points(total)} in all ({count} people × {amount:,})"
        if count > 1
        else f"That's {_points(total)}"
    )
    if left == 0:
        have = f"you've already given all {_points(allowance)} of your monthly allowance"
        todo = f"It resets on {when}."
    else:
        have = f"you have {_points(left)} of your {allowance:,} left this month"
        each = left // count
        lower = f"Lower the amount to {each:,} or less, or wait" if each else "Wait"
        todo = f"{lower} until your allowance resets on {when}."
    return [Problem(ProblemCode.OVER_ALLOWANCE, f"{asked}, but {have}. {todo}")]


def too_many_problems(count: int) -> list[Problem]:
    if count <= MAX_RECIPIENTS:
        return []
    return [
        Problem(
            ProblemCode.TOO_MANY,
            f"That's {count:,} people, and one reward goes to at most {MAX_RECIPIENTS}. "
            "Split it into smaller rewards.",
        )
    ]


def value_problems(values: Sequence[str], rules: Rules) -> list[Problem]:
    if not rules.values:
        return []
    unknown = [v for v in dict.fromkeys(v.lower() for v in values) if v not in rules.values]
    if not unknown:
        return []
    shown = " and ".join(f"`#{v}`" for v in unknown)
    verb = "isn't one of our values" if len(unknown) == 1 else "aren't among our values"
    allowed = ", ".join(f"`#{v}`" for v in rules.values)
    return [
        Problem(
            ProblemCode.UNKNOWN_VALUE,
            f"{shown} {verb}. The values are {allowed}; write other words without the `#`.",
        )
    ]


# Xoxoday withdraws sent points (cancelBalance) only within 90 days of sending. The ledger's
# `sent_at` is stamped once Xoxoday answered, a moment after Xoxoday's own; Xoxoday may count the
# days in its own time zone: a day more than the window is surely past it.
CANCEL_WINDOW = timedelta(days=90)
CANCEL_WINDOW_MARGIN = timedelta(days=1)


def past_cancel_window(sent_at: datetime, now: datetime) -> bool:
    """True when points sent at `sent_at` (the ledger's time) are surely too old for Xoxoday to
    withdraw; False also near the edge, where only Xoxoday can say."""
    return now - sent_at > CANCEL_WINDOW + CANCEL_WINDOW_MARGIN


def approvers_for(
    *, approvers: Sequence[str], admins: Sequence[str], concerned: Collection[str]
) -> list[str]:
    """Who may approve something that concerns `concerned` (who gives, who receives): the
    approvers other than them; when that leaves nobody, the admins other than them. Nobody
    approves their own."""
    found = [u for u in dict.fromkeys(approvers) if u not in concerned]
    return found or [u for u in dict.fromkeys(admins) if u not in concerned]


def needs_approval(total: int, rules: Rules) -> bool:
    return total >= rules.approval_threshold


class FailureKind(StrEnum):
    """Why a reward failed, as far as sending it again goes (kept with the failure, in the
    reward's `delivery_response["kind"]`)."""

    PASSING = "passing"  # Xoxoday unreachable past the retry window, the bot failing before it
    #                      sent, in doubt settled as never sent: the next try may well work
    LOW_BALANCE = "low_balance"  # the company account was short: works once an admin tops it up
    NO_EMAIL = "no_email"  # a recipient has no email in Slack: works once it is added there
    SETUP = "setup"  # Xoxoday refused the bot's credentials or set-up all along: an admin must
    #                  fix the bot first, and a click before that only queues a reward to fail
    REFUSED = "refused"  # Xoxoday refused this request itself: the same request fails the same


# What the giver is told to do when "Send again" is not offered.
NOT_AGAIN_TODO = {
    FailureKind.SETUP: (
        "The bot's connection to Xoxoday needs an admin to fix it (they have been told). "
        "Once they say it works, give the reward again with `/reward`."
    ),
    FailureKind.REFUSED: (
        "Sending the same reward again would be refused the same way, so there is no Send "
        "again here. Ask an admin, mentioning {id}: they can see what Xoxoday said."
    ),
}


def may_send_again(status: str, kind: str | None = None) -> bool:
    """Whether a reward's giver is offered "Send again": it failed, nothing was sent, and a
    new reward like it may work now or once something is fixed that the giver can see to
    (a passing outage, the company account topped up, a recipient's email added in Slack).
    Not when Xoxoday refused the request itself, or the bot's own set-up (the same request
    would fail the same way). A failure recorded without a kind (before kinds were kept, or
    settled by an admin as never sent) is offered. Sending again makes a new reward that goes
    through every rule again; the failed one is never sent."""
    return status == "failed" and kind not in (FailureKind.SETUP, FailureKind.REFUSED)


def evaluate(
    *,
    rules: Rules,
    giver: Person,
    recipients: Sequence[Person],
    amount: int,
    values: Sequence[str] = (),
    given_this_month: int = 0,
    now: datetime,
    tz: str | ZoneInfo | None = None,
    allowance: int | None = None,
) -> Decision:
    """Check one reward. `amount` is per recipient; `tz` is the giver's (default
    `rules.timezone`); `given_this_month` counts the giver's rewards since
    `month_start(now, tz)` that still stand (requested, pending, queued, sending, sent, in doubt);
    `allowance` is the giver's monthly allowance (`monthly_allowance`; default `rules.allowance`).
    """
    allowance = rules.allowance if allowance is None else allowance
    unique = list({p.user_id: p for p in recipients}.values())
    problems: list[Problem] = []
    if not unique:
        problems.append(
            Problem(
                ProblemCode.NO_RECIPIENT,
                "Who is it for? Mention them like `/reward @maria 50 thanks for the demo`",
            )
        )
    problems.extend(too_many_problems(len(unique)))
    for person in unique:
        problems.extend(recipient_problems(giver, person))
    problems.extend(amount_problems(amount, rules))
    problems.extend(
        allowance_problems(
            rules=rules,
            giver=giver,
            amount=amount,
            count=len(unique),
            given_this_month=given_this_month,
            now=now,
            tz=tz,
            allowance=allowance,
        )
    )
    problems.extend(value_problems(values, rules))

    total = max(amount, 0) * len(unique)
    left: int | None = None
    if allowance and not giver.is_admin:
        left = max(allowance - given_this_month - total, 0)
    return Decision(
        problems=tuple(problems),
        total=total,
        needs_approval=not problems and needs_approval(total, rules),
        allowance_left=left,
    )


# ── locks ────────────────────────────────────────────────────────────────────────────────

LOCKED_TEXT = (
    "You can't give rewards right now: an admin has paused your giving. You can still "
    "receive them. If you think this is a mistake, talk to an admin."
)


def may_give(*, locked: bool) -> Refusal | None:
    """The one rule for locked givers: a locked person can receive but not give, by any way
    (a command, the form, a shortcut, "Send again", a gift card or donation they send, an
    approval of their pending reward). None when they may give. The lock's reason is the
    admins' note, never shown to them."""
    return Refusal(LOCKED_TEXT, code="locked") if locked else None


def lock_problem(*, admin_id: str, target: Person, already_locked: bool) -> str | None:
    """Why `admin_id` can't lock `target` now (None: they can)."""
    who = f"<@{target.user_id}>"
    if target.user_id == admin_id:
        return "You can't lock yourself. Ask another admin if your giving should be paused."
    if target.is_bot:
        return f"{who} is a bot, and bots don't give rewards, so there's nothing to lock."
    if already_locked:
        return f"{who} is already locked. `/reward locks` lists who is, and since when."
    return None


def unlock_problem(*, target: Person, locked: bool, admin_id: str | None = None) -> str | None:
    """Why `admin_id` can't unlock `target` now (None: they can). Nobody unlocks themselves:
    a locked admin would otherwise undo their own lock at once."""
    if not locked:
        return f"<@{target.user_id}> isn't locked, so there's nothing to unlock."
    if target.user_id == admin_id:
        return "You can't unlock yourself: another admin decides when your giving resumes."
    return None


# ── celebrations ─────────────────────────────────────────────────────────────────────────
# Birthdays, work anniversaries and welcomes the company pays (`bot.rewards.celebrations`).
# An occasion falls on a date of its year (a 29 February one on the 28th when the year has
# none); one on a Saturday or Sunday is celebrated on the Friday before; it is sent from 09:00
# in the person's time zone on that day, and still sent up to CELEBRATION_CATCH_UP_DAYS later
# (the bot was down at 09:00), never after: a birthday a week late is no birthday.

CELEBRATION_HOUR = 9
CELEBRATION_CATCH_UP_DAYS = 3


class Occasion(StrEnum):
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    WELCOME = "welcome"


@dataclass(frozen=True, slots=True)
class CelebrationAmounts:
    """Points per kind; 0 turns a kind off. Anniversaries by tier: years of service → points,
    the highest tier at or below the years served applies."""

    birthday: int = 0
    welcome: int = 0
    anniversary: Mapping[int, int] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> CelebrationAmounts:
        return cls(
            birthday=settings.REWARD_BIRTHDAY_POINTS,
            welcome=settings.REWARD_WELCOME_POINTS,
            anniversary=dict(settings.REWARD_ANNIVERSARY_POINTS),
        )

    @property
    def any(self) -> bool:
        return bool(self.birthday or self.welcome or any((self.anniversary or {}).values()))


@dataclass(frozen=True, slots=True)
class Due:
    """One occasion of one year: what it is, the day it falls on (`occasion`), the day it is
    celebrated (`on`, a weekday), its points, and for an anniversary the years served."""

    kind: Occasion
    year: int
    occasion: date
    on: date
    points: int
    years: int | None = None


def date_in_year(year: int, month: int, day: int) -> date:
    """The day `month`-`day` falls on in `year`: 29 February is the 28th in a year without it.
    Raises ValueError for a day no year has (31 April)."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def weekday_on_or_before(day: date) -> date:
    """A Saturday or Sunday moves to the Friday before; a weekday stays."""
    return day - timedelta(days=max(0, day.weekday() - 4))


def anniversary_points(tiers: Mapping[int, int] | None, years: int) -> int:
    """The points of the highest tier at or below `years` (0: no tier, or under a year)."""
    if years < 1 or not tiers:
        return 0
    reached = [tier for tier in tiers if tier <= years]
    return tiers[max(reached)] if reached else 0


def occasions_in(
    year: int,
    *,
    birthday: tuple[int, int] | None,
    start: date | None,
    amounts: CelebrationAmounts,
) -> list[Due]:
    """The occasions of `year` someone with this birthday (month, day) and start date has,
    with points (kinds that are off, and anniversaries below the first tier, left out)."""
    found: list[Due] = []
    if birthday is not None and amounts.birthday > 0:
        day = date_in_year(year, *birthday)
        found.append(Due(Occasion.BIRTHDAY, year, day, weekday_on_or_before(day), amounts.birthday))
    if start is not None:
        years = year - start.year
        points = anniversary_points(amounts.anniversary, years)
        if points > 0:
            day = date_in_year(year, start.month, start.day)
            found.append(
                Due(Occasion.ANNIVERSARY, year, day, weekday_on_or_before(day), points, years)
            )
        if years == 0 and amounts.welcome > 0:
            found.append(
                Due(Occasion.WELCOME, year, start, weekday_on_or_before(start), amounts.welcome)
            )
    return found


def celebration_due(on: date, local_now: datetime) -> bool:
    """Whether a celebration on day `on` is to be sent now: from 09:00 on that day in the
    person's time zone (`local_now` is their wall clock), up to CELEBRATION_CATCH_UP_DAYS
    later."""
    today = local_now.date()
    if today < on or (today - on).days > CELEBRATION_CATCH_UP_DAYS:
        return False
    return today > on or local_now.hour >= CELEBRATION_HOUR


def celebration_reason(due: Due) -> str:
    """What the reward says: the occasion, never an age."""
    if due.kind is Occasion.BIRTHDAY:
        return "Happy birthday!"
    if due.kind is Occasion.ANNIVERSARY:
        return f"Happy {due.years}-year work anniversary!"
    return "Welcome to the team!"
