"""What `/reward history` and `/reward leaderboard` show: a person's last rewards given and
received, and the top recipients and givers of this week or month (REWARD_TIMEZONE periods).

Read-only; the listeners render the view models (`History`, `cards.Leaderboard`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.rewards.adjustments import recent_lines
from bot.rewards.cards import AdjustmentLine, Leaderboard, LeaderRow, RewardCard, card_for
from bot.rewards.commands import Period
from bot.rewards.directory import Directory
from bot.settings import Settings
from storage import clock, queries
from storage import members as member_repo
from storage.db import Store

HISTORY_SIZE = 10
LEADERBOARD_SIZE = 10


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


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """A person's last rewards (any status), newest first, and the zone to show times in."""

    viewer_id: str
    given: tuple[RewardCard, ...]
    received: tuple[RewardCard, ...]
    tz: str
    adjustments: tuple[AdjustmentLine, ...] = ()  # by admins, with points in the bot


class ListsService:
    def __init__(
        self,
        *,
        store: Store,
        people: Directory,
        settings: Settings,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._people = people
        self._settings = settings
        self._now = now

    def history(self, user_id: str) -> History:
        tz = self._people.profile(user_id).person.tz or self._settings.REWARD_TIMEZONE
        with self._store.read_session() as session:
            member = member_repo.get_member_by_slack_id(session, slack_user_id=user_id)
            recent = (
                queries.recent_rewards(session, member=member, limit=HISTORY_SIZE, told_only=True)
                if member is not None
                else None
            )
            adjusted = (
                recent_lines(session, member_id=member.id, limit=HISTORY_SIZE)
                if member is not None and member.id is not None and self._settings.storefront
                else ()
            )
        return History(
            adjustments=adjusted,
            viewer_id=user_id,
            given=tuple(card_for(r) for r in recent.given) if recent else (),
            received=tuple(card_for(r) for r in recent.received) if recent else (),
            tz=tz,
        )

    def leaderboard(self, period: Period) -> Leaderboard:
        tz = self._settings.REWARD_TIMEZONE
        since, until = period_bounds(period, tz, now=self._now())
        with self._store.read_session() as session:
            board = queries.leaderboard(session, since=since, until=until, limit=LEADERBOARD_SIZE)
        return Leaderboard(
            period=period,
            since=since.astimezone(ZoneInfo(tz)).date(),
            recipients=_rows(board.recipients),
            givers=_rows(board.givers),
        )


def _rows(totals: list[queries.MemberTotal]) -> tuple[LeaderRow, ...]:
    return tuple(
        LeaderRow(user_id=t.member.slack_user_id, points=t.points, rewards=t.rewards)
        for t in totals
    )
