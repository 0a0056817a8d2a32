"""reconcile: every morning, each day (in REWARD_TIMEZONE) since the last one reconciled, in the
ledger against Xoxoday's payment report for it (`bot.rewards.reconcile`): the gift card and
donation orders placed, and with points at Xoxoday the points sendBalance delivered. Any
difference, order by order and reward by reward, goes to every admin in one DM per day; when
everything matches nobody is told and the run's one-line account says so.

After downtime or a clock that jumped ahead, the run goes through every day it has not compared
yet, one by one, oldest first (at most `MAX_DAYS_PER_RUN`; the next run goes on from there). A
missed run is caught up at start within a day. Xoxoday unreachable: the run stops at the day it
could not read and fails, saying why; that day and the ones after it are the next run's first
(never skipped). Before the first run that recorded its days, the last run that ended ok says
where to start; with none either, yesterday alone.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.scheduler import JobFailed
from bot.plum import PlumError
from bot.rewards.reconcile import Reconciler, Reconciliation, days_to_check
from bot.settings import Settings
from bot.slack.blocks import orders as order_blocks
from bot.slack.blocks.common import local
from storage import jobs as job_repo

log = logging.getLogger(__name__)

NAME = "reconcile"


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(hour=7, minute=15, timezone=settings.REWARD_TIMEZONE)


def _last_done(ctx: JobContext, reconciler: Reconciler) -> date | None:
    """The last day compared; else (a ledger from before days were recorded) the day the last
    run that ended ok compared (the day before it ran)."""
    last = reconciler.last_reconciled()
    if last is not None:
        return last
    with ctx.runtime.store.read_session() as session:
        ran = job_repo.last_ok_run(session, job=NAME)
    if ran is None:
        return None
    return local(ran, ctx.runtime.settings.REWARD_TIMEZONE).date() - timedelta(days=1)


def _what(result: Reconciliation) -> str:
    what = f"{result.orders_checked} order(s)"
    if result.points_at_xoxoday:
        what += f" and {result.recipients_checked} reward recipient(s)"
    return what


def _tell(ctx: JobContext, result: Reconciliation) -> tuple[str, int]:
    """The day's one-line account, after DMing its differences to the admins; (line, told)."""
    runtime = ctx.runtime
    day, what = result.day, _what(result)
    if result.matches:
        return f"{day}: {what} match Xoxoday's payment report", 0
    admins = runtime.notifier.admin_ids()
    n = result.differences
    if not admins:
        return (
            f"{day}: {n} difference(s) with Xoxoday's payment report, but REWARD_ADMINS is empty",
            0,
        )
    balance = runtime.account_balance.get()
    payload = order_blocks.reconciliation_report(
        result=result, currency=balance.currency if balance is not None else None
    )
    told = sum(1 for admin in admins if runtime.notifier.dm(admin, payload) is not None)
    log.warning("reconciliation of %s: %d difference(s); %d admin(s) told", day, n, told)
    cut = " (report cut short)" if result.cut_short else ""
    return f"{day}: {n} difference(s) in {what}{cut}: told {told} admin(s)", told


def _account(results: list[Reconciliation], lines: list[str], told: int) -> str:
    """One day: its line. Several: how many matched and where the differences were."""
    if len(lines) == 1:
        return lines[0]
    first, last = results[0].day, results[-1].day
    differing = [r for r in results if not r.matches]
    head = f"{len(results)} days from {first} to {last}"
    if not differing:
        return f"{head}: all match Xoxoday's payment report"
    where = ", ".join(f"{r.day} ({r.differences})" for r in differing)
    return (
        f"{head}: {len(results) - len(differing)} match; difference(s) on {where}: "
        f"told {told} admin DM(s)"
    )


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    settings = runtime.settings
    yesterday = local(ctx.scheduled_for, settings.REWARD_TIMEZONE).date() - timedelta(days=1)
    reconciler = Reconciler(store=runtime.store, plum=runtime.plum, settings=settings)
    last = _last_done(ctx, reconciler)
    days, waiting = days_to_check(last_done=last, yesterday=yesterday)
    if not days:
        return f"nothing to compare: {last} was reconciled already (yesterday was {yesterday})"
    results: list[Reconciliation] = []
    lines: list[str] = []
    told = 0
    for day in days:
        try:
            result = reconciler.reconcile(day)
        except PlumError as err:
            done = f"{_account(results, lines, told)}; " if results else ""
            left = (yesterday - day).days + 1
            later = (
                f"; {left} day(s) from {day} to {yesterday} wait for the next run"
                if left > 1
                else ""
            )
            raise JobFailed(
                f"{done}{day}: couldn't read Xoxoday's payment report ({type(err).__name__}); "
                f"nothing was compared{later}"
            ) from err
        line, n = _tell(ctx, result)
        reconciler.mark_reconciled(day)
        results.append(result)
        lines.append(line)
        told += n
    account = _account(results, lines, told)
    if waiting:
        account += f"; {waiting} more day(s) to {yesterday} wait for the next run"
    return account


JOB = JobSpec(
    name=NAME,
    description="Daily: each day since the last one reconciled, its orders and points in the "
    "ledger against Xoxoday's payments",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(days=1),
)
