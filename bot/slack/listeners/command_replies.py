"""One reply per command. A slash command's answer is either in its ack, when it is known at
once (a typo, help, a refusal by role), or, when it takes work, the ack is empty and exactly
one follow-up comes through Slack's response_url (`reply`). Nothing relies on
`replace_original`: Slack does not replace a slash command's first reply, so a "⏳ One
moment…" ack would stay behind, above or below the real answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def later(ack: Callable[..., Any]) -> None:
    """Acknowledge with nothing shown: the one answer follows (`reply`)."""
    ack()


def reply(respond: Callable[..., Any], payload: Mapping[str, Any]) -> None:
    """The command's one follow-up answer, seen only by the person who typed it."""
    respond(response_type="ephemeral", replace_original=False, **payload)
