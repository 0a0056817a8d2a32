"""`rewardbot playground`: the bot, the Plum sandbox and a stand-in Slack on one local page.

Nothing is read from `.env`: the playground's settings are fixed
(bot/simulators/playground/config.py).
The ledger and the sandbox's account live in --state-dir (default ./playground-data); the
Slack side (messages, DMs, modals) is in memory and starts empty on each run.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_PORT = 3000
DEFAULT_STATE_DIR = Path("playground-data")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "playground",
        help="try the bot locally: a stand-in Slack page, the bot and the Plum sandbox",
        description="Run the bot against a local stand-in Slack and the Plum sandbox, "
        "with a web page at http://127.0.0.1:PORT/.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any)"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help=f"where the ledger and sandbox account are kept (default ./{DEFAULT_STATE_DIR})",
    )
    parser.add_argument(
        "--storefront",
        action="store_true",
        help="points live in the bot (REWARD_POINT_SYSTEM=storefront): Redeem opens the "
        "sandbox's store, which spends them from the bot's ledger",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.simulators.playground.server import Playground, PlaygroundError

    if not 0 <= args.port <= 65535:
        raise SystemExit("rewardbot playground: --port must be 0 to 65535")
    try:
        playground = Playground(
            state_dir=args.state_dir, port=args.port, storefront=args.storefront
        )
    except PlaygroundError as err:
        raise SystemExit(f"rewardbot playground: {err}") from None
    print(f"Playground: {playground.url}", flush=True)
    if args.storefront:
        print("  points live in the bot (StoreFront): Redeem opens the sandbox's store", flush=True)
    print(f"  state in {args.state_dir.resolve()} · Ctrl-C stops it", flush=True)
    playground.serve_forever()
    return 0
