"""Helpers for the job tests: run a job as the scheduler would, give rewards through Slack."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.jobs.registry import JOBS
from bot.jobs.scheduler import RunResult, execute
from storage import rewards as reward_repo
from storage.models import Reward
from storage.rewards import RewardDetails
from tests.e2e.harness import BotHarness, message_text

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday morning


def run_job(bot: BotHarness, name: str) -> RunResult:
    """Run job `name` as a scheduled run at this very instant (claimed like any run)."""
    result = execute(bot.runtime, JOBS[name], scheduled_for=datetime.now(UTC))
    assert result.claimed, result
    return result


def give(bot: BotHarness, *, giver: str, to: str, amount: int, why: str = "ran the launch") -> str:
    """`/reward` over signed HTTP; returns the new reward's short id once it is recorded."""
    before = set(short_ids(bot))
    response = bot.driver.command(f"<@{to}> {amount} for {why}", user_id=giver)
    assert response.status_code == 200
    return bot.wait(lambda: [s for s in short_ids(bot) if s not in before])[0]


def short_ids(bot: BotHarness) -> list[str]:
    with bot.runtime.store.read_session() as session:
        return [r.short_id for r in session.exec(select(Reward)).all()]


def reward(bot: BotHarness, short: str) -> RewardDetails:
    with bot.runtime.store.read_session() as session:
        found = reward_repo.get_reward_by_short_id(session, short_id=short)
    assert found is not None
    return found


def wait_status(bot: BotHarness, short: str, status: str) -> RewardDetails:
    return bot.wait(lambda: (r := reward(bot, short)).status == status and r)


def dms(bot: BotHarness, user_id: str, needle: str = "") -> list[dict[str, Any]]:
    """`user_id`'s DMs (as they look now, edits applied) whose text contains `needle`."""
    return [m for m in bot.fake.dms_to(user_id) if needle in message_text(m)]
