"""Flags: patterns in giving an admin should look at, as pure functions over plain data (no
Slack, HTTP or database). A flag punishes nobody: it is listed in the admins' daily DM
(`bot.jobs.flags`), and holds a new reward for an admin only when the admin chose that
(`REWARD_FLAG_HOLD`, or "Hold future ones" on a flag: `FlagService`).

The rules (thresholds in `FlagRules`, from the `REWARD_FLAG_*` settings):
- `ring`: two or three people who each gave at least `ring_min_rewards` rewards in the last
  `ring_days` days, and each gave at least `ring_share` of their points to the others of the
  group (and got some back from them).
- `repeat`: one giver gave one person `repeat_count` rewards or more with the same reason
  (compared as `normalise_reason` writes it) within `repeat_days` days.
- `allowance`: a giver spent their whole monthly allowance on one person in each of the last
  `allowance_months` calendar months (this one included). Off when there is no allowance.
- `burst`: `burst_count` rewards or more from one giver to one person within `burst_days` days,
  each between `burst_near` × the approval threshold and just under it.

Each flag names its people (`people`: the giver and recipient, or the ring's members, as Slack
ids), the giver an admin may lock (`giver`: for a ring, whoever gave the most points in it), a
`period` (the calendar month it was seen in, `YYYY-MM`, so one flag per rule, people and month),
and the gifts behind it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import combinations
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.rewards.policy import month_start

if TYPE_CHECKING:
    from bot.settings import Settings


class FlagRule(StrEnum):
    RING = "ring"
    REPEAT = "repeat"
    ALLOWANCE = "allowance"
    BURST = "burst"


RULE_TITLES: dict[FlagRule, str] = {
    FlagRule.RING: "Giving mostly to each other",
    FlagRule.REPEAT: "The same reason again and again",
    FlagRule.ALLOWANCE: "The whole allowance to one person, month after month",
    FlagRule.BURST: "Several rewards just under the approval threshold",
}


@dataclass(frozen=True, slots=True)
class Gift:
    """One recipient's share of a reward that still stands (not failed, rejected, cancelled or
    expired). `total` is the whole reward's (what the approval threshold is compared with)."""

    reward_id: str  # the short id
    giver: str  # Slack user id
    recipient: str
    points: int
    total: int
    reason: str
    at: datetime  # aware


@dataclass(frozen=True, slots=True)
class FlagRules:
    ring_days: int = 30
    ring_share: float = 0.8
    ring_min_rewards: int = 3
    repeat_count: int = 3
    repeat_days: int = 30
    allowance: int = 1000  # REWARD_ALLOWANCE; 0 = no allowance, no `allowance` flag
    allowance_months: int = 2
    approval_threshold: int = 500
    burst_count: int = 3
    burst_days: int = 7
    burst_near: float = 0.8
    timezone: str = "UTC"  # the company's month (REWARD_TIMEZONE), as the allowance counts it
    hold: frozenset[FlagRule] = frozenset()  # rules whose matches always wait for an admin

    @classmethod
    def from_settings(cls, settings: Settings) -> FlagRules:
        return cls(
            ring_days=settings.REWARD_FLAG_RING_DAYS,
            ring_share=settings.REWARD_FLAG_RING_SHARE,
            ring_min_rewards=settings.REWARD_FLAG_RING_MIN_REWARDS,
            repeat_count=settings.REWARD_FLAG_REPEAT_COUNT,
            repeat_days=settings.REWARD_FLAG_REPEAT_DAYS,
            allowance=settings.REWARD_ALLOWANCE,
            allowance_months=settings.REWARD_FLAG_ALLOWANCE_MONTHS,
            approval_threshold=settings.REWARD_APPROVAL_THRESHOLD,
            burst_count=settings.REWARD_FLAG_BURST_COUNT,
            burst_days=settings.REWARD_FLAG_BURST_DAYS,
            burst_near=settings.REWARD_FLAG_BURST_NEAR,
            timezone=settings.REWARD_TIMEZONE,
            hold=frozenset(FlagRule(r) for r in settings.REWARD_FLAG_HOLD),
        )

    def history_days(self) -> int:
        """How far back the rules look from now (days), for the query that feeds them."""
        return max(self.ring_days, self.repeat_days, self.burst_days, 31 * self.allowance_months)


