"""weekly-summary against the running bot: nine weeks of rewards in the ledger (SQLite and
PostgreSQL), the job run at a controlled time, and what the channel and the admins see read back
from the fake Slack, the chart included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.jobs.base import JobContext
from bot.jobs.chart import HEIGHT_PX, WIDTH_PX, chart_alt_text, chart_title, weekly_points_chart
from bot.jobs.registry import JOBS
from bot.jobs.scheduler import execute
from bot.jobs.weekly_summary import JOB, reported_week, week_bounds
from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.plum_sandbox import SandboxServer
from bot.simulators.sandbox_notice import SANDBOX_NOTICE
from bot.slack.blocks.common import money
from storage import members, reports, rewards
from storage.models import Member
from storage.rewards import RecipientResult
from storage.states import RewardStatus
from tests.e2e.harness import ADMIN, APPROVER, BOB, CHEN, MARIA, BotHarness, message_text
from tests.jobs.test_chart import assert_bars_match, png_size
from tests.storage.support import TEST_AUDIT_KEY, TEST_ENCRYPTION_KEY, ledger_database

S = RewardStatus
TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
RUN_AT = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # Monday 9 March, 09:00 in Berlin (CET)
THIS_MONDAY = date(2026, 3, 2)
CHANNEL = "C0KUDOS"
CHART_WEEKS = [
    (date(2026, 1, 12), 100),
    (date(2026, 1, 19), 0),
    (date(2026, 1, 26), 250),
    (date(2026, 2, 2), 400),
    (date(2026, 2, 9), 50),
    (date(2026, 2, 16), 300),
    (date(2026, 2, 23), 1000),
    (date(2026, 3, 2), 1250),
]


def berlin(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


# ── the bot, at a controlled time, on each database ──────────────────────────────────────


@pytest.fixture
def clock() -> Iterator[None]:
    """Everything happens on Monday 9 March 2026 at 09:00 Berlin (time runs on from there)."""
    with time_machine.travel(RUN_AT, tick=True):
        yield


@pytest.fixture
def fake(clock: None) -> Iterator[FakeSlack]:
    with FakeSlack(workspace=Workspace.demo()) as fake:
        yield fake


@pytest.fixture
def sandbox(clock: None, tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(state_path=tmp_path / "sandbox.json", rate_limits=False)
    server.start()
    yield server
    server.stop()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


# What the ledger holds is read on both databases; where the summary goes is the same on each.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated ledger of its own (a file, or a PostgreSQL schema dropped afterwards)."""
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with ledger_database(request.param, tmp_path=tmp_path, pg_url=pg_url) as db:
        yield db.url


@pytest.fixture
def make_bot(
    tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer, database_url: str
) -> Iterator[Any]:
    bots: list[BotHarness] = []

    def make(**overrides: object) -> BotHarness:
        settings: dict[str, object] = {
            "DATABASE_URL": database_url,
            "AUDIT_KEY": TEST_AUDIT_KEY,
            "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
            "REWARD_TIMEZONE": TZ,
            "REWARD_SUMMARY_CHANNEL": CHANNEL,
            **overrides,
        }
        bot = BotHarness(tmp_path=tmp_path, fake=fake, sandbox=sandbox, worker=False, **settings)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.stop()


# ── the ledger ───────────────────────────────────────────────────────────────────────────


