"""Counting what Slack's Web API answers, for /metrics: calls that failed (by method and Slack's
error code) and 429s (rate limited).

slack_sdk consults a client's retry handlers after every answer, a good one included, and Bolt
gives the clients it makes for each request the same handlers, so one handler first in the list
sees every call the bot makes. It only looks: it never asks for a retry (the handlers after it
decide that, as before).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


class SlackApiWatch(RetryHandler):
    """`on_error(method, error)`: a call failed (`ok: false` with Slack's error code,
    `http_NNN`, or `connection` when no answer came); `on_rate_limited(method)`: a 429."""

    def __init__(
        self,
        *,
        on_error: Callable[[str, str], None],
        on_rate_limited: Callable[[str], None],
    ) -> None:
        super().__init__(max_retry_count=0)
        self._on_error = on_error
        self._on_rate_limited = on_rate_limited

    def __deepcopy__(self, memo: dict[int, Any]) -> SlackApiWatch:
        """Shared, never copied (Bolt copies a lazy listener's context, its client included):
        what it counts into is the running bot's."""
        return self

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        try:
            if response is None:
                self._on_error(method, "connection")
            elif response.status_code == 429:
                self._on_rate_limited(method)
            elif response.status_code >= 400:
                self._on_error(method, f"http_{response.status_code}")
            elif isinstance(response.body, dict) and response.body.get("ok") is False:
                self._on_error(method, str(response.body.get("error") or "unknown"))
        except Exception:  # counting must never fail a call
            pass
        return False

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return False
