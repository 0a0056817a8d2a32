"""Reports: totals, leaderboards, allowance used, approvals waiting, expiring points, history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from storage import queries, rewards
from storage import reports as report_repo
from storage.db import Store
from storage.models import Member
from storage.rewards import RecipientResult
from storage.states import ReportStatus, RewardStatus
from tests.storage.conftest import People

S = RewardStatus
JAN = datetime(2025, 1, 10, 12, tzinfo=UTC)
WEEK = (datetime(2025, 1, 6, tzinfo=UTC), datetime(2025, 1, 13, tzinfo=UTC))


class Ledger:
    def __init__(self, store: Store, people: People) -> None:
        self.store, self.p = store, people
        self.n = 0

    def give(  # type: ignore[no-untyped-def]
        self, at: datetime, giver: Member, to, *, final=S.SENT, values=(), channel="C1", **kw
    ):
        self.n += 1
        with time_machine.travel(at, tick=False):
            with self.store.session() as s:
                r = rewards.create_reward(
                    s,
                    giver=giver,
                    recipients=to,
                    citation="thanks",
                    idempotency_key=f"k{self.n}",
                    values=values,
                    channel_id=channel,
                    expiry_months=kw.get("expiry_months", 12),
                    status=S.PENDING_APPROVAL if final == S.PENDING_APPROVAL else S.QUEUED,
                ).reward
            if final in (S.PENDING_APPROVAL, S.QUEUED):
                return r
            if final == S.CANCELLED:
                with self.store.session() as s:
                    return rewards.cancel_reward(s, reward_id=r.id, actor="UADMIN", reason="x")
            with self.store.session() as s:
                rewards.claim_for_delivery(s, reward_id=r.id)
            if final == S.SENDING:
                return r
            with self.store.session() as s:
                return rewards.record_delivery(
                    s, reward_id=r.id, outcome=final, recipients=kw.get("results", ())
                )


@pytest.fixture
def ledger(store: Store, people: People) -> Ledger:
    return Ledger(store, people)


def test_totals_and_leaderboard_count_points_delivered_in_the_period(ledger: Ledger) -> None:
    p = ledger.p
    ledger.give(JAN, p.giver, [(p.alice, 100), (p.bob, 50)], values=["teamwork"], channel="C1")
    ledger.give(JAN, p.bob, [(p.alice, 30)], values=["teamwork", "craft"], channel="C2")
    ledger.give(JAN, p.giver, [(p.bob, 20)], channel=None)
    # partly failed: only alice's points count
    ledger.give(
        JAN,
        p.admin,
        [(p.alice, 7), (p.bob, 9)],
        results=[RecipientResult(member=p.bob, outcome="failed")],
    )
    # none of these count
    ledger.give(JAN, p.giver, [(p.alice, 1000)], final=S.FAILED)
    ledger.give(JAN, p.giver, [(p.alice, 1000)], final=S.IN_DOUBT)
    ledger.give(JAN, p.giver, [(p.alice, 1000)], final=S.PENDING_APPROVAL)
    ledger.give(JAN, p.giver, [(p.alice, 1000)], final=S.QUEUED)
    ledger.give(JAN - timedelta(days=7), p.giver, [(p.alice, 1000)])  # the week before
    sent = ledger.give(JAN, p.giver, [(p.alice, 1000)])
    with ledger.store.session() as s:
        rewards.cancel_reward(s, reward_id=sent.id, actor="UADMIN", reason="oops")

    with ledger.store.read_session() as s:
        by_recipient = queries.totals_by_recipient(s, since=WEEK[0], until=WEEK[1])
        by_giver = queries.totals_by_giver(s, since=WEEK[0], until=WEEK[1])
        by_value = queries.totals_by_value(s, since=WEEK[0], until=WEEK[1])
        by_channel = queries.totals_by_channel(s, since=WEEK[0], until=WEEK[1])
        board = queries.leaderboard(s, since=WEEK[0], until=WEEK[1], limit=1)
        summary = queries.period_summary(s, since=WEEK[0], until=WEEK[1])
        empty = queries.period_summary(s, since=WEEK[1], until=WEEK[1] + timedelta(days=7))

    def named(rows):  # type: ignore[no-untyped-def]
        return [(r.member.slack_user_id, r.points, r.rewards) for r in rows]

    assert named(by_recipient) == [("UALICE", 137, 3), ("UBOB", 70, 2)]
    assert named(by_giver) == [("UGIVER", 170, 2), ("UBOB", 30, 1), ("UADMIN", 7, 1)]
    assert [(t.key, t.points, t.rewards) for t in by_value] == [
        ("teamwork", 180, 2),
        ("craft", 30, 1),
    ]
    assert [(t.key, t.points) for t in by_channel] == [("C1", 157), ("C2", 30), (None, 20)]
    assert named(board.recipients) == [("UALICE", 137, 3)]
    assert named(board.givers) == [("UGIVER", 170, 2)]
    assert (summary.points, summary.rewards, summary.recipients, summary.givers) == (207, 4, 2, 3)
    assert empty == queries.PeriodSummary(points=0, rewards=0, recipients=0, givers=0)


def test_a_reward_with_an_open_report_counts_in_no_ranking_or_summary(ledger: Ledger) -> None:
    """(PostgreSQL and SQLite.) Reported: out of the totals, the leaderboard and the period
    summary (the weekly summary reads them); restored: back in every one."""
    p = ledger.p
    ledger.give(JAN, p.giver, [(p.alice, 100)], values=["teamwork"])
    reported = ledger.give(JAN, p.bob, [(p.alice, 30)], values=["teamwork"])

    def figures() -> tuple[object, ...]:
        with ledger.store.read_session() as s:
            return (
                [
                    (r.member.slack_user_id, r.points)
                    for r in queries.totals_by_recipient(s, since=WEEK[0], until=WEEK[1])
                ],
                [
                    r.member.slack_user_id
                    for r in queries.leaderboard(s, since=WEEK[0], until=WEEK[1]).givers
                ],
                [
                    (t.key, t.points)
                    for t in queries.totals_by_value(s, since=WEEK[0], until=WEEK[1])
                ],
                queries.period_summary(s, since=WEEK[0], until=WEEK[1]).points,
            )

    counted = figures()
    assert counted == ([("UALICE", 130)], ["UGIVER", "UBOB"], [("teamwork", 130)], 130)
    with ledger.store.session() as s:
        report_repo.report_reward(s, reward=reported, reporter=p.admin, reason="swapped")
    assert figures() == ([("UALICE", 100)], ["UGIVER"], [("teamwork", 100)], 100)
    with ledger.store.session() as s:
        assert report_repo.decide_report(
            s, reward=reported, to=ReportStatus.RESTORED, actor="UADMIN", reason="fine"
        )
    assert figures() == counted


def test_given_this_month_follows_the_givers_time_zone(ledger: Ledger) -> None:
    p = ledger.p
    # 23:30 UTC on Jan 31 is already February in Berlin (UTC+1)
    ledger.give(datetime(2025, 1, 31, 23, 30, tzinfo=UTC), p.giver, [(p.alice, 40)])
    ledger.give(
        datetime(2025, 2, 10, tzinfo=UTC),
        p.giver,
        [(p.alice, 5), (p.bob, 5)],
        final=S.PENDING_APPROVAL,
    )
    ledger.give(datetime(2025, 2, 10, tzinfo=UTC), p.giver, [(p.bob, 1)], final=S.QUEUED)
    ledger.give(datetime(2025, 2, 10, tzinfo=UTC), p.giver, [(p.bob, 2)], final=S.SENDING)
    ledger.give(datetime(2025, 2, 10, tzinfo=UTC), p.giver, [(p.bob, 3)], final=S.IN_DOUBT)
    ledger.give(datetime(2025, 2, 10, tzinfo=UTC), p.giver, [(p.bob, 500)], final=S.FAILED)
    ledger.give(datetime(2025, 2, 10, tzinfo=UTC), p.giver, [(p.bob, 500)], final=S.CANCELLED)
    ledger.give(datetime(2025, 2, 10, tzinfo=UTC), p.bob, [(p.alice, 500)])  # someone else
    now = datetime(2025, 2, 20, tzinfo=UTC)
    with ledger.store.read_session() as s:
        berlin = queries.given_this_month(s, giver=p.giver, tz="Europe/Berlin", now=now)
        utc = queries.given_this_month(s, giver=p.giver.id, tz="UTC", now=now)  # type: ignore[arg-type]
        january_utc = queries.given_this_month(
            s, giver=p.giver, tz="UTC", now=datetime(2025, 1, 31, 23, 59, tzinfo=UTC)
        )
        so_far = queries.month_so_far(s, giver=p.giver, tz="Europe/Berlin", now=now)
    assert so_far == (40 + 10 + 1 + 2 + 3, 5)  # points and rewards, counted alike
    assert berlin == 40 + 10 + 1 + 2 + 3
    assert utc == 10 + 1 + 2 + 3
    assert january_utc == 40


def test_month_bounds() -> None:
    start, end = queries.month_bounds("Asia/Kolkata", now=datetime(2025, 12, 31, 20, tzinfo=UTC))
    assert start == datetime(2025, 12, 31, 18, 30, tzinfo=UTC)  # Jan 1 00:00 +05:30
    assert end == datetime(2026, 1, 31, 18, 30, tzinfo=UTC)


def test_approvals_pending_longer_than(ledger: Ledger) -> None:
    p = ledger.p
    old = ledger.give(
        datetime(2025, 1, 1, tzinfo=UTC), p.giver, [(p.alice, 600)], final=S.PENDING_APPROVAL
    )
    ledger.give(
        datetime(2025, 1, 2, 6, tzinfo=UTC), p.giver, [(p.bob, 600)], final=S.PENDING_APPROVAL
    )
    with ledger.store.read_session() as s:
        waiting = queries.pending_approvals_older_than(
            s, hours=24, now=datetime(2025, 1, 2, 12, tzinfo=UTC)
        )
    assert [r.id for r in waiting] == [old.id]
    assert waiting[0].recipients[0].member.slack_user_id == "UALICE"


def test_points_expiring_soon_page_by_page(ledger: Ledger) -> None:
    p = ledger.p
    for day in (1, 2, 3):
        ledger.give(
            datetime(2024, 2, day, tzinfo=UTC), p.giver, [(p.alice, day), (p.bob, 10 * day)]
        )
    ledger.give(datetime(2024, 3, 20, tzinfo=UTC), p.giver, [(p.alice, 99)])  # later
    gone = ledger.give(datetime(2024, 2, 2, tzinfo=UTC), p.giver, [(p.alice, 77)])
    with ledger.store.session() as s:
        rewards.cancel_reward(s, reward_id=gone.id, actor="UADMIN", reason="x")
    today = date(2025, 1, 31)
    with ledger.store.read_session() as s:
        page1 = queries.expiring_points(s, within_days=7, today=today, limit=4)
        last = page1[-1]
        page2 = queries.expiring_points(
            s, within_days=7, today=today, limit=4, after=(last.expires_on, last.recipient_id)
        )
        none_yet = queries.expiring_points(s, within_days=0, today=today)
    rows = [(e.member.slack_user_id, e.points, e.expires_on) for e in page1 + page2]
    assert rows == [
        ("UALICE", 1, date(2025, 2, 1)),
        ("UBOB", 10, date(2025, 2, 1)),
        ("UALICE", 2, date(2025, 2, 2)),
        ("UBOB", 20, date(2025, 2, 2)),
        ("UALICE", 3, date(2025, 2, 3)),
        ("UBOB", 30, date(2025, 2, 3)),
    ]
    assert len(page2) == 2 and none_yet == []
    assert page1[0].short_id and page1[0].reward_id


def test_rewards_in_doubt(ledger: Ledger) -> None:
    p = ledger.p
    doubtful = ledger.give(JAN, p.giver, [(p.alice, 5)], final=S.IN_DOUBT)
    ledger.give(JAN, p.giver, [(p.alice, 5)])
    with ledger.store.read_session() as s:
        found = queries.rewards_in_doubt(s)
    assert [r.id for r in found] == [doubtful.id]


def test_recent_rewards_given_and_received(ledger: Ledger) -> None:
    p = ledger.p
    made = [
        ledger.give(
            JAN + timedelta(minutes=i),
            p.giver if i % 2 else p.alice,
            [(p.bob, i + 1)] if i % 2 else [(p.giver, i + 1)],
            final=S.QUEUED,
        )
        for i in range(14)
    ]
    with ledger.store.read_session() as s:
        mine = queries.recent_rewards(s, member=p.giver, limit=5)
        nobody = queries.recent_rewards(s, member=p.approver)
    given = [r for r in made if r.giver.id == p.giver.id]
    received = [r for r in made if r.giver.id == p.alice.id]
    assert [r.id for r in mine.given] == [r.id for r in reversed(given)][:5]
    assert [r.id for r in mine.received] == [r.id for r in reversed(received)][:5]
    assert nobody.given == [] and nobody.received == []


def test_rewards_received_can_be_only_those_the_recipient_was_told_of(ledger: Ledger) -> None:
    """A recipient hears of points sent to them (and of their withdrawal), never of a reward
    waiting, refused, in doubt or cancelled before it was sent: with `told_only` their list
    (App Home, history) leaves those out."""
    p = ledger.p
    made = {
        final: ledger.give(JAN + timedelta(minutes=i), p.giver, [(p.bob, 10 + i)], final=final)
        for i, final in enumerate(
            [S.SENT, S.FAILED, S.IN_DOUBT, S.PENDING_APPROVAL, S.QUEUED, S.SENDING, S.CANCELLED]
        )
    }
    withdrawn = ledger.give(JAN + timedelta(hours=1), p.giver, [(p.bob, 5)])
    with ledger.store.session() as s:
        rewards.cancel_reward(
            s,
            reward_id=withdrawn.id,
            actor="UADMIN",
            reason="sent twice",
            recipients=[RecipientResult(member=p.bob, outcome="cancelled")],
        )
    partly = ledger.give(
        JAN + timedelta(hours=2),
        p.giver,
        [(p.bob, 7), (p.alice, 7)],
        results=[RecipientResult(member=p.bob, outcome="failed")],
    )
    with ledger.store.read_session() as s:
        told = queries.recent_rewards(s, member=p.bob, told_only=True).received
        everything = queries.recent_rewards(s, member=p.bob).received
        alice = queries.recent_rewards(s, member=p.alice, told_only=True).received
    assert [r.id for r in told] == [withdrawn.id, made[S.SENT].id]
    assert len(everything) == 9
    assert [r.id for r in alice] == [partly.id]


def test_periods_must_be_timezone_aware(store: Store) -> None:
    with pytest.raises(ValueError), store.read_session() as s:
        queries.totals_by_recipient(s, since=datetime(2025, 1, 1), until=datetime(2025, 2, 1))
