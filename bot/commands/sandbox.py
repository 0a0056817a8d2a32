"""`rewardbot sandbox`: run the local Plum sandbox in the foreground.

It prints its base URL, client id and its own demo tokens (they only open this sandbox).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run a local Xoxoday Plum sandbox",
        description="A stateful local Plum API under /chef, with fault injection.",
    )
    parser.add_argument("--port", type=int, default=5050, help="port (default 5050; 0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--client-id", default="sandbox")
    parser.add_argument("--client-secret", default="sandbox")
    parser.add_argument("--seed", type=int, default=0, help="seed for faults and demo codes")
    parser.add_argument("--state", type=Path, help="keep the account in this JSON file")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay every request")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="OP=SPEC",
        help="e.g. sendBalance=error:PLE10024,rate:0.5 | placeOrder=drop | getBalance=hang,count:1",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="response shape, e.g. sendBalance=flat, token=docs, error_code=number",
    )
    parser.add_argument("--no-rate-limits", action="store_true", help="ignore per-minute limits")
    parser.set_defaults(func=run)


def _pairs(items: list[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"rewardbot sandbox: --{what} needs NAME=VALUE, got {item!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def run(args: argparse.Namespace) -> int:
    from bot.simulators.plum_sandbox import SandboxServer, parse_fault_spec

    server = SandboxServer(
        client_id=args.client_id,
        client_secret=args.client_secret,
        seed=args.seed,
        state_path=args.state,
        host=args.host,
        port=args.port,
        rate_limits=not args.no_rate_limits,
        latency_ms=args.latency_ms,
        log_level="info",
    )
    try:
        for op, spec in _pairs(args.fault, "fault"):
            server.faults.set(op, parse_fault_spec(spec))
        for name, value in _pairs(args.variant, "variant"):
            server.faults.set_variant(name, value)
    except ValueError as err:
        raise SystemExit(f"rewardbot sandbox: {err}") from None
    server.bind()
    print(f"Plum sandbox: PLUM_BASE_URL={server.base_url}")
    print(f"  client id:      {server.client_id}  (secret: as given with --client-secret)")
    print(f"  refresh token:  {server.refresh_token}")
    print(f"  access token:   {server.access_token}")
    print(f"  admin:          {server.root_url}/_sandbox/state  (faults: /_sandbox/faults)")
    if args.state:
        print(f"  state file:     {args.state}")
    print("These demo tokens only open this sandbox. Ctrl-C stops it.", flush=True)
    server.serve_forever()
    return 0
