"""points-verify: every morning, with points in the bot, check that the point books add up
(`storage.point_books`, as `rewardbot points verify` does). When they don't, every admin gets
one DM naming the first differences and what to do, at most one a day however often the job
runs (a do-once key per day in REWARD_TIMEZONE). When they add up nobody is told and the run's
one-line account says so. With points at Xoxoday there are no books in the bot: nothing to do.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.rewards.kinds import OnceKind
from bot.settings import Settings
from bot.slack.blocks import jobs as job_blocks
from bot.slack.blocks.common import local
from storage import once
from storage.point_books import check_books
from storage.types import utcnow

log = logging.getLogger(__name__)

ONCE_KIND = OnceKind.POINT_BOOKS_ALERT
SHOWN = 5  # differences the DM lists; `rewardbot points verify --all` has the rest


def trigger(settings: Settings) -> BaseTrigger:
    # Before the day's first redemptions, after the night's hourly expiry (:10).
    return CronTrigger(hour=6, minute=45, timezone=settings.REWARD_TIMEZONE)


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    settings = runtime.settings
    if not settings.storefront:
        return "points live at Xoxoday: no point books in the bot to check"
    with runtime.store.read_session(snapshot=True) as session:
        books = check_books(session, today=utcnow().date())
    counted = f"{books.lots} lot(s) of {books.people} person(s)"
    if books.add_up:
        return f"{counted} add up"
    n = len(books.differences)
    log.error(
        "the point books do not add up: %d difference(s) in %s; the first: %s",
        n,
        counted,
        books.differences[0],
    )
    found = f"{n} difference(s) in {counted}; the first: {books.differences[0]}"
    admins = runtime.notifier.admin_ids()
    if not admins:
        return f"the point books do NOT add up: {found}; REWARD_ADMINS is empty: nobody to tell"
    today = local(utcnow(), settings.REWARD_TIMEZONE).date().isoformat()
    with runtime.store.session() as session:
        first = once.claim_once(session, kind=ONCE_KIND, key=today)
    if not first:
        return f"the point books do NOT add up: {found}; the admins were already told today"
    payload = job_blocks.point_books_alert(
        differences=[str(d) for d in books.differences[:SHOWN]],
        total=n,
        lots=books.lots,
        people=books.people,
    )
    told = sum(1 for admin in admins if runtime.notifier.dm(admin, payload) is not None)
    return f"the point books do NOT add up: {found}; told {told} admin(s)"


JOB = JobSpec(
    name="points-verify",
    description="Daily: the point books in the bot add up (points in the bot); admins hear if not",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=12),
)
