"""Delivery in batches: rewards waiting for delivery sent through the Plum sandbox, which takes
300 ms to answer every sendBalance, by the real delivery worker on a SQLite ledger.

    .venv/bin/python benchmarks/batch_delivery.py [--recipients 10000] [--baseline 200]
        [--batch 50] [--rounds 3] [--threads 4] [--latency-ms 300]

Each round starts from the same ledger (a copy): `--recipients` rewards queued, one recipient
each, every recipient someone else; the worker (its usual 4 threads) delivers them all. It is
run with `PLUM_SEND_BATCH_MAX=--batch` and with `1`, which is the one-call-per-reward path the
bot had before (a claim of one reward, one sendBalance); the baseline delivers `--baseline`
rewards per round, not 10,000 (at about 13 a second that would take 13 minutes a round): its
rate is per recipient and does not depend on how many wait, and the time 10,000 would take is
extrapolated from it, said as such.

Prints, per setting: recipients per second (median and spread over the rounds), the ideal
(threads x recipients per call / latency; Xoxoday publishes no rate limit for sendBalance, so
no rate limit bounds it: see bot/rewards/batching.py), the share of the ideal reached, the
sendBalance calls made, and the CPU this process used (the worker, the ledger and the sandbox
all run in it) per 1,000 recipients.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import func
from sqlmodel import select

from bot.plum import FileTokenStore, PlumClient
from bot.rewards.delivery import DeliveryWorker
from bot.rewards.events import Event
from bot.rewards.redelivery import RetryPlan
from bot.simulators.plum_sandbox import SandboxServer
from storage import members as member_repo
from storage import rewards as reward_repo
from storage.db import Store, make_engine
from storage.keys import Keys
from storage.migrations import upgrade
from storage.models import Reward

TEAM = "T0BENCH"
SENDER = "people-ops@bench.test"


class QuietTeller:
    """The Teller port, telling nobody (Slack is not what is measured)."""

    def tell(self, event: Event) -> bool:
        return True


def bench_keys() -> Keys:
    return Keys(
        audit_key=b"benchmark-audit-key-0123456789",
        encryption_keys=(Fernet.generate_key().decode(),),
        source="benchmark",
    )


def make_ledger(path: Path, rewards: int, keys: Keys) -> None:
    """A migrated SQLite ledger with `rewards` queued, one recipient each, all different."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    store = Store(engine=engine, keys=keys)
    with store.session() as session:
        givers = [
            member_repo.upsert_member(
                session, team_id=TEAM, slack_user_id=f"UG{g:06d}", email=f"g{g}@bench.test"
            )
            for g in range(20)
        ]
    chunk = 500
    for start in range(0, rewards, chunk):
        with store.session() as session:
            for i in range(start, min(start + chunk, rewards)):
                member = member_repo.upsert_member(
                    session,
                    team_id=TEAM,
                    slack_user_id=f"UR{i:07d}",
                    email=f"r{i}@bench.test",
                    real_name=f"Recipient {i}",
                )
                reward_repo.create_reward(
                    session,
                    giver=givers[i % len(givers)],
                    recipients=[(member, 10)],
                    citation=f"benchmark reward {i}",
                    idempotency_key=f"bench:{i}",
                )
    engine.dispose()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Round:
    seconds: float
    cpu: float
    calls: int
    recipients: int

    @property
    def rate(self) -> float:
        return self.recipients / self.seconds


def deliver(
    template: Path,
    tmp: Path,
    keys: Keys,
    sandbox: SandboxServer,
    *,
    batch: int,
    threads: int,
    recipients: int,
) -> Round:
    path = tmp / f"round-{batch}.db"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    store = Store(engine=engine, keys=keys)
    plum = PlumClient(
        base_url=sandbox.base_url,
        client_id="sandbox",
        client_secret="sandbox",
        token_store=FileTokenStore(path=tmp / "token.json"),
        rate_limit=True,  # Xoxoday's published limits (none for sendBalance)
        timeout=30.0,
    )
    plum.get_access_token()
    sandbox.context.state.reset()
    sandbox.requests.clear()
    worker = DeliveryWorker(
        store=store,
        plum=plum,
        teller=QuietTeller(),
        sender_email=SENDER,
        threads=threads,
        poll_seconds=0.05,
        retry=RetryPlan(window=timedelta(hours=1)),
        batch_max=batch,
    )

    def left() -> int:
        with store.read_session() as session:
            waiting = (Reward.status == "queued") | (Reward.status == "sending")
            return int(session.exec(select(func.count()).where(waiting)).one())

    cpu0, started = cpu_seconds(), time.perf_counter()
    worker.start()
    for _ in range(threads):
        worker.wake()
    while left():
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu0
    worker.stop()
    with store.read_session() as session:
        statuses = dict(
            session.exec(select(Reward.status, func.count()).group_by(Reward.status)).all()
        )
    assert statuses == {"sent": recipients}, statuses
    calls = [r for r in sandbox.requests if r["operation"] == "sendBalance"]
    assert all(r["status"] == 200 for r in calls)
    plum.close()
    engine.dispose()
    path.unlink()
    return Round(seconds=seconds, cpu=cpu, calls=len(calls), recipients=recipients)


def report(name: str, rounds: list[Round], *, ideal: float, extrapolate_to: int) -> dict[str, Any]:
    rates = [r.rate for r in rounds]
    median = statistics.median(rates)
    spread = (max(rates) - min(rates)) / median * 100
    cpu = statistics.median(r.cpu / r.recipients * 1000 for r in rounds)
    n = rounds[0].recipients
    print(
        f"{name}: {n} recipients/round in {rounds[0].calls} calls; "
        f"{median:.1f} recipients/s (rounds: {', '.join(f'{r:.1f}' for r in rates)}; "
        f"spread {spread:.0f}%); ideal {ideal:.1f}/s, {median / ideal * 100:.0f}% of it; "
        f"CPU {cpu:.2f} s per 1,000 recipients"
    )
    if n != extrapolate_to:
        print(
            f"    {extrapolate_to} recipients at this rate: about {extrapolate_to / median:.0f} s "
            f"(extrapolated, not measured)"
        )
    else:
        print(f"    {n} recipients: {statistics.median(r.seconds for r in rounds):.1f} s (median)")
    return {"rate": median, "ideal": ideal}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--latency-ms", type=int, default=300)
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000

    keys = bench_keys()
    sandbox = SandboxServer(rate_limits=True, log_level="error").start()
    sandbox.context.faults.set("sendBalance", latency_ms=args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as where:
            tmp = Path(where)
            figures = {}
            for name, batch, count in (
                (f"batched ({args.batch} a call)", args.batch, args.recipients),
                ("one call per reward (PLUM_SEND_BATCH_MAX=1)", 1, args.baseline),
            ):
                template = tmp / f"template-{count}.db"
                if not template.exists():
                    made = time.perf_counter()
                    make_ledger(template, count, keys)
                    took = time.perf_counter() - made
                    print(f"(ledger of {count} queued rewards made in {took:.0f} s)")
                rounds = [
                    deliver(
                        template,
                        tmp,
                        keys,
                        sandbox,
                        batch=batch,
                        threads=args.threads,
                        recipients=count,
                    )
                    for _ in range(args.rounds)
                ]
                ideal = args.threads * batch / latency
                figures[batch] = report(name, rounds, ideal=ideal, extrapolate_to=args.recipients)
            batched, single = figures[args.batch]["rate"], figures[1]["rate"]
            print(f"batched / one call per reward: {batched / single:.1f}x")
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
