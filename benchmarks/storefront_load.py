"""Benchmark what Xoxoday's store waits on while a person is at checkout: the StoreFront redeem
(debit) and balance endpoints (REWARD_POINT_SYSTEM=storefront), against a bare Starlette app
doing the same durable SQLite transaction, side by side in each round.

    .venv/bin/python benchmarks/storefront_load.py [--requests 2000] [--concurrency 50]
                                                   [--rounds 3] [--clients 1]

- the bot: `python -m bot` (`rewardbot serve`) on a fresh SQLite ledger, with `--people`
  people, each holding a lot of points and an auth token minted as the Redeem button mints
  them (`storage.storefront_secrets.mint`);
- the bare app: Starlette under uvicorn whose /storefront/redeem parses the JSON, then in
  Starlette's thread pool runs `BEGIN IMMEDIATE; INSERT` the order; `UPDATE` the balance
  (`WHERE remaining >= amount`)`; COMMIT` on a WAL database with synchronous=FULL (as the
  ledger's), and whose /storefront/balance reads the balance.
Each round starts both afresh and sends each `--requests` redeems with distinct order ids
(`--concurrency` in flight, spread over the people), then as many balance calls, through
`benchmarks/http_load.py` (pre-built bodies, a keep-alive client measuring its own CPU). The
server under test has a CPU of its own when there are two or more.

Prints, for each endpoint and round: p50, p99, requests a second, the server's CPU per request,
the client's CPU and the load average; then bot/bare over the rounds (median and range) of
throughput (target >= 0.5) and p99 (target <= 2.0). A round whose client side was saturated
gives no ratio. Then the ledger read back: one order per redeem answered "1", each with its
audit event, the points debited add up, no lot below zero. Exit status 1 when that check fails
or a request was not answered.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import http_load
import slack_ack
from slack_ack import OTHER_CPUS, SERVER_CPUS

API_KEY = "bench-storefront-api-key-0123456789"
START_POINTS = 1_000_000  # each person's lot: more than any run spends
AMOUNT = "1.5"  # points per redeem
AMOUNT_CENTS = 150
TEAM = "T0001"  # the demo workspace's team


# ─── the bare app ──────────────────────────────────────────────────────────────────────────


def run_bare(args: argparse.Namespace) -> int:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    path = args.db
    local = threading.local()

    def conn() -> sqlite3.Connection:
        c = getattr(local, "conn", None)
        if c is None:
            c = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=FULL")
            local.conn = c
        return c

    setup = conn()
    setup.execute(
        "CREATE TABLE IF NOT EXISTS balances (member TEXT PRIMARY KEY, remaining INTEGER NOT NULL"
        " CHECK (remaining >= 0))"
    )
    setup.execute(
        "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, order_id TEXT UNIQUE NOT NULL,"
        " member TEXT NOT NULL, cents INTEGER NOT NULL)"
    )
    for n in range(args.people):
        setup.execute(
            "INSERT OR IGNORE INTO balances VALUES (?, ?)", (person(n), START_POINTS * 100)
        )

    def redeem(body: dict[str, Any]) -> dict[str, Any]:
        c = conn()
        cents = round(float(body["total_points_redeemed"]) * 100)
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute(
                "INSERT INTO orders (order_id, member, cents) VALUES (?, ?, ?)",
                (body["order_id"], body["unique_id"], cents),
            )
            changed = c.execute(
                "UPDATE balances SET remaining = remaining - ? WHERE member = ? AND remaining >= ?",
                (cents, body["unique_id"], cents),
            ).rowcount
            if not changed:
                c.execute("ROLLBACK")
                return {"status": "0", "message": "Not enough points"}
            left = c.execute(
                "SELECT remaining FROM balances WHERE member = ?", (body["unique_id"],)
            ).fetchone()[0]
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return {"status": "1", "data": {"order_id": body["order_id"], "points": left / 100}}

    def balance(body: dict[str, Any]) -> dict[str, Any]:
        row = (
            conn()
            .execute("SELECT remaining FROM balances WHERE member = ?", (body["unique_id"],))
            .fetchone()
        )
        return {"status": "1", "data": {"points": row[0] / 100}}

    async def redeem_route(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        return JSONResponse(await run_in_threadpool(redeem, body))

    async def balance_route(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        return JSONResponse(await run_in_threadpool(balance, body))

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[
            Route("/storefront/redeem", redeem_route, methods=["POST"]),
            Route("/storefront/balance", balance_route, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


def start_bare(tmp: Path, n: int, people: int) -> tuple[subprocess.Popen[bytes], str]:
    port = slack_ack.free_port()
    log = tmp / f"bare{n}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--role",
                "bare",
                "--port",
                str(port),
                "--db",
                str(tmp / f"bare{n}.db"),
                "--people",
                str(people),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=slack_ack.child_env(),
            cwd=tmp,
            preexec_fn=slack_ack._pinned(SERVER_CPUS),
        )
    url = f"http://127.0.0.1:{port}"
    slack_ack.wait_healthy(url, proc, log)
    return proc, url


# ─── the bot and its people ────────────────────────────────────────────────────────────────


def person(n: int) -> str:
    return f"USHOP{n:04d}"


def start_bot(
    tmp: Path, info: dict[str, Any], n: int, people: int
) -> tuple[subprocess.Popen[bytes], str, Path, list[str]]:
    db = tmp / f"bot{n}.db"
    server, url, _ = slack_ack.start_bot(
        tmp,
        info,
        db,
        {"REWARD_POINT_SYSTEM": "storefront", "STOREFRONT_API_KEY": API_KEY},
    )
    return server, url, db, seed(db, people)


def seed(db: Path, people: int) -> list[str]:
    """Each person a member with one lot of START_POINTS and an auth token; the tokens."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool
    from sqlmodel import Session

    from storage import members as member_repo
    from storage import storefront_secrets as secrets_repo
    from storage.models import PointLot
    from storage.states import LotSource, SecretKind
    from storage.types import utcnow

    engine = create_engine(f"sqlite:///{db}", poolclass=NullPool, connect_args={"timeout": 30})
    tokens = []
    with Session(engine) as session:
        now = utcnow()
        for n in range(people):
            uid = person(n)
            member = member_repo.upsert_member(
                session, team_id=TEAM, slack_user_id=uid, email=f"{uid}@acme.test", real_name=uid
            )
            assert member.id is not None
            session.add(
                PointLot(
                    member_id=member.id,
                    source=LotSource.REWARD.value,
                    cents=START_POINTS * 100,
                    remaining=START_POINTS * 100,
                    created_at=now,
                    updated_at=now,
                )
            )
            tokens.append(
                secrets_repo.mint(
                    session,
                    member_id=member.id,
                    kind=SecretKind.AUTH_TOKEN,
                    lifetime=timedelta(hours=2),
                ).raw
            )
        session.commit()
    engine.dispose()
    return tokens


