"""Files uploaded to the fake workspace the way files_upload_v2 does it.

1. files.getUploadURLExternal reserves an id and an upload URL on the fake,
2. the client POSTs the bytes to that URL,
3. files.completeUploadExternal names the file and shares it (a message in the channel).
"""

from __future__ import annotations

import base64
import copy
from typing import TYPE_CHECKING, Any

from bot.simulators.fakeslack.errors import SlackError
from bot.simulators.fakeslack.store import Kind, Record

if TYPE_CHECKING:
    from bot.simulators.fakeslack.workspace import Workspace


class FileStore:
    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self._files: dict[str, dict[str, Any]] = {}

    def start(self, *, filename: str, length: int, alt_txt: str = "") -> str:
        """Reserve a file id for an upload of `length` bytes."""
        with self._ws.lock:
            file_id = self._ws.new_id("F")
            self._files[file_id] = {
                "id": file_id,
                "filename": filename,
                "title": filename,
                "length": length,
                "alt_txt": alt_txt,
                "content": None,
                "channel": None,
                "initial_comment": None,
                "thread_ts": None,
                "completed": False,
            }
            return file_id

    def receive(self, file_id: str, content: bytes) -> None:
        with self._ws.lock:
            found = self._files.get(file_id)
            if found is None or found["completed"]:
                raise SlackError("file_not_found")
            found["content"] = content
            self._ws.touch()

    def complete(
        self,
        *,
        files: list[dict[str, Any]],
        channel: str | None,
        initial_comment: str | None,
        thread_ts: str | None,
        url_root: str,
    ) -> list[dict[str, Any]]:
        """Finish uploads ([{id, title}]) and share them in `channel` if given."""
        with self._ws.lock:
            pending = []
            for item in files:
                found = self._files.get(str(item.get("id", "")))
                if found is None or found["content"] is None or found["completed"]:
                    raise SlackError("file_not_found")
                pending.append((found, item))
            channel_id = self._ws.postable(channel) if channel else None
            shared = []
            for found, item in pending:
                found.update(
                    title=item.get("title") or found["filename"],
                    channel=channel_id,
                    initial_comment=initial_comment,
                    thread_ts=thread_ts,
                    completed=True,
                )
                shared.append(self._public(found, url_root))
                described = {k: v for k, v in found.items() if k != "content"}
                self._ws.persist(Record(Kind.FILE, found["id"], described, blob=found["content"]))
            if channel_id:
                self._ws.post_message(
                    channel=channel_id,
                    text=initial_comment or "",
                    thread_ts=thread_ts,
                    files=shared,
                    upload=True,
                    source="files.completeUploadExternal",
                )
            self._ws.touch()
            return shared

    def from_user(
        self,
        *,
        user: str,
        filename: str,
        content: bytes,
        url_root: str,
        channel: str | None = None,
    ) -> dict[str, Any]:
        """A file a person uploaded themselves (into a form's file input, shared nowhere; or
        dropped in `channel`, such as their DM with the app): complete; the `files` item Slack
        puts in the form's state or the message."""
        with self._ws.lock:
            file_id = self._ws.new_id("F")
            found = {
                "id": file_id,
                "filename": filename,
                "title": filename,
                "length": len(content),
                "alt_txt": "",
                "content": content,
                "channel": channel,
                "initial_comment": None,
                "thread_ts": None,
                "completed": True,
                "user": user,
            }
            self._files[file_id] = found
            described = {k: v for k, v in found.items() if k != "content"}
            self._ws.persist(Record(Kind.FILE, file_id, described, blob=content))
            self._ws.touch()
            return self._public(found, url_root)

    def info(self, file_id: str, url_root: str) -> dict[str, Any]:
        """`files.info`'s `file`."""
        with self._ws.lock:
            found = self._files.get(file_id)
            if found is None or not found["completed"]:
                raise SlackError("file_not_found")
            return self._public(found, url_root)

    def completed(self) -> list[dict[str, Any]]:
        """{id, filename, title, content (bytes), channel, initial_comment, thread_ts, …}."""
        with self._ws.lock:
            return [copy.deepcopy(f) for f in self._files.values() if f["completed"]]

    def get(self, file_id: str) -> dict[str, Any]:
        with self._ws.lock:
            found = self._files.get(file_id)
            if found is None or not found["completed"]:
                raise SlackError("file_not_found")
            return copy.deepcopy(found)

    def restore(self, record: dict[str, Any], *, content: bytes) -> None:
        """Put back a completed upload (from a workspace store)."""
        with self._ws.lock:
            self._files[record["id"]] = {**record, "content": content}

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able: bytes as `content_b64`."""
        with self._ws.lock:
            shown = []
            for found in self._files.values():
                item = {k: v for k, v in found.items() if k != "content"}
                item["content_b64"] = base64.b64encode(found["content"] or b"").decode("ascii")
                shown.append(item)
            return copy.deepcopy(shown)

    def _public(self, found: dict[str, Any], url_root: str) -> dict[str, Any]:
        return {
            "id": found["id"],
            "name": found["filename"],
            "title": found["title"],
            "size": len(found["content"] or b""),
            "user": found.get("user") or self._ws.bot_user_id,
            "channels": [found["channel"]] if found["channel"] else [],
            "filetype": found["filename"].rsplit(".", 1)[-1].lower()
            if "." in found["filename"]
            else "",
            "url_private": f"{url_root}files/{found['id']}/{found['filename']}",
        }
