"""Which DM messages are a people file to import, and which files are bulk's (pure)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.rewards.celebrations import ImportResult
from bot.rewards.people_dm import DroppedFile, dropped_csv, looks_like_bulk, summary
from bot.rewards.people_import import read_people


def shared(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "file_share",
        "channel": "D0ADMIN",
        "channel_type": "im",
        "user": "UADMIN01",
        "files": [{"id": "F01", "name": "people.csv", "filetype": "csv"}],
        "ts": "1.000001",
    }
    event.update(changes)
    return event


def test_a_csv_shared_in_a_dm_is_one() -> None:
    assert dropped_csv(shared()) == DroppedFile("UADMIN01", "F01", "people.csv")
    assert dropped_csv(shared(subtype=None)) is not None  # Slack's newer file messages
    by_name = shared(files=[{"id": "F02", "name": "People.CSV", "filetype": "text"}])
    assert dropped_csv(by_name) == DroppedFile("UADMIN01", "F02", "People.CSV")
    two = shared(files=[{"id": "F03", "name": "a.png", "filetype": "png"}, *shared()["files"]])
    assert dropped_csv(two) == DroppedFile("UADMIN01", "F01", "people.csv")


@pytest.mark.parametrize(
    "changes",
    [
        {"channel_type": "channel"},  # a channel: message gifts', never an import
        {"channel_type": "group"},
        {"files": [{"id": "F01", "name": "cat.png", "filetype": "png"}]},
        {"files": [{"id": "F01", "name": "notes.txt", "filetype": "text"}]},
        {"files": []},
        {"files": None},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "bot_message"},
        {"bot_id": "B01"},
        {"user": None},
        {"user": "U" * 200},
        {"files": [{"id": "", "name": "people.csv", "filetype": "csv"}]},
        {"files": ["F01"]},
    ],
)
def test_anything_else_is_not(changes: dict[str, Any]) -> None:
    assert dropped_csv(shared(**changes)) is None


@pytest.mark.parametrize(
    "data",
    [
        b"recipient,points,reason\nana@acme.test,5,thanks\n",
        b"\xef\xbb\xbfRecipient;Points;Reason;Value\nana@acme.test;5;thanks;\n",
        b"reason,recipient,points\n",
    ],
)
def test_bulks_columns_are_a_bulk_file(data: bytes) -> None:
    assert looks_like_bulk(data)


@pytest.mark.parametrize(
    "data",
    [b"person,birthday\nU012ABCDEF,03-14\n", b"", b"\x00\xff", b"recipient,points\n"],
)
def test_other_files_are_not(data: bytes) -> None:
    assert not looks_like_bulk(data)


def test_the_summary_counts_the_unchanged_too() -> None:
    read = read_people(
        b"person,birthday\nU012ABCDEF,03-14\nana@acme.test,04-01\nbo@acme.test,05-02\n",
        today=date(2026, 1, 1),
    )
    done = ImportResult(file=read, added=1, updated=1)
    assert summary(done, "p.csv") == "imported 3 people from p.csv: 1 added, 1 updated, 1 unchanged"
