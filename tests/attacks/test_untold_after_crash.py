"""SIGKILL after Xoxoday took a reward and the ledger recorded it, while the bot was telling
people: at the next start the recipient, the giver and the channel hear of it, once each."""

from __future__ import annotations

from tests.attacks.serve_process import SWEEP_QUIET_SECONDS, ServeProcess
from tests.e2e.harness import ADMIN, BOB, MARIA

CITATION = "told after the crash"


def told(serve: ServeProcess) -> int:
    """How many outcomes the bot has noted told (it does once the notifier has finished)."""
    return serve.sql("SELECT COUNT(*) FROM once_keys WHERE kind = 'outcome_told'")[0][0]


def test_an_outcome_recorded_but_not_told_is_told_after_a_restart(make_serve, fake) -> None:
    serve: ServeProcess = make_serve()
    fake.slow_next("chat.postMessage", seconds=120)  # the recipient's DM hangs in Slack
    serve.driver.command(f"<@{MARIA}> 5 {CITATION}", user_id=BOB)
    serve.wait_until(lambda: serve.statuses().get("sent") == 1, 30)
    serve.wait_until(lambda: fake.held("chat.postMessage"), 10)  # the bot is telling
    serve.kill()
    assert serve.dm_texts(MARIA) == [] and serve.dm_texts(BOB) == []

    serve.start()
    told_once = serve.wait_until(lambda: [t for t in serve.dm_texts(MARIA) if CITATION in t], 30)
    assert len(told_once) == 1
    serve.wait_until(lambda: [t for t in serve.dm_texts(BOB) if "sent" in t.lower()], 30)
    serve.wait_until(lambda: [t for t in serve.channel_texts("C0GENERAL") if CITATION in t], 30)
    serve.wait_until(lambda: told(serve) == 1, 30)
    serve.settle(quiet=SWEEP_QUIET_SECONDS)  # a sweep may run meanwhile: nothing is told twice
    assert len([t for t in serve.dm_texts(MARIA) if CITATION in t]) == 1
    assert len(serve.dm_texts(BOB)) == 1
    assert len([t for t in serve.channel_texts("C0GENERAL") if CITATION in t]) == 1
    assert len(serve.sends()) == 1


def test_a_send_a_crash_left_in_doubt_is_told_to_its_giver_once(make_serve, sandbox) -> None:
    serve: ServeProcess = make_serve()
    sandbox.faults.set("sendBalance", latency_ms=5000)  # the send is in flight at the kill
    serve.driver.command(f"<@{MARIA}> 1 in flight at the crash", user_id=BOB)
    serve.wait_until(lambda: [s for s in serve.sends() if s["status"] is None], 20)
    serve.kill()
    sandbox.faults.set("sendBalance", latency_ms=0)
    serve.start()
    told_once = serve.wait_until(
        lambda: [t for t in serve.dm_texts(BOB) if "being checked" in t], 30
    )
    assert len(told_once) == 1
    assert serve.statuses() == {"in_doubt": 1}
    serve.wait_until(lambda: [t for t in serve.dm_texts(ADMIN) if "in doubt" in t.lower()], 30)
    serve.wait_until(lambda: told(serve) == 1, 30)
    serve.restart()
    serve.settle(quiet=SWEEP_QUIET_SECONDS)
    assert len([t for t in serve.dm_texts(BOB) if "being checked" in t]) == 1
    assert len(serve.sends()) == 1  # never sent again


def test_a_dm_slack_failed_to_post_is_posted_when_slack_is_back(make_serve, fake) -> None:
    serve: ServeProcess = make_serve()
    fake.fail_next("chat.postMessage", "internal_error")  # the recipient's DM
    serve.driver.command(f"<@{MARIA}> 5 slack hiccup", user_id=BOB)
    serve.wait_until(lambda: serve.statuses().get("sent") == 1, 30)
    serve.wait_until(
        lambda: [c for c in fake.calls_to("chat.postMessage") if c["error"] == "internal_error"],
        30,
    )
    serve.settle(quiet=SWEEP_QUIET_SECONDS)  # the telling that failed has ended
    assert serve.dm_texts(MARIA) == []  # not posted, and not taken for told
    assert told(serve) == 0
    serve.restart()  # the next start tells what was left untold
    serve.wait_until(lambda: [t for t in serve.dm_texts(MARIA) if "slack hiccup" in t], 30)
    serve.wait_until(lambda: [t for t in serve.dm_texts(BOB) if "sent" in t.lower()], 30)
    serve.wait_until(lambda: told(serve) == 1, 30)
    serve.settle(quiet=SWEEP_QUIET_SECONDS)
    assert len([t for t in serve.dm_texts(MARIA) if "slack hiccup" in t]) == 1
    assert len(serve.dm_texts(BOB)) == 1
    assert len(serve.sends()) == 1