class Ledger:
    """Rewards recorded through storage as the bot records them, at chosen moments."""

    def __init__(self, bot: BotHarness) -> None:
        self.store = bot.runtime.store
        self.n = 0
        self.ids: dict[str, int] = {}
        with self.store.session() as s:
            for uid in (ADMIN, APPROVER, MARIA, BOB, CHEN):
                member = members.upsert_member(
                    s, team_id="T0001", slack_user_id=uid, email=f"{uid.lower()}@acme.test"
                )
                self.ids[uid] = member.id  # type: ignore[assignment]

    def give(
        self,
        when: datetime,
        giver: str,
        to: dict[str, int],
        *,
        values: tuple[str, ...] = (),
        final: RewardStatus = S.SENT,
        refused: tuple[str, ...] = (),
    ) -> None:
        self.n += 1
        with time_machine.travel(when, tick=False):
            with self.store.session() as s:
                reward = rewards.create_reward(
                    s,
                    giver=self.ids[giver],
                    recipients=[(self.ids[uid], pts) for uid, pts in to.items()],
                    citation="thanks for the help",
                    idempotency_key=f"seed-{self.n}",
                    values=values,
                    channel_id="C0GENERAL",
                    expiry_months=12,
                    status=S.PENDING_APPROVAL if final == S.PENDING_APPROVAL else S.QUEUED,
                ).reward
            if final == S.PENDING_APPROVAL:
                return
            with self.store.session() as s:
                rewards.claim_for_delivery(s, reward_id=reward.id)
            with self.store.session() as s:
                rewards.record_delivery(
                    s,
                    reward_id=reward.id,
                    outcome=S.SENT if final == S.CANCELLED else final,
                    recipients=[
                        RecipientResult(member=self.ids[uid], outcome="failed") for uid in refused
                    ],
                )
            if final == S.CANCELLED:
                with self.store.session() as s:
                    rewards.cancel_reward(s, reward_id=reward.id, actor=ADMIN, reason="mistake")

    def earlier_weeks(self) -> None:
        """Nine weeks before the one reported: the chart's first six weeks, and one older."""
        self.give(berlin(date(2026, 1, 7)), CHEN, {MARIA: 999})  # week 9: not in the chart
        self.give(berlin(date(2026, 1, 14)), CHEN, {MARIA: 100})
        self.give(berlin(date(2026, 1, 21)), CHEN, {MARIA: 500}, final=S.FAILED)  # 0 sent
        self.give(berlin(date(2026, 1, 28)), BOB, {MARIA: 200, CHEN: 50})
        self.give(berlin(date(2026, 2, 4)), MARIA, {BOB: 400})
        self.give(berlin(date(2026, 2, 11)), BOB, {CHEN: 50})
        self.give(berlin(date(2026, 2, 18)), CHEN, {BOB: 300})

    def week_before(self) -> None:
        """Week of 23 February: 1,000 points, 3 rewards, 3 people, 2 givers."""
        self.give(berlin(date(2026, 2, 24)), CHEN, {MARIA: 200}, values=("teamwork",))
        self.give(berlin(date(2026, 2, 25)), BOB, {CHEN: 400}, values=("teamwork",))
        self.give(berlin(date(2026, 2, 26)), CHEN, {BOB: 400})

    def reported_week(self) -> None:
        """Week of 2 March: 1,250 points, 5 rewards, 4 people, 3 givers; and what doesn't count."""
        monday, sunday = THIS_MONDAY, date(2026, 3, 8)
        # 00:10 on Monday in Berlin is still Sunday in UTC: it counts in this week
        self.give(berlin(monday, 0, 10), BOB, {MARIA: 100}, values=("teamwork",))
        self.give(berlin(date(2026, 3, 4)), CHEN, {MARIA: 200}, values=("teamwork", "craft"))
        self.give(berlin(date(2026, 3, 5)), CHEN, {BOB: 250, ADMIN: 100}, values=("craft",))
        # Xoxoday refused the approver's share: only Chen's 100 count
        self.give(berlin(date(2026, 3, 6)), MARIA, {CHEN: 100, APPROVER: 500}, refused=(APPROVER,))
        self.give(berlin(sunday, 23, 30), BOB, {CHEN: 500})  # the last half hour of the week
        # none of these count
        self.give(berlin(date(2026, 3, 9), 0, 30), CHEN, {MARIA: 777})  # the next week
        self.give(berlin(date(2026, 3, 3)), CHEN, {MARIA: 1000}, final=S.FAILED)
        self.give(berlin(date(2026, 3, 3)), CHEN, {MARIA: 1000}, final=S.IN_DOUBT)
        self.give(berlin(date(2026, 3, 3)), BOB, {MARIA: 600}, final=S.PENDING_APPROVAL)
        self.give(berlin(date(2026, 3, 4)), CHEN, {BOB: 300}, final=S.CANCELLED)

    def reported_and_waiting(self) -> None:
        """A reward of the reported week someone reported, which no admin has decided yet: it
        counts in no figure, ranking or bar of the chart."""
        self.give(berlin(date(2026, 3, 4)), BOB, {CHEN: 900}, values=("teamwork",))
        with self.store.session() as s:
            last = rewards.get_reward_by_idempotency_key(s, idempotency_key=f"seed-{self.n}")
            reporter = s.get(Member, self.ids[MARIA])
            assert last is not None and reporter is not None
            reports.report_reward(s, reward=last, reporter=reporter, reason="swapped points")


