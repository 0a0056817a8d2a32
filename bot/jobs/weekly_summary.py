"""weekly-summary: last week's rewards, posted to REWARD_SUMMARY_CHANNEL and DM'd to the admins.

The week reported is the last full Monday-to-Sunday week in REWARD_TIMEZONE that ended at or
before the run's scheduled time: [Monday 00:00, next Monday 00:00) local time. With the default
schedule (Monday 09:00) that is the seven days that ended nine hours earlier; a run that was
late (missed by up to a day) or started by hand reports the same week as the one on time.

Only points delivered count (recipients whose outcome is `sent`, by when they were sent), as in
`storage.queries`. Each figure is compared with the week before, and a chart of the last eight
weeks (points given per week) follows the channel post as a PNG (files_upload_v2). Admins get a
DM version that adds spend, everything the Xoxoday account paid in the week in its currency
(`bot.rewards.spending`: points sent, one unit per point, with points at Xoxoday; gift cards and
donations at what Xoxoday charged; what the daily reconciliation checks against Xoxoday's
payment report), and the account balance from Xoxoday (left out, and said so, when Xoxoday
can't be asked). A quiet week gets a short note and no chart. Without a channel only the admins
hear about the week, and they get the chart in their DM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.chart import chart_alt_text, chart_title, weekly_points_chart
from bot.jobs.scheduler import JobFailed
from bot.plum import Balance
from bot.rewards.balances import Account, account_balance
from bot.rewards.spending import Spend, spend_between
from bot.slack.blocks.common import text_only
from bot.slack.blocks.summary import (
    AdminExtras,
    Ranked,
    WeekFigures,
    WeeklySummary,
    admin_summary_message,
    summary_message,
)
from storage import queries
from storage.queries import MemberTotal, Total

log = logging.getLogger(__name__)

NAME = "weekly-summary"
CHART_WEEKS = 8
TOP = 5


# ── which week ───────────────────────────────────────────────────────────────────────────


def reported_week(scheduled_for: datetime, tz: str) -> date:
    """The Monday of the last full Monday–Sunday week in `tz` that ended at or before
    `scheduled_for`."""
    if scheduled_for.tzinfo is None:
        raise ValueError("scheduled_for must be timezone-aware")
    local = scheduled_for.astimezone(ZoneInfo(tz))
    this_monday = local.date() - timedelta(days=local.weekday())
    return this_monday - timedelta(weeks=1)


def week_bounds(monday: date, tz: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, the next Monday 00:00) in `tz`, as UTC (a DST week is 167 or 169 h)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(monday, time(), tzinfo=zone)
    end = datetime.combine(monday + timedelta(weeks=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


# ── what the ledger says ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class WeekReport:
    summary: WeeklySummary
    chart_weeks: list[tuple[date, int]]  # (Monday, points delivered), oldest first
    spend: Spend  # what the Xoxoday account paid in the week (for the admins)
    spend_before: Spend  # and in the week before


def _figures(found: queries.PeriodSummary) -> WeekFigures:
    return WeekFigures(
        points=found.points,
        rewards=found.rewards,
        recipients=found.recipients,
        givers=found.givers,
    )


def _people(now: list[MemberTotal], before: list[MemberTotal]) -> tuple[Ranked, ...]:
    earlier = {t.member.slack_user_id: t.points for t in before}
    return tuple(
        Ranked(
            key=t.member.slack_user_id,
            points=t.points,
            rewards=t.rewards,
            points_before=earlier.get(t.member.slack_user_id, 0),
        )
        for t in now
    )


def _values(now: list[Total], before: list[Total]) -> tuple[Ranked, ...]:
    earlier = {t.key: t.points for t in before}
    return tuple(
        Ranked(key=t.key, points=t.points, rewards=t.rewards, points_before=earlier.get(t.key, 0))
        for t in now
        if t.key
    )


def week_report(
    session: Session, *, monday: date, tz: str, points_at_xoxoday: bool = True
) -> WeekReport:
    """The week starting `monday` against the week before, and the eight weeks for the chart."""
    mondays = [monday - timedelta(weeks=n) for n in range(CHART_WEEKS - 1, -1, -1)]
    weekly = {m: queries.period_summary(session, **_period(m, tz)) for m in mondays}
    this, before = _period(monday, tz), _period(monday - timedelta(weeks=1), tz)
    board = queries.leaderboard(session, **this, limit=TOP)
    summary = WeeklySummary(
        week_start=monday,
        week_end=monday + timedelta(days=6),
        tz=tz,
        this_week=_figures(weekly[monday]),
        week_before=_figures(weekly[mondays[-2]]),
        top_recipients=_people(board.recipients, queries.totals_by_recipient(session, **before)),
        top_givers=_people(board.givers, queries.totals_by_giver(session, **before)),
        top_values=_values(
            queries.totals_by_value(session, **this, limit=TOP),
            queries.totals_by_value(session, **before),
        ),
    )
    return WeekReport(
        summary=summary,
        chart_weeks=[(m, weekly[m].points) for m in mondays],
        spend=spend_between(session, **this, points_at_xoxoday=points_at_xoxoday),
        spend_before=spend_between(session, **before, points_at_xoxoday=points_at_xoxoday),
    )


class _Period(TypedDict):
    since: datetime
    until: datetime


def _period(monday: date, tz: str) -> _Period:
    since, until = week_bounds(monday, tz)
    return {"since": since, "until": until}


# ── telling people ───────────────────────────────────────────────────────────────────────


def upload_chart(slack: WebClient, *, channel: str, png: bytes, report: WeekReport) -> str | None:
    """Share the chart `png` in `channel` (an id); None when done, else what went wrong."""
    weeks = report.chart_weeks
    comment = text_only(f"📊 Points given per week, the last {len(weeks)} weeks")["text"]
    try:
        slack.files_upload_v2(
            channel=channel,
            content=png,
            filename=f"rewards-weekly-{report.summary.week_start.isoformat()}.png",
            title=chart_title(weeks),
            alt_txt=chart_alt_text(weeks),
            initial_comment=comment,
        )
    except SlackApiError as err:
        return str(err.response.get("error") or "error")
    except (SlackClientError, OSError) as err:
        return type(err).__name__
    return None


def _account(fetch: Callable[[], Balance | None]) -> Account:
    try:
        return account_balance(fetch)
    except Exception as err:  # the summary goes out without the balance
        log.warning("weekly summary: getBalance failed: %s", type(err).__name__)
        return Account(value=None)


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    settings = runtime.settings
    tz = settings.REWARD_TIMEZONE
    monday = reported_week(ctx.scheduled_for, tz)
    with runtime.store.read_session() as session:
        report = week_report(
            session, monday=monday, tz=tz, points_at_xoxoday=not settings.storefront
        )
    summary = report.summary
    now = summary.this_week
    png = None if summary.quiet else weekly_points_chart(report.chart_weeks)
    account = [
        f"week {summary.week_start.isoformat()} to {summary.week_end.isoformat()} ({tz}): "
        + (
            "quiet, no rewards sent"
            if summary.quiet
            else f"{now.points:,} points in {now.rewards:,} rewards to {now.recipients:,} people"
        )
    ]

    channel = settings.REWARD_SUMMARY_CHANNEL
    posted_in: str | None = None
    problem: str | None = None
    if not channel:
        problem = "not_set"
        account.append("no REWARD_SUMMARY_CHANNEL set, so only the admins' DM")
    else:
        result = runtime.notifier.post(channel, summary_message(summary=summary))
        if isinstance(result, dict):
            posted_in = result["channel"]
            posted = f"posted in {posted_in}"
            if png is not None:
                failed = upload_chart(runtime.slack, channel=posted_in, png=png, report=report)
                posted += f" (chart failed: {failed})" if failed else " with the chart"
            account.append(posted)
        else:
            problem = result
            posted_in = channel
            log.warning("weekly summary: could not post in %s: %s", channel, result)
            account.append(f"could not post in {channel}: {result}")

    admins = list(settings.REWARD_ADMINS)
    reached = 0
    if admins:
        found = _account(runtime.plum.get_balance)
        extras = AdminExtras(
            account_balance=found.value,
            account_currency=found.currency,
            spend=report.spend,
            spend_before=report.spend_before,
            low_balance=settings.REWARD_LOW_BALANCE,
            posted_in=posted_in,
            channel_problem=problem,
        )
        payload = admin_summary_message(summary=summary, extras=extras)
        chart_to_admins = png is not None and problem is not None
        for admin in admins:
            ref = runtime.notifier.dm(admin, payload)
            if ref is None:
                continue
            reached += 1
            if png is not None and chart_to_admins:
                upload_chart(runtime.slack, channel=ref["channel"], png=png, report=report)
        balance = "" if found.value is not None else ", without the balance (Xoxoday unreachable)"
        chart = " with the chart" if chart_to_admins else ""
        account.append(f"DM'd {reached} of {len(admins)} admins{chart}{balance}")
    else:
        account.append("no REWARD_ADMINS to DM")

    line = "; ".join(account)
    if problem is not None and reached == 0:
        if problem == "not_set" and not admins:
            return line + ": nothing sent (set REWARD_SUMMARY_CHANNEL or REWARD_ADMINS)"
        raise JobFailed(f"the weekly summary reached nobody: {line}")
    return line


JOB = JobSpec(
    name=NAME,
    description="Last week's rewards vs the week before, with an 8-week chart; "
    "admins also get spend and balance",
    trigger=lambda s: CronTrigger.from_crontab(s.REWARD_SUMMARY_CRON, timezone=s.REWARD_TIMEZONE),
    run=run,
    misfire_grace=timedelta(days=1),
)
