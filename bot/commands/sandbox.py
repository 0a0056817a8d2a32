"""`rewardbot sandbox`: run the local Plum sandbox in the foreground.

It prints its base URL, client id and its own demo tokens (they only open this sandbox), and
the PLUM_* values that point the bot at it. A secret given with --client-secret is never printed.

Its hosted store (StoreFront) spends from the company point system given by --storefront-url
(or SANDBOX_STOREFRONT_URL), with the api_key in STOREFRONT_API_KEY (or
--storefront-api-key); the key is never printed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.simulators.plum_sandbox import SandboxServer

DEFAULT_CLIENT = "sandbox"
DEFAULT_SECRET = "sandbox"
SENDER_EXAMPLE = "rewards-admin@sandbox.example"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run a local Xoxoday Plum sandbox",
        description="A stateful local Plum API under /chef, with fault injection.",
    )
    parser.add_argument("--port", type=int, default=5050, help="port (default 5050; 0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT, help="default: sandbox")
    parser.add_argument("--client-secret", help="default: sandbox (never printed when given)")
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
    parser.add_argument(
        "--storefront-url",
        default=os.environ.get("SANDBOX_STOREFRONT_URL") or None,
        metavar="URL",
        help="the company's StoreFront endpoints the store spends from, e.g. "
        "http://127.0.0.1:3000/storefront (default: $SANDBOX_STOREFRONT_URL)",
    )
    parser.add_argument(
        "--storefront-api-key",
        default=None,
        metavar="KEY",
        help="the api_key the company's GetProfile expects (default: $STOREFRONT_API_KEY)",
    )
    parser.set_defaults(func=run)


def _pairs(items: list[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"rewardbot sandbox: --{what} needs NAME=VALUE, got {item!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def banner(server: SandboxServer, *, secret_given: bool, state: Path | None) -> list[str]:
    """What `rewardbot sandbox` prints once it listens: where it is, its demo tokens, and the
    .env lines that point the bot at it. A secret given on the command line is not repeated."""
    secret = "(the one you gave with --client-secret)" if secret_given else DEFAULT_SECRET
    lines = [
        f"Plum sandbox: PLUM_BASE_URL={server.base_url}",
        f"  client id:      {server.client_id}",
        f"  client secret:  {secret}",
        f"  refresh token:  {server.refresh_token}",
        f"  access token:   {server.access_token}",
        f"  admin:          {server.root_url}/_sandbox/state  (faults: /_sandbox/faults)",
    ]
    if state is not None:
        lines.append(f"  state file:     {state}")
    connection = server.context.storefront.connection
    if connection is not None:
        lines.append(f"  store spends:   {connection.base_url}/{{balance,profile,redeem,refund}}")
    else:
        lines.append("  store spends:   nothing (no --storefront-url: no point system connected)")
    lines.append(f"  store sign-in:  {server.store_url}/chef/v1/oauth/redirect/stores/<ssoToken>")
    env_secret = "<the secret you gave>" if secret_given else DEFAULT_SECRET
    lines += [
        "To point the bot at it, set in .env (the bot then treats it as a real Xoxoday:",
        "its messages carry no sandbox notice; PLUM_BASE_URL=sandbox runs one inside the bot):",
        f"  PLUM_BASE_URL={server.base_url}",
        f"  PLUM_CLIENT_ID={server.client_id}",
        f"  PLUM_CLIENT_SECRET={env_secret}",
        f"  PLUM_SENDER_EMAIL={SENDER_EXAMPLE}  (any address will do)",
        "These demo tokens only open this sandbox. Ctrl-C stops it.",
    ]
    return lines


def run(args: argparse.Namespace) -> int:
    from bot.simulators.plum_sandbox import SandboxServer, parse_fault_spec

    secret_given = args.client_secret is not None
    server = SandboxServer(
        client_id=args.client_id,
        client_secret=args.client_secret if secret_given else DEFAULT_SECRET,
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
        if args.storefront_url:
            key = args.storefront_api_key or os.environ.get("STOREFRONT_API_KEY") or ""
            if not key:
                raise ValueError(
                    "--storefront-url needs the company's api_key: set STOREFRONT_API_KEY "
                    "or give --storefront-api-key"
                )
            server.connect_storefront(args.storefront_url, key)
    except ValueError as err:
        raise SystemExit(f"rewardbot sandbox: {err}") from None
    server.bind()
    print("\n".join(banner(server, secret_given=secret_given, state=args.state)), flush=True)
    server.serve_forever()
    return 0
