"""`rewardbot plum check`: do the configured Plum credentials work? The balance when they do,
what is wrong (exit 1) when they do not.

It tests what is configured, never only a token saved earlier:
- Client credentials (PLUM_CLIENT_ID, PLUM_CLIENT_SECRET): it asks Xoxoday for a new access token
  with them. The new token goes into the bot's token store (its database, when there is one):
  nothing documented says whether Xoxoday retires older tokens when it issues one, and if it
  does, the store still holds a live one; a running bot takes it up when its own is refused.
- A refresh token (PLUM_REFRESH_TOKEN, with the client id and secret): only a refresh tests the
  id and secret, and each refresh retires the refresh token it used. So the check refreshes
  only through the bot's own database token store, as the token-upkeep job does: under the
  store's refresh lock, the new tokens saved before they are used. Without the bot's database
  it says what it could not test and exits 1.
- An access token alone (PLUM_ACCESS_TOKEN): that token, never refreshed.
Then it validates the token and reads the account balance (an API call, where Xoxoday's IP
allow-list applies).

The output is the check's own report: log lines (httpx's, the bot's) are not shown unless
`rewardbot -v` asks for them. No token or secret is ever printed. `rewardbot check` runs the same
check (`check_plum`) and says what it finds in its own lines (a `Report`).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

from bot.checks.network import network_cause
from bot.plum import (
    AccountDisabledError,
    AuthError,
    FileTokenStore,
    InvalidGrantError,
    InvalidTokenError,
    IPNotAllowedError,
    PlumAPIError,
    PlumClient,
    PlumConnectionError,
    PlumError,
    PlumResponseError,
    PlumTimeoutError,
    RateLimitedError,
    ServerError,
    TokenSet,
    TokenStore,
    TokenStoreError,
    build_client,
)
from bot.plum.retry import RetryPolicy
from bot.rewards.wording import money
from bot.settings import Settings, load_settings
from storage import clock
from storage.urls import sqlite_path

CHECK_TIMEOUT = 10.0
# One repeat of a failed read, and no sleeping through a long rate-limit wait: say it instead.
CHECK_RETRIES = RetryPolicy(max_retries=1, max_wait_hint=5.0)
PRODUCTION_URL = "https://accounts.xoxoday.com/chef"
STAGING_URL = "https://stagingstores.xoxoday.com/chef"
FAILED = "Plum check failed: "
CREDENTIALS_OK = "Plum credentials OK: "

T = TypeVar("T")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plum", help="Xoxoday Plum tools")
    sub = parser.add_subparsers(dest="plum_command", metavar="SUBCOMMAND")
    check = sub.add_parser(
        "check",
        help="test the configured Plum credentials and print the account balance",
        description="Test the configured PLUM_* credentials with Xoxoday (a new access token "
        "for the client id and secret, or a refresh of the refresh token through the bot's "
        "database) and print the account balance. Exit status 0 when they work, 1 (with what "
        "is wrong, or what could not be tested) when they do not.",
    )
    check.add_argument(
        "--token-file",
        type=Path,
        help="keep the new access token of the client-credentials flow in this JSON file "
        "instead of the bot's database (a refresh token is only ever rotated in the database)",
    )
    check.set_defaults(func=run_check)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    with quiet_logs(unless=bool(getattr(args, "verbose", False))):
        return check_plum(settings, Printed(), token_file=args.token_file)


class Report(Protocol):
    """Where a Plum check says what it finds, as it goes. `label`: what `plum check` prints
    before the text ("Plum credentials OK: ", "Plum check failed: "); `lines`: the first says
    what is wrong, the others what to do and what Xoxoday said."""

    def ok(self, text: str, *, label: str = "") -> None: ...

    def warn(self, text: str) -> None: ...

    def fail(self, lines: Sequence[str], *, label: str = "") -> None: ...


class Printed:
    """`rewardbot plum check`'s report: each line printed as it comes."""

    def ok(self, text: str, *, label: str = "") -> None:
        print(label + text)

    def warn(self, text: str) -> None:
        print(text)

    def fail(self, lines: Sequence[str], *, label: str = "") -> None:
        print(label + lines[0])
        for line in lines[1:]:
            print(line)


def check_plum(settings: Settings, report: Report, *, token_file: Path | None = None) -> int:
    """Check the configured Plum credentials (the module doc says how); 0 when they work, 1
    when they do not (the report says why)."""
    if settings.uses_sandbox:
        return _check_sandbox(settings, report)
    return _check_account(settings, token_file, report)