def run_job(bot: BotHarness, *, at: datetime = RUN_AT, manual: bool = False) -> str:
    return JOB.run(JobContext(runtime=bot.runtime, scheduled_for=at, manual=manual))


def seeded(bot: BotHarness, *, quiet: bool = False, reported: bool = False) -> BotHarness:
    ledger = Ledger(bot)
    ledger.earlier_weeks()
    ledger.week_before()
    if not quiet:
        ledger.reported_week()
    if reported:
        ledger.reported_and_waiting()
    return bot


def channel_posts(fake: FakeSlack, channel: str = CHANNEL) -> list[dict[str, Any]]:
    return fake.messages(channel)


def fields_of(message: dict[str, Any]) -> list[str]:
    return [f["text"] for b in message["blocks"] if b.get("fields") for f in b["fields"]]


def balance_text(sandbox: SandboxServer) -> str:
    return money(sandbox.state.account_balance, sandbox.state.currency)


# ── the channel ──────────────────────────────────────────────────────────────────────────


def test_the_channel_gets_last_weeks_figures_against_the_week_before_and_the_chart(
    make_bot, fake: FakeSlack
) -> None:
    bot = seeded(make_bot(), reported=True)  # a reported reward waiting for an admin: unseen
    account = run_job(bot)

    summary, chart_post = channel_posts(fake)
    assert fields_of(summary) == [
        "*Points given*\n1,250 points (▲ 25% vs 1,000)",
        "*Rewards*\n5 rewards (▲ 67% vs 3)",
        "*People recognised*\n4 people (▲ 33% vs 3)",
        "*Givers*\n3 givers (▲ 50% vs 2)",
    ]
    seen = message_text(summary)
    assert "📊 Weekly rewards: 2 – 8 March 2026" in seen
    assert (
        "*Most recognised*\n"
        "🥇 <@UCHEN001> · 600 points (▲ 50% vs 400) in 2 rewards\n"
        "🥈 <@UMARIA01> · 300 points (▲ 50% vs 200) in 2 rewards\n"
        "🥉 <@UBOB0001> · 250 points (▼ 38% vs 400) in 1 reward\n"
        "4. <@UADMIN01> · 100 points (▲ from 0) in 1 reward"
    ) in seen
    assert (
        "*Most generous*\n"
        "🥇 <@UBOB0001> · 600 points (▲ 50% vs 400) in 2 rewards\n"
        "🥈 <@UCHEN001> · 550 points (▼ 8% vs 600) in 2 rewards\n"
        "🥉 <@UMARIA01> · 100 points (▲ from 0) in 1 reward"
    ) in seen
    assert (
        "*Values most recognised*\n"
        "🥇 #craft · 550 points (▲ from 0) in 2 rewards\n"
        "🥈 #teamwork · 300 points (▼ 50% vs 600) in 2 rewards"
    ) in seen
    assert "Europe/Berlin time" in seen
    assert "Spend" not in seen and "left at Xoxoday" not in seen
    assert SANDBOX_NOTICE not in seen  # a real Plum URL (the test sandbox), not sandbox mode

    # the chart follows, as a file shared in the channel
    (upload,) = fake.files
    assert upload["channel"] == CHANNEL
    assert chart_post["files"][0]["id"] == upload["id"]
    assert png_size(upload["content"]) == (WIDTH_PX, HEIGHT_PX)
    assert upload["content"] == weekly_points_chart(CHART_WEEKS)
    assert_bars_match(upload["content"], [p for _, p in CHART_WEEKS])
    assert upload["title"] == chart_title(CHART_WEEKS)
    assert upload["alt_txt"] == chart_alt_text(CHART_WEEKS)
    assert "week of 2026-01-12: 100; week of 2026-01-19: 0;" in upload["alt_txt"]
    assert "week of 2026-03-02: 1250." in upload["alt_txt"]
    assert "2026-01-05" not in upload["alt_txt"]  # the ninth week back is not drawn

    assert account == (
        "week 2026-03-02 to 2026-03-08 (Europe/Berlin): 1,250 points in 5 rewards to 4 people; "
        "posted in C0KUDOS with the chart; DM'd 1 of 1 admins"
    )


