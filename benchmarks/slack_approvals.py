"""Benchmark the approval path end to end: approval click → the recipient's DM.

    .venv/bin/python benchmarks/slack_approvals.py [--rewards 500] [--latency-ms 300]
        [--concurrency 20] [--rate 5]

Two processes on loopback, so the bot shares no GIL with the load: this one (the fake Slack with
the demo workspace plus bench givers, the Plum sandbox with rate limits off and `--latency-ms`
added to every answer, and the load: signed requests built as Slack builds them) and the bot,
`python -m bot` (= `rewardbot serve`) itself (SQLite in a temp dir, REWARD_APPROVERS=UAPPR001,
the default approval threshold of 500, no monthly allowance, 4 delivery threads as it runs).

For each of two runs, `--rewards` rewards of 600 points are given with `/reward` (not timed), and
the approver's DM'd request of each is approved by a signed Approve click. Time is measured from
just before the click is sent to the moment the fake Slack stored the recipient's DM.
- burst: every click sent at once, `--concurrency` in flight (a queue forms: the outbox sends one
  reward per sendBalance, 4 at a time, each taking the injected latency);
- paced: `--rate` clicks per second, under the outbox's capacity, so the figure is the latency of
  one approval rather than the queue.
Prints per run: click → recipient DM p50 / p99 / max, the click's HTTP ack p50 / p99, sendBalance
calls per reward (target 1.0) and the ledger check (every reward sent, one approval each).
Exit status 1 when a click ack p99 is 3 s or more, or a reward was lost or sent twice.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.simulators.fakeslack import FakeSlack, SlackDriver, Workspace  # noqa: E402
from bot.simulators.plum_sandbox import SandboxServer  # noqa: E402
from bot.slack.ids import ActionId  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
APPROVER = "UAPPR001"
ADMIN = "UADMIN01"
AMOUNT = 600  # over the default REWARD_APPROVAL_THRESHOLD of 500
GIVERS = 20
START_TIMEOUT = 60.0
ACK_MUST_SECONDS = 3.0
INHERITED_PREFIXES = ("SLACK_", "PLUM_", "REWARD_")
INHERITED_NAMES = ("DATABASE_URL", "PORT", "AUDIT_KEY", "ENCRYPTION_KEY")
T = TypeVar("T")
_REWARD_ID = re.compile(r"Reward `([0-9A-Z]{6})`")


@dataclass
class Run:
    name: str
    latencies: list[float]  # click → recipient DM, seconds
    acks: list[float]  # click → HTTP response, seconds
    seconds: float  # first click → last DM
    sends: int
    rewards: int


# ─── setup ────────────────────────────────────────────────────────────────────────────────


def bench_workspace() -> Workspace:
    ws = Workspace.demo()
    for n in range(1, GIVERS + 1):
        ws.add_user(
            id=f"UGIVE{n:03d}",
            name=f"giver{n:03d}",
            real_name=f"Bench Giver {n:03d}",
            email=f"giver{n:03d}@acme.test",
        )
    return ws


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_bot(
    *, tmp: Path, fake: FakeSlack, sandbox: SandboxServer
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(INHERITED_PREFIXES) and k not in INHERITED_NAMES
    }
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "PLUM_BASE_URL": sandbox.base_url,
            "PLUM_CLIENT_ID": "sandbox",
            "PLUM_CLIENT_SECRET": "sandbox",
            "PLUM_SENDER_EMAIL": "people-ops@acme.test",
            "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}",
            "REWARD_ADMINS": ADMIN,
            "REWARD_APPROVERS": APPROVER,
            "REWARD_ALLOWANCE": "0",
            # sent at once, as the load's drain and reconciliation expect (no undo window)
            "REWARD_UNDO_COMMANDS": "false",
        }
    )
    log = (tmp / "bot.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp,  # no developer .env is read
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (tmp / "bot.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"the bot exited:\n{tail}")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("the bot did not start in time")


# ─── the two phases ───────────────────────────────────────────────────────────────────────


def give(driver: SlackDriver, fake: FakeSlack, count: int, tag: str) -> dict[str, dict[str, Any]]:
    """`count` rewards over the threshold; returns {short id: the approver's request}."""
    recipients = ["UMARIA01", "UBOB0001", "UCHEN001"]
    before = {m["ts"] for m in fake.dms_to(APPROVER)}

    def one(n: int) -> None:
        giver = f"UGIVE{n % GIVERS + 1:03d}"
        to = recipients[n % len(recipients)]
        driver.command(f"<@{to}> {AMOUNT} {tag} {n}: kept the release on track", user_id=giver)

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(one, range(count)))

    def requests() -> dict[str, dict[str, Any]]:
        found = {}
        for message in fake.dms_to(APPROVER):
            if message["ts"] in before:
                continue
            value = _approve_value(message)
            if value:
                found[value] = message
        return found if len(found) >= count else {}

    return poll(requests, timeout=120.0)


def poll(probe: Callable[[], T], *, timeout: float, every: float = 0.5) -> T:
    """probe()'s first truthy value, checked every `every` seconds. (Not the fake's wait_for,
    which re-runs the probe on every change: scanning thousands of messages that often would
    slow the fake Slack down and with it the bot. Times come from the messages' ts, so how
    often this looks changes no figure.)"""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing matched within {timeout}s")
        time.sleep(every)


def _approve_value(message: dict[str, Any]) -> str | None:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == ActionId.APPROVE:
                return str(element.get("value"))
    return None