@contextmanager
def quiet_logs(*, unless: bool) -> Iterator[None]:
    """No log records at all while the check runs (httpx logs every request at INFO)."""
    if unless:
        yield
        return
    before = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(before)


# --- the checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    settings: Settings
    host: str  # for people: "accounts.xoxoday.com", "the sandbox"
    base_url: str
    report: Report
    who: str = "Xoxoday"  # who answers: "Xoxoday", or "The sandbox"


SANDBOX_NOTE = (
    "PLUM_BASE_URL is 'sandbox': checking against the embedded Plum sandbox, which pays nobody "
    "(no Xoxoday account is used). Set PLUM_BASE_URL to Xoxoday's API to check real "
    "credentials and pay people."
)


def _check_sandbox(settings: Settings, report: Report) -> int:
    from bot.simulators.embedded import credentials, sandbox_settings
    from bot.simulators.plum_sandbox import SandboxServer

    report.warn(SANDBOX_NOTE)
    client_id, secret = credentials(settings)
    settings = sandbox_settings(settings)
    with tempfile.TemporaryDirectory(prefix="rewardbot-plum-check-") as tmp:
        server = SandboxServer(
            client_id=client_id, client_secret=secret, state_path=Path(tmp) / "state.json"
        )
        with server:
            target = _Target(settings, "the sandbox", server.base_url, report, who="The sandbox")
            client = _client(settings, MemoryTokenStore(), base_url=server.base_url)
            with client:
                return _check_client_credentials(client, target)


def _check_account(settings: Settings, token_file: Path | None, report: Report) -> int:
    _client(settings, MemoryTokenStore()).close()  # a ConfigError first, if a setting is missing
    base_url = str(settings.PLUM_BASE_URL)
    target = _Target(settings, urlparse(base_url).netloc, base_url, report)
    if _set(settings.PLUM_REFRESH_TOKEN):
        return _check_refresh_token(target, token_file)
    if settings.PLUM_CLIENT_ID and _set(settings.PLUM_CLIENT_SECRET):
        store: TokenStore
        if token_file is not None:
            store = FileTokenStore(path=token_file)
            with _client(settings, store) as client:
                return _check_client_credentials(client, target)
        with _bots_store(settings) as (db_store, _):
            store = db_store or MemoryTokenStore()
            with _client(settings, store) as client:
                return _check_client_credentials(client, target)
    # An access token alone (build_client says what to set when there is none).
    with _client(settings, MemoryTokenStore()) as client:
        if not _api(client, target, token="PLUM_ACCESS_TOKEN"):
            return 1
    report.warn(
        "Nothing can renew PLUM_ACCESS_TOKEN: set PLUM_CLIENT_ID and PLUM_CLIENT_SECRET too."
    )
    return 0


def _check_client_credentials(client: PlumClient, target: _Target) -> int:
    if isinstance(_step(target, client.refresh, step="token"), _Failed):
        return 1
    target.report.ok(
        f"{target.who} issued a new access token for PLUM_CLIENT_ID and PLUM_CLIENT_SECRET.",
        label=CREDENTIALS_OK,
    )
    return 0 if _api(client, target, token="the new access token") else 1


def _check_refresh_token(target: _Target, token_file: Path | None) -> int:
    settings = target.settings
    if token_file is not None:
        return _untested(
            target,
            f"the new refresh token would be kept only in {token_file}, which the bot does not "
            "read",
            "Check without --token-file.",
        )
    with _bots_store(settings) as (store, why_not):
        if store is None:
            return _untested(target, why_not, "Run `rewardbot migrate`, then check again.")
        with _client(settings, store) as client:
            if isinstance(_step(target, client.refresh, step="token"), _Failed):
                return 1
            target.report.ok(
                "Xoxoday refreshed the tokens with PLUM_CLIENT_ID and PLUM_CLIENT_SECRET.",
                label=CREDENTIALS_OK,
            )
            until = _until(_refresh_expiry(store))
            valid = f" (valid{until})" if until else ""
            target.report.ok(
                f"The new refresh token{valid} is kept in the bot's database, "
                "as after each refresh."
            )
            return 0 if _api(client, target, token="the new access token") else 1


