"""The flag rules and the lock rule, as tables of cases over plain data."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.rewards.commands import ListLocks, LockGiver, UnlockGiver
from bot.rewards.flags import (
    FlagRule,
    FlagRules,
    Gift,
    Hold,
    allowance_flags,
    burst_flags,
    find_flags,
    holding,
    normalise_reason,
    repeat_flags,
    ring_flags,
)
from bot.rewards.policy import LOCKED_TEXT, Person, lock_problem, may_give, unlock_problem
from bot.rewards.refusal import Refusal
from bot.rewards.subcommands import parse_lock, parse_unlock
from bot.settings import ConfigError, load_settings

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
RULES = FlagRules()  # the defaults: 30 days, 80 %, 3 rewards; repeat 3 in 30 days; ...
A, B, C, D, E = "UA", "UB", "UC", "UD", "UE"
_ids = itertools.count(1)


def gift(
    giver: str,
    recipient: str,
    points: int = 50,
    *,
    days_ago: float = 1,
    reason: str = "thanks",
    total: int | None = None,
    at: datetime | None = None,
) -> Gift:
    return Gift(
        reward_id=f"R{next(_ids):05d}",
        giver=giver,
        recipient=recipient,
        points=points,
        total=total if total is not None else points,
        reason=reason,
        at=at or NOW - timedelta(days=days_ago),
    )


def many(
    giver: str,
    recipient: str,
    n: int,
    *,
    points: int = 50,
    days_ago: float = 1,
    reason: str = "thanks",
) -> list[Gift]:
    """`n` rewards a day apart, the newest `days_ago` days ago."""
    return [gift(giver, recipient, points, days_ago=days_ago + i, reason=reason) for i in range(n)]


# ── ring ─────────────────────────────────────────────────────────────────────────────────

RING_CASES = [
    pytest.param([*many(A, B, 3), *many(B, A, 3)], [(A, B)], id="a pair giving only to each other"),
    pytest.param(
        [*many(A, B, 3), *many(B, C, 3), *many(C, A, 3)], [(A, B, C)], id="a ring of three"
    ),
    pytest.param([*many(A, B, 3), *many(B, A, 2)], [], id="one of the pair gave too few rewards"),
    pytest.param(
        [*many(A, B, 3), *many(B, A, 3), *many(B, C, 3), *many(B, D, 3)],
        [],
        id="one of them gives to others too (a third of their points to the pair)",
    ),
    pytest.param(
        [*many(A, B, 4), gift(A, C), *many(B, A, 3)],
        [(A, B)],
        id="mostly to each other (4 of 5 is 80 %)",
    ),
    pytest.param(
        [*many(A, B, 3), gift(A, C), gift(A, D), *many(B, A, 3)],
        [],
        id="3 of 5 is under 80 %",
    ),
    pytest.param(
        [*many(A, B, 3, days_ago=40), *many(B, A, 3)], [], id="older than 30 days does not count"
    ),
    pytest.param([*many(A, B, 3), *many(C, B, 3)], [], id="both give to one person: no ring"),
    pytest.param(
        [*many(A, B, 3), *many(B, A, 3), *many(C, D, 3), *many(D, C, 3)],
        [(A, B), (C, D)],
        id="two pairs",
    ),
]


@pytest.mark.parametrize(("gifts", "rings"), RING_CASES)
def test_a_ring_is_two_or_three_people_giving_mostly_to_each_other(
    gifts: list[Gift], rings: list[tuple[str, ...]]
) -> None:
    found = ring_flags(gifts, RULES, now=NOW)
    assert [f.people for f in found] == rings
    for flag in found:
        assert flag.rule is FlagRule.RING
        assert flag.period == "2026-12"
        assert {g.giver for g in flag.gifts} <= set(flag.people)
        assert {g.recipient for g in flag.gifts} <= set(flag.people)


def test_a_rings_giver_is_whoever_gave_most_in_it() -> None:
    gifts = [*many(A, B, 3, points=10), *many(B, A, 3, points=90)]
    (flag,) = ring_flags(gifts, RULES, now=NOW)
    assert flag.giver == B
    assert len(flag.gifts) == 6


# ── the same reason repeated ─────────────────────────────────────────────────────────────

REPEAT_CASES = [
    pytest.param(many(A, B, 3, reason="Great demo"), [(A, B)], id="three times the same"),
    pytest.param(many(A, B, 2, reason="Great demo"), [], id="twice is not a pattern"),
    pytest.param(
        [
            gift(A, B, reason="Great demo!"),
            gift(A, B, reason="great   DEMO"),
            gift(A, B, reason="*Great* démo <@UB>"),
        ],
        [(A, B)],
        id="case, punctuation, markup, accents and mentions ignored",
    ),
    pytest.param(
        [gift(A, B, reason="demo"), gift(A, B, reason="release"), gift(A, B, reason="docs")],
        [],
        id="different reasons",
    ),
    pytest.param(
        [gift(A, B, reason="demo"), gift(A, C, reason="demo"), gift(A, D, reason="demo")],
        [],
        id="the same reason to different people",
    ),
    pytest.param(
        [*many(A, B, 2, reason="demo"), gift(A, B, reason="demo", days_ago=45)],
        [],
        id="one of them older than 30 days",
    ),
    pytest.param(
        [*many(A, B, 3, reason="demo"), *many(A, B, 3, reason="docs")],
        [(A, B)],
        id="one flag per pair however many reasons repeat",
    ),
]


@pytest.mark.parametrize(("gifts", "pairs"), REPEAT_CASES)
def test_the_same_reason_to_the_same_person(
    gifts: list[Gift], pairs: list[tuple[str, str]]
) -> None:
    found = repeat_flags(gifts, RULES, now=NOW)
    assert [f.people for f in found] == pairs
    assert all(f.giver == A for f in found)


@pytest.mark.parametrize(
    ("typed", "compared"),
    [
        ("Thanks *Maria*!!", "thanks maria"),
        ("  thanks\nmaria ", "thanks maria"),
        ("<@U123> thanks", "thanks"),
        ("Café", "cafe"),
        ("_great_ ~work~", "great work"),
        ("!!!", ""),
    ],
)
def test_a_reason_is_compared_without_case_markup_or_mentions(typed: str, compared: str) -> None:
    assert normalise_reason(typed) == compared


# ── the whole allowance to one person, month after month ─────────────────────────────────

NOV = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
DEC = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
OCT = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)

ALLOWANCE_CASES = [
    pytest.param(
        [gift(A, B, 1000, at=NOV), gift(A, B, 1000, at=DEC)], [(A, B)], id="two months in a row"
    ),
    pytest.param(
        [gift(A, B, 600, at=NOV), gift(A, B, 400, at=NOV), gift(A, B, 1000, at=DEC)],
        [(A, B)],
        id="in several rewards",
    ),
    pytest.param([gift(A, B, 1000, at=DEC)], [], id="only this month"),
    pytest.param([gift(A, B, 1000, at=OCT), gift(A, B, 1000, at=DEC)], [], id="a month between"),
    pytest.param(
        [gift(A, B, 900, at=NOV), gift(A, C, 100, at=NOV), gift(A, B, 1000, at=DEC)],
        [],
        id="not the whole allowance one month",
    ),
]


@pytest.mark.parametrize(("gifts", "pairs"), ALLOWANCE_CASES)
def test_the_whole_allowance_to_one_person_month_after_month(
    gifts: list[Gift], pairs: list[tuple[str, str]]
) -> None:
    found = allowance_flags(gifts, RULES, now=NOW)
    assert [f.people for f in found] == pairs


def test_no_allowance_no_allowance_flag() -> None:
    gifts = [gift(A, B, 1000, at=NOV), gift(A, B, 1000, at=DEC)]
    assert allowance_flags(gifts, FlagRules(allowance=0), now=NOW) == []


def test_each_givers_own_allowance_is_what_the_whole_allowance_means() -> None:
    gifts = [
        gift(A, B, 300, at=NOV),
        gift(A, B, 300, at=DEC),  # A's own allowance is 300: all of it, twice
        gift(C, B, 1000, at=NOV),
        gift(C, B, 1000, at=DEC),  # C's group gives them 2,000: half of it
    ]
    own = {A: 300, C: 2000}
    found = allowance_flags(gifts, RULES, now=NOW, allowance_of=lambda giver: own[giver])
    assert [f.people for f in found] == [(A, B)]
    unlimited = allowance_flags(gifts, RULES, now=NOW, allowance_of=lambda giver: 0)
    assert unlimited == []  # no limit, nothing to spend all of


def test_three_months_asked_for_two_given() -> None:
    gifts = [gift(A, B, 1000, at=NOV), gift(A, B, 1000, at=DEC)]
    assert allowance_flags(gifts, FlagRules(allowance_months=3), now=NOW) == []
    gifts.append(gift(A, B, 1000, at=OCT))
    assert len(allowance_flags(gifts, FlagRules(allowance_months=3), now=NOW)) == 1


def test_the_month_is_the_companys() -> None:
    """1 December 03:00 UTC is still November in Los Angeles."""
    early = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    gifts = [gift(A, B, 1000, at=NOV - timedelta(days=30)), gift(A, B, 1000, at=early)]
    la = FlagRules(timezone="America/Los_Angeles")
    assert len(allowance_flags(gifts, la, now=datetime(2026, 12, 1, 4, tzinfo=UTC))) == 1
    assert allowance_flags(gifts, RULES, now=datetime(2026, 12, 1, 4, tzinfo=UTC)) == []


# ── bursts just under the approval threshold ────────────────────────────────────────────

BURST_CASES = [
    pytest.param(many(A, B, 3, points=450), [(A, B)], id="three at 90 % in a week"),
    pytest.param(many(A, B, 3, points=400), [(A, B)], id="exactly 80 % counts"),
    pytest.param(many(A, B, 3, points=399), [], id="under 80 % is not near"),
    pytest.param(many(A, B, 3, points=500), [], id="at the threshold they were approved"),
    pytest.param(many(A, B, 2, points=490), [], id="two is not a burst"),
    pytest.param(
        [gift(A, B, 490, days_ago=1), gift(A, B, 490, days_ago=3), gift(A, B, 490, days_ago=9)],
        [],
        id="spread over more than a week",
    ),
    pytest.param([gift(A, B, 490), gift(A, C, 490), gift(A, D, 490)], [], id="to different people"),
    pytest.param(
        [gift(A, B, 245, total=490) for _ in range(3)],
        [(A, B)],
        id="the reward's total is what is near the threshold",
    ),
]


@pytest.mark.parametrize(("gifts", "pairs"), BURST_CASES)
def test_bursts_just_under_the_threshold(gifts: list[Gift], pairs: list[tuple[str, str]]) -> None:
    found = burst_flags(gifts, RULES, now=NOW)
    assert [f.people for f in found] == pairs


# ── all of them, and holding ─────────────────────────────────────────────────────────────


def test_ordinary_giving_raises_no_flag() -> None:
    people = [A, B, C, D, E]
    gifts = [
        gift(g, r, 50, days_ago=d, reason=f"thanks for {d}")
        for d, (g, r) in enumerate(itertools.permutations(people, 2))
    ]
    assert find_flags(gifts, RULES, now=NOW) == []


def test_flags_are_keyed_by_rule_people_and_month() -> None:
    gifts = [*many(A, B, 3, reason="demo"), *many(B, A, 3, reason="demo")]
    found = find_flags(gifts, RULES, now=NOW)
    assert sorted((f.rule.value, f.people_key, f.period) for f in found) == [
        ("repeat", "UA,UB", "2026-12"),
        ("repeat", "UA,UB", "2026-12"),
        ("ring", "UA,UB", "2026-12"),
    ]


def test_a_flag_holds_nothing_unless_an_admin_chose_hold() -> None:
    history = [*many(A, B, 3), *many(B, A, 3)]
    new = [gift(A, B, days_ago=0)]
    assert holding(history, new, RULES, now=NOW) is None
    held = holding(history, new, FlagRules(hold=frozenset({FlagRule.RING})), now=NOW)
    assert held is not None and held.rule is FlagRule.RING


def test_a_hold_applies_to_its_rule_and_its_people_only() -> None:
    history = [*many(A, B, 3), *many(B, A, 3), *many(C, D, 3), *many(D, C, 3)]
    holds = [Hold(rule=FlagRule.RING, people=(A, B))]
    assert holding(history, [gift(A, B, days_ago=0)], RULES, holds=holds, now=NOW) is not None
    assert holding(history, [gift(C, D, days_ago=0)], RULES, holds=holds, now=NOW) is None
    other_rule = [Hold(rule=FlagRule.BURST, people=(A, B))]
    assert holding(history, [gift(A, B, days_ago=0)], RULES, holds=other_rule, now=NOW) is None


def test_a_new_reward_outside_the_pattern_is_not_held() -> None:
    history = [*many(A, B, 3), *many(B, A, 3)]
    rules = FlagRules(hold=frozenset(FlagRule))
    assert holding(history, [gift(A, E, days_ago=0, reason="new")], rules, now=NOW) is None


def test_thresholds_come_from_the_settings() -> None:
    settings = load_settings(
        REWARD_FLAG_RING_DAYS=10,
        REWARD_FLAG_REPEAT_COUNT=5,
        REWARD_FLAG_HOLD="ring, Burst",
        REWARD_APPROVAL_THRESHOLD=200,
    )
    rules = FlagRules.from_settings(settings)
    assert rules.ring_days == 10
    assert rules.repeat_count == 5
    assert rules.approval_threshold == 200
    assert rules.hold == {FlagRule.RING, FlagRule.BURST}


def test_an_unknown_rule_to_hold_is_refused() -> None:
    with pytest.raises(ConfigError, match="'rings' is not a flag rule"):
        load_settings(REWARD_FLAG_HOLD="rings")


# ── the lock rule ───────────────────────────────────────────────────────────────────────

ADMIN = Person("UADMIN", name="Ada", email="ada@example.com")
MARIA = Person("UMARIA", name="Maria", email="maria@example.com")
BOT = Person("UBOT", name="Deploy", is_bot=True)


def test_a_locked_person_may_not_give() -> None:
    assert may_give(locked=False) is None
    refused = may_give(locked=True)
    assert refused is not None and refused.text == LOCKED_TEXT
    assert "talk to an admin" in refused.text and "still receive" in refused.text


@pytest.mark.parametrize(
    ("target", "already", "said"),
    [
        (MARIA, False, None),
        (ADMIN, False, "You can't lock yourself."),
        (BOT, False, "is a bot"),
        (MARIA, True, "is already locked"),
    ],
)
def test_who_can_be_locked(target: Person, already: bool, said: str | None) -> None:
    problem = lock_problem(admin_id=ADMIN.user_id, target=target, already_locked=already)
    if said is None:
        assert problem is None
    else:
        assert problem is not None and said in problem


def test_unlocking_someone_not_locked_says_so() -> None:
    assert unlock_problem(target=MARIA, locked=True) is None
    assert "isn't locked" in (unlock_problem(target=MARIA, locked=False) or "")
    assert unlock_problem(target=ADMIN, locked=True, admin_id=ADMIN.user_id) == (
        "You can't unlock yourself: another admin decides when your giving resumes."
    )
    assert unlock_problem(target=MARIA, locked=True, admin_id=ADMIN.user_id) is None


# ── the grammar of lock and unlock ──────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ListLocks()),
        ("<@UMARIA01|maria>", LockGiver(member="UMARIA01")),
        ("<@UMARIA01> rings with Bob", LockGiver(member="UMARIA01", reason="rings with Bob")),
        ("<@UMARIA01> bad\x00 idea\x1b", LockGiver(member="UMARIA01", reason="bad idea")),
    ],
)
def test_lock_reads_a_person_and_an_optional_reason(text: str, expected: object) -> None:
    assert parse_lock(text) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("maria", "isn't a mention"),
        ("<@UMARIA01> " + "x" * 501, "limit is 500"),
        (
            "<!here> they game it",
            "`@here` isn't a person: mention one person, like "
            "`/reward lock @maria rewards going round in a circle`",
        ),
        (
            "<#C0GEN|general> x",
            "`#general` is a channel, not a person: mention one person, like "
            "`/reward lock @maria rewards going round in a circle`",
        ),
    ],
)
def test_lock_refuses_what_it_cannot_read(text: str, said: str) -> None:
    refused = parse_lock(text)
    assert isinstance(refused, Refusal) and said in refused.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@UMARIA01>", UnlockGiver(member="UMARIA01")),
        ("", "Mention who you mean"),
        ("<@UMARIA01> <@UBOB0001>", "One person at a time"),
    ],
)
def test_unlock_reads_one_person(text: str, expected: object) -> None:
    parsed = parse_unlock(text)
    if isinstance(expected, str):
        assert isinstance(parsed, Refusal) and expected in parsed.text
    else:
        assert parsed == expected