@dataclass(frozen=True, slots=True)
class Flag:
    rule: FlagRule
    people: tuple[str, ...]  # sorted Slack ids
    giver: str
    period: str  # YYYY-MM
    gifts: tuple[Gift, ...]  # oldest first

    @property
    def people_key(self) -> str:
        return people_key(self.rule, self.people)


def people_key(rule: FlagRule | str, people: Iterable[str]) -> str:
    """How a flag's people are stored and matched: sorted Slack ids joined by commas."""
    return ",".join(sorted(set(people)))


_MENTION = re.compile(r"<[@#!][^>]*>")
_NOT_WORD = re.compile(r"[^\w]+")


def normalise_reason(reason: str) -> str:
    """A reason as `repeat` compares it: mentions and markup out, accents folded, case and
    punctuation ignored, spaces collapsed ("Thanks *Maria*!!" == "thanks maria")."""
    text = _MENTION.sub(" ", reason)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).replace("_", " ").split())


def _period(now: datetime, tz: str) -> str:
    return f"{month_start(now, tz):%Y-%m}"


def _pair_flag(
    rule: FlagRule,
    giver: str,
    recipient: str,
    gifts: Sequence[Gift],
    rules: FlagRules,
    now: datetime,
) -> Flag:
    """A flag about one giver and one recipient (every rule but the ring's)."""
    return Flag(
        rule=rule,
        people=tuple(sorted((giver, recipient))),
        giver=giver,
        period=_period(now, rules.timezone),
        gifts=tuple(gifts),
    )


def _since(gifts: Sequence[Gift], start: datetime) -> list[Gift]:
    return sorted((g for g in gifts if g.at >= start), key=lambda g: (g.at, g.reward_id))


def ring_flags(gifts: Sequence[Gift], rules: FlagRules, *, now: datetime) -> list[Flag]:
    recent = _since(gifts, now - timedelta(days=rules.ring_days))
    given: dict[str, int] = defaultdict(int)
    count: dict[str, set[str]] = defaultdict(set)
    to: dict[tuple[str, str], int] = defaultdict(int)
    for g in recent:
        given[g.giver] += g.points
        count[g.giver].add(g.reward_id)
        to[(g.giver, g.recipient)] += g.points
    givers = sorted(u for u in given if len(count[u]) >= rules.ring_min_rewards)

    def closed(group: tuple[str, ...]) -> bool:
        for member in group:
            inside = sum(to[(member, other)] for other in group if other != member)
            back = sum(to[(other, member)] for other in group if other != member)
            if inside < rules.ring_share * given[member] or inside == 0 or back == 0:
                return False
        return True

    found: list[tuple[str, ...]] = [p for p in combinations(givers, 2) if closed(p)]
    in_pair = {u for pair in found for u in pair}
    found += [t for t in combinations(givers, 3) if not (set(t) & in_pair) and closed(t)]
    flags = []
    for group in found:
        members = set(group)
        behind = tuple(g for g in recent if g.giver in members and g.recipient in members)
        top = max(sorted(group), key=lambda u: given[u])
        flags.append(
            Flag(
                rule=FlagRule.RING,
                people=tuple(sorted(group)),
                giver=top,
                period=_period(now, rules.timezone),
                gifts=behind,
            )
        )
    return flags


def repeat_flags(gifts: Sequence[Gift], rules: FlagRules, *, now: datetime) -> list[Flag]:
    recent = _since(gifts, now - timedelta(days=rules.repeat_days))
    groups: dict[tuple[str, str, str], list[Gift]] = defaultdict(list)
    for g in recent:
        said = normalise_reason(g.reason)
        if said:
            groups[(g.giver, g.recipient, said)].append(g)
    flags = []
    seen: set[tuple[str, str]] = set()
    for (giver, recipient, _), behind in sorted(groups.items()):
        if len(behind) < rules.repeat_count or (giver, recipient) in seen:
            continue
        seen.add((giver, recipient))  # one flag per pair, whichever reason repeats
        flags.append(_pair_flag(FlagRule.REPEAT, giver, recipient, behind, rules, now))
    return flags


