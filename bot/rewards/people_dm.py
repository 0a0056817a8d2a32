"""People's dates from a file an admin drops in the bot's DM (issue 22, celebrations): the
Slack twin of `rewardbot people import FILE`, through the same import (`celebrations`).

Only a person's CSV file shared in their DM with the bot is looked at (`dropped_csv`); every
other message there (people chat with the bot, share pictures) is acknowledged and forgotten,
never answered. A member who is not an admin is told once that only admins import; an admin's
file is read whole and either imported (the summary the CLI prints) or rejected with its rows
(nothing stored). A file with bulk's columns (recipient, points, reason) is pointed at
`/reward bulk` rather than read as dates. Nothing here talks to Slack.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.rewards.admin import only_admins
from bot.rewards.celebrations import CelebrationService, ImportResult
from bot.rewards.people_import import MAX_BYTES, too_big
from bot.rewards.refusal import Refusal
from bot.settings import Settings

DOING = "import people's dates"
BULK_COLUMNS = frozenset({"recipient", "points", "reason"})
LOOKS_LIKE_BULK = (
    "This looks like a bulk file (recipient, points, reason), not people's dates: "
    "use `/reward bulk` to send awards from it. Nothing was imported."
)
_ID_MAX = 64
_NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class DroppedFile:
    """A CSV file a person shared in their DM with the bot."""

    user_id: str
    file_id: str
    name: str


def _text(value: object, limit: int = _ID_MAX) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _is_csv(item: Mapping[str, object]) -> bool:
    name = str(item.get("name") or item.get("title") or "").lower()
    return (
        item.get("filetype") == "csv"
        or item.get("mimetype") in ("text/csv", "application/csv")
        or name.endswith(".csv")
    )


def dropped_csv(event: Mapping[str, object]) -> DroppedFile | None:
    """The CSV file a person shared in their DM with the bot (a `message` event of
    `message.im`, subtype `file_share` or none); None for anything else: a message without
    a file, another file type, a bot's message, an edit or a deletion. With several files,
    the first CSV."""
    if event.get("channel_type") != "im" or event.get("subtype") not in (None, "file_share"):
        return None
    if event.get("bot_id"):
        return None
    user = _text(event.get("user"))
    files = event.get("files")
    if user is None or not isinstance(files, list):
        return None
    for item in files:
        if isinstance(item, dict) and _is_csv(item) and (file_id := _text(item.get("id"))):
            name = _text(item.get("name") or item.get("title"), _NAME_MAX) or "people.csv"
            return DroppedFile(user_id=user, file_id=file_id, name=name)
    return None


def looks_like_bulk(data: bytes) -> bool:
    """Whether the file's header names bulk's columns (recipient, points, reason)."""
    first = data[:4096].decode("utf-8-sig", errors="replace").splitlines()[:1]
    if not first:
        return False
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first[0], ",;\t")
    except csv.Error:
        dialect = csv.excel
    header = next(csv.reader(io.StringIO(first[0]), dialect), [])
    names = {re.sub(r"[\s-]+", "_", h.strip().lower()) for h in header}
    return BULK_COLUMNS <= names


@dataclass(frozen=True, slots=True)
class LooksLikeBulk:
    text: str = LOOKS_LIKE_BULK


@dataclass(frozen=True, slots=True)
class DmImported:
    """An import's outcome, and the file's name to say it with."""

    name: str
    result: ImportResult


def summary(result: ImportResult, name: str) -> str:
    """What an import that stored the file says (the CLI prints the same)."""
    unchanged = len(result.file.people) - result.added - result.updated
    return (
        f"imported {len(result.file.people)} people from {name}: {result.added} added, "
        f"{result.updated} updated, {unchanged} unchanged"
    )


def rejected_head(name: str) -> str:
    return f"{name} was not imported; nothing was changed:"


def rejected_tail(result: ImportResult) -> str:
    rows = any(p.row for p in result.file.problems)
    return f"Fix {'those rows' if rows else 'that'} and import the file again."


class PeopleDmImport:
    """`import_dropped`: an admin's file in the DM, imported as the CLI imports it."""

    def __init__(self, *, celebrations: CelebrationService, settings: Settings) -> None:
        self._celebrations = celebrations
        self._settings = settings

    def refused(self, user_id: str) -> Refusal | None:
        """None for an admin; else the one short answer a member gets."""
        return only_admins(self._settings, user_id, doing=DOING)

    def import_dropped(
        self, dropped: DroppedFile, data: bytes
    ) -> Refusal | LooksLikeBulk | DmImported:
        """The file read whole; every row stored (audited, with the admin as actor), or none."""
        refused = self.refused(dropped.user_id)
        if refused is not None:
            return refused
        if len(data) > MAX_BYTES:
            return DmImported(dropped.name, ImportResult(file=too_big(len(data))))
        if looks_like_bulk(data):
            return LooksLikeBulk()
        done = self._celebrations.import_file(data, actor=dropped.user_id)
        return DmImported(dropped.name, done)
