"""Anchoring the audit chain's head outside the database (`storage.audit_anchors`).

- `anchor_at_start`: a checkpoint as `rewardbot serve` and `rewardbot clock` start (what a
  process killed before it anchored its last events left is covered here).
- `watch`: every process that runs the bot anchors within AUDIT_ANCHOR_SECONDS (60) of each
  audit event it commits, at most once per that many seconds (`AnchorWatch`: woken by the
  commit, no thread while nothing happens), and at once as it stops.
- the `audit-anchor` job, hourly: a checkpoint when there are new events (what another
  process's watch has not covered, e.g. a `rewardbot` command that stopped uncleanly), and once an
  ISO week (in REWARD_TIMEZONE) the admins get it in a DM, a copy in Slack that nobody with only
  database or server access can reach (claimed with a do-once key, so several processes send it
  once).

None of it ever stops the bot: a problem is logged (and a run that meets one is recorded as
failed).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.scheduler import JobFailed
from bot.rewards.kinds import OnceKind
from bot.settings import Settings
from bot.slack.blocks import jobs as job_blocks
from bot.slack.blocks.common import local
from storage import audit_anchors, once
from storage.audit_anchors import AnchorConflict, Anchored, AnchorWatch

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

ONCE_KIND = OnceKind.AUDIT_CHECKPOINT_DM


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(minute=20, timezone=settings.REWARD_TIMEZONE)


def anchor_file(settings: Settings) -> Path | None:
    return audit_anchors.anchor_file_for(
        database_url=settings.DATABASE_URL, configured=settings.AUDIT_ANCHOR_FILE
    )


def anchor_at_start(runtime: Runtime) -> None:
    """Anchor the chain's head as a process starts; log what happened, never raise."""
    settings = runtime.settings
    path = anchor_file(settings)
    if settings.is_postgres and not settings.AUDIT_ANCHOR_FILE:
        log.warning(
            "AUDIT_ANCHOR_FILE is not set: audit checkpoints go to %s; set it to a file on "
            "durable storage the database's administrators can't write (the admins' weekly DM "
            "keeps a copy either way)",
            path.resolve() if path else None,
        )
    try:
        anchored = audit_anchors.anchor(runtime.store, path=path)
    except AnchorConflict as err:
        log.error("%s", err)
        return
    except OSError as err:
        log.error("could not write the audit anchor file %s: %s", path, err.strerror or err)
        return
    except Exception:
        log.exception("could not anchor the audit trail")
        return
    log.info("audit trail: %s", _written(anchored))


def watch(runtime: Runtime) -> AnchorWatch:
    """Anchor within AUDIT_ANCHOR_SECONDS of each audit event this process commits (close it
    to stop, which anchors what is still due)."""
    path = anchor_file(runtime.settings)
    store = runtime.store

    def anchor_now() -> None:
        try:
            anchored = audit_anchors.anchor(store, path=path)
        except AnchorConflict as err:
            log.error("%s", err)
        except OSError as err:
            log.error("could not write the audit anchor file %s: %s", path, err.strerror or err)
        except Exception:
            log.exception("could not anchor the audit trail")
        else:
            log.debug("new audit events anchored: %s", _written(anchored))

    watcher = AnchorWatch(anchor_now, window=runtime.settings.AUDIT_ANCHOR_SECONDS)
    store.on_audit_committed(watcher.touched)  # a closed watch ignores it
    return watcher


def _written(anchored: Anchored) -> str:
    checkpoint = anchored.checkpoint
    if checkpoint is None:
        return "empty, nothing to anchor"
    events = f"{checkpoint.count:,} event{'s' if checkpoint.count != 1 else ''}"
    if anchored.path is None:
        return f"checkpoint of {events} (an in-memory database has no anchor file)"
    if not anchored.written:
        return f"no new events since the checkpoint of {events} in {anchored.path}"
    return f"checkpoint of {events} written to {anchored.path}"


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    settings = runtime.settings
    path = anchor_file(settings)
    try:
        anchored = audit_anchors.anchor(runtime.store, path=path)
    except AnchorConflict as err:
        log.error("%s", err)
        raise JobFailed(str(err)) from None
    except OSError as err:
        raise JobFailed(
            f"could not write the audit anchor file {path}: {err.strerror or type(err).__name__}"
        ) from None
    done = _written(anchored)
    checkpoint, line = anchored.checkpoint, anchored.line
    if checkpoint is None or line is None:
        return done
    admins = runtime.notifier.admin_ids()
    if not admins:
        return f"{done}; REWARD_ADMINS is empty: nobody gets the weekly copy"
    year, week, _ = local(ctx.scheduled_for, settings.REWARD_TIMEZONE).isocalendar()
    with runtime.store.session() as session:
        first = once.claim_once(session, kind=ONCE_KIND, key=f"{year}-W{week:02d}")
    if not first:
        return f"{done}; the admins already have this week's copy"
    told = 0
    for admin in admins:
        payload = job_blocks.audit_checkpoint(
            line=line,
            count=checkpoint.count,
            at=checkpoint.at,
            tz=_tz_of(runtime, admin),
        )
        if runtime.notifier.dm(admin, payload) is not None:
            told += 1
    return f"{done}; this week's copy DM'd to {told} admin(s)"


def _tz_of(runtime: Runtime, user_id: str) -> str:
    try:
        return runtime.people.profile(user_id).person.tz or runtime.settings.REWARD_TIMEZONE
    except Exception:  # unknown user or Slack unreachable: the team's zone will do
        return runtime.settings.REWARD_TIMEZONE


JOB = JobSpec(
    name="audit-anchor",
    description=(
        "Hourly audit checkpoint outside the database when events are new (each process also "
        "anchors within AUDIT_ANCHOR_SECONDS of its own); admins get it weekly"
    ),
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=1),
)
