"""What a Workspace hands to a store to outlive its process, and what a store must do with it.

A Workspace with a store attached (`Workspace.attach(store)`) writes each change as it happens:
the one record that changed (a message after chat.update, a person's App Home after
views.publish), never the whole workspace, plus the id counters. `Workspace.restore(store)`
puts the records back. What Slack itself forgets (ephemeral messages, open modals, triggers,
response URLs) is never written.

Records are plain JSON-able documents keyed by (kind, key); a file's bytes travel as `blob`.
`bot.simulators.fakeslack.sqlite_store.SqliteWorkspaceStore` keeps them in SQLite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Kind(StrEnum):
    USER = "user"  # key: user id; doc: the users.info user
    CHANNEL = "channel"  # key: channel id (DMs too); doc: the conversations.info channel
    IM = "im"  # key: user id; doc: {"channel": the app's DM with them}
    MESSAGE = "message"  # key: "channel:ts"; doc: the message as stored (edits, reactions)
    HOME = "home"  # key: user id; doc: their published App Home view
    FILE = "file"  # key: file id; doc: the completed upload without its bytes (in blob)
    COUNTERS = "counters"  # key: "ids"; doc: {"last_ts": float, "last_id": int}
    USERGROUP = "usergroup"  # key: group id; doc: the usergroups.list group, with its `users`


@dataclass(frozen=True, slots=True)
class Record:
    """One stored thing. `doc` None means it is gone (a deleted message)."""

    kind: Kind
    key: str
    doc: Mapping[str, Any] | None
    blob: bytes | None = field(default=None, repr=False)


class WorkspaceStore(Protocol):
    def write(self, records: Sequence[Record]) -> None:
        """Save these records (delete those whose doc is None), all or none. Called under the
        workspace's lock, so calls arrive in the order the changes happened; the docs are the
        workspace's own, valid only during the call (serialize or copy them)."""
        ...

    def load(self) -> list[Record]:
        """Every saved record, in the order each was first saved."""
        ...


def message_key(channel_id: str, ts: str) -> str:
    return f"{channel_id}:{ts}"
