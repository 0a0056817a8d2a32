"""Benchmark the gift form's search: how fast a `block_suggestion` can be answered from the
catalogue kept in memory, against Slack's 3-second limit.

    .venv/bin/python benchmarks/gift_search.py [--products 5000] [--queries 2000]

Reads the sandbox's catalogue through the real client once (getVouchers in pages of 100, as the
bot does), then makes it `--products` long by repeating its products under new names, and prints:
1. the first read (the cold cache: what the first person to open the form waits for);
2. p50 / p99 of a search in memory (typed queries of 0 to 3 words), and the ratio of p99 to
   Slack's 3 s (target: far below 0.01);
3. getVouchers calls made for all the searches (target: 0; 50 a minute are allowed).
Exits 1, saying why, when the catalogue read is empty (Xoxoday's getVouchers gave no product, or
could not be read): there is nothing to search, so no figure would mean anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.plum import FileTokenStore, PlumClient
from bot.rewards.catalogue import Catalogue, Filters
from bot.simulators.plum_sandbox import SandboxServer

SLACK_LIMIT_S = 3.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    if args.products < 1 or args.queries < 1:
        parser.error("--products and --queries must be positive")
    server = SandboxServer(rate_limits=False, log_level="error").start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            plum = PlumClient(
                base_url=server.base_url,
                client_id=server.client_id,
                client_secret="sandbox",
                token_store=FileTokenStore(path=Path(tmp) / "tokens.json"),
            )
            catalogue = Catalogue(plum=plum)
            started = time.perf_counter()
            real = catalogue.products()
            cold = time.perf_counter() - started
            if not real:
                print(
                    "the catalogue is empty: Xoxoday's getVouchers gave no product (or could not "
                    "be read: see the warning above), so there is nothing to search",
                    file=sys.stderr,
                )
                plum.close()
                return 1
            calls_before = len([r for r in server.requests if "getVouchers" in str(r)])
            grown = tuple(
                dataclasses.replace(p, product_id=n, name=f"{p.name} #{n}")
                for n, p in enumerate(
                    (real[i % len(real)] for i in range(args.products)), start=100_000
                )
            )

            class Grown(Catalogue):  # the same products, many more of them
                def products(self, *, wait: bool = True) -> tuple:  # type: ignore[override]
                    return grown

            catalogue = Grown(plum=plum)
            words = sorted({w.lower() for p in real for w in p.name.split()})
            rng = random.Random(7)
            times = []
            for _ in range(args.queries):
                query = " ".join(rng.sample(words, rng.randint(0, 3)))
                t = time.perf_counter()
                catalogue.search(query, filters=Filters(), charity=False)
                times.append(time.perf_counter() - t)
            calls = len([r for r in server.requests if "getVouchers" in str(r)]) - calls_before
            plum.close()
    finally:
        server.stop()
    times.sort()
    p50 = statistics.median(times)
    p99 = times[max(0, int(len(times) * 0.99) - 1)]
    print(f"1. first read of {len(real)} products (cold cache): {cold * 1000:.0f} ms")
    print(
        f"2. search over {args.products:,} products: p50 {p50 * 1000:.2f} ms, "
        f"p99 {p99 * 1000:.2f} ms; p99 / Slack's 3 s = {p99 / SLACK_LIMIT_S:.5f}"
    )
    print(f"3. getVouchers calls during {args.queries:,} searches: {calls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