def _untested(target: _Target, why: str, todo: str) -> int:
    """The refresh flow without the bot's database: say so, then test the access token alone."""
    target.report.fail(
        [
            "PLUM_CLIENT_ID and PLUM_CLIENT_SECRET not tested. Only a refresh tests them, and it "
            "retires the refresh token, so the new one must be kept in the bot's database; "
            f"{why}.",
            todo,
        ],
        label="Plum check incomplete: ",
    )
    settings = target.settings
    if not _set(settings.PLUM_ACCESS_TOKEN):
        return 1
    client = PlumClient(
        base_url=target.base_url,
        token_store=MemoryTokenStore(),
        token_flow="company",
        access_token=settings.PLUM_ACCESS_TOKEN,  # and no refresh token: nothing is rotated
        timeout=CHECK_TIMEOUT,
        retry_policy=CHECK_RETRIES,
    )
    with client:
        _api(client, target, token="PLUM_ACCESS_TOKEN")
    return 1


def _api(client: PlumClient, target: _Target, *, token: str) -> bool:
    """Validate the token and read the balance; print them, or what is wrong."""
    info = _step(target, client.validate, step="api", token=token)
    if isinstance(info, _Failed):
        return False
    balance = _step(target, client.get_balance, step="api", token=token)
    if isinstance(balance, _Failed):
        return False
    amount = money(balance.value, balance.currency)
    until = _until(info.expires_at)
    report = target.report
    if token == "PLUM_ACCESS_TOKEN":
        report.ok(f"PLUM_ACCESS_TOKEN OK{f' (valid{until})' if until else ''}.")
        report.ok(f"Account balance: {amount}.")
    else:
        report.ok(f"Account balance: {amount}{f' (access token valid{until})' if until else ''}.")
    return True


class _Failed:
    """What `_step` returns when the call failed (and what is wrong has been printed)."""


def _step(target: _Target, call: Callable[[], T], *, step: str, token: str = "") -> T | _Failed:
    try:
        return call()
    except PlumError as err:
        target.report.fail(explain(err, target, step=step, token=token), label=FAILED)
        return _Failed()


# --- what went wrong, for people ----------------------------------------------------------------


def explain(err: PlumError, target: _Target, *, step: str, token: str = "") -> list[str]:
    """What is wrong, then what to do (and what Xoxoday said), as lines to print after
    "Plum check failed: ". `step` is "token" (asking for tokens with the client id and secret)
    or "api" (a call with `token`)."""
    settings, host = target.settings, target.host
    if isinstance(err, PlumTimeoutError):
        return [
            f"{host} did not answer within {CHECK_TIMEOUT:g} s.",
            "Check PLUM_BASE_URL and that this server can reach it (firewall, proxy).",
        ]
    if isinstance(err, PlumConnectionError):
        return [
            f"cannot reach {host} ({network_cause(err)}).",
            "Check PLUM_BASE_URL, DNS and the network.",
        ]
    if isinstance(err, TokenStoreError):
        return [str(err)]
    if _not_plum(err, step=step):
        return _not_plum_lines(err, target)
    if not isinstance(err, PlumAPIError):
        return [str(err)]
    lines: list[str]
    code = f" ({err.error_id})" if err.error_id else ""
    if isinstance(err, IPNotAllowedError):
        lines = [
            f"Xoxoday does not accept requests from this server's IP address{code}.",
            "Ask Xoxoday to allow-list it.",
        ]
    elif isinstance(err, AccountDisabledError):
        lines = [
            f"the Xoxoday user or company account is disabled{code}.",
            "Ask your Xoxoday account manager to enable it.",
        ]
    elif isinstance(err, RateLimitedError):
        wait = f"{err.retry_after:g} s" if err.retry_after is not None else "a minute"
        lines = ["Xoxoday is limiting how often it is asked.", f"Try again in {wait}."]
    elif isinstance(err, InvalidGrantError):
        lines = [
            "Xoxoday rejected the refresh token (expired, revoked or already used).",
            "Issue a new one in the Xoxoday dashboard, set PLUM_REFRESH_TOKEN and check again.",
        ]
    elif step == "token" and isinstance(err, AuthError):
        lines = [
            "Xoxoday refused PLUM_CLIENT_ID and PLUM_CLIENT_SECRET: one of them is wrong "
            "(Xoxoday does not say which).",
            *_stray_spaces(settings),
            "Copy both again from the Xoxoday dashboard.",
        ]
    elif isinstance(err, (InvalidTokenError, AuthError)) and token == "PLUM_ACCESS_TOKEN":
        lines = [
            "Xoxoday refused PLUM_ACCESS_TOKEN (invalid or expired).",
            "Issue new tokens in the Xoxoday dashboard, or set PLUM_CLIENT_ID and "
            "PLUM_CLIENT_SECRET so the bot can get its own.",
        ]
    elif isinstance(err, ServerError):
        status = f" (HTTP {err.status})" if err.status else ""
        lines = [f"Xoxoday had an internal error{status}.", "Try again later."]
    else:
        lines = [err.message.rstrip(".") + _facts(err) + "."]
    if err.detail:
        lines.append(f"Xoxoday said: {err.detail}")
    return lines


