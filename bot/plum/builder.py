"""Build a PlumClient from the PLUM_* settings, choosing the token flow.

Token flow, first match wins:
1. PLUM_REFRESH_TOKEN set: the refresh-token flow on /v1/oauth/token/company (the endpoint for
   Points and StoreFront), seeded with PLUM_ACCESS_TOKEN when set. Needs PLUM_CLIENT_ID and
   PLUM_CLIENT_SECRET (the refresh grant carries them).
2. PLUM_CLIENT_ID and PLUM_CLIENT_SECRET: client credentials on /v1/oauth/token.
3. PLUM_ACCESS_TOKEN alone: used until it expires; nothing can renew it.

The settings seed the token store only when it holds nothing for that flow: Xoxoday rotates
refresh tokens, so after the first refresh the store (not .env) has the live one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import httpx

from bot.plum.client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, PlumClient
from bot.plum.observe import CallObserver
from bot.plum.retry import RetryPolicy
from bot.plum.tokens import TokenStore
from bot.settings import ConfigError, Settings


def build_client(
    settings: Settings,
    *,
    clock: Callable[[], float],
    token_store: TokenStore,
    base_url: str | None = None,
    http_client: httpx.Client | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
    retry_policy: RetryPolicy | None = None,
    rate_limit: bool = True,
    observer: CallObserver | None = None,
) -> PlumClient:
    """A PlumClient for these settings. The caller says what time it is (`clock`: the process's,
    `storage.clock.timestamp`, which the playground moves and its stand-ins follow) and where the
    tokens live (`token_store`: the bot's database, or a file for `plum check --token-file`).
    `base_url` overrides PLUM_BASE_URL; `observer` is told about each call (`bot.plum.observe`).
    Raises ConfigError naming the setting."""
    url = base_url or settings.PLUM_BASE_URL
    if not url or not url.startswith(("http://", "https://")):
        raise ConfigError(
            "PLUM_BASE_URL: is not set to Xoxoday's API, such as https://accounts.xoxoday.com/chef"
        )
    common = functools.partial(
        PlumClient,
        base_url=url,
        token_store=token_store,
        http_client=http_client,
        timeout=timeout,
        max_retries=max_retries,
        retry_policy=retry_policy,
        rate_limit=rate_limit,
        clock=clock,
        store_url=settings.STOREFRONT_STORE_URL,
        observer=observer,
    )
    client_id = settings.PLUM_CLIENT_ID
    secret = settings.PLUM_CLIENT_SECRET
    has_secret = bool(secret and secret.get_secret_value())
    if settings.PLUM_REFRESH_TOKEN and settings.PLUM_REFRESH_TOKEN.get_secret_value():
        if not (client_id and has_secret):
            raise ConfigError(
                "PLUM_CLIENT_ID: PLUM_REFRESH_TOKEN is set, and refreshing it needs "
                "PLUM_CLIENT_ID and PLUM_CLIENT_SECRET too"
            )
        return common(
            client_id=client_id,
            client_secret=secret,
            token_flow="company",
            access_token=settings.PLUM_ACCESS_TOKEN,
            refresh_token=settings.PLUM_REFRESH_TOKEN,
        )
    if client_id and has_secret:
        return common(client_id=client_id, client_secret=secret)
    if settings.PLUM_ACCESS_TOKEN and settings.PLUM_ACCESS_TOKEN.get_secret_value():
        return common(token_flow="company", access_token=settings.PLUM_ACCESS_TOKEN)
    raise ConfigError(
        "PLUM_CLIENT_ID: no Plum credentials: set PLUM_CLIENT_ID and PLUM_CLIENT_SECRET "
        "(or PLUM_REFRESH_TOKEN with them)"
    )
