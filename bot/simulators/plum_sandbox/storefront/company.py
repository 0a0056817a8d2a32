"""Calls to the company's point system, as Xoxoday makes them: JSON POSTs to the endpoints
the company gave (`{base_url}/balance`, `/profile`, `/redeem`, `/refund`).

A call that gets no answer at all (refused, dropped, timed out) is sent once more with the
same body, as Xoxoday may repeat calls; the company is idempotent on the order id. Any answer,
error statuses included, is final. Nothing here logs a body: they carry the auth_token.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
ENDPOINTS = ("balance", "profile", "redeem", "refund")
USER_AGENT = "plum-sandbox-storefront/0.1"


@dataclass(frozen=True, slots=True)
class Connection:
    base_url: str
    api_key: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    def url(self, endpoint: str) -> str:
        return f"{self.base_url}/{endpoint}"

    def __repr__(self) -> str:  # never show the key
        return f"Connection(base_url={self.base_url!r}, timeout={self.timeout})"


class Storefront:
    """Which company point system the store spends from (none until connected)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    def connect(
        self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> Connection:
        base = base_url.strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not api_key:
            raise ValueError("api_key is required (the company's GetProfile checks it)")
        if timeout <= 0:
            raise ValueError("timeout must be more than 0 seconds")
        connection = Connection(base_url=base, api_key=api_key, timeout=timeout)
        with self._lock:
            self._connection = connection
        return connection

    def disconnect(self) -> None:
        with self._lock:
            self._connection = None

    @property
    def connection(self) -> Connection | None:
        with self._lock:
            return self._connection

    def to_json(self) -> dict[str, Any]:
        connection = self.connection
        if connection is None:
            return {"connected": False}
        return {
            "connected": True,
            "base_url": connection.base_url,
            "endpoints": {name: connection.url(name) for name in ENDPOINTS},
            "api_key_set": True,
            "timeout": connection.timeout,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What the company said: `ok` is its status "1"; `message` its text (or ours when it
    said nothing usable); `answered` False when both tries got no answer."""

    ok: bool
    message: str
    body: dict[str, Any] | None = None
    http_status: int | None = None
    answered: bool = True


async def call(connection: Connection, endpoint: str, body: dict[str, Any]) -> Answer:
    url = connection.url(endpoint)
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    response: httpx.Response | None = None
    async with httpx.AsyncClient(timeout=connection.timeout, follow_redirects=False) as http:
        for attempt in (1, 2):
            try:
                response = await http.post(url, json=body, headers=headers)
                break
            except httpx.TransportError as err:
                log.info(
                    "sandbox store: %s got no answer (%s), try %d of 2",
                    endpoint,
                    type(err).__name__,
                    attempt,
                )
    if response is None:
        return Answer(
            ok=False,
            message="The company's point system did not answer (asked twice).",
            answered=False,
        )
    log.info("sandbox store: %s -> HTTP %d", endpoint, response.status_code)
    return read(response)


def read(response: httpx.Response) -> Answer:
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    body = parsed if isinstance(parsed, dict) else None
    message = _text(body.get("message")) if body else ""
    ok = response.status_code == 200 and body is not None and _text(body.get("status")) == "1"
    if not message and ok:
        message = "Done."
    elif not message:
        message = f"The company's point system answered HTTP {response.status_code}"
        message += " without a readable status." if response.status_code == 200 else "."
    return Answer(ok=ok, message=message, body=body, http_status=response.status_code)


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()
