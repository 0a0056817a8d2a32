"""A workspace with a store attached outlives its process: what the bot posted, edited, published
and uploaded is there again after a restore, and new ids never collide with restored ones."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient

from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.fakeslack.sqlite_store import SqliteWorkspaceStore
from bot.simulators.fakeslack.store import Kind, Record

TOKEN = "xoxb-fake"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Thanks*, <@UMARIA01>!"}}]
HOME = {
    "type": "home",
    "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Hi"}}],
}
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Give"}, "blocks": []}


@contextmanager
def running(path: Path) -> Iterator[tuple[FakeSlack, WebClient]]:
    """A fake Slack over a workspace restored from (and writing to) the store at `path`."""
    store = SqliteWorkspaceStore(path=path)
    workspace = Workspace.demo()
    workspace.restore(store)
    workspace.attach(store)
    try:
        with FakeSlack(workspace=workspace, bot_token=TOKEN) as fake:
            yield fake, WebClient(base_url=fake.api_url, token=TOKEN, timeout=5)
    finally:
        workspace.detach()
        store.close()


def restored(path: Path) -> Workspace:
    workspace = Workspace.demo()
    with SqliteWorkspaceStore(path=path) as store:
        workspace.restore(store)
    return workspace


def test_messages_with_edits_reactions_and_deletions_survive(tmp_path: Path) -> None:
    path = tmp_path / "slack.db"
    with running(path) as (fake, client):
        announced = client.chat_postMessage(channel="#general", text="Thanks", blocks=BLOCKS)
        client.chat_postMessage(channel="UMARIA01", text="You got 10 points")
        client.chat_update(channel="C0GENERAL", ts=announced["ts"], text="Thanks (edited)")
        client.reactions_add(channel="C0GENERAL", timestamp=announced["ts"], name="tada")
        gone = client.chat_postMessage(channel="C0KUDOS", text="oops")
        client.chat_delete(channel="C0KUDOS", ts=gone["ts"])
        fake.workspace.post_message(channel="C0GENERAL", text="hello bot", user="UBOB0001")
        client.chat_postEphemeral(channel="C0GENERAL", user="UBOB0001", text="only you")
        before = fake.messages()

    after = restored(path)
    assert after.messages() == before
    general = after.messages("C0GENERAL")
    assert [m["text"] for m in general] == ["Thanks (edited)", "hello bot"]
    assert general[0]["blocks"] == BLOCKS and general[0]["edited"]["user"] == "UREWARDB"
    assert general[0]["reactions"] == [{"name": "tada", "users": ["UREWARDB"], "count": 1}]
    assert after.messages("C0KUDOS") == []
    assert after.im_of("UMARIA01") == "DMARIA01"
    assert after.channel("DMARIA01")["user"] == "UMARIA01"
    assert [m["text"] for m in after.messages("UMARIA01")] == ["You got 10 points"]
    assert after.ephemerals() == []  # Slack forgets those too


def test_app_homes_and_files_survive_but_open_modals_do_not(tmp_path: Path) -> None:
    path = tmp_path / "slack.db"
    with running(path) as (fake, client):
        first = client.views_publish(user_id="UBOB0001", view=HOME)["view"]
        updated = dict(HOME, blocks=[{"type": "divider"}])
        client.views_update(view_id=first["id"], view=updated)
        client.views_open(trigger_id=fake.workspace.issue_trigger("UBOB0001"), view=MODAL)
        uploaded = client.files_upload_v2(
            content=b"\x00\xffreport", filename="report.csv", channel="C0KUDOS", title="Weekly"
        )["file"]
        home = fake.home("UBOB0001")

    after = restored(path)
    assert after.views.home("UBOB0001") == home
    assert home is not None and home["blocks"] == [{"type": "divider"}]
    assert after.views.stack("UBOB0001") == []
    [saved] = after.files.completed()
    assert saved["content"] == b"\x00\xffreport" and saved["title"] == "Weekly"
    assert saved["channel"] == "C0KUDOS"
    assert after.messages("C0KUDOS")[0]["files"][0]["id"] == uploaded["id"]

    with running(path) as (fake, client):
        name = uploaded["name"]
        served = httpx.get(f"{fake.root_url}files/{uploaded['id']}/{name}", timeout=5)
        assert served.status_code == 200 and served.content == b"\x00\xffreport"
        again = client.views_publish(user_id="UBOB0001", view=HOME, hash=home["hash"])["view"]
        assert again["id"] == home["id"]  # the same Home, republished


def test_new_ids_and_timestamps_come_after_the_restored_ones(tmp_path: Path) -> None:
    path = tmp_path / "slack.db"
    with running(path) as (fake, client):
        fake.workspace.add_user(id="UNEW0001", name="neo", email="neo@acme.test")
        fake.workspace.add_channel(id="C0RANDOM", name="random")
        fake.workspace.add_user(id="UTAKEN01", name="taken")
        fake.workspace.add_channel(id="DTAKEN01", name="squatter")  # where its DM would go
        client.conversations_open(users="UTAKEN01")
        client.chat_postMessage(channel="UNEW0001", text="welcome")
        client.chat_postMessage(channel="C0RANDOM", text="random")
        client.views_publish(user_id="UMARIA01", view=HOME)
        client.files_upload_v2(content=b"a", filename="a.txt", channel="C0GENERAL")
        old_stamps = {m["ts"] for m in fake.messages()}
        old_ids = {fake.workspace.im_of("UTAKEN01"), fake.home("UMARIA01")["id"]}  # type: ignore[index]
        old_ids |= {f["id"] for f in fake.files}

    with running(path) as (fake, client):
        ws = fake.workspace
        assert ws.user("UNEW0001")["profile"]["email"] == "neo@acme.test"
        assert [m["text"] for m in fake.messages("#random")] == ["random"]
        assert [m["text"] for m in fake.dms_to("UNEW0001")] == ["welcome"]
        newest = max(float(ts) for ts in old_stamps)
        posted = client.chat_postMessage(channel="C0GENERAL", text="after restart")
        assert float(posted["ts"]) > newest and posted["ts"] not in old_stamps
        fake.workspace.add_user(id="UNEW0002", name="trin")
        fake.workspace.add_channel(id="DNEW0002", name="squatter2")
        new_ids = {ws.open_im("UNEW0002")[0]}
        new_ids.add(client.views_publish(user_id="UCHEN001", view=HOME)["view"]["id"])
        new_ids.add(
            client.views_open(trigger_id=ws.issue_trigger("UBOB0001"), view=MODAL)["view"]["id"]
        )
        upload = client.files_upload_v2(content=b"b", filename="b.txt", channel="C0GENERAL")
        new_ids.add(upload["file"]["id"])
        assert not new_ids & old_ids, (new_ids, old_ids)
        assert len(fake.files) == 2


class Recording:
    """A WorkspaceStore that remembers what it was asked to write."""

    def __init__(self) -> None:
        self.writes: list[list[tuple[Kind, str, bool]]] = []

    def write(self, records: Sequence[Record]) -> None:
        self.writes.append([(r.kind, r.key, r.doc is None) for r in records])

    def load(self) -> list[Record]:
        return []


def test_each_change_writes_only_the_record_it_changed() -> None:
    ws = Workspace.demo()
    store = Recording()
    ws.attach(store)
    posted = [ws.post_message(channel="C0GENERAL", text=str(i)) for i in range(50)]
    store.writes.clear()
    ws.update_message(channel="C0GENERAL", ts=posted[7]["ts"], text="edited", blocks=None)
    ws.post_ephemeral(channel="C0GENERAL", user="UBOB0001", text="psst")
    ws.views.open(trigger_id=ws.issue_trigger("UBOB0001"), view=MODAL)
    ws.delete_message(channel="C0GENERAL", ts=posted[8]["ts"])
    key = f"C0GENERAL:{posted[7]['ts']}"
    gone = f"C0GENERAL:{posted[8]['ts']}"
    assert store.writes == [
        [(Kind.MESSAGE, key, False), (Kind.COUNTERS, "ids", False)],
        [(Kind.MESSAGE, gone, True), (Kind.COUNTERS, "ids", False)],
    ]
    ws.detach()
    ws.post_message(channel="C0GENERAL", text="not written")
    assert len(store.writes) == 2


def test_a_failing_store_is_said_once_and_the_workspace_keeps_working(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqliteWorkspaceStore(path=tmp_path / "slack.db")
    ws = Workspace.demo()
    ws.attach(store)
    ws.post_message(channel="C0GENERAL", text="saved")
    store.close()
    with caplog.at_level(logging.ERROR, logger="bot.simulators.fakeslack.sqlite_store"):
        for text in ("lost 1", "lost 2"):
            ws.post_message(channel="C0GENERAL", text=text)
    assert [m["text"] for m in ws.messages("C0GENERAL")] == ["saved", "lost 1", "lost 2"]
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert "slack.db" in caplog.records[0].getMessage()
    assert [m["text"] for m in restored(tmp_path / "slack.db").messages()] == ["saved"]


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "slack.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(sqlite3.DatabaseError, match="newer version"):
        SqliteWorkspaceStore(path=path)


def test_without_a_store_nothing_is_written(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    ws = Workspace.demo()
    ws.post_message(channel="UMARIA01", text="hi")
    ws.views.publish(user_id="UMARIA01", view=HOME, hash=None)
    assert list(tmp_path.iterdir()) == []


def test_timestamps_stay_ahead_of_the_restored_ones_when_the_clock_goes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "slack.db"
    with running(path) as (fake, _client):
        last = fake.workspace.post_message(channel="C0GENERAL", text="before")["ts"]
    clock = SimpleNamespace(time=lambda: float(last) - 3600, monotonic=time.monotonic)
    monkeypatch.setattr("bot.simulators.fakeslack.workspace.time", clock)
    after = restored(path)
    posted = after.post_message(channel="C0GENERAL", text="an hour earlier, says the clock")
    assert float(posted["ts"]) > float(last)
    assert [m["text"] for m in after.messages("C0GENERAL")][-1] == posted["text"]
