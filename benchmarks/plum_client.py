"""Benchmark the Plum client against a local sandbox (rate limits off).

    .venv/bin/python benchmarks/plum_client.py [--calls 1000] [--threads 8]

Prints:
1. token requests per 1,000 calls made by 8 threads sharing one client (target: 1);
2. the client's time per call against a bare httpx POST to the same endpoint (target <= 1.3);
3. 1,000 recipients sent with sendBalance while the sandbox adds 100 ms to every answer, in
   several batchings, against the ideal: ceil(calls / threads) x 100 ms.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bot.plum import FileTokenStore, PlumClient, Recipient
from bot.simulators.plum_sandbox import SandboxServer

LATENCY_MS = 100


def start_sandbox() -> SandboxServer:
    return SandboxServer(rate_limits=False, log_level="error").start()


def client_for(server: SandboxServer, tmp: Path, name: str) -> PlumClient:
    return PlumClient(
        base_url=server.base_url,
        client_id="sandbox",
        client_secret="sandbox",
        token_store=FileTokenStore(path=tmp / f"{name}.json"),
        rate_limit=False,
    )


def token_requests_per_1000(server: SandboxServer, tmp: Path, calls: int, threads: int) -> None:
    client = client_for(server, tmp, "tokens")
    before = server.token_requests
    per_thread = calls // threads

    def work() -> None:
        for _ in range(per_thread):
            client.user_balance(email="bench@example.com")

    started = time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    made = per_thread * threads
    tokens = server.token_requests - before
    print(
        f"1. token requests: {tokens} for {made} calls over {threads} threads "
        f"= {tokens * 1000 / made:g} per 1,000 calls (target 1); {made / elapsed:.0f} calls/s"
    )
    client.close()


def per_call_overhead(server: SandboxServer, tmp: Path, rounds: int = 7, n: int = 300) -> None:
    client = client_for(server, tmp, "overhead")
    token = client.get_access_token()
    bare = httpx.Client()
    url = f"{server.base_url}/v1/oauth/api"
    body = {
        "query": "storesAdmin.query.user_balance",
        "tag": "storeAdmin",
        "variables": {"user_data": {"email": "bench@example.com"}},
    }
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def bare_call() -> None:
        bare.post(url, json=body, headers=headers).json()

    def client_call() -> None:
        client.user_balance(email="bench@example.com")

    def mean_ms(call: Callable[[], None]) -> float:
        started = time.perf_counter()
        for _ in range(n):
            call()
        return (time.perf_counter() - started) * 1000 / n

    for call in (bare_call, client_call):  # warm up connections and code paths
        mean_ms(call)
    bare_ms, client_ms = [], []
    for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
        bare_ms.append(mean_ms(bare_call))
        client_ms.append(mean_ms(client_call))
    b, c = statistics.median(bare_ms), statistics.median(client_ms)
    print(
        f"2. per call: client {c:.3f} ms vs bare httpx POST {b:.3f} ms "
        f"= ratio {c / b:.2f} (target <= 1.3; medians of {rounds} rounds x {n} calls)"
    )
    bare.close()
    client.close()


def send_recipients(server: SandboxServer, tmp: Path, total: int) -> None:
    server.faults.latency_ms = LATENCY_MS
    client = client_for(server, tmp, "send")
    client.get_access_token()
    print(
        f"3. {total} recipients via sendBalance, sandbox latency {LATENCY_MS} ms per answer; "
        "ideal = ceil(calls / threads) x latency:"
    )
    plans = [(total, 1), (100, 1), (100, 4), (10, 16), (1, 32)]
    for per_call, threads in plans:
        calls = math.ceil(total / per_call)
        batches = [
            [
                Recipient(email=f"r{i}@example.com", points=1)
                for i in range(start, min(start + per_call, total))
            ]
            for start in range(0, total, per_call)
        ]

        def send(batch: list[Recipient]) -> int:
            result = client.send_balance(
                sender_email="boss@example.com", expiry_month=12, recipients=batch
            )
            return len(result.recipients)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            sent = sum(pool.map(send, batches))
        wall = time.perf_counter() - started
        ideal = math.ceil(calls / threads) * LATENCY_MS / 1000
        print(
            f"   {per_call:>4} per call x {calls:>4} calls, {threads:>2} threads: "
            f"{wall:6.2f} s (ideal {ideal:5.2f} s, x{wall / ideal:.2f}); {sent} sent"
        )
    server.faults.latency_ms = 0
    client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--recipients", type=int, default=1000)
    args = parser.parse_args()
    server = start_sandbox()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            token_requests_per_1000(server, Path(tmp), args.calls, args.threads)
            per_call_overhead(server, Path(tmp))
            send_recipients(server, Path(tmp), args.recipients)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