def bodies(endpoint: str, count: int, tokens: list[str], run: str) -> list[bytes]:
    out = []
    for i in range(count):
        who = i % len(tokens)
        body: dict[str, Any] = {"unique_id": person(who), "auth_token": tokens[who]}
        if endpoint == "redeem":
            body |= {"order_id": f"{run}-{i}", "total_points_redeemed": AMOUNT}
        out.append(json.dumps(body).encode())
    return out


def load(
    url: str,
    endpoint: str,
    payloads: list[bytes],
    args: argparse.Namespace,
    server: subprocess.Popen[bytes],
) -> http_load.Load:
    host, port = slack_ack.address_of(url)
    requests = [
        http_load.build_post(
            host, port, f"/storefront/{endpoint}", p, {"Content-Type": "application/json"}
        )
        for p in payloads
    ]
    return http_load.run(
        (host, port),
        requests,
        concurrency=args.concurrency,
        processes=args.clients,
        cpus=OTHER_CPUS,
        server_pid=server.pid,
    )


def answered_ok(result: http_load.Load) -> int:
    good = 0
    for s in result.samples:
        if s.status == 200 and json.loads(s.body).get("status") == "1":
            good += 1
    return good


def describe(name: str, result: http_load.Load) -> str:
    good = answered_ok(result)
    return (
        f"   {name:<4} p50 {result.pct(50) * 1000:7.1f} ms   p99 {result.pct(99) * 1000:7.1f} ms"
        f"   {result.rate:6.0f} req/s   server CPU {result.server_ms_per_request() or 0:.2f} ms"
        f" per request   {good}/{len(result.samples)} status 1   client {result.client_load:.2f}"
        f" CPU{' SATURATED' if result.saturated else ''}"
    )


# ─── the ledger read back ──────────────────────────────────────────────────────────────────


def check_ledger(db: Path, redeemed: int) -> bool:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        orders, debited = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(cents), 0) FROM point_orders"
        ).fetchone()
        taken = conn.execute("SELECT COALESCE(SUM(cents), 0) FROM point_order_lots").fetchone()[0]
        spent = conn.execute(
            "SELECT COALESCE(SUM(cents - remaining), 0) FROM point_lots"
        ).fetchone()[0]
        negative = conn.execute("SELECT COUNT(*) FROM point_lots WHERE remaining < 0").fetchone()[0]
        events = conn.execute(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'points.redeemed'"
        ).fetchone()[0]
    finally:
        conn.close()
    ok = (
        orders == redeemed
        and debited == taken == spent == redeemed * AMOUNT_CENTS
        and events == orders
        and not negative
    )
    print(
        f"   ledger: {orders} orders for {redeemed} redeems answered '1', {events} audit events, "
        f"debited {debited / 100:.2f} = from lots {taken / 100:.2f} = lots spent "
        f"{spent / 100:.2f} points, lots below zero {negative} → {'OK' if ok else 'WRONG'}"
    )
    return ok


