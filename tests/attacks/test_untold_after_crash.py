"""SIGKILL after Xoxoday took a reward and the ledger recorded it, while the bot was telling
people: at the next start the recipient, the giver and the channel hear of it, once each."""

from __future__ import annotations

import time

from tests.attacks.serve_process import ServeProcess
from tests.e2e.harness import BOB, MARIA

CITATION = "told after the crash"


def test_an_outcome_recorded_but_not_told_is_told_after_a_restart(make_serve, fake) -> None:
    serve: ServeProcess = make_serve()
    fake.slow_next("chat.postMessage", seconds=120)  # the recipient's DM hangs in Slack
    serve.driver.command(f"<@{MARIA}> 5 {CITATION}", user_id=BOB)
    serve.wait_until(lambda: serve.statuses().get("sent") == 1, 30)
    serve.wait_until(lambda: fake.calls_to("conversations.open"), 10)
    time.sleep(0.3)
    serve.kill()
    assert serve.dm_texts(MARIA) == [] and serve.dm_texts(BOB) == []

    serve.start()
    told = serve.wait_until(lambda: [t for t in serve.dm_texts(MARIA) if CITATION in t], 30)
    assert len(told) == 1
    serve.wait_until(lambda: [t for t in serve.dm_texts(BOB) if "sent" in t.lower()], 30)
    serve.wait_until(lambda: [t for t in serve.channel_texts("C0GENERAL") if CITATION in t], 30)
    time.sleep(2.5)  # a sweep may run meanwhile: nothing is told twice
    assert len([t for t in serve.dm_texts(MARIA) if CITATION in t]) == 1
    assert len(serve.dm_texts(BOB)) == 1
    assert len([t for t in serve.channel_texts("C0GENERAL") if CITATION in t]) == 1
    assert len(serve.sends()) == 1
