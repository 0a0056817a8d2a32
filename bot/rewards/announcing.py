"""Where a public reward is announced: REWARD_ANNOUNCE_CHANNEL when it is set, otherwise the
channel it was given in; nowhere when it was given in a DM or with no channel at all (the App
Home, the global shortcut). The reward form offers the announcement only where this says."""

from __future__ import annotations

from bot.settings import Settings


def announce_channel(settings: Settings, given_in: str | None) -> str | None:
    channel = settings.REWARD_ANNOUNCE_CHANNEL or given_in
    if not channel or channel.startswith("D"):
        return None
    return channel
