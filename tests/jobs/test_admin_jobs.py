"""The admins' daily jobs against the running bot: balance-alert (one DM a day while the
Xoxoday balance is under REWARD_LOW_BALANCE), token-upkeep (tokens refreshed ahead of expiry; a
warning 7 days before the refresh token expires, once a day) and in-doubt-report (a list with
settle buttons, nothing when there is nothing to settle)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from bot.simulators.plum_sandbox import SandboxServer
from bot.slack.ids import ActionId
from tests.e2e.harness import ADMIN, APPROVER, BOB, MARIA, BotHarness, actions_in, message_text
from tests.jobs.support import dms, give, run_job, wait_status

DAY = 24 * 3600


@pytest.fixture
def sandbox(
    clock: time_machine.Coordinates, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[SandboxServer]:
    """The sandbox; `indirect` parametrization gives its refresh tokens' lifetime in seconds."""
    server = SandboxServer(
        state_path=tmp_path / "sandbox.json",
        rate_limits=False,
        refresh_ttl_seconds=getattr(request, "param", None),
    )
    server.start()
    yield server
    server.stop()


# ── balance-alert ────────────────────────────────────────────────────────────────────────


def test_a_low_balance_tells_the_admins_once_a_day(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness]
) -> None:
    bot = make_bot(REWARD_LOW_BALANCE="500")
    bot.sandbox.state.set_balance(Decimal("120"))
    assert run_job(bot, "balance-alert").detail == (
        "balance 120.00 INR is under 500.00 INR: told 1 admin(s)"
    )
    (alert,) = dms(bot, ADMIN, "Xoxoday balance is low")
    assert "*120.00 INR* left, under the *500.00 INR*" in message_text(alert)
    assert dms(bot, APPROVER) == []

    clock.shift(timedelta(hours=3))
    assert run_job(bot, "balance-alert").detail.endswith("the admins were already told today")
    again = make_bot(REWARD_LOW_BALANCE="500")  # a restart the same day
    assert run_job(again, "balance-alert").detail.endswith("already told today")
    assert len(dms(bot, ADMIN, "balance is low")) == 1

    clock.shift(timedelta(days=1))
    assert run_job(again, "balance-alert").detail.endswith("told 1 admin(s)")
    assert len(dms(bot, ADMIN, "balance is low")) == 2

    bot.sandbox.state.set_balance(Decimal("9000"))
    clock.shift(timedelta(days=1))
    assert run_job(again, "balance-alert").detail == "balance 9,000.00 INR, not under 500.00 INR"
    assert len(dms(bot, ADMIN, "balance is low")) == 2


def test_without_a_threshold_the_balance_is_only_recorded(bot: BotHarness) -> None:
    assert run_job(bot, "balance-alert").detail == (
        "balance 100,000.00 INR; REWARD_LOW_BALANCE is not set, so no alert"
    )
    assert dms(bot, ADMIN) == []


def test_a_balance_xoxoday_cannot_give_fails_the_run(make_bot: Callable[..., BotHarness]) -> None:
    bot = make_bot(REWARD_LOW_BALANCE="500")
    bot.sandbox.faults.update({"operations": {"getBalance": {"error": "PLE10023"}}})
    result = run_job(bot, "balance-alert")
    assert not result.ok and result.detail.startswith("failed: ")
    assert dms(bot, ADMIN) == []


# ── token-upkeep ─────────────────────────────────────────────────────────────────────────


def refresh_flow(bot_maker: Callable[..., BotHarness], sandbox: SandboxServer) -> BotHarness:
    """A bot on the refresh-token flow, seeded with the sandbox's dashboard-issued tokens."""
    return bot_maker(
        PLUM_ACCESS_TOKEN=sandbox.access_token, PLUM_REFRESH_TOKEN=sandbox.refresh_token
    )


