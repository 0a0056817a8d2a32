"""Modals and App Home views of the fake workspace: open, push, update, publish, close.

Each person has a stack of open modals (bottom first; the last is on screen, at most 3 deep as
in Slack) and at most one App Home view. Every change is appended to a log so tests can see
what the bot showed, in order.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from bot.simulators.fakeslack.errors import SlackError
from bot.simulators.fakeslack.store import Kind, Record

if TYPE_CHECKING:
    from bot.simulators.fakeslack.workspace import Workspace

UPDATABLE = ("type", "title", "submit", "close", "blocks", "private_metadata", "callback_id")
MAX_STACK = 3


class ViewStore:
    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self._views: dict[str, dict[str, Any]] = {}  # view id -> view (with the owner's user_id)
        self._log: list[dict[str, Any]] = []
        self._stacks: dict[str, list[str]] = {}  # user id -> open modal ids, bottom first
        self._homes: dict[str, str] = {}  # user id -> home view id
        self._hashes = 0

    # ------------------------------------------------------------------ reading
    def get(self, view_id: str) -> dict[str, Any]:
        with self._ws.lock:
            found = self._views.get(view_id)
            if found is None:
                raise SlackError("not_found")
            return copy.deepcopy(found)

    def home(self, user_id: str) -> dict[str, Any] | None:
        with self._ws.lock:
            view_id = self._homes.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def stack(self, user_id: str) -> list[dict[str, Any]]:
        """The modals open for `user_id`, bottom first (the last one is on screen)."""
        with self._ws.lock:
            return [copy.deepcopy(self._views[v]) for v in self._stacks.get(user_id, [])]

    def log(self) -> list[dict[str, Any]]:
        """{method, user_id, view_id, view} for every change, oldest first."""
        with self._ws.lock:
            return copy.deepcopy(self._log)

    def snapshot(self) -> dict[str, Any]:
        with self._ws.lock:
            return copy.deepcopy(
                {"views": list(self._views.values()), "stacks": self._stacks, "homes": self._homes}
            )

    def restore_home(self, view: dict[str, Any]) -> None:
        """Put back a published App Home (from a workspace store)."""
        with self._ws.lock:
            self._views[view["id"]] = view
            self._homes[view["user_id"]] = view["id"]

    # ------------------------------------------------------------------ Web API
    def open(self, *, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        with self._ws.lock:
            user_id = self._ws.use_trigger(trigger_id)
            self._check_external_id(view)
            stored = self._new(view, user_id=user_id, root=None)
            self._stacks[user_id] = [stored["id"]]
            return self._save(stored, method="views.open")

    def push(self, *, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        with self._ws.lock:
            user_id = self._ws.use_trigger(trigger_id)
            stack = self._stacks.get(user_id) or []
            if not stack:
                raise SlackError("not_found")
            if len(stack) >= MAX_STACK:
                raise SlackError("push_limit_reached")
            self._check_external_id(view)
            stored = self._new(view, user_id=user_id, root=stack[0])
            stored["previous_view_id"] = stack[-1]
            stack.append(stored["id"])
            return self._save(stored, method="views.push")

    def update(
        self,
        *,
        view: dict[str, Any],
        view_id: str | None = None,
        external_id: str | None = None,
        hash: str | None = None,
    ) -> dict[str, Any]:
        with self._ws.lock:
            found = self._views.get(view_id or "")
            if found is None and external_id:
                found = next(
                    (v for v in self._views.values() if v.get("external_id") == external_id), None
                )
            if found is None:
                raise SlackError("not_found")
            if hash and hash != found["hash"]:
                raise SlackError("hash_conflict")
            updated = dict(found)
            updated.update({key: view[key] for key in UPDATABLE if key in view})
            updated["external_id"] = view.get("external_id", found.get("external_id", ""))
            updated["state"] = {"values": {}}
            updated.pop("errors", None)
            return self._save(updated, method="views.update")

    def publish(self, *, user_id: str, view: dict[str, Any], hash: str | None) -> dict[str, Any]:
        with self._ws.lock:
            self._ws.user(user_id)  # user_not_found
            existing = self._views.get(self._homes.get(user_id, ""))
            if existing and hash and hash != existing["hash"]:
                raise SlackError("hash_conflict")
            stored = self._new(view, user_id=user_id, root=None)
            if existing:
                stored["id"] = stored["root_view_id"] = existing["id"]
            self._homes[user_id] = stored["id"]
            return self._save(stored, method="views.publish")

    # ------------------------------------------------------------------ the person's side
    def apply_submission_ack(self, *, user_id: str, view_id: str, body: dict[str, Any]) -> None:
        """What Slack does with a view_submission ack: close, clear, update, push or show errors
        (stored on the view as `errors`: {block_id: message})."""
        with self._ws.lock:
            stack = self._stacks.get(user_id, [])
            action = body.get("response_action")
            new_view = body.get("view") if isinstance(body.get("view"), dict) else None
            if action == "errors" and view_id in self._views:
                self._views[view_id]["errors"] = dict(body.get("errors") or {})
            elif action == "update" and new_view is not None and view_id in self._views:
                found = self._views[view_id]
                stored = self._new(new_view, user_id=user_id, root=found["root_view_id"])
                stored["id"] = view_id
                stored["previous_view_id"] = found.get("previous_view_id")
                self._save(stored, method="response_action:update")
            elif action == "push" and new_view is not None:
                stored = self._new(new_view, user_id=user_id, root=stack[0] if stack else None)
                stored["previous_view_id"] = view_id
                stack.append(stored["id"])
                self._save(stored, method="response_action:push")
            elif action == "clear":
                stack.clear()
            elif view_id in stack:
                del stack[stack.index(view_id) :]
            self._ws.touch()

    def close(self, *, user_id: str, view_id: str, clear: bool = False) -> None:
        with self._ws.lock:
            stack = self._stacks.get(user_id, [])
            if clear:
                stack.clear()
            elif view_id in stack:
                del stack[stack.index(view_id) :]
            self._ws.touch()

    # ------------------------------------------------------------------ internals
    def _check_external_id(self, view: dict[str, Any]) -> None:
        external = view.get("external_id")
        if external and any(v.get("external_id") == external for v in self._views.values()):
            raise SlackError("duplicate_external_id")

    def _new(self, view: dict[str, Any], *, user_id: str, root: str | None) -> dict[str, Any]:
        view_id = self._ws.new_id("V")
        return {
            "id": view_id,
            "team_id": self._ws.team["id"],
            "type": view.get("type", "modal"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "state": {"values": {}},
            "root_view_id": root or view_id,
            "previous_view_id": None,
            "app_id": self._ws.app_id,
            "bot_id": self._ws.bot_id,
            "user_id": user_id,
        }

    def _save(self, view: dict[str, Any], *, method: str) -> dict[str, Any]:
        self._hashes += 1
        view["hash"] = f"{self._ws.new_ts()}.{self._hashes:08x}"
        self._views[view["id"]] = view
        if self._homes.get(view["user_id"]) == view["id"]:
            self._ws.persist(Record(Kind.HOME, view["user_id"], view))
        self._log.append(
            {
                "method": method,
                "user_id": view["user_id"],
                "view_id": view["id"],
                "view": copy.deepcopy(view),
            }
        )
        self._ws.touch()
        return copy.deepcopy(view)