def approve(
    driver: SlackDriver,
    fake: FakeSlack,
    requests: dict[str, dict[str, Any]],
    *,
    concurrency: int,
    rate: float,
) -> tuple[dict[str, float], list[float], dict[str, float]]:
    """Click Approve on every request; returns (click times, ack times, DM times) by short id."""
    clicked: dict[str, float] = {}
    acks: list[float] = []
    start = time.time()
    items = list(requests.items())

    def click(index: int) -> None:
        short, message = items[index]
        if rate > 0:
            delay = start + index / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        at = time.time()
        clicked[short] = at
        response = driver.block_action(
            user_id=APPROVER, action_id=ActionId.APPROVE, value=short, message=message
        )
        acks.append(time.time() - at)
        if response.status_code != 200:
            raise RuntimeError(f"click answered {response.status_code}")

    workers = concurrency if rate <= 0 else max(concurrency, int(rate * 2) + 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(click, range(len(items))))

    def delivered() -> dict[str, float]:
        seen: dict[str, float] = {}
        for message in fake.messages():
            text = message.get("text") or ""
            if "sent you" not in text:
                continue
            found = _REWARD_ID.search(str(message.get("blocks")))
            if found and found.group(1) in requests:
                seen.setdefault(found.group(1), float(message["ts"]))
        return seen if len(seen) >= len(requests) else {}

    return clicked, acks, poll(delivered, timeout=600.0)


def ledger(db: Path) -> tuple[int, int, int]:
    """(rewards sent, approvals, rewards) in the bot's database."""
    with sqlite3.connect(db) as conn:
        sent = conn.execute("SELECT count(*) FROM rewards WHERE status = 'sent'").fetchone()[0]
        approvals = conn.execute("SELECT count(*) FROM approvals").fetchone()[0]
        total = conn.execute("SELECT count(*) FROM rewards").fetchone()[0]
    return int(sent), int(approvals), int(total)


# ─── reporting ────────────────────────────────────────────────────────────────────────────


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def report(run: Run, latency_ms: int) -> bool:
    lat, acks = run.latencies, run.acks
    print(
        f"{run.name}: {len(lat)} approvals, Plum latency {latency_ms} ms\n"
        f"  click → recipient DM  p50 {pct(lat, 50) * 1000:7.0f} ms   "
        f"p99 {pct(lat, 99) * 1000:7.0f} ms   max {max(lat) * 1000:7.0f} ms   "
        f"mean {statistics.fmean(lat) * 1000:7.0f} ms\n"
        f"  click ack (HTTP)      p50 {pct(acks, 50) * 1000:7.0f} ms   "
        f"p99 {pct(acks, 99) * 1000:7.0f} ms\n"
        f"  first click → last DM {run.seconds:6.1f} s "
        f"({len(lat) / run.seconds:.1f} rewards/s); sendBalance per reward "
        f"{run.sends / max(run.rewards, 1):.2f} (target 1.00)"
    )
    return pct(acks, 99) < ACK_MUST_SECONDS and run.sends == run.rewards


def run_approvals(
    *, rewards: int = 500, latency_ms: int = 300, concurrency: int = 20, rate: float = 5.0
) -> bool:
    """Both runs (burst, then paced at `rate`/s); prints the figures; True when the musts hold."""
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-approvals-") as name:
        tmp = Path(name)
        sandbox = SandboxServer(
            rate_limits=False, state_path=tmp / "sandbox.json", balance=Decimal("100000000")
        ).start()
        fake = FakeSlack(workspace=bench_workspace(), bot_token=BOT_TOKEN).start()
        process, url = start_bot(tmp=tmp, fake=fake, sandbox=sandbox)
        driver = SlackDriver(
            bot_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET, fake=fake, timeout=60
        )
        try:
            sandbox.faults.latency_ms = latency_ms
            plans = [("burst", concurrency, 0.0), (f"paced {rate:g}/s", concurrency, rate)]
            sent_before = 0
            for index, (label, in_flight, pace) in enumerate(plans):
                requests = give(driver, fake, rewards, tag=f"run{index}")
                sends_before = _sends(sandbox)
                clicked, acks, dms = approve(
                    driver, fake, requests, concurrency=in_flight, rate=pace
                )
                sends = _sends(sandbox) - sends_before
                lat = [dms[s] - clicked[s] for s in requests]
                run = Run(
                    name=label,
                    latencies=lat,
                    acks=acks,
                    seconds=max(dms.values()) - min(clicked.values()),
                    sends=sends,
                    rewards=len(requests),
                )
                ok = report(run, latency_ms) and ok
                sent, approvals, total = ledger(tmp / "bot.db")
                sent_before += len(requests)
                good = sent == approvals == total == sent_before
                print(
                    f"  ledger: {total} rewards, {approvals} approvals, {sent} sent "
                    f"({'ok' if good else 'MISMATCH'})"
                )
                ok = ok and good
        finally:
            driver.close()
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
            fake.stop()
            sandbox.stop()
    return ok


def _sends(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.requests if r["operation"] == "sendBalance")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rewards", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20, help="clicks in flight (burst)")
    parser.add_argument("--rate", type=float, default=5.0, help="clicks per second (paced)")
    args = parser.parse_args(argv)
    ok = run_approvals(
        rewards=args.rewards,
        latency_ms=args.latency_ms,
        concurrency=args.concurrency,
        rate=args.rate,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