def test_admins_get_a_dm_that_adds_spend_and_the_balance(
    make_bot, fake: FakeSlack, sandbox: SandboxServer
) -> None:
    bot = seeded(make_bot(REWARD_LOW_BALANCE="100000000"))
    run_job(bot)

    (dm,) = fake.dms_to(ADMIN)
    seen = message_text(dm)
    assert "*Points given*\n1,250 points (▲ 25% vs 1,000)" in seen
    assert "🥇 <@UCHEN001> · 600 points" in seen
    # what the account paid: the week's points sent, the one cancelled since included (its
    # refund is a credit); the week before paid 1,000
    assert (
        "*Spend*\n1,550.00 INR (▲ 55% vs 1,000.00)\n"
        "points 1,550.00 · gift cards 0.00 · donations 0.00\n"
        "300.00 refunded (rewards and orders cancelled)"
    ) in seen
    assert f"*Account balance*\n{balance_text(sandbox)} left at Xoxoday" in seen
    assert "⚠️ Under the low-balance mark of 100,000,000.00" in seen
    assert "Spend is what the Xoxoday account paid in the week" in seen
    assert "Also posted, without spend and balance, in <#C0KUDOS>." in seen
    assert [r["operation"] for r in sandbox.requests].count("getBalance") == 1
    # the chart is in the channel: admins are not sent a second copy
    assert [f["channel"] for f in fake.files] == [CHANNEL]
    for someone in (MARIA, BOB, CHEN, APPROVER):
        assert fake.dms_to(someone) == []


@SQLITE_ONLY
def test_without_the_balance_the_summary_still_goes_out_and_says_so(
    make_bot, fake: FakeSlack, sandbox: SandboxServer
) -> None:
    bot = seeded(make_bot())
    sandbox.faults.set("getBalance", error="PIPE10017")
    account = run_job(bot)

    seen = message_text(fake.dms_to(ADMIN)[0])
    assert "*Spend*\n1,550.00 (▲ 55% vs 1,000.00)" in seen  # the currency is Xoxoday's
    assert "I couldn't get the balance from Xoxoday right now." in seen
    assert len(channel_posts(fake)) == 2
    assert account.endswith("DM'd 1 of 1 admins, without the balance (Xoxoday unreachable)")


def test_a_quiet_week_gets_a_short_friendly_message(make_bot, fake: FakeSlack) -> None:
    bot = seeded(make_bot(), quiet=True)
    account = run_job(bot)

    (post,) = channel_posts(fake)
    seen = message_text(post)
    assert "A quiet week for rewards" in seen
    assert "None were sent from Monday 2 March 2026 to Sunday 8 March 2026." in seen
    assert "The week before: 1,000 points in 3 rewards." in seen
    assert "/reward @maria 50" in seen
    assert "Most recognised" not in seen and "Points given" not in seen
    assert len(post["blocks"]) <= 2
    assert fake.files == []
    admin = message_text(fake.dms_to(ADMIN)[0])
    assert "A quiet week for rewards" in admin
    assert "*Spend*\n0.00 INR (▼ 100% vs 1,000.00)" in admin and "left at Xoxoday" in admin
    assert account == (
        "week 2026-03-02 to 2026-03-08 (Europe/Berlin): quiet, no rewards sent; "
        "posted in C0KUDOS; DM'd 1 of 1 admins"
    )


