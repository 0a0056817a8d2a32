"""The command line around points in the bot: `rewardbot storefront revoke` ends a person's
store access at once, and `rewardbot serve` on a database of the other point system refuses to
start with one line saying what to do."""

from __future__ import annotations

from storage.audit_anchors import read_anchor_file
from storage.audit_checkpoints import current_checkpoint
from tests.command_line import rewardbot
from tests.e2e.harness import ADMIN, BOT_TOKEN, MARIA, SIGNING_SECRET, BotHarness
from tests.e2e.test_storefront import API_KEY, bot, call, rewarded, token_for

__all__ = ["bot"]  # the fixture, for pytest


def env_of(bot: BotHarness, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": bot.settings.DATABASE_URL, **extra}


def test_revoke_ends_a_persons_store_access(bot: BotHarness, tmp_path) -> None:
    token = rewarded(bot)
    other = token_for(bot, MARIA)
    auth = {"unique_id": MARIA, "auth_token": token}
    assert call(bot, "balance", auth).status_code == 200
    spend = {**auth, "total_points_redeemed": "30", "order_id": "BEFORE-REVOKE"}
    assert call(bot, "redeem", spend).json()["status"] == "1"
    done = rewardbot(["storefront", "revoke", MARIA], env_of(bot), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"revoked 2 of {MARIA}'s store tokens and Redeem links"
    for raw in (token, other):
        answer = call(bot, "balance", {"unique_id": MARIA, "auth_token": raw})
        assert answer.status_code == 401
    again = {**auth, "total_points_redeemed": "5", "order_id": "AFTER-REVOKE"}
    assert call(bot, "redeem", again).status_code == 401
    # Xoxoday may still refund the order the revoked token paid for (points only come back).
    refund = {**auth, "order_id": "BEFORE-REVOKE", "redemption_amount": "30"}
    assert call(bot, "refund", refund).json()["data"]["points"] == "100"
    other_refund = {"unique_id": MARIA, "auth_token": other, "order_id": "BEFORE-REVOKE"}
    assert call(bot, "refund", {**other_refund, "redemption_amount": "1"}).status_code == 401
    unknown = rewardbot(["storefront", "revoke", "U0NOBODY"], env_of(bot), tmp_path)
    assert unknown.returncode == 1 and "not known to the bot" in unknown.stderr
    everyone = rewardbot(["storefront", "revoke", "--everyone"], env_of(bot), tmp_path)
    assert everyone.returncode == 0 and "revoked 0 of everyone's" in everyone.stdout
    assert token not in done.stdout + done.stderr
    # Its audit events are anchored outside the database as it ends (the bot here anchors
    # nothing itself), so deleting them is no less visible than a running bot's.
    kept = read_anchor_file(
        tmp_path / "bot.db.audit-anchors", audit_key=bot.runtime.store.keys.audit_key
    )
    with bot.runtime.store.read_session() as session:
        head = current_checkpoint(session)
    assert kept.latest is not None and head is not None
    assert (kept.latest.event_id, kept.latest.head_hash) == (head.event_id, head.head_hash)


def test_serve_refuses_a_database_of_the_other_point_system(bot: BotHarness, tmp_path) -> None:
    rewarded(bot)
    env = env_of(
        bot,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=bot.fake.api_url,
        PLUM_BASE_URL="sandbox",
        REWARD_POINT_SYSTEM="plum",
        REWARD_ADMINS=ADMIN,
        PORT="1",
    )
    refused = rewardbot(["serve", "--no-scheduler"], env, tmp_path)
    assert refused.returncode != 0
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert lines[-1].endswith(
        "REWARD_POINT_SYSTEM: this database holds 1 reward(s) whose points live in the bot "
        "(storefront); start with REWARD_POINT_SYSTEM=storefront, or give plum a new "
        "DATABASE_URL"
    ), refused.stderr
    assert API_KEY not in refused.stderr
