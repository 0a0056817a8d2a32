"""`/reward history` (your last 10 rewards given and received, with status) and
`/reward leaderboard [week|month]` (top recipients and givers, in REWARD_TIMEZONE periods)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, Respond

from bot.rewards.cards import Leaderboard, LeaderRow, card_for
from bot.rewards.commands import Period, ShowHistory, ShowLeaderboard
from bot.slack.blocks.common import text_only
from bot.slack.blocks.lists import (
    HISTORY_SIZE,
    LEADERBOARD_SIZE,
    history_message,
    leaderboard_message,
)
from storage import members as member_repo
from storage import queries

if TYPE_CHECKING:
    from bot.runtime import Runtime


def period_bounds(period: Period, tz: str, *, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the week (Monday first) or calendar month containing `now` in `tz`."""
    if period == "week":
        zone = ZoneInfo(tz)
        monday = now.astimezone(zone).date()
        monday -= timedelta(days=monday.weekday())
        start = datetime.combine(monday, time(0), tzinfo=zone)
        end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)
    return queries.month_bounds(tz, now=now)


def show_history(
    runtime: Runtime, parsed: ShowHistory, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    ack(**text_only("⏳ Looking up your rewards…"))
    user_id = command["user_id"]
    tz = runtime.people.profile(user_id).person.tz or runtime.settings.REWARD_TIMEZONE
    with runtime.store.read_session() as session:
        member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
        recent = (
            queries.recent_rewards(session, member=member, limit=HISTORY_SIZE)
            if member is not None
            else None
        )
    given = [card_for(r) for r in recent.given] if recent else []
    received = [card_for(r) for r in recent.received] if recent else []
    payload = history_message(viewer_id=user_id, given=given, received=received, tz=tz)
    respond(replace_original=True, response_type="ephemeral", **payload)


def show_leaderboard(
    runtime: Runtime, parsed: ShowLeaderboard, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    ack(**text_only("⏳ Counting…"))
    tz = runtime.settings.REWARD_TIMEZONE
    since, until = period_bounds(parsed.period, tz, now=datetime.now(UTC))
    with runtime.store.read_session() as session:
        board = queries.leaderboard(session, since=since, until=until, limit=LEADERBOARD_SIZE)
    card = Leaderboard(
        period=parsed.period,
        since=since.astimezone(ZoneInfo(tz)).date(),
        recipients=tuple(_rows(board.recipients)),
        givers=tuple(_rows(board.givers)),
    )
    payload = leaderboard_message(board=card)
    respond(replace_original=True, response_type="ephemeral", **payload)


def _rows(totals: list[queries.MemberTotal]) -> list[LeaderRow]:
    return [
        LeaderRow(user_id=t.member.slack_user_id, points=t.points, rewards=t.rewards)
        for t in totals
    ]