def allowance_flags(
    gifts: Sequence[Gift],
    rules: FlagRules,
    *,
    now: datetime,
    allowance_of: Callable[[str], int] | None = None,
) -> list[Flag]:
    """`allowance_of`: a giver's monthly allowance (their own or their group's, else the
    default: `bot.rewards.budgets`); without it, `rules.allowance` for everyone."""
    if allowance_of is None and rules.allowance <= 0:
        return []
    tz = ZoneInfo(rules.timezone) if rules.timezone else ZoneInfo("UTC")
    months: list[datetime] = []
    start = month_start(now, tz)
    for _ in range(rules.allowance_months):
        months.append(start)
        start = month_start(start - timedelta(days=1), tz)
    oldest = months[-1]
    per: dict[tuple[str, str, datetime], int] = defaultdict(int)
    behind: dict[tuple[str, str], list[Gift]] = defaultdict(list)
    for g in _since(gifts, oldest):
        month = month_start(g.at, tz)
        per[(g.giver, g.recipient, month)] += g.points
        behind[(g.giver, g.recipient)].append(g)
    flags = []
    for (giver, recipient), those in sorted(behind.items()):
        limit = allowance_of(giver) if allowance_of is not None else rules.allowance
        if limit > 0 and all(per[(giver, recipient, m)] >= limit for m in months):
            flags.append(_pair_flag(FlagRule.ALLOWANCE, giver, recipient, those, rules, now))
    return flags


def burst_flags(gifts: Sequence[Gift], rules: FlagRules, *, now: datetime) -> list[Flag]:
    low = rules.burst_near * rules.approval_threshold
    near = [
        g
        for g in _since(gifts, now - timedelta(days=rules.burst_days))
        if low <= g.total < rules.approval_threshold
    ]
    pairs: dict[tuple[str, str], list[Gift]] = defaultdict(list)
    for g in near:
        pairs[(g.giver, g.recipient)].append(g)
    return [
        _pair_flag(FlagRule.BURST, giver, recipient, behind, rules, now)
        for (giver, recipient), behind in sorted(pairs.items())
        if len({g.reward_id for g in behind}) >= rules.burst_count
    ]


def find_flags(
    gifts: Sequence[Gift],
    rules: FlagRules,
    *,
    now: datetime,
    allowance_of: Callable[[str], int] | None = None,
) -> list[Flag]:
    """Every flag the gifts show at `now`, by rule (`allowance_of` as for `allowance_flags`)."""
    return [
        *ring_flags(gifts, rules, now=now),
        *repeat_flags(gifts, rules, now=now),
        *allowance_flags(gifts, rules, now=now, allowance_of=allowance_of),
        *burst_flags(gifts, rules, now=now),
    ]


@dataclass(frozen=True, slots=True)
class FlagCard:
    """A stored flag as an admin sees it: its id (the buttons'), what it is and the rewards
    behind it."""

    flag_id: int
    rule: FlagRule
    people: tuple[str, ...]
    giver: str
    period: str
    gifts: tuple[Gift, ...]
    status: str = "open"
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def title(self) -> str:
        return RULE_TITLES[self.rule]


@dataclass(frozen=True, slots=True)
class Hold:
    """An admin's "Hold future ones": new rewards matching `rule` among `people` wait."""

    rule: FlagRule
    people: tuple[str, ...]


def holding(
    gifts: Sequence[Gift],
    new: Sequence[Gift],
    rules: FlagRules,
    *,
    holds: Iterable[Hold] = (),
    now: datetime,
    allowance_of: Callable[[str], int] | None = None,
) -> Flag | None:
    """Whether a new reward (`new`: its gifts, one per recipient) waits for an admin: the first
    flag it takes part in, with `gifts` (the history) before it, whose rule is held for
    everybody (`rules.hold`) or held by an admin for those very people (`holds`). None: it
    goes as it would have."""
    held_people = {(h.rule, frozenset(h.people)) for h in holds}
    if not rules.hold and not held_people:
        return None
    ids = {g.reward_id for g in new}
    for flag in find_flags([*gifts, *new], rules, now=now, allowance_of=allowance_of):
        if not ids & {g.reward_id for g in flag.gifts}:
            continue
        if flag.rule in rules.hold or (flag.rule, frozenset(flag.people)) in held_people:
            return flag
    return None
