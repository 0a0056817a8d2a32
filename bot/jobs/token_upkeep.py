"""token-upkeep: keep the Plum tokens alive, and warn the admins about the one thing the bot
can't fix by itself.

Every day, through the client's token manager (which saves rotated tokens before using them and
refreshes under a lock shared by all processes):
- the access token is refreshed when it expires within 2 days (or its expiry is unknown), so
  no Slack request waits on a refresh and an idle bot's refresh token keeps rotating;
- a refresh token that expires within 8 days is rotated too, in case Xoxoday extends it.
Afterwards, when the token the bot can't renew (the refresh token; or the access token when there
is no refresh token) expires within 7 days, or Xoxoday rejected the refresh token, every admin is
told, at most once a day: only a person can issue a new one in Xoxoday's dashboard. Client
credentials never need that: the bot can always get a new access token.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.jobs.scheduler import JobFailed
from bot.plum import InvalidGrantError, Tokens
from bot.rewards.kinds import OnceKind
from bot.settings import Settings
from bot.slack.blocks import jobs as job_blocks
from bot.slack.blocks.common import format_datetime, local
from storage import once
from storage.types import utcnow

log = logging.getLogger(__name__)

REFRESH_AHEAD = timedelta(days=2)
EXTEND_AHEAD = timedelta(days=8)
WARN_AHEAD = timedelta(days=7)
ONCE_KIND = OnceKind.PLUM_TOKEN_WARNING


def trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger(hour=4, minute=15, timezone=settings.REWARD_TIMEZONE)


def due(tokens: Tokens, now: datetime) -> bool:
    if tokens.access_expires_at is None or tokens.access_expires_at - now <= REFRESH_AHEAD:
        return True
    return tokens.refresh_expires_at is not None and tokens.refresh_expires_at - now <= (
        EXTEND_AHEAD
    )


def run(ctx: JobContext) -> str:
    runtime = ctx.runtime
    plum = runtime.plum
    store = runtime.store.token_store()
    now = utcnow()
    tokens = store.load()
    if tokens is None or tokens.flow != plum.token_flow:
        plum.get_access_token()  # first use: obtain the tokens (or adopt the configured ones)
        tokens = store.load()
    if tokens is None:  # pragma: no cover - the client saves what it obtains
        raise JobFailed("the Plum token store is empty after getting a token")
    renewable = plum.token_flow == "client_credentials" or bool(tokens.refresh_token)
    parts: list[str] = []
    if renewable and due(tokens, now):
        try:
            plum.refresh()
        except InvalidGrantError:
            told = warn(ctx, kind="refresh", expires_at=tokens.access_expires_at, rejected=True)
            raise JobFailed(
                f"Xoxoday rejected the refresh token; {told} admin(s) told to replace it"
            ) from None
        tokens = store.load() or tokens
        parts.append("tokens refreshed")
    if tokens.access_expires_at is not None:
        parts.append(f"access token valid until {_when(ctx, tokens.access_expires_at)}")
    if plum.token_flow == "client_credentials":
        return "; ".join(parts or ["nothing to do"])
    kind: job_blocks.TokenKind = "refresh" if tokens.refresh_token else "access"
    deadline = tokens.refresh_expires_at if tokens.refresh_token else tokens.access_expires_at
    if deadline is not None:
        parts.append(f"{kind} token valid until {_when(ctx, deadline)}")
    if deadline is not None and deadline - now <= WARN_AHEAD:
        told = warn(ctx, kind=kind, expires_at=deadline)
        parts.append(f"{told} admin(s) warned" if told else "admins already warned today")
    return "; ".join(parts)


def warn(
    ctx: JobContext,
    *,
    kind: job_blocks.TokenKind,
    expires_at: datetime | None,
    rejected: bool = False,
) -> int:
    """DM every admin, at most once a day; how many were told."""
    runtime = ctx.runtime
    admins = runtime.notifier.admin_ids()
    if not admins:
        log.warning("the Plum %s token needs replacing, but REWARD_ADMINS is empty", kind)
        return 0
    today = local(utcnow(), runtime.settings.REWARD_TIMEZONE).date().isoformat()
    with runtime.store.session() as session:
        if not once.claim_once(session, kind=ONCE_KIND, key=today):
            return 0
    log.warning("the Plum %s token needs replacing by hand; telling the admins", kind)
    told = 0
    for admin in admins:
        payload = job_blocks.token_warning(
            kind=kind,
            expires_at=expires_at,
            now=utcnow(),
            tz=_tz_of(ctx, admin),
            rejected=rejected,
        )
        if runtime.notifier.dm(admin, payload) is not None:
            told += 1
    return told


def _when(ctx: JobContext, moment: datetime) -> str:
    return format_datetime(moment, ctx.runtime.settings.REWARD_TIMEZONE)


def _tz_of(ctx: JobContext, user_id: str) -> str:
    runtime = ctx.runtime
    try:
        return runtime.people.profile(user_id).person.tz or runtime.settings.REWARD_TIMEZONE
    except Exception:  # unknown user or Slack unreachable: the team's zone will do
        return runtime.settings.REWARD_TIMEZONE


JOB = JobSpec(
    name="token-upkeep",
    description="Daily: refresh Plum tokens ahead of expiry; warn admins 7 days before the "
    "refresh token expires",
    trigger=trigger,
    run=run,
    misfire_grace=timedelta(hours=12),
)
