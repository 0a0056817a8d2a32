"""Attacks on the StoreFront's hot paths through the real `rewardbot serve` process: balances
asked while redeems run (each answer a real figure, never a 5xx), and the bot stopped with
calls of Xoxoday's store queued on its threads (it stops within seconds)."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.attacks.conftest import DATABASES
from tests.attacks.test_storefront_attacks import Shop, cents_of, make_shop, sandbox
from tests.e2e.harness import MARIA

__all__ = ["make_shop", "sandbox"]

REDEEMS = 50
BALANCES = 200


@pytest.mark.parametrize("backend", DATABASES)
def test_balances_asked_while_redeems_run_are_each_a_real_figure(
    make_shop: Callable[..., Shop], backend: str
) -> None:
    shop = make_shop(backend)
    shop.give([MARIA], 500)
    token = shop.token(MARIA)
    before = shop.assert_books_balance(MARIA, token)
    spent = 300  # cents each: 50 redeems of 3 points
    balances: list[httpx.Response] = []
    redeems: list[httpx.Response] = []
    go = threading.Event()

    def balance(_: int) -> None:
        go.wait()
        balances.append(shop.call("balance", {"unique_id": MARIA, "auth_token": token}))

    def redeem(n: int) -> None:
        go.wait()
        body = {
            "unique_id": MARIA,
            "auth_token": token,
            "order_id": f"HOT-{n}",
            "total_points_redeemed": "3",
        }
        redeems.append(shop.call("redeem", body, timeout=60))

    with ThreadPoolExecutor(64) as pool:
        jobs = [pool.submit(balance, n) for n in range(BALANCES)]
        jobs += [pool.submit(redeem, n) for n in range(REDEEMS)]
        go.set()
        for job in jobs:
            job.result()
    assert [r.status_code for r in redeems] == [200] * REDEEMS, [r.text for r in redeems[:3]]
    assert all(r.json()["status"] == "1" for r in redeems), [r.json() for r in redeems]
    after = before - REDEEMS * spent
    assert sorted({r.status_code for r in balances}) == [200]
    figures = [cents_of(r.json()["data"]["points"]) for r in balances]
    assert all(after <= f <= before for f in figures), sorted(set(figures))
    assert all((before - f) % spent == 0 for f in figures), sorted(set(figures))
    assert shop.assert_books_balance(MARIA, token) == after
    verified = shop.serve.run_once("points", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_sigterm_with_calls_queued_on_the_threads_stops_within_seconds(
    make_shop: Callable[..., Shop],
) -> None:
    shop = make_shop()
    shop.give([MARIA], 100)
    token = shop.token(MARIA)
    stop = threading.Event()
    answered: list[int] = []

    def hammer(n: int) -> None:
        with httpx.Client(timeout=20) as client:
            while not stop.is_set():
                try:
                    r = client.post(
                        f"{shop.serve.url}/storefront/balance",
                        json={"unique_id": MARIA, "auth_token": token},
                    )
                    answered.append(r.status_code)
                except httpx.HTTPError:
                    return

    with ThreadPoolExecutor(64) as pool:
        jobs = [pool.submit(hammer, n) for n in range(64)]
        time.sleep(2.0)
        assert answered, "no balance answered before the stop"
        assert shop.serve.proc is not None
        began = time.monotonic()
        shop.serve.proc.send_signal(signal.SIGTERM)
        try:
            shop.serve.proc.wait(timeout=10)
        finally:
            took = time.monotonic() - began
            stop.set()
            for job in jobs:
                job.result()
    assert took < 5, f"stopping took {took:.1f} s"
    assert set(answered) <= {200, 503}, sorted(set(answered))
    assert "serve: stopped" in shop.serve.logs()


HELD = [
    pytest.param(
        "sqlite",
        marks=pytest.mark.xfail(
            strict=True,
            reason="known: the delivery and order workers, stuck in SQLite's busy timeout too, "
            "are each waited for up to 10 s when the bot stops (about 25 s in all)",
        ),
    ),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize("backend", HELD)
def test_sigterm_with_redeems_queued_behind_a_held_lock_stops_within_seconds(
    make_shop: Callable[..., Shop], backend: str
) -> None:
    """Another process holds the lock the debits need (SQLite's write lock: a long import, a
    backup; PostgreSQL: the person's row): 50 redeems queue on the store's threads behind it.
    SIGTERM stops the bot within seconds all the same, and what was answered is in the ledger
    once."""
    shop = make_shop(backend)
    shop.give([MARIA], 100)
    token = shop.token(MARIA)
    engine = create_engine(shop.serve.database_url, poolclass=NullPool)
    holder = engine.connect()
    if backend == "sqlite":
        holder.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        holder.execute(
            text("SELECT id FROM members WHERE slack_user_id = :u FOR UPDATE"), {"u": MARIA}
        )
    answers: dict[str, int] = {}

    def redeem(n: int) -> None:
        body = {
            "unique_id": MARIA,
            "auth_token": token,
            "order_id": f"HELD-{n}",
            "total_points_redeemed": "1",
        }
        with contextlib.suppress(httpx.HTTPError):
            answers[body["order_id"]] = shop.call("redeem", body, timeout=120).status_code

    try:
        with ThreadPoolExecutor(50) as pool:
            jobs = [pool.submit(redeem, n) for n in range(50)]
            time.sleep(2.0)
            if backend != "sqlite":  # the stuck debits leave the pool to the rest of the bot
                health = shop.serve.healthz()
                assert health.json()["database"] == "ok", health.text
            assert shop.serve.proc is not None
            began = time.monotonic()
            shop.serve.proc.send_signal(signal.SIGTERM)
            try:
                shop.serve.proc.wait(timeout=90)
            finally:
                took = time.monotonic() - began
                holder.rollback()
                holder.close()
                for job in jobs:
                    job.result()
    finally:
        engine.dispose()
    said = [line for line in shop.serve.logs().splitlines() if line.startswith("20")]
    assert took < 8, f"stopping took {took:.1f} s: " + "\n".join(said[-20:])
    assert "serve: stopped" in shop.serve.logs()
    orders = shop.orders()
    assert not [o for o, status in answers.items() if status == 200 and o not in orders]
    assert shop.serve.start()
    assert shop.assert_books_balance(MARIA, token) == 10_000 - 100 * len(shop.orders())
