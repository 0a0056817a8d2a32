"""Which rewards share a sendBalance call, and which of them Xoxoday's answer shows as sent
(`bot.rewards.batching`): pure."""

from __future__ import annotations

from bot.plum import AnsweredRow
from bot.rewards.batching import Candidate, Line, Matched, Shown, compose, match


def reward(reward_id: int, *lines: tuple[str, int], expiry: int | None = None) -> Candidate:
    return Candidate(
        reward_id=reward_id,
        expiry_months=expiry,
        lines=tuple(
            Line(reward_id=reward_id, member_id=100 + i, email=email, points=points)
            for i, (email, points) in enumerate(lines)
        ),
    )


def ids(chosen: list[Candidate]) -> list[int]:
    return [c.reward_id for c in chosen]


# ── compose ──────────────────────────────────────────────────────────────────────────────


def test_the_oldest_rewards_fill_the_call_up_to_the_limit() -> None:
    waiting = [reward(i, (f"p{i}@x.test", 10)) for i in range(1, 6)]
    assert ids(compose(waiting, max_recipients=3)) == [1, 2, 3]
    assert ids(compose(waiting, max_recipients=50)) == [1, 2, 3, 4, 5]
    assert compose([], max_recipients=50) == []


def test_a_limit_of_one_is_one_reward_per_call() -> None:
    waiting = [reward(1, ("a@x.test", 1)), reward(2, ("b@x.test", 1))]
    assert ids(compose(waiting, max_recipients=1)) == [1]


def test_a_reward_bigger_than_the_limit_goes_alone_and_first() -> None:
    big = reward(1, *[(f"p{i}@x.test", 5) for i in range(5)])
    assert ids(compose([big, reward(2, ("z@x.test", 1))], max_recipients=3)) == [1]


def test_a_reward_that_does_not_fit_waits_and_smaller_later_ones_fill_the_room() -> None:
    waiting = [
        reward(1, ("a@x.test", 1), ("b@x.test", 1)),
        reward(2, ("c@x.test", 1), ("d@x.test", 1)),
        reward(3, ("e@x.test", 1)),
    ]
    assert ids(compose(waiting, max_recipients=3)) == [1, 3]


def test_the_same_email_and_points_twice_never_share_a_call() -> None:
    waiting = [
        reward(1, ("Maria@X.test", 10)),
        reward(2, ("maria@x.test ", 10)),  # the same person and amount: next call
        reward(3, ("maria@x.test", 20)),  # another amount: fine
        reward(4, ("ann@x.test", 10), ("ann@x.test", 10)),  # alike within itself
    ]
    assert ids(compose(waiting, max_recipients=50)) == [1, 3]
    # Alone, a reward goes as it always has.
    assert ids(compose(waiting[3:], max_recipients=50)) == [4]


def test_rewards_with_another_expiry_wait_for_a_call_of_their_own() -> None:
    waiting = [
        reward(1, ("a@x.test", 1), expiry=12),
        reward(2, ("b@x.test", 1), expiry=6),
        reward(3, ("c@x.test", 1), expiry=12),
    ]
    assert ids(compose(waiting, max_recipients=50)) == [1, 3]


# ── match ────────────────────────────────────────────────────────────────────────────────


def line(reward_id: int, member_id: int, email: str, points: int) -> Line:
    return Line(reward_id=reward_id, member_id=member_id, email=email, points=points)


LINES = [
    line(1, 11, "maria@x.test", 10),
    line(1, 12, "chen@x.test", 10),
    line(2, 11, "maria@x.test", 20),
    line(3, 13, "bob@x.test", 30),
]


def row(email: str | None, points: int | None, uid: int | None, name: str = "") -> AnsweredRow:
    return AnsweredRow(email=email, name=name or None, points=points, unique_id=uid)


def test_rows_with_emails_give_each_reward_its_ids_whatever_their_order() -> None:
    rows = [
        row("BOB@x.test", 30, 4),
        row("maria@x.test", 20, 3),
        row("chen@x.test", 10, 2),
        row("maria@x.test", 10, 1),
    ]
    assert match(LINES, rows, listed=True) == {
        1: Matched(Shown.SENT, {11: 1, 12: 2}),
        2: Matched(Shown.SENT, {11: 3}),
        3: Matched(Shown.SENT, {13: 4}),
    }


def test_a_reward_the_rows_leave_out_is_in_doubt_not_sent_by_guess() -> None:
    rows = [row("maria@x.test", 10, 1), row("chen@x.test", 10, 2), row("bob@x.test", 30, 4)]
    out = match(LINES, rows, listed=True)
    assert out[2] == Matched(Shown.UNMATCHED, {})
    assert out[1].shown is Shown.SENT and out[3].shown is Shown.SENT


def test_a_row_with_other_points_than_sent_matches_nothing() -> None:
    rows = [
        row("maria@x.test", 10, 1),
        row("chen@x.test", 10, 2),
        row("maria@x.test", 25, 3),  # not what was sent to Maria
        row("bob@x.test", 30, 4),
    ]
    assert match(LINES, rows, listed=True)[2].shown is Shown.UNMATCHED


def test_rows_naming_someone_else_never_stand_for_the_lines_left() -> None:
    rows = [
        row("maria@x.test", 10, 1),
        row("chen@x.test", 10, 2),
        row("eve@x.test", 20, 3),
        row(None, 30, 4),
    ]
    out = match(LINES, rows, listed=True)
    assert out[2].shown is Shown.UNMATCHED and out[3].shown is Shown.UNMATCHED


def test_rows_without_emails_as_many_as_the_lines_mean_all_sent_ids_where_points_say() -> None:
    """The seed spec's rows carry no email; the call as a whole was taken (`error: false`)."""
    rows = [row(None, 10, 1), row(None, 30, 4), row(None, 20, 3), row(None, 10, 2)]
    assert match(LINES, rows, listed=True) == {
        1: Matched(Shown.SENT, {}),  # two rows of 10: who got which is not known
        2: Matched(Shown.SENT, {11: 3}),
        3: Matched(Shown.SENT, {13: 4}),
    }


def test_fewer_rows_without_emails_than_lines_leave_the_rest_in_doubt() -> None:
    rows = [row("maria@x.test", 10, 1), row(None, 10, 2), row(None, 20, 3)]
    out = match(LINES, rows, listed=True)
    # Maria's 10 is shown, Chen's is not: the reward carrying both is in doubt, as a whole.
    assert {reward: m.shown for reward, m in out.items()} == {
        1: Shown.UNMATCHED,
        2: Shown.UNMATCHED,
        3: Shown.UNMATCHED,
    }


def test_an_answer_without_rows_is_the_call_as_a_whole() -> None:
    assert match(LINES, [], listed=False) == {
        1: Matched(Shown.SENT, {}),
        2: Matched(Shown.SENT, {}),
        3: Matched(Shown.SENT, {}),
    }
