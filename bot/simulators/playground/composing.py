"""What a person types in the composer, turned into what Slack would send or store.

Slack escapes `&`, `<` and `>` in messages and in slash command text, and with
`should_escape: true` (manifest.yml) it sends `@maria` as `<@UMARIA01|maria>`, a user group's
`@design-team` as `<!subteam^S0DESIGN|@design-team>` and `#general` as
`<#C0GENERAL|general>`. The page does the same, for known handles and channel names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_MENTION = re.compile(r"(?<![\w<])@([A-Za-z0-9._-]+)")
_CHANNEL = re.compile(r"(?<![\w&<])#([a-z0-9_-]+)")


@dataclass(frozen=True, slots=True)
class Typed:
    """A slash command (`command` like "/reward", `text` the rest) or a plain message."""

    text: str
    command: str | None = None


def slack_escape(raw: str) -> str:
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode(
    raw: str,
    *,
    handles: Mapping[str, str],
    channels: Mapping[str, str],
    groups: Mapping[str, str] | None = None,
) -> str:
    """`raw` as Slack sends it: escaped, with `@handle` and `#channel` as Slack's links.
    `handles` maps a lowercase handle to a user id, `channels` a channel name to its id,
    `groups` a user group's lowercase handle to its id (a person's handle wins)."""
    text = slack_escape(raw)
    groups = groups or {}

    def user(match: re.Match[str]) -> str:
        handle = match.group(1).rstrip(".")
        uid = handles.get(handle.lower())
        if uid is None:
            gid = groups.get(handle.lower())
            if gid is None:
                return match.group(0)
            return f"<!subteam^{gid}|@{handle}>" + match.group(1)[len(handle) :]
        return f"<@{uid}|{handle}>" + match.group(1)[len(handle) :]

    def channel(match: re.Match[str]) -> str:
        cid = channels.get(match.group(1))
        return f"<#{cid}|{match.group(1)}>" if cid else match.group(0)

    return _CHANNEL.sub(channel, _MENTION.sub(user, text))


def parse(raw: str) -> Typed:
    """A line from the composer: `/command rest` or a message."""
    stripped = raw.strip()
    if stripped.startswith("/") and len(stripped) > 1 and not stripped.startswith("//"):
        command, _, rest = stripped.partition(" ")
        return Typed(text=rest.strip(), command=command.lower())
    return Typed(text=raw.rstrip())
