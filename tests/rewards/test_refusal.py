"""Every use case answers "nothing was done" with the one `Refusal`: the grammar, the giving
rules, and the services the Slack layer renders."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.rewards.commands import ErrorCode
from bot.rewards.policy import Field, Person, ProblemCode, Rules, evaluate
from bot.rewards.refusal import Refusal
from bot.slack.listeners.subcommands import SUBCOMMANDS

NOW = datetime(2025, 4, 10, 12, 0, tzinfo=UTC)
GIVER = Person("U0GIVER", name="Gina", email="gina@example.com")
NOMAIL = Person("U0NOMAIL", name="Nomail", email=None)


def test_a_mistyped_command_is_a_refusal_with_its_grammar_code() -> None:
    result = SUBCOMMANDS.parse("<@U0BOB|bob> -5 thanks")
    assert isinstance(result, Refusal)
    assert isinstance(result.code, ErrorCode)
    assert "-5" in result.text or "number" in result.text.lower()


def test_a_refused_reward_keeps_its_problems_by_form_field() -> None:
    rules = Rules(max_per_reward=100, allowance=0, approval_threshold=1000)
    decision = evaluate(rules=rules, giver=GIVER, recipients=[GIVER, NOMAIL], amount=500, now=NOW)
    refusal = decision.refusal()
    assert refusal.text == decision.text
    assert refusal.code == decision.problems[0].code.value
    assert set(refusal.fields) == {Field.RECIPIENTS, Field.AMOUNT}
    for problem in decision.problems:  # self-reward and no email by the recipients, the cap
        assert problem.message in refusal.fields[str(problem.field)]
        assert problem.message in refusal.text
    assert ProblemCode(refusal.code) in {p.code for p in decision.problems}