def _facts(err: PlumAPIError) -> str:
    facts = [f for f in (f"HTTP {err.status}" if err.status else None, err.error_id) if f]
    return f" ({', '.join(facts)})" if facts else ""


def _not_plum(err: PlumError, *, step: str) -> bool:
    """An answer from something that is not the Plum API (Plum's own errors carry an id):
    the base URL is off."""
    if isinstance(err, PlumResponseError):
        return step == "token"  # no readable token answer
    return isinstance(err, PlumAPIError) and not err.error_id and err.status in (404, 405)


def _not_plum_lines(err: PlumError, target: _Target) -> list[str]:
    what = f"HTTP {err.status}" if isinstance(err, PlumAPIError) else "an answer it can't read"
    ends = "" if target.base_url.endswith("/chef") else ": it ends in /chef"
    return [
        f"{target.host} answers, but not as the Plum API ({what}).",
        f"Check PLUM_BASE_URL{ends} (production {PRODUCTION_URL}, staging {STAGING_URL}).",
    ]


def _stray_spaces(settings: Settings) -> list[str]:
    """The one way to tell which part is wrong here: a space copied along with it."""
    secret = settings.PLUM_CLIENT_SECRET
    values = {
        "PLUM_CLIENT_ID": settings.PLUM_CLIENT_ID or "",
        "PLUM_CLIENT_SECRET": secret.get_secret_value() if secret else "",
    }
    return [
        f"{name} {where} with a space or line break: copy it again without it."
        for name, value in values.items()
        for where in [_edge_space(value)]
        if where
    ]


def _edge_space(value: str) -> str:
    if value[:1].isspace() and value[-1:].isspace():
        return "starts and ends"
    if value[:1].isspace():
        return "starts"
    return "ends" if value[-1:].isspace() else ""


# --- helpers ------------------------------------------------------------------------------------


def _client(settings: Settings, store: TokenStore, *, base_url: str | None = None) -> PlumClient:
    return build_client(
        settings,
        clock=clock.timestamp,
        token_store=store,
        base_url=base_url,
        timeout=CHECK_TIMEOUT,
        retry_policy=CHECK_RETRIES,
    )


def _set(value: Any) -> bool:
    return bool(value is not None and value.get_secret_value())


def _refresh_expiry(store: TokenStore) -> datetime | None:
    try:
        tokens = store.load()
    except Exception:  # only for the report: the refresh itself succeeded and was saved
        return None
    return tokens.refresh_expires_at if tokens is not None else None


def _until(moment: datetime | None) -> str:
    return f" until {moment:%Y-%m-%d %H:%M} UTC" if moment is not None else ""


@contextmanager
def _bots_store(settings: Settings) -> Iterator[tuple[TokenStore | None, str]]:
    """The bot's own token store (its database), or None and why there is none."""
    database = sqlite_path(settings.DATABASE_URL)
    if not settings.is_postgres and (database is None or not database.is_file()):
        yield None, "the bot's database does not exist yet"  # and is not created here
        return
    try:
        from storage.db import store_from_settings

        db = store_from_settings(settings)
    except Exception as err:  # keys missing or unreadable
        yield None, f"the bot's database can't be opened ({type(err).__name__})"
        return
    try:
        store = db.token_store()
        try:
            store.load()
        except Exception as err:  # not migrated, unreachable, other keys
            yield None, f"the bot's token store can't be read ({type(err).__name__})"
        else:
            yield store, ""
    finally:
        db.dispose()


class MemoryTokenStore:
    """Tokens kept only for the length of the check."""

    def __init__(self) -> None:
        self._tokens: TokenSet | None = None
        self._lock = threading.Lock()

    def load(self) -> TokenSet | None:
        return self._tokens

    def save(self, tokens: TokenSet) -> None:
        self._tokens = tokens

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._lock:
            yield