def spread(values: list[float]) -> str:
    if not values:
        return "no ratio (the client side was saturated)"
    if len(values) == 1:
        return f"x{values[0]:.2f}"
    return f"x{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def run_benchmark(args: argparse.Namespace) -> int:
    ratios: dict[str, dict[str, list[float]]] = {
        e: {"throughput": [], "p50": [], "p99": []} for e in ("redeem", "balance")
    }
    ok = True
    services = None
    with tempfile.TemporaryDirectory(prefix="storefront-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            services, info = slack_ack.start_services(tmp, 0)
            print(
                f"{args.requests} redeems (distinct order ids) then {args.requests} balance calls,"
                f" {args.concurrency} in flight over {args.people} people, {args.rounds} round(s)"
                " of bare then bot, each on a fresh process and database; "
                + (
                    f"the server under test on CPU {sorted(SERVER_CPUS)}, the load on "
                    f"{sorted(OTHER_CPUS or ())}"
                    if SERVER_CPUS
                    else "one CPU shared by all"
                )
            )
            for n in range(1, args.rounds + 1):
                print(f"round {n} ({http_load.loadavg()}):")
                results: dict[str, dict[str, http_load.Load]] = {}
                bare, bare_url = start_bare(tmp, n, args.people)
                try:
                    warm = bodies("redeem", 2 * args.concurrency, [""] * args.people, f"warm{n}")
                    load(bare_url, "redeem", warm, args, bare)
                    fake_tokens = [""] * args.people
                    results["bare"] = {
                        e: load(
                            bare_url,
                            e,
                            bodies(e, args.requests, fake_tokens, f"bare{n}"),
                            args,
                            bare,
                        )
                        for e in ("redeem", "balance")
                    }
                finally:
                    slack_ack.stop(bare)
                bot, url, db, tokens = start_bot(tmp, info, n, args.people)
                try:
                    load(
                        url,
                        "redeem",
                        bodies("redeem", 2 * args.concurrency, tokens, f"warm{n}"),
                        args,
                        bot,
                    )
                    results["bot"] = {
                        e: load(url, e, bodies(e, args.requests, tokens, f"bot{n}"), args, bot)
                        for e in ("redeem", "balance")
                    }
                finally:
                    slack_ack.stop(bot)
                for endpoint in ("redeem", "balance"):
                    b, r = results["bare"][endpoint], results["bot"][endpoint]
                    print(f"  {endpoint}:")
                    print(describe("bare", b))
                    print(describe("bot", r))
                    if len(r.ok) < len(r.samples) or answered_ok(r) < len(r.samples):
                        ok = False
                    if b.saturated or r.saturated:
                        print("   bot/bare: no ratio, the client side was saturated")
                        continue
                    ratios[endpoint]["throughput"].append(r.rate / b.rate)
                    ratios[endpoint]["p50"].append(r.pct(50) / b.pct(50))
                    ratios[endpoint]["p99"].append(r.pct(99) / b.pct(99))
                    print(
                        f"   bot/bare: throughput x{r.rate / b.rate:.2f}, p50 "
                        f"x{r.pct(50) / b.pct(50):.2f}, p99 x{r.pct(99) / b.pct(99):.2f}"
                    )
                redeemed = 2 * args.concurrency + answered_ok(results["bot"]["redeem"])
                ok = check_ledger(db, redeemed) and ok
            print("bot/bare over the rounds (median, range):")
            for endpoint, got in ratios.items():
                met = (
                    bool(got["throughput"])
                    and statistics.median(got["throughput"]) >= 0.5
                    and statistics.median(got["p99"]) <= 2.0
                )
                print(
                    f"   {endpoint}: throughput {spread(got['throughput'])} (target >= 0.5), "
                    f"p50 {spread(got['p50'])}, p99 {spread(got['p99'])} (target <= 2.0): "
                    f"{'met' if met else 'MISSED'}"
                )
        finally:
            slack_ack.stop_services(services)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--role", choices=("bench", "bare"), default="bench")
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--db", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "bare":
        return run_bare(args)
    if min(args.requests, args.concurrency, args.people, args.rounds, args.clients) < 1:
        parser.error("every count must be positive")
    if OTHER_CPUS:
        os.sched_setaffinity(0, OTHER_CPUS)  # the load, off the server's CPU
    return run_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