@SQLITE_ONLY
def test_the_first_summary_shows_its_figures_without_comparing_them_with_nothing(
    make_bot, fake: FakeSlack
) -> None:
    """Nothing was sent the week before (the bot's first week): no "(▲ from 0)" on every
    line, and the note says why there is no comparison."""
    bot = make_bot()
    Ledger(bot).reported_week()
    run_job(bot)

    summary, _chart = channel_posts(fake)
    assert fields_of(summary) == [
        "*Points given*\n1,250 points",
        "*Rewards*\n5 rewards",
        "*People recognised*\n4 people",
        "*Givers*\n3 givers",
    ]
    seen = message_text(summary)
    assert "🥇 <@UCHEN001> · 600 points in 2 rewards" in seen
    assert "🥇 #craft · 550 points in 2 rewards" in seen
    assert "none were sent the week before, so there's nothing to compare with" in seen
    assert "compared with the week before" not in seen
    admin = message_text(fake.dms_to(ADMIN)[0])
    assert (
        "*Spend*\n1,550.00 INR\npoints 1,550.00 · gift cards 0.00 · donations 0.00\n300.00 refunded"
    ) in admin
    for shown in (seen, admin, summary["text"]):
        assert "from 0" not in shown and "▲" not in shown


# ── where it goes ────────────────────────────────────────────────────────────────────────


@SQLITE_ONLY
def test_without_a_channel_only_the_admins_hear_and_get_the_chart(
    make_bot, fake: FakeSlack
) -> None:
    bot = seeded(make_bot(REWARD_SUMMARY_CHANNEL=None, REWARD_ADMINS=f"{ADMIN},{APPROVER}"))
    account = run_job(bot)

    assert channel_posts(fake, CHANNEL) == [] and channel_posts(fake, "C0GENERAL") == []
    for admin in (ADMIN, APPROVER):
        dm, chart = fake.dms_to(admin)
        assert "Only admins got this summary: set REWARD_SUMMARY_CHANNEL" in message_text(dm)
        assert "*Spend*\n1,550.00 INR" in message_text(dm)
        assert chart["files"]
    uploads = fake.files
    assert len(uploads) == 2 and {u["channel"] for u in uploads} == {
        fake.workspace.im_of(ADMIN),
        fake.workspace.im_of(APPROVER),
    }
    assert all(u["content"] == weekly_points_chart(CHART_WEEKS) for u in uploads)
    assert account.endswith(
        "no REWARD_SUMMARY_CHANNEL set, so only the admins' DM; DM'd 2 of 2 admins with the chart"
    )


@SQLITE_ONLY
def test_a_channel_the_bot_cannot_post_in_is_reported_to_the_admins(
    make_bot, fake: FakeSlack
) -> None:
    fake.workspace.add_channel(id="C0SECRET", name="secret", bot_member=False)
    bot = seeded(make_bot(REWARD_SUMMARY_CHANNEL="C0SECRET"))
    account = run_job(bot)

    assert channel_posts(fake, "C0SECRET") == []
    dm, chart = fake.dms_to(ADMIN)
    assert "I couldn't post it in <#C0SECRET> (Slack said `not_in_channel`)" in message_text(dm)
    assert chart["files"]
    assert "could not post in C0SECRET: not_in_channel" in account


@SQLITE_ONLY
def test_a_chart_slack_refuses_leaves_the_summary_standing(make_bot, fake: FakeSlack) -> None:
    bot = seeded(make_bot())
    fake.fail_next("files.getUploadURLExternal", "internal_error")
    account = run_job(bot)
    (summary,) = channel_posts(fake)
    assert "*Points given*\n1,250 points" in message_text(summary)
    assert fake.files == []
    assert "posted in C0KUDOS (chart failed: internal_error); DM'd 1 of 1 admins" in account


@SQLITE_ONLY
def test_nowhere_to_post_is_said_plainly(make_bot, fake: FakeSlack) -> None:
    bot = seeded(make_bot(REWARD_SUMMARY_CHANNEL=None, REWARD_ADMINS=""))
    account = run_job(bot)
    assert account.endswith("nothing sent (set REWARD_SUMMARY_CHANNEL or REWARD_ADMINS)")
    assert fake.calls_to("chat.postMessage") == []


@SQLITE_ONLY
def test_sandbox_mode_carries_the_notice_and_counts_spend_in_the_sandbox_currency(
    make_bot, fake: FakeSlack
) -> None:
    bot = seeded(make_bot(PLUM_BASE_URL="sandbox"))
    run_job(bot)

    embedded = bot.embedded_sandbox
    assert embedded is not None
    summary, chart_post = channel_posts(fake)
    assert SANDBOX_NOTICE in message_text(summary) and SANDBOX_NOTICE in chart_post["text"]
    admin = message_text(fake.dms_to(ADMIN)[0])
    currency = embedded.state.currency
    assert f"*Spend*\n1,550.00 {currency} (▲ 55% vs 1,000.00)" in admin
    assert f"{balance_text(embedded)} left at Xoxoday" in admin
    assert SANDBOX_NOTICE in admin