@pytest.mark.parametrize("sandbox", [6 * DAY], indirect=True)
def test_the_admins_hear_once_a_day_when_the_refresh_token_expires_within_a_week(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness], sandbox: SandboxServer
) -> None:
    bot = refresh_flow(make_bot, sandbox)
    before = sandbox.token_requests
    detail = run_job(bot, "token-upkeep").detail
    assert detail.startswith("tokens refreshed; access token valid until ")
    assert detail.endswith("1 admin(s) warned")
    assert sandbox.token_requests == before + 1
    (warning,) = dms(bot, ADMIN, "Xoxoday token needs replacing")
    text = message_text(warning)
    assert "refresh token expires on *8 March 2026 at 08:00 GMT* (in 6 days)" in text
    assert "PLUM_REFRESH_TOKEN" in text and sandbox.refresh_token not in text

    clock.shift(timedelta(hours=4))
    assert run_job(bot, "token-upkeep").detail.endswith("admins already warned today")
    assert len(dms(bot, ADMIN, "token needs replacing")) == 1
    clock.shift(timedelta(days=1))
    assert run_job(bot, "token-upkeep").detail.endswith("1 admin(s) warned")
    assert len(dms(bot, ADMIN, "token needs replacing")) == 2


@pytest.mark.parametrize("sandbox", [30 * DAY], indirect=True)
def test_tokens_are_refreshed_ahead_of_expiry_and_nobody_is_bothered(
    clock: time_machine.Coordinates, make_bot: Callable[..., BotHarness], sandbox: SandboxServer
) -> None:
    bot = refresh_flow(make_bot, sandbox)
    assert run_job(bot, "token-upkeep").detail.startswith("tokens refreshed")  # expiry unknown
    requests = sandbox.token_requests
    clock.shift(timedelta(days=1))
    detail = run_job(bot, "token-upkeep").detail
    assert detail.startswith("access token valid until ")  # 29 days left: nothing to do
    assert sandbox.token_requests == requests
    clock.shift(timedelta(days=27, hours=12))  # the company flow's access token: 30 days
    assert run_job(bot, "token-upkeep").detail.startswith("tokens refreshed")
    assert sandbox.token_requests == requests + 1
    assert dms(bot, ADMIN) == []
    assert bot.runtime.plum.get_balance().value > 0  # the refreshed token works


def test_a_rejected_refresh_token_fails_the_run_and_tells_the_admins(
    make_bot: Callable[..., BotHarness], sandbox: SandboxServer
) -> None:
    bot = make_bot(PLUM_ACCESS_TOKEN="dead-access", PLUM_REFRESH_TOKEN="dead-refresh")
    result = run_job(bot, "token-upkeep")
    assert result.detail.startswith(
        "failed: Xoxoday rejected the refresh token; 1 admin(s) told to replace it (ref "
    )
    (warning,) = dms(bot, ADMIN, "token needs replacing")
    assert "Xoxoday rejected the bot's Plum refresh token" in message_text(warning)
    assert "dead-refresh" not in message_text(warning)


def test_client_credentials_need_no_warning(bot: BotHarness) -> None:
    detail = run_job(bot, "token-upkeep").detail
    assert "access token valid until" in detail and "warned" not in detail
    assert dms(bot, ADMIN) == []


# ── in-doubt-report ──────────────────────────────────────────────────────────────────────


def test_the_in_doubt_report_lists_rewards_to_settle_and_is_quiet_otherwise(
    bot: BotHarness,
) -> None:
    assert run_job(bot, "in-doubt-report").detail == "no rewards in doubt"
    bot.sandbox.faults.update(
        {"operations": {"sendBalance": {"drop_after_apply": True, "count": 1}}}
    )
    short = give(bot, giver=BOB, to=MARIA, amount=100)
    wait_status(bot, short, "in_doubt")
    bot.wait(lambda: dms(bot, ADMIN, f"Reward in doubt: {short}"))  # the alert at the time
    alerts = len(bot.fake.dms_to(ADMIN))

    assert run_job(bot, "in-doubt-report").detail == "1 reward(s) in doubt: told 1 admin(s)"
    (report,) = dms(bot, ADMIN, "Rewards still in doubt")
    assert f"`{short}`" in message_text(report)
    assert actions_in(report) == [ActionId.SETTLE_SENT, ActionId.SETTLE_FAILED]

    response = bot.driver.block_action(
        user_id=ADMIN, action_id=ActionId.SETTLE_SENT, value=short, message=report
    )
    assert response.status_code == 200
    wait_status(bot, short, "sent")
    bot.wait(lambda: actions_in(dms(bot, ADMIN, "Rewards still in doubt")[0]) == [])
    assert "Marked as sent" in message_text(dms(bot, ADMIN, "Rewards still in doubt")[0])

    assert run_job(bot, "in-doubt-report").detail == "no rewards in doubt"
    assert len(bot.fake.dms_to(ADMIN)) == alerts + 1
