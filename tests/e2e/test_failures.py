"""When Plum says no, or says nothing: the giver and admins are told; nothing is re-sent."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from storage import rewards as reward_repo
from storage.models import Reward
from storage.states import RewardStatus
from tests.e2e.harness import ADMIN, BOB, MARIA, BotHarness


def statuses(bot: BotHarness) -> list[str]:
    with bot.runtime.store.session() as session:
        return [r.status for r in session.exec(select(Reward)).all()]


def test_definite_rejection_tells_the_giver(bot: BotHarness) -> None:
    bot.sandbox.state.set_balance(Decimal("10"))
    bot.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
    told = bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "wasn't sent" in t])
    assert "What to do" in told[0]
    assert statuses(bot) == [RewardStatus.FAILED]
    assert bot.sandbox.state.points_of("maria@acme.test") == 0
    assert bot.dm_texts(MARIA) == []


def test_dropped_after_processing_is_in_doubt_and_never_resent(bot: BotHarness) -> None:
    bot.sandbox.faults.set("sendBalance", drop_after_apply=True, count=1)
    bot.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
    alert = bot.wait(lambda: [t for t in bot.dm_texts(ADMIN) if "in doubt" in t.lower()])
    assert "maria@acme.test" in alert[0]
    assert bot.wait(lambda: [t for t in bot.dm_texts(BOB) if "being checked" in t])
    assert statuses(bot) == [RewardStatus.IN_DOUBT]
    # Plum applied it once; the bot did not try again.
    assert bot.sandbox.state.points_of("maria@acme.test") == 100
    assert len(bot.sends()) == 1


def test_crash_between_claim_and_send(make_bot) -> None:
    first = make_bot(worker=False)
    first.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
    first.wait(lambda: statuses(first) == [RewardStatus.QUEUED])
    with first.runtime.store.session() as session:
        claimed = reward_repo.claim_next_queued(session, claimed_by="crashed-worker")
    assert claimed is not None
    first.stop()  # the process "dies" with the reward in `sending`

    second = make_bot()
    alert = second.wait(lambda: [t for t in second.dm_texts(ADMIN) if "restart" in t])
    assert claimed.short_id in alert[0]
    assert statuses(second) == [RewardStatus.IN_DOUBT]
    assert second.sends() == []


def test_an_unexpected_error_after_the_ack_gives_a_ref_not_a_stack_trace(bot: BotHarness) -> None:
    def broken(request: object) -> object:
        raise RuntimeError("database on fire")

    bot.runtime.rewards.give = broken  # type: ignore[method-assign]
    response = bot.driver.command(f"<@{MARIA}> 100 thanks", user_id=BOB)
    assert response.status_code == 200
    told = bot.wait(lambda: [t for t in bot.replies_to(BOB) if "Something went wrong" in t])
    assert "ref `" in told[0]
    assert "database on fire" not in told[0] and "Traceback" not in told[0]
    assert statuses(bot) == []
