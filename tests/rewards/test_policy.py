"""The giving rules, as tables of cases over plain dataclasses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.rewards.policy import (
    NOT_AGAIN_TODO,
    Decision,
    FailureKind,
    Field,
    Person,
    ProblemCode,
    Rules,
    evaluate,
    may_send_again,
    month_start,
    next_month_start,
    past_cancel_window,
)
from bot.settings import load_settings

RULES = Rules(max_per_reward=5000, allowance=1000, approval_threshold=500)
NOW = datetime(2025, 4, 10, 12, 0, tzinfo=UTC)

GIVER = Person("U0GIVER", name="Gina", email="gina@example.com")
ADMIN = replace(GIVER, is_admin=True)
MARIA = Person("U0MARIA", name="Maria", email="maria@example.com")
SAM = Person("U0SAM", name="Sam", email="sam@example.com")
LEE = Person("U0LEE", name="Lee", email="lee@example.com")
BOT = Person("U0BOT", name="Deploy bot", email=None, is_bot=True)
SLACKBOT = Person.from_slack_user({"id": "USLACKBOT", "name": "slackbot", "profile": {}})
GONE = Person("U0GONE", name="Gone", email="gone@example.com", deleted=True)
NO_EMAIL = Person("U0NOMAIL", name="Nomail", email=None)
BLANK_EMAIL = Person("U0BLANK", name="Blank", email="  ")


def decide(
    *,
    recipients: tuple[Person, ...] = (MARIA,),
    amount: int = 100,
    giver: Person = GIVER,
    rules: Rules = RULES,
    values: tuple[str, ...] = (),
    given: int = 0,
    now: datetime = NOW,
    tz: str | None = "UTC",
) -> Decision:
    return evaluate(
        rules=rules,
        giver=giver,
        recipients=recipients,
        amount=amount,
        values=values,
        given_this_month=given,
        now=now,
        tz=tz,
    )


# ── who may receive ──────────────────────────────────────────────────────────────────────

RECIPIENTS = [
    ("self", GIVER, ProblemCode.SELF),
    ("bot", BOT, ProblemCode.BOT),
    ("slackbot", SLACKBOT, ProblemCode.BOT),
    ("deactivated", GONE, ProblemCode.DEACTIVATED),
    ("no-email", NO_EMAIL, ProblemCode.NO_EMAIL),
    ("blank-email", BLANK_EMAIL, ProblemCode.NO_EMAIL),
]


@pytest.mark.parametrize(
    ("recipient", "code"), [c[1:] for c in RECIPIENTS], ids=[c[0] for c in RECIPIENTS]
)
def test_who_cannot_receive(recipient: Person, code: ProblemCode) -> None:
    decision = decide(recipients=(recipient,))
    assert not decision.ok
    assert [p.code for p in decision.problems] == [code]
    assert decision.problems[0].user_id == recipient.user_id
    assert decision.problems[0].field is Field.RECIPIENTS
    assert not decision.needs_approval


MESSAGES = [
    (
        "self",
        GIVER,
        "You can't reward yourself. Take yourself off the list and thank someone else!",
    ),
    ("bot", BOT, "<@U0BOT> is a bot, and bots can't receive points. Mention a person instead."),
    (
        "deactivated",
        GONE,
        "<@U0GONE>'s Slack account is deactivated, so they can't receive points.",
    ),
    (
        "no-email",
        NO_EMAIL,
        "<@U0NOMAIL> has no email address in Slack, and points are sent by email. Ask them to "
        "add an email to their Slack profile, or ask an admin for help.",
    ),
]


@pytest.mark.parametrize(
    ("recipient", "message"), [c[1:] for c in MESSAGES], ids=[c[0] for c in MESSAGES]
)
def test_recipient_messages_say_why_and_what_to_do(recipient: Person, message: str) -> None:
    assert decide(recipients=(recipient,)).text == message


def test_all_problems_are_reported_at_once_per_recipient() -> None:
    decision = decide(
        recipients=(MARIA, GIVER, BOT, GONE, NO_EMAIL),
        amount=6000,
        values=("nope",),
        rules=replace(RULES, values=("teamwork",)),
    )
    assert [(p.code, p.user_id) for p in decision.problems] == [
        (ProblemCode.SELF, "U0GIVER"),
        (ProblemCode.BOT, "U0BOT"),
        (ProblemCode.DEACTIVATED, "U0GONE"),
        (ProblemCode.NO_EMAIL, "U0NOMAIL"),
        (ProblemCode.OVER_MAX, None),
        (ProblemCode.OVER_ALLOWANCE, None),
        (ProblemCode.UNKNOWN_VALUE, None),
    ]
    assert decision.text.startswith("That reward can't go out yet:\n• You can't reward yourself.")
    assert decision.text.count("\n• ") == 7
    fields = decision.errors_by_field()
    assert set(fields) == {Field.RECIPIENTS, Field.AMOUNT, Field.VALUES}
    assert "<@U0BOT>" in fields[Field.RECIPIENTS] and "<@U0GONE>" in fields[Field.RECIPIENTS]


def test_no_recipients_is_refused() -> None:
    decision = decide(recipients=())
    assert [p.code for p in decision.problems] == [ProblemCode.NO_RECIPIENT]


def test_duplicate_recipients_count_once() -> None:
    decision = decide(recipients=(MARIA, MARIA, SAM), amount=100)
    assert decision.ok
    assert decision.total == 200


# ── amounts, allowance, approval ─────────────────────────────────────────────────────────

OUTCOMES = [
    # id, recipients, amount, giver, rules, given, ok, needs_approval, total
    ("plain", (MARIA,), 100, GIVER, RULES, 0, True, False, 100),
    ("threshold-minus-one", (MARIA,), 499, GIVER, RULES, 0, True, False, 499),
    ("exactly-threshold", (MARIA,), 500, GIVER, RULES, 0, True, True, 500),
    ("multi-reaches-threshold", (MARIA, SAM), 250, GIVER, RULES, 0, True, True, 500),
    ("multi-below-threshold", (MARIA, SAM), 249, GIVER, RULES, 0, True, False, 498),
    ("exactly-max", (MARIA,), 5000, ADMIN, RULES, 0, True, True, 5000),
    ("max-is-per-recipient", (MARIA, SAM, LEE), 5000, ADMIN, RULES, 0, True, True, 15000),
    ("over-max", (MARIA,), 5001, ADMIN, RULES, 0, False, False, 5001),
    ("allowance-exactly-used", (MARIA,), 300, GIVER, RULES, 700, True, False, 300),
    ("allowance-one-over", (MARIA,), 301, GIVER, RULES, 700, False, False, 301),
    (
        "allowance-counts-all-recipients",
        (MARIA, SAM, LEE),
        400,
        GIVER,
        RULES,
        0,
        False,
        False,
        1200,
    ),
    ("allowance-spent", (MARIA,), 1, GIVER, RULES, 1000, False, False, 1),
    ("admin-exempt-from-allowance", (MARIA, SAM, LEE), 400, ADMIN, RULES, 9000, True, True, 1200),
    (
        "allowance-zero-is-unlimited",
        (MARIA,),
        400,
        GIVER,
        replace(RULES, allowance=0),
        10**9,
        True,
        False,
        400,
    ),
    ("zero-amount", (MARIA,), 0, GIVER, RULES, 0, False, False, 0),
    ("negative-amount", (MARIA,), -5, GIVER, RULES, 0, False, False, 0),
    ("huge-amount", (MARIA,), 10**18, GIVER, RULES, 0, False, False, 10**18),
]


@pytest.mark.parametrize(
    ("recipients", "amount", "giver", "rules", "given", "ok", "approval", "total"),
    [c[1:] for c in OUTCOMES],
    ids=[c[0] for c in OUTCOMES],
)
def test_amount_allowance_and_approval(
    recipients: tuple[Person, ...],
    amount: int,
    giver: Person,
    rules: Rules,
    given: int,
    ok: bool,
    approval: bool,
    total: int,
) -> None:
    decision = decide(recipients=recipients, amount=amount, giver=giver, rules=rules, given=given)
    assert decision.ok is ok, decision.messages
    assert decision.needs_approval is approval
    assert decision.total == total


def test_over_max_message() -> None:
    decision = decide(amount=6000, giver=ADMIN)
    assert decision.text == (
        "The most one person can get in one reward is 5,000 points, and you asked for 6,000. "
        "Lower the amount."
    )
    assert decision.problems[0].field is Field.AMOUNT


def test_over_allowance_message_says_what_is_left_and_when_it_resets() -> None:
    decision = decide(amount=400, given=700)
    assert decision.text == (
        "That's 400 points, but you have 300 points of your 1,000 left this month. "
        "Lower the amount to 300 or less, or wait until your allowance resets on 1 May 2025."
    )


def test_over_allowance_with_several_recipients_shows_the_sum() -> None:
    decision = decide(recipients=(MARIA, SAM, LEE), amount=400, given=100)
    assert decision.text == (
        "That's 1,200 points in all (3 people × 400), but you have 900 points of your 1,000 "
        "left this month. Lower the amount to 300 or less, or wait until your allowance resets "
        "on 1 May 2025."
    )


def test_allowance_spent_message() -> None:
    decision = decide(amount=10, given=1000)
    assert decision.text == (
        "That's 10 points, but you've already given all 1,000 points of your monthly "
        "allowance. It resets on 1 May 2025."
    )


def test_allowance_resets_in_the_givers_time_zone_and_new_year() -> None:
    # 31 Dec 20:00 UTC is already 1 January in Tokyo: the reset is 1 February.
    late = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    tokyo = decide(amount=10, given=1000, now=late, tz="Asia/Tokyo")
    assert tokyo.text.endswith("It resets on 1 February 2026.")
    # In New York it is still December: the reset is next year.
    new_york = decide(amount=10, given=1000, now=late, tz="America/New_York")
    assert new_york.text.endswith("It resets on 1 January 2026.")


def test_unknown_or_missing_time_zone_falls_back_to_the_rules_zone() -> None:
    late = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    rules = replace(RULES, timezone="Asia/Tokyo")
    for tz in (None, "Not/AZone"):
        decision = decide(amount=10, given=1000, now=late, tz=tz, rules=rules)
        assert decision.text.endswith("It resets on 1 February 2026."), tz


def test_allowance_left_after_the_reward() -> None:
    assert decide(amount=100, given=300).allowance_left == 600
    assert decide(amount=100, given=300, giver=ADMIN).allowance_left is None
    assert decide(amount=100, rules=replace(RULES, allowance=0)).allowance_left is None


# ── values ───────────────────────────────────────────────────────────────────────────────

VALUED = replace(RULES, values=("teamwork", "ownership", "customer-love"))

VALUE_CASES = [
    ("known", VALUED, ("teamwork",), True),
    ("known-any-case", VALUED, ("TeamWork",), True),
    ("no-values-given", VALUED, (), True),
    ("unknown", VALUED, ("synergy",), False),
    ("one-of-two-unknown", VALUED, ("teamwork", "synergy"), False),
    ("any-value-when-no-list", RULES, ("synergy",), True),
]


@pytest.mark.parametrize(
    ("rules", "values", "ok"), [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES]
)
def test_company_values(rules: Rules, values: tuple[str, ...], ok: bool) -> None:
    assert decide(rules=rules, values=values).ok is ok


def test_unknown_value_lists_the_allowed_ones() -> None:
    assert decide(rules=VALUED, values=("synergy",)).text == (
        "`#synergy` isn't one of our values. The values are `#teamwork`, `#ownership`, "
        "`#customer-love`; write other words without the `#`."
    )
    two = decide(rules=VALUED, values=("synergy", "grit", "teamwork")).text
    assert two.startswith("`#synergy` and `#grit` aren't among our values.")


# ── inputs ───────────────────────────────────────────────────────────────────────────────


def test_rules_from_settings() -> None:
    settings = load_settings(
        _env_file=None,
        REWARD_MAX_PER_REWARD=300,
        REWARD_ALLOWANCE=0,
        REWARD_APPROVAL_THRESHOLD=250,
        REWARD_VALUES="#TeamWork, ownership",
        REWARD_TIMEZONE="Europe/Berlin",
    )
    assert Rules.from_settings(settings) == Rules(
        max_per_reward=300,
        allowance=0,
        approval_threshold=250,
        values=("teamwork", "ownership"),
        timezone="Europe/Berlin",
    )


def test_person_from_slack_user() -> None:
    user = {
        "id": "U0MARIA",
        "name": "maria",
        "real_name": "Maria Lopez",
        "deleted": False,
        "is_bot": False,
        "tz": "Europe/Madrid",
        "profile": {"display_name": "", "real_name": "Maria Lopez", "email": "m@example.com"},
    }
    assert Person.from_slack_user(user, is_admin=True) == Person(
        user_id="U0MARIA",
        name="Maria Lopez",
        email="m@example.com",
        is_bot=False,
        deleted=False,
        is_admin=True,
        tz="Europe/Madrid",
    )
    gone = Person.from_slack_user({"id": "U1", "deleted": True, "profile": {"email": ""}})
    assert gone.deleted and gone.email is None and gone.name == "U1"


def test_month_boundaries() -> None:
    now = datetime(2025, 3, 31, 23, 30, tzinfo=UTC)  # 1 April 01:30 in Berlin (CEST)
    start = month_start(now, "Europe/Berlin")
    assert (start.year, start.month, start.day, start.hour) == (2025, 4, 1, 0)
    assert start.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    nxt = next_month_start(now, "Europe/Berlin")
    assert (nxt.year, nxt.month, nxt.day, nxt.hour) == (2025, 5, 1, 0)
    dec = next_month_start(datetime(2025, 12, 15, tzinfo=UTC), "UTC")
    assert (dec.year, dec.month, dec.day) == (2026, 1, 1)


@pytest.mark.parametrize(
    ("age", "past"),
    [
        (timedelta(days=30), False),
        (timedelta(days=90), False),
        (timedelta(days=90, hours=23), False),  # Xoxoday may count the days its own way
        (timedelta(days=91, seconds=1), True),
        (timedelta(days=400), True),
    ],
)
def test_points_are_surely_past_xoxodays_cancel_window_a_day_after_90_days(
    age: timedelta, past: bool
) -> None:
    sent = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert past_cancel_window(sent, sent + age) is past


# --- "Send again": only where a new reward like the failed one may work ---------------------


@pytest.mark.parametrize(
    ("status", "kind", "offered"),
    [
        ("failed", FailureKind.PASSING, True),  # unreachable past the window, bot crashed
        ("failed", FailureKind.LOW_BALANCE, True),  # once an admin tops the account up
        ("failed", FailureKind.NO_EMAIL, True),  # once the email is in Slack
        ("failed", None, True),  # kept no kind: settled as never sent, or an older failure
        ("failed", FailureKind.SETUP, False),  # the bot's credentials: an admin fixes it first
        ("failed", FailureKind.REFUSED, False),  # Xoxoday refused the request itself
        ("sent", None, False),
        ("in_doubt", None, False),
        ("queued", FailureKind.PASSING, False),
        ("cancelled", None, False),
        ("rejected", None, False),
    ],
)
def test_send_again_is_offered_only_where_it_may_work(
    status: str, kind: str | None, offered: bool
) -> None:
    assert may_send_again(status, kind) is offered


def test_every_failure_without_send_again_says_what_to_do() -> None:
    for kind in FailureKind:
        if not may_send_again("failed", kind):
            assert "`/reward`" in NOT_AGAIN_TODO[kind] or "admin" in NOT_AGAIN_TODO[kind]


# ── groups and budgets ────────────────────────────────────────────────────────────────────

from bot.rewards import policy as _policy  # noqa: E402


def _person(uid: str, **kw: object) -> Person:
    return Person(user_id=uid, name=uid, email=f"{uid}@x.test", **kw)  # type: ignore[arg-type]


def test_a_group_leaves_out_the_giver_bots_deactivated_and_no_email() -> None:
    giver = _person("UGIVER")
    members = [
        _person("UA"),
        giver,
        _person("UBOT", is_bot=True),
        _person("UGONE", deleted=True),
        Person(user_id="UNOMAIL", name="n", email=None),
        _person("UA"),  # listed twice: once
        _person("UB"),
    ]
    given, left_out = _policy.split_group(giver, members)
    assert [p.user_id for p in given] == ["UA", "UB"]
    assert [(p.user_id, code.value) for p, code in left_out] == [
        ("UGIVER", "self"),
        ("UBOT", "bot"),
        ("UGONE", "deactivated"),
        ("UNOMAIL", "no_email"),
    ]


def test_more_than_the_recipient_cap_is_refused_with_the_cap() -> None:
    rules = Rules(max_per_reward=100, allowance=0, approval_threshold=10**9)
    people = [_person(f"U{i}") for i in range(_policy.MAX_RECIPIENTS + 1)]
    decision = _policy.evaluate(
        rules=rules, giver=_person("UG"), recipients=people, amount=1, now=NOW
    )
    assert not decision.ok
    assert decision.problems[0].code is _policy.ProblemCode.TOO_MANY
    assert f"at most {_policy.MAX_RECIPIENTS}" in decision.text
    ok = _policy.evaluate(
        rules=rules, giver=_person("UG"), recipients=people[:-1], amount=1, now=NOW
    )
    assert ok.ok


def test_the_allowance_counts_members_times_amount_and_approval_the_total() -> None:
    rules = Rules(max_per_reward=100, allowance=1000, approval_threshold=50)
    people = [_person(f"U{i}") for i in range(6)]
    over = _policy.evaluate(
        rules=rules,
        giver=_person("UG"),
        recipients=people,
        amount=10,
        given_this_month=950,
        now=NOW,
        allowance=1000,
    )
    assert over.text.startswith("That's 60 points in all (6 people × 10), but you have 50")
    ok = _policy.evaluate(
        rules=rules, giver=_person("UG"), recipients=people, amount=10, now=NOW, allowance=60
    )
    assert ok.ok and ok.total == 60 and ok.needs_approval and ok.allowance_left == 0


@pytest.mark.parametrize(
    ("default", "own", "groups", "base"),
    [
        (1000, None, (), 1000),  # the default
        (1000, 500, (2000,), 500),  # their own, even below their group's
        (1000, None, (300, 2000), 2000),  # the largest of their groups'
        (1000, None, (300,), 300),  # a group's, even below the default
        (0, None, (), 0),  # no limit
        (0, None, (400,), 400),  # a group's limit where the default has none
    ],
)
def test_base_allowance(default: int, own: int | None, groups: tuple[int, ...], base: int) -> None:
    assert _policy.base_allowance(default=default, own=own, groups=groups) == base


@pytest.mark.parametrize(
    ("last", "given", "cap", "carried"),
    [
        (1000, 700, 200, 200),  # 300 unspent, capped at 200
        (1000, 900, 200, 100),
        (1000, 1000, 200, 0),
        (1000, 1200, 200, 0),  # over (an admin's exemption since lifted): nothing, never less
        (1000, 0, 0, 0),  # carry-over off
        (0, 0, 200, 0),  # nothing carried from an unlimited month
    ],
)
def test_carried_over(last: int, given: int, cap: int, carried: int) -> None:
    assert _policy.carried_over(last_allowance=last, given_last_month=given, cap=cap) == carried


def test_monthly_allowance_and_reaching_it() -> None:
    assert _policy.monthly_allowance(base=1000, carried=200) == 1200
    assert _policy.monthly_allowance(base=0, carried=200) == 0  # unlimited stays unlimited
    assert _policy.reached_limit(1200, given_this_month=1200, is_admin=False)
    assert not _policy.reached_limit(1200, given_this_month=1199, is_admin=False)
    assert not _policy.reached_limit(1200, given_this_month=5000, is_admin=True)
    assert not _policy.reached_limit(0, given_this_month=5000, is_admin=False)
