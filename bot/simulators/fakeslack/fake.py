"""FakeSlack: the workspace, its Web API app and the server that serves it, in one handle."""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.applications import Starlette

from bot.simulators.fakeslack.api import MANIFEST_SCOPES, ApiState, build_app
from bot.simulators.fakeslack.server import ServerThread
from bot.simulators.fakeslack.workspace import Workspace

T = TypeVar("T")


class FakeSlack:
    """A Slack Web API on loopback that records every call.

    `api_url` is what `WebClient(base_url=...)` / `SLACK_API_URL` take. The bot token (and the
    app-level token, for `apps.connections.open`) is never recorded: calls keep `token_ok`
    instead. `scopes`: what the bot token was granted (default: manifest.yml's), sent in
    `X-OAuth-Scopes`. To serve `app` from another server (the playground
    mounting it beside its page), set `public_url` (constructor or attribute) to where it is
    mounted, and don't call start().
    """

    def __init__(
        self,
        *,
        workspace: Workspace | None = None,
        bot_token: str = "xoxb-fake",
        app_token: str = "xapp-fake",
        scopes: tuple[str, ...] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
    ) -> None:
        self.workspace = workspace if workspace is not None else Workspace.demo()
        self._state = ApiState(
            workspace=self.workspace,
            bot_token=bot_token,
            app_token=app_token,
            scopes=MANIFEST_SCOPES if scopes is None else tuple(scopes),
        )
        self.app: Starlette = build_app(self._state)
        self._server: ServerThread | None = None
        self._host, self._port = host, port
        self.public_url = public_url

    def __repr__(self) -> str:
        where = self.root_url if self._server else "not started"
        return f"FakeSlack({where}, team={self.workspace.team['id']})"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeSlack:
        if self._server is None:
            server = ServerThread(self.app, host=self._host, port=self._port, name="fakeslack")
            self._server = server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """Where the fake is reached; `public_url` when given (its app served elsewhere)."""
        if self.public_url:
            return self.public_url.rstrip("/") + "/"
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return self._server.url

    @property
    def api_url(self) -> str:
        return self.root_url + "api/"

    # ------------------------------------------------------------------ recorded calls
    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every /api/ call: {method, args, at, token_ok, ok, error}, oldest first."""
        return self._state.calls()

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return self._state.calls(method)

    def clear_calls(self) -> None:
        self._state.clear_calls()

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        count: int = 1,
        status: int | None = None,
        retry_after: int = 1,
    ) -> None:
        """The next `count` calls to `method` answer `{"ok": false, "error": error}`.

        Status is 200 like Slack's API errors, except `ratelimited`: 429 with Retry-After.
        """
        self._state.fail_next(method, error, count=count, status=status, retry_after=retry_after)

    def slow_next(self, method: str, *, seconds: float, count: int = 1) -> None:
        """The next `count` calls to `method` (or posts to any response_url: "response_url")
        are answered (normally) after `seconds`."""
        self._state.slow_next(method, seconds=seconds, count=count)

    def clear_faults(self) -> None:
        """Forget every failure and delay still waiting to happen (those under way go on)."""
        self._state.clear_faults()

    def held(self, method: str | None = None) -> int:
        """How many calls to `method` (to any method, without one) `slow_next` is holding right
        now: they have arrived and are not answered yet (`calls` has them once answered)."""
        return self._state.held(method)

    # ------------------------------------------------------------------ what users would see
    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages in channels and DMs (`channel` may be an id, #name or a user id for the DM)."""
        return self.workspace.messages(channel)

    def ephemerals(
        self, user: str | None = None, *, source: str | None = None
    ) -> list[dict[str, Any]]:
        """Ephemeral messages; `source` is chat.postEphemeral, response_url or ack."""
        return self.workspace.ephemerals(user, source=source)

    def dms_to(self, user_id: str) -> list[dict[str, Any]]:
        im_id = self.workspace.im_of(user_id)
        return self.workspace.messages(im_id) if im_id else []

    def response_url(
        self,
        key: str,
        *,
        channel: str | None = None,
        user: str | None = None,
        original: dict[str, Any] | None = None,
    ) -> str:
        """A response_url on the fake. With channel/user, posts show up as Slack would show them;
        with original `{"channel", "ts", "ephemeral"}`, replace/delete_original act on it."""
        if channel or user or original:
            self.workspace.set_response_target(key, channel=channel, user=user, original=original)
        return f"{self.root_url}response/{quote(key, safe='')}"

    def responses(self, key: str | None = None) -> list[dict[str, Any]]:
        """Posts to response URLs: {key, body, at, applied}."""
        return self.workspace.responses(key)

    @property
    def views(self) -> list[dict[str, Any]]:
        """Every views.open/update/push/publish (and response_action) in order:
        {method, user_id, view}, where view carries its id, hash, callback_id, …"""
        return self.workspace.views.log()

    def home(self, user_id: str) -> dict[str, Any] | None:
        return self.workspace.views.home(user_id)

    def modal_stack(self, user_id: str) -> list[dict[str, Any]]:
        return self.workspace.views.stack(user_id)

    @property
    def files(self) -> list[dict[str, Any]]:
        """Completed uploads: {id, filename, title, content (bytes), channel, initial_comment}."""
        return self.workspace.files.completed()

    def upload_from(self, user_id: str, filename: str, content: bytes) -> dict[str, Any]:
        """A file `user_id` uploads into a form's file input: the item of the input's `files`
        in the view's state (`{"type": "file_input", "files": [item]}`)."""
        return self.workspace.files.from_user(
            user=user_id, filename=filename, content=content, url_root=self.root_url
        )

    def wait_for(self, probe: Any, *, timeout: float = 5.0) -> Any:
        """Return probe()'s first truthy value; re-checked on every workspace change."""
        return self.workspace.wait_for(probe, timeout=timeout)
