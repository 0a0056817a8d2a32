"""The error the fake's state raises where Slack's Web API would answer `{"ok": false}`."""

from __future__ import annotations


class SlackError(Exception):
    """A Slack Web API error code such as `channel_not_found` (never carries secrets).

    `messages` are the `response_metadata.messages` Slack adds for invalid arguments.
    """

    def __init__(self, error: str, *, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
