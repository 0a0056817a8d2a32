"""The fake workspace: people, channels, messages, views and files, in memory and thread-safe.

People, channels, DMs, messages, ephemerals and response_url posts live here; modals and App
Home views in `ws.views` (views.ViewStore), uploads in `ws.files` (files.FileStore). Every
mutation happens under one re-entrant lock and bumps `version`, so a reader (a test, or the
playground page) can wait for "something changed" with `wait_for` / `wait_changed`.
`snapshot()` returns plain JSON-able data. Errors a Slack method would return are raised as
`SlackError("code")`.

Nothing touches disk unless a store is attached (`attach(store)`, see
`bot.simulators.fakeslack.store`): then each change writes the record it changed, and
`restore(store)` loads them back.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.simulators.fakeslack.errors import SlackError
from bot.simulators.fakeslack.files import FileStore
from bot.simulators.fakeslack.store import Kind, Record, WorkspaceStore, message_key
from bot.simulators.fakeslack.views import ViewStore
from storage import clock

T = TypeVar("T")

TEAM_ID = "T0001"
BOT_USER_ID = "UREWARDB"
BOT_ID = "B0001"
APP_ID = "A0001"


def _tz_offset(tz: str) -> tuple[int, str]:
    now = datetime.now(ZoneInfo(tz))
    offset = now.utcoffset()
    return (int(offset.total_seconds()) if offset else 0, now.tzname() or tz)


class Workspace:
    """One Slack team. Public methods are safe to call from any thread."""

    def __init__(self, *, team_id: str = TEAM_ID, name: str = "Acme", domain: str = "acme") -> None:
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self.version = 0
        self.team: dict[str, Any] = {
            "id": team_id,
            "name": name,
            "domain": domain,
            "email_domain": f"{domain}.test",
            "icon": {"image_default": True},
        }
        self.bot_user_id = BOT_USER_ID
        self.bot_id = BOT_ID
        self.app_id = APP_ID
        self._users: dict[str, dict[str, Any]] = {}
        self._fields: dict[str, dict[str, dict[str, str]]] = {}  # custom profile fields
        self._channels: dict[str, dict[str, Any]] = {}
        self._groups: dict[str, dict[str, Any]] = {}  # user groups, by id
        self._ims: dict[str, str] = {}  # user id -> D… channel id
        self._messages: list[dict[str, Any]] = []
        self._ephemerals: list[dict[str, Any]] = []
        self._triggers: dict[str, dict[str, Any]] = {}
        self._responses: list[dict[str, Any]] = []
        self._response_targets: dict[str, dict[str, Any]] = {}
        self._last_ts = 0.0
        self._last_id = 0
        self._store: WorkspaceStore | None = None
        self.views = ViewStore(self)
        self.files = FileStore(self)
        self.add_user(
            id=BOT_USER_ID, name="rewardbot", real_name="Reward Bot", is_bot=True, bot_id=BOT_ID
        )

    # ------------------------------------------------------------------ seeding
    @classmethod
    def demo(cls) -> Workspace:
        """Team T0001 "Acme" with the people and channels the tests and the playground use."""
        ws = cls()
        ws.add_user(
            id="UADMIN01",
            name="ada",
            real_name="Ada Lovelace",
            email="ada@acme.test",
            tz="Europe/London",
            is_admin=True,
        )
        ws.add_user(
            id="UAPPR001",
            name="arthur",
            real_name="Arthur Approver",
            email="arthur@acme.test",
            tz="America/New_York",
        )
        ws.add_user(
            id="UMARIA01",
            name="maria",
            real_name="Maria Garcia",
            email="maria@acme.test",
            tz="Europe/Madrid",
        )
        ws.add_user(
            id="UBOB0001",
            name="bob",
            real_name="Bob Brown",
            email="bob@acme.test",
            tz="America/Los_Angeles",
        )
        ws.add_user(
            id="UCHEN001",
            name="chen",
            real_name="Chen Wei",
            email="chen@acme.test",
            tz="Asia/Tokyo",
        )
        ws.add_user(id="UNOMAIL1", name="nomail", real_name="No Mail", tz="UTC")
        ws.add_user(
            id="UGONE001",
            name="gone",
            real_name="Gone Person",
            email="gone@acme.test",
            deleted=True,
        )
        ws.add_user(id="UBOT0001", name="helperbot", real_name="Helper Bot", is_bot=True)
        ws.add_channel(id="C0GENERAL", name="general")
        ws.add_channel(id="C0KUDOS", name="kudos")
        ws.add_usergroup(
            id="S0DESIGN",
            handle="design-team",
            name="Design team",
            users=["UMARIA01", "UCHEN001", "UBOB0001", "UNOMAIL1", "UGONE001", "UBOT0001"],
        )
        return ws

    def add_user(
        self,
        *,
        id: str,
        name: str,
        real_name: str = "",
        email: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        is_admin: bool = False,
        bot_id: str | None = None,
    ) -> dict[str, Any]:
        """Add (or replace) a person; returns the users.info-shaped user object."""
        offset, label = _tz_offset(tz)
        profile: dict[str, Any] = {
            "real_name": real_name or name,
            "display_name": name,
            "real_name_normalized": real_name or name,
            "display_name_normalized": name,
            "image_72": f"https://avatars.invalid/{id}_72.png",
            "team": self.team["id"],
        }
        if email:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = bot_id or "B" + id[1:]
        user = {
            "id": id,
            "team_id": self.team["id"],
            "name": name,
            "real_name": real_name or name,
            "deleted": deleted,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": is_admin,
            "is_owner": False,
            "is_restricted": False,
            "tz": tz,
            "tz_label": label,
            "tz_offset": offset,
            "updated": int(time.time()),
            "profile": profile,
        }
        with self.lock:
            self._users[id] = user
            self.persist(Record(Kind.USER, id, user))
            self.touch()
        return copy.deepcopy(user)

    def add_channel(
        self, *, id: str, name: str, is_private: bool = False, bot_member: bool = True
    ) -> dict[str, Any]:
        channel = {
            "id": id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": False,
            "is_general": name == "general",
            "created": int(time.time()),
            "is_member": bot_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        with self.lock:
            self._channels[id] = channel
            self.persist(Record(Kind.CHANNEL, id, channel))
            self.touch()
        return copy.deepcopy(channel)

    def add_usergroup(
        self, *, id: str, handle: str, name: str = "", users: list[str] | None = None
    ) -> dict[str, Any]:
        """Add (or replace) a user group (`@handle`) with these members."""
        group = {
            "id": id,
            "team_id": self.team["id"],
            "handle": handle,
            "name": name or handle,
            "is_usergroup": True,
            "date_delete": 0,
            "users": list(users or []),
            "user_count": len(users or []),
        }
        with self.lock:
            self._groups[id] = group
            self.persist(Record(Kind.USERGROUP, id, group))
            self.touch()
        return copy.deepcopy(group)

    def usergroup_users(self, group_id: str) -> list[str]:
        """The members of a user group, as `usergroups.users.list` gives them."""
        with self.lock:
            found = self._groups.get(group_id)
            if found is None or found.get("date_delete"):
                raise SlackError("no_such_subteam")
            return list(found["users"])

    def usergroups(self) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(g) for g in self._groups.values()]

    # ------------------------------------------------------------------ waiting
    def touch(self) -> None:
        self.version += 1
        self._changed.notify_all()

    def wait_for(self, probe: Callable[[], T], *, timeout: float = 5.0) -> T:
        """Return probe()'s first truthy value, re-checking after each change; raise on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = probe()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"nothing matched within {timeout}s")
                self._changed.wait(min(remaining, 0.2))

    def wait_changed(self, since: int, *, timeout: float = 25.0) -> int:
        """Block until `version` moves past `since` (or timeout); return the current version."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != since, timeout=timeout)
            return self.version

    # ------------------------------------------------------------------ ids
    def new_ts(self) -> str:
        with self.lock:
            ts = max(clock.now().timestamp(), self._last_ts + 0.000001)  # the process's
            self._last_ts = ts
            return f"{ts:.6f}"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{self._next_number():08X}"

    def _next_number(self) -> int:
        with self.lock:
            self._last_id += 1
            return self._last_id

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as Slack includes in interactive payloads; views.open accepts it once."""
        trigger = f"{self._next_number()}.{int(time.time() * 1000)}.{secrets.token_hex(10)}"
        return self.register_trigger(trigger, user_id)

    def register_trigger(self, trigger_id: str, user_id: str) -> str:
        with self.lock:
            self._triggers[trigger_id] = {"user_id": user_id, "used": False}
        return trigger_id

    def use_trigger(self, trigger_id: str) -> str:
        """Exchange a trigger for the person it was issued to; each works once, as in Slack."""
        if not trigger_id:
            problem = "[ERROR] missing required field: trigger_id"
            raise SlackError("invalid_arguments", messages=[problem])
        with self.lock:
            found = self._triggers.get(trigger_id)
            if found is None:
                raise SlackError("invalid_trigger_id")
            if found["used"]:
                raise SlackError("exchanged_trigger_id")
            found["used"] = True
            return str(found["user_id"])

    # ------------------------------------------------------------------ people
    def user(self, user_id: str) -> dict[str, Any]:
        with self.lock:
            found = self._users.get(user_id)
            if found is None:
                raise SlackError("user_not_found")
            return copy.deepcopy(found)

    def users(self) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(u) for u in self._users.values()]

    def set_profile_fields(self, user_id: str, fields: dict[str, str]) -> None:
        """Set a person's custom profile fields (field id → value), as an admin's profile
        fields hold them (a date field's value is YYYY-MM-DD)."""
        with self.lock:
            if user_id not in self._users:
                raise SlackError("user_not_found")
            self._fields[user_id] = {k: {"value": v, "alt": ""} for k, v in fields.items()}

    def profile_with_fields(self, user_id: str) -> dict[str, Any]:
        """users.profile.get: the profile, with its custom fields."""
        with self.lock:
            found = self.user(user_id)
            return {**found["profile"], "fields": copy.deepcopy(self._fields.get(user_id, {}))}

    def user_by_email(self, email: str) -> dict[str, Any]:
        wanted = email.strip().lower()
        with self.lock:
            for found in self._users.values():
                if found["profile"].get("email", "").lower() == wanted and wanted:
                    return copy.deepcopy(found)
        raise SlackError("users_not_found")

    # ------------------------------------------------------------------ conversations
    def open_im(self, user_id: str) -> tuple[str, bool]:
        """The DM channel between the app and `user_id`; (id, already_open)."""
        with self.lock:
            found = self._users.get(user_id)
            if found is None:
                raise SlackError("user_not_found")
            if found["deleted"]:
                raise SlackError("user_disabled")
            if found["is_bot"] and user_id != self.bot_user_id:
                raise SlackError("cannot_dm_bot")
            if user_id in self._ims:
                return self._ims[user_id], True
            im_id = "D" + user_id[1:]
            if im_id in self._channels:
                im_id = self.new_id("D")
            self._ims[user_id] = im_id
            self._channels[im_id] = {
                "id": im_id,
                "is_im": True,
                "is_channel": False,
                "is_group": False,
                "is_mpim": False,
                "is_private": True,
                "is_archived": False,
                "is_member": True,
                "user": user_id,
                "created": int(time.time()),
            }
            self.persist(
                Record(Kind.CHANNEL, im_id, self._channels[im_id]),
                Record(Kind.IM, user_id, {"channel": im_id}),
            )
            self.touch()
            return im_id, False

    def im_of(self, user_id: str) -> str | None:
        with self.lock:
            return self._ims.get(user_id)

    def channel(self, channel_id: str) -> dict[str, Any]:
        with self.lock:
            found = self._channels.get(self._resolve(channel_id))
            if found is None:
                raise SlackError("channel_not_found")
            return copy.deepcopy(found)

    def channels(self) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(c) for c in self._channels.values()]

    def _resolve(self, channel: str) -> str:
        """Accept a channel id, `#name`, `name`, or a user id (meaning the app's DM with them)."""
        if channel in self._channels:
            return channel
        if channel[:1] in ("U", "W") and channel in self._users:
            return self.open_im(channel)[0]
        name = channel.removeprefix("#")
        for found in self._channels.values():
            if found.get("name") == name:
                return str(found["id"])
        raise SlackError("channel_not_found")

    def postable(self, channel: str) -> str:
        channel_id = self._resolve(channel)
        found = self._channels[channel_id]
        if found.get("is_archived"):
            raise SlackError("is_archived")
        if not found.get("is_member"):
            raise SlackError("not_in_channel")
        return channel_id

    # ------------------------------------------------------------------ messages
    def post_message(
        self,
        *,
        channel: str,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        user: str | None = None,
        thread_ts: str | None = None,
        source: str = "chat.postMessage",
        require_member: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store a message in a channel (as the bot unless `user` is given); returns it.

        The bot must be a member of the channel unless `require_member` is false (command
        responses, which Slack shows wherever the command was typed)."""
        with self.lock:
            if user is None and require_member:
                channel_id = self.postable(channel)
            else:
                channel_id = self._resolve(channel)
            if thread_ts and not self._find(channel_id, thread_ts):
                raise SlackError("thread_not_found")
            message: dict[str, Any] = {
                "type": "message",
                "channel": channel_id,
                "ts": self.new_ts(),
                "text": text,
                "blocks": blocks or [],
                "user": user or self.bot_user_id,
                "team": self.team["id"],
                "thread_ts": thread_ts,
                "source": source,
            }
            if user is None:
                message["bot_id"] = self.bot_id
                message["app_id"] = self.app_id
            message.update({k: v for k, v in extra.items() if v is not None})
            self._messages.append(message)
            self.persist(self._message_record(message))
            self.touch()
            return copy.deepcopy(message)

    def _find(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        for message in self._messages:
            if message["channel"] == channel_id and message["ts"] == ts:
                return message
        return None

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        with self.lock:
            found = self._find(self._resolve(channel), ts)
            if found is None:
                raise SlackError("message_not_found")
            return copy.deepcopy(found)

    def update_message(
        self, *, channel: str, ts: str, text: str | None, blocks: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        with self.lock:
            found = self._find(self._resolve(channel), ts)
            if found is None:
                raise SlackError("message_not_found")
            if found["user"] != self.bot_user_id:
                raise SlackError("cant_update_message")
            if text is not None:
                found["text"] = text
            if blocks is not None:
                found["blocks"] = blocks
            found["edited"] = {"user": self.bot_user_id, "ts": self.new_ts()}
            self.persist(self._message_record(found))
            self.touch()
            return copy.deepcopy(found)

    def delete_message(self, *, channel: str, ts: str, user: str | None = None) -> str:
        with self.lock:
            channel_id = self._resolve(channel)
            found = self._find(channel_id, ts)
            if found is None:
                raise SlackError("message_not_found")
            if found["user"] != (user or self.bot_user_id):
                raise SlackError("cant_delete_message")
            self._messages.remove(found)
            self.persist(self._message_record(found, gone=True))
            self.touch()
            return channel_id

    def add_reaction(self, *, channel: str, ts: str, name: str, user: str) -> None:
        with self.lock:
            found = self._find(self._resolve(channel), ts)
            if found is None:
                raise SlackError("message_not_found")
            if not name:
                raise SlackError("invalid_name")
            reactions = found.setdefault("reactions", [])
            for reaction in reactions:
                if reaction["name"] == name:
                    if user in reaction["users"]:
                        raise SlackError("already_reacted")
                    reaction["users"].append(user)
                    reaction["count"] += 1
                    break
            else:
                reactions.append({"name": name, "users": [user], "count": 1})
            self.persist(self._message_record(found))
            self.touch()

    def remove_reaction(self, *, channel: str, ts: str, name: str, user: str) -> None:
        with self.lock:
            found = self._find(self._resolve(channel), ts)
            if found is None:
                raise SlackError("message_not_found")
            reactions = found.setdefault("reactions", [])
            for reaction in reactions:
                if reaction["name"] == name and user in reaction["users"]:
                    reaction["users"].remove(user)
                    reaction["count"] -= 1
                    if not reaction["count"]:
                        reactions.remove(reaction)
                    break
            else:
                raise SlackError("no_reaction")
            self.persist(self._message_record(found))
            self.touch()

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Stored messages, oldest first; `channel` may be an id, #name or a user id (their DM)."""
        with self.lock:
            channel_id = None
            if channel and channel in self._users:
                channel_id = self._ims.get(channel)
                if channel_id is None:
                    return []
            elif channel:
                channel_id = self._resolve(channel)
            return [
                copy.deepcopy(m)
                for m in self._messages
                if channel_id is None or m["channel"] == channel_id
            ]

    def post_ephemeral(
        self,
        *,
        channel: str,
        user: str,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        source: str = "chat.postEphemeral",
    ) -> dict[str, Any]:
        with self.lock:
            channel_id = self._resolve(channel)
            target = self._users.get(user)
            if target is None:
                raise SlackError("user_not_found")
            if target["deleted"]:
                raise SlackError("user_not_in_channel")
            ephemeral = {
                "type": "message",
                "subtype": "ephemeral",
                "channel": channel_id,
                "user": user,
                "ts": self.new_ts(),
                "text": text,
                "blocks": blocks or [],
                "thread_ts": thread_ts,
                "bot_id": self.bot_id,
                "source": source,
            }
            self._ephemerals.append(ephemeral)
            self.touch()
            return copy.deepcopy(ephemeral)

    def ephemerals(
        self, user: str | None = None, *, source: str | None = None
    ) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if (user is None or e["user"] == user) and (source is None or e["source"] == source)
            ]

    def _replace_ephemeral(self, ts: str, text: str | None, blocks: list[Any] | None) -> bool:
        for ephemeral in self._ephemerals:
            if ephemeral["ts"] == ts:
                if text is not None:
                    ephemeral["text"] = text
                if blocks is not None:
                    ephemeral["blocks"] = blocks
                return True
        return False

    # ------------------------------------------------------------------ response_url
    def set_response_target(
        self,
        key: str,
        *,
        channel: str | None = None,
        user: str | None = None,
        original: dict[str, Any] | None = None,
    ) -> None:
        """Where posts to response_url `key` land: the channel and user of the interaction, and
        the message it came from (`{"channel", "ts", "ephemeral"}`) for replace/delete_original."""
        with self.lock:
            self._response_targets[key] = {"channel": channel, "user": user, "original": original}

    def receive_response(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Apply a response_url post as Slack does and record it; returns the record."""
        with self.lock:
            target = self._response_targets.get(key, {})
            record: dict[str, Any] = {"key": key, "body": body, "at": time.time(), "applied": None}
            original = target.get("original")
            text, blocks = body.get("text"), body.get("blocks")
            if body.get("delete_original") and original:
                if original.get("ephemeral"):
                    self._ephemerals = [e for e in self._ephemerals if e["ts"] != original["ts"]]
                else:
                    found = self._find(original["channel"], original["ts"])
                    if found is not None:
                        self._messages.remove(found)
                        self.persist(self._message_record(found, gone=True))
                record["applied"] = "deleted_original"
            elif body.get("replace_original") and original:
                # The answer takes the original's place whole: no blocks means none are left.
                if original.get("ephemeral"):
                    self._replace_ephemeral(original["ts"], text or "", blocks or [])
                else:
                    found = self._find(original["channel"], original["ts"])
                    if found is not None:
                        found["text"] = text or ""
                        found["blocks"] = blocks or []
                        self.persist(self._message_record(found))
                record["applied"] = "replaced_original"
            elif target.get("channel") and body.get("response_type") == "in_channel":
                posted = self.post_message(
                    channel=target["channel"],
                    text=text or "",
                    blocks=blocks,
                    thread_ts=body.get("thread_ts"),
                    source="response_url",
                    require_member=False,
                )
                record["applied"] = {"message_ts": posted["ts"]}
            elif target.get("channel") and target.get("user"):
                posted = self.post_ephemeral(
                    channel=target["channel"],
                    user=target["user"],
                    text=text or "",
                    blocks=blocks,
                    source="response_url",
                )
                record["applied"] = {"ephemeral_ts": posted["ts"]}
            self._responses.append(record)
            self.touch()
            return copy.deepcopy(record)

    def responses(self, key: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(r) for r in self._responses if key is None or r["key"] == key]

    # ------------------------------------------------------------------ snapshot
    def snapshot(self) -> dict[str, Any]:
        """Everything as plain JSON-able data (file bytes as base64)."""
        with self.lock:
            state = copy.deepcopy(
                {
                    "version": self.version,
                    "team": self.team,
                    "bot_user_id": self.bot_user_id,
                    "users": list(self._users.values()),
                    "channels": list(self._channels.values()),
                    "ims": dict(self._ims),
                    "messages": self._messages,
                    "ephemerals": self._ephemerals,
                    "responses": self._responses,
                }
            )
            state.update(self.views.snapshot())
            state["files"] = self.files.snapshot()
            return state

    # ------------------------------------------------------------------ persistence
    def attach(self, store: WorkspaceStore) -> None:
        """From now on, write each change to `store`: the record that changed, as it changes.
        Ephemeral messages, modals, triggers and response URLs are never written (Slack keeps
        none of them either)."""
        with self.lock:
            self._store = store

    def detach(self) -> None:
        """Stop writing to the attached store (before closing it)."""
        with self.lock:
            self._store = None

    def persist(self, *records: Record) -> None:
        """Hand changed records, with the id counters, to the attached store (if any). Called
        under the lock, so the store sees changes in the order they happened."""
        with self.lock:
            if self._store is None:
                return
            counters = {"last_ts": self._last_ts, "last_id": self._last_id}
            self._store.write([*records, Record(Kind.COUNTERS, "ids", counters)])

    def restore(self, store: WorkspaceStore) -> int:
        """Load what `store` holds into this workspace: people and channels (replacing seeded
        ones with the same id), DMs, messages with their edits and reactions, App Homes,
        shared files, and the id counters (so new ids and timestamps come after the restored
        ones). Returns how many records were loaded."""
        records = store.load()
        with self.lock:
            for record in records:
                self._restore_one(record)
            by_key = {(m["channel"], m["ts"]): m for m in self._messages}  # the restored copy wins
            self._messages = list(by_key.values())
            # New timestamps come after every restored message, even one whose counters were
            # not written with it.
            self._last_ts = max([self._last_ts, *(float(m["ts"]) for m in self._messages)])
            self.touch()
        return len(records)

    def _restore_one(self, record: Record) -> None:
        doc = copy.deepcopy(dict(record.doc or {}))
        if record.kind is Kind.COUNTERS:
            self._last_ts = max(self._last_ts, float(doc.get("last_ts", 0.0)))
            self._last_id = max(self._last_id, int(doc.get("last_id", 0)))
        elif record.kind is Kind.USER:
            self._users[record.key] = doc
        elif record.kind is Kind.CHANNEL:
            self._channels[record.key] = doc
        elif record.kind is Kind.USERGROUP:
            self._groups[record.key] = doc
        elif record.kind is Kind.IM:
            self._ims[record.key] = str(doc["channel"])
        elif record.kind is Kind.MESSAGE:
            self._messages.append(doc)
        elif record.kind is Kind.HOME:
            self.views.restore_home(doc)
        elif record.kind is Kind.FILE:
            self.files.restore(doc, content=record.blob or b"")

    @staticmethod
    def _message_record(message: dict[str, Any], *, gone: bool = False) -> Record:
        key = message_key(message["channel"], message["ts"])
        return Record(Kind.MESSAGE, key, None if gone else message)