def test_the_scheduler_runs_it_once_and_records_the_account(make_bot, fake: FakeSlack) -> None:
    bot = seeded(make_bot())
    assert JOBS["weekly-summary"] is JOB
    first = execute(bot.runtime, JOB, scheduled_for=RUN_AT)
    again = execute(bot.runtime, JOB, scheduled_for=RUN_AT)
    assert first.ok and first.detail.startswith("week 2026-03-02 to 2026-03-08 (Europe/Berlin)")
    assert not again.claimed
    assert len([m for m in channel_posts(fake) if m["blocks"]]) == 1
    assert len(fake.dms_to(ADMIN)) == 1


@SQLITE_ONLY
def test_a_run_that_reached_nobody_is_recorded_as_failed_with_the_reason(
    make_bot, fake: FakeSlack
) -> None:
    fake.workspace.add_channel(id="C0SECRET", name="secret", bot_member=False)
    bot = seeded(make_bot(REWARD_SUMMARY_CHANNEL="C0SECRET", REWARD_ADMINS=""))
    result = execute(bot.runtime, JOB, scheduled_for=RUN_AT)
    assert not result.ok
    assert "reached nobody" in result.detail and "not_in_channel" in result.detail


# ── which week ───────────────────────────────────────────────────────────────────────────


@SQLITE_ONLY
def test_a_late_or_manual_run_reports_the_same_week(make_bot, fake: FakeSlack) -> None:
    bot = seeded(make_bot())
    on_time = run_job(bot)
    late = run_job(bot, at=RUN_AT + timedelta(hours=20))  # missed, run within the day's grace
    by_hand = run_job(bot, at=berlin(date(2026, 3, 12), 15), manual=True)
    assert on_time == late == by_hand
    posts = [m for m in channel_posts(fake) if m["blocks"]]
    assert len(posts) == 3 and len({message_text(p) for p in posts}) == 1


@pytest.mark.parametrize(
    ("scheduled", "monday"),
    [
        (RUN_AT, date(2026, 3, 2)),  # Monday 09:00
        (berlin(date(2026, 3, 9), 0, 0), date(2026, 3, 2)),  # the moment the week ends
        (berlin(date(2026, 3, 8), 23, 59), date(2026, 2, 23)),  # the week is not over yet
        (berlin(date(2026, 3, 13), 17), date(2026, 3, 2)),  # a Friday cron
        (berlin(date(2026, 1, 5), 9), date(2025, 12, 29)),  # across a new year
    ],
)
def test_the_reported_week_is_the_last_full_monday_to_sunday(
    scheduled: datetime, monday: date
) -> None:
    assert reported_week(scheduled, TZ) == monday


def test_the_week_is_counted_in_the_configured_time_zone() -> None:
    # Berlin moves to summer time on Sunday 29 March 2026: that week is an hour short
    start, end = week_bounds(date(2026, 3, 23), TZ)
    assert start == datetime(2026, 3, 22, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 22, tzinfo=UTC)
    assert week_bounds(date(2026, 3, 23), "Asia/Tokyo")[0] == datetime(2026, 3, 22, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        reported_week(datetime(2026, 3, 9, 9), TZ)


def test_the_job_runs_on_the_summary_cron_in_the_reward_time_zone() -> None:
    from bot.settings import load_settings

    assert JOB.name == "weekly-summary" and JOB.misfire_grace == timedelta(days=1)
    default = JOB.trigger(load_settings(REWARD_TIMEZONE=TZ))
    after = datetime(2026, 3, 4, tzinfo=UTC)
    assert default.get_next_fire_time(None, after) == datetime(2026, 3, 9, 9, tzinfo=BERLIN)
    friday = JOB.trigger(load_settings(REWARD_TIMEZONE=TZ, REWARD_SUMMARY_CRON="30 16 * * fri"))
    assert friday.get_next_fire_time(None, after) == datetime(2026, 3, 6, 16, 30, tzinfo=BERLIN)
