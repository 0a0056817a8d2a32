"""`rewardbot plum check`: are the Plum credentials good? Prints the balance or what is wrong."""

from __future__ import annotations

import argparse
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.plum import (
    FileTokenStore,
    PlumClient,
    PlumConnectionError,
    PlumError,
    PlumTimeoutError,
    TokenStore,
    build_client,
    default_token_path,
)
from bot.plum.builder import sandbox_credentials
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 10.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plum", help="Xoxoday Plum tools")
    sub = parser.add_subparsers(dest="plum_command", metavar="SUBCOMMAND")
    check = sub.add_parser(
        "check",
        help="validate the Plum credentials and print the account balance",
        description="Validate the PLUM_* credentials and print the account balance. "
        "Exit status 0 when they work, 1 (with the reason) when they do not.",
    )
    check.add_argument(
        "--token-file",
        type=Path,
        help="JSON token file to use (default: the bot's database token store, else "
        "a file beside the SQLite database)",
    )
    check.set_defaults(func=run_check)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    with _quiet_logs(unless=bool(getattr(args, "verbose", False))):
        if settings.uses_sandbox:
            return _check_sandbox(settings)
        store, note = _token_store(settings, args.token_file)
        if note:
            print(note)
        client = build_client(settings, token_store=store, timeout=CHECK_TIMEOUT, max_retries=1)
        with client:
            return _check(client, host=urlparse(settings.PLUM_BASE_URL).netloc)


@contextmanager
def _quiet_logs(*, unless: bool) -> Iterator[None]:
    """No log records at all while the check runs: its output is its report (httpx logs every
    request at INFO, storage warns about generated keys). `rewardbot -v` shows them."""
    if unless:
        yield
        return
    before = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(before)


def _check_sandbox(settings: Settings) -> int:
    from bot.simulators.plum_sandbox import SandboxServer

    print(
        "PLUM_BASE_URL is 'sandbox': checking against the embedded Plum sandbox "
        "(no Xoxoday account is used). Set PLUM_BASE_URL to check real credentials."
    )
    client_id, secret = sandbox_credentials(settings)
    with tempfile.TemporaryDirectory(prefix="rewardbot-plum-check-") as tmp:
        server = SandboxServer(
            client_id=client_id, client_secret=secret, state_path=Path(tmp) / "state.json"
        )
        with server:
            store = FileTokenStore(path=Path(tmp) / "tokens.json")
            client = build_client(
                settings, token_store=store, base_url=server.base_url, timeout=CHECK_TIMEOUT
            )
            with client:
                return _check(client, host="the sandbox")


def _check(client: PlumClient, *, host: str) -> int:
    try:
        info = client.validate()
        balance = client.get_balance()
    except PlumTimeoutError:
        print(f"Plum check failed: {host} did not answer within {CHECK_TIMEOUT:g} s.")
        print("Check PLUM_BASE_URL and that this server can reach it (firewall, proxy).")
        return 1
    except PlumConnectionError as err:
        print(f"Plum check failed: cannot reach {host} ({_cause(err)}).")
        print("Check PLUM_BASE_URL, DNS and the network.")
        return 1
    except PlumError as err:
        print(f"Plum check failed: {err}")
        return 1
    left = ""
    if info.expires_at is not None:
        left = f", access token valid until {info.expires_at:%Y-%m-%d %H:%M} UTC"
    print(f"Plum credentials OK ({client.token_flow} flow{left}).")
    print(f"Account balance: {balance.value} {balance.currency or ''}".rstrip() + ".")
    return 0


def _cause(err: BaseException) -> str:
    return type(err.__cause__).__name__ if err.__cause__ else type(err).__name__


def _token_store(settings: Settings, token_file: Path | None) -> tuple[TokenStore, str | None]:
    """The bot's own token store, so a refresh here is one the bot sees too."""
    if token_file is not None:
        return FileTokenStore(path=token_file), None
    path = default_token_path(settings)
    sqlite = settings.DATABASE_URL.removeprefix("sqlite:///").split("?", 1)[0]
    if not settings.is_postgres and not Path(sqlite).is_file():
        return FileTokenStore(path=path), None  # no database yet: do not create one here
    try:
        from storage.db import store_from_settings

        db_store = store_from_settings(settings).token_store()
        db_store.load()
        return db_store, None
    except Exception as err:  # not migrated, unreachable, or no storage package: use the file
        log.debug("database token store unavailable: %s", type(err).__name__)
        return FileTokenStore(path=path), (
            f"Note: the database token store is unavailable ({type(err).__name__}); using {path}."
        )
