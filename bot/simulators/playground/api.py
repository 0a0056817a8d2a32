"""The page's own endpoints: the page itself, its live regions, and what a person does.

Everything a person does reaches the bot the way Slack would send it: slash commands, button
clicks, modal submissions, shortcuts and the searches typed in an external select
(block_suggestion) go through that person's `SlackDriver` (signed, posted to the bot's
/slack/events); plain messages are stored in the fake workspace as Slack stores them. Calls
into the driver run in Starlette's thread pool, so the server stays free to serve the bot's own
Web API calls meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from string import Template
from typing import TYPE_CHECKING, Any

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.simulators.fakeslack import FakeSlack, SlackError, payloads
from bot.simulators.fakeslack.payloads import find_element
from bot.simulators.playground import composing, forms, pages, sandbox_control
from bot.simulators.playground.clock import ClockError, Jumped, PlaygroundClock
from bot.simulators.playground.jobs import run_job
from bot.simulators.playground.screens import Screens
from bot.simulators.playground.session import COOKIE, Visitors
from bot.slack.ids import SHORTCUT_TYPES, Command, Shortcut

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.simulators.plum_sandbox import Faults, SandboxServer

_CHANNEL_ID = re.compile(r"\b[CG][A-Z0-9]{6,}\b")
log = logging.getLogger(__name__)

SLACK_ACK_SECONDS = 3.0
WAIT_SECONDS = 20.0
WAIT_STEP_SECONDS = 0.1
COMMANDS = {str(c) for c in Command}
OPTIONS_MAX = 100  # Slack shows at most 100 options of an external select


UPLOAD_MAX_BYTES = 10_000_000  # a file picked in a form (Slack's own limit is far larger)


class Problem(Exception):
    """A request the page should not have made (or can't be done): answered 4xx with text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _ok(**extra: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **extra})


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise Problem("the body must be JSON") from None
    if not isinstance(data, dict):
        raise Problem("the body must be a JSON object")
    return data


def _answer(response: httpx.Response, started: float, what: str) -> JSONResponse:
    """How Slack would take the bot's answer: an error for anything but 200, a note when the
    answer came later than Slack waits."""
    took = time.monotonic() - started
    if response.status_code != 200:
        raise Problem(
            f"{what} failed: the bot answered HTTP {response.status_code} "
            "(Slack would show “dispatch_failed”)",
            502,
        )
    if took > SLACK_ACK_SECONDS:
        return _ok(
            notice=f"The bot took {took:.1f} s to answer; Slack gives up after 3 s "
            "(operation_timeout)."
        )
    return _ok()


class Ui:
    def __init__(
        self,
        *,
        fake: FakeSlack,
        visitors: Visitors,
        screens: Screens,
        template: Template,
        version: Callable[[], str],
        runtime: Runtime,
        sandbox: SandboxServer,
        sandbox_json: Callable[[], dict[str, Any] | None],
        job_results: MutableMapping[str, str],
        clock: PlaygroundClock,
        clock_log: list[str],
        about: str,
        stopping: threading.Event,
    ) -> None:
        self._fake = fake
        self._ws = fake.workspace
        self._visitors = visitors
        self._screens = screens
        self._template = template
        self._version = version
        self._runtime = runtime
        self._sandbox = sandbox
        self._sandbox_json = sandbox_json
        self._job_results = job_results
        self._clock = clock
        self._clock_log = clock_log
        self._about = about
        self._stopping = stopping

    # ------------------------------------------------------------------ plumbing
    def endpoint(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as err:
                return JSONResponse({"ok": False, "error": err.message}, status_code=err.status)
            except httpx.HTTPError as err:
                return JSONResponse(
                    {"ok": False, "error": f"The bot did not answer ({type(err).__name__})."},
                    status_code=504,
                )

        return run

    def _who(self, given: object) -> str:
        """The person a request is made as (`as`), who must be someone a visitor may be."""
        user_id = self._visitors.resolve(str(given or ""))
        if user_id is None:
            raise Problem("pick who you are first", 403)
        return user_id

    def _own_view(self, user_id: str, view_id: str) -> dict[str, Any]:
        try:
            view = self._ws.views.get(view_id)
        except SlackError:
            raise Problem("that form or Home is gone", 404) from None
        if view.get("user_id") != user_id:
            raise Problem("that view belongs to someone else", 403)
        return view

    def _people_ids(self) -> set[str]:
        return {u["id"] for u in self._ws.users() if not u["deleted"]}

    # ------------------------------------------------------------------ the page
    async def page(self, request: Request) -> Response:
        params = request.query_params
        user_id = self._visitors.resolve(params.get("as"), request.cookies.get(COOKIE))
        if user_id is None:
            return self._render_chooser()
        if params.get("as") != user_id:
            view = params.get("view") or ""
            query = f"as={user_id}" + (f"&view={view}" if view else "")
            return RedirectResponse(f"/?{query}", status_code=303)
        view = self._screens.valid_view(params.get("view"))
        await self._opened(user_id, view)
        regions = self._screens.regions(user_id, view)
        people = self._visitors.people()
        roles = {p["id"]: self._visitors.role(p["id"]) for p in people}
        body = self._template.safe_substitute(
            title=pages.esc(f"{regions.title} · Slack playground"),
            user=pages.esc(user_id),
            view=pages.esc(view),
            version=pages.esc(self._version()),
            who=pages.who_select(people, roles, user_id),
            sidebar=regions.sidebar,
            main=regions.main,
            composer=regions.composer,
            modal=regions.modal,
            modal_key=pages.esc(regions.modal_key),
            layout="layout",
        )
        response = HTMLResponse(body)
        response.set_cookie(COOKIE, user_id, httponly=True, samesite="lax")
        return response

    def _render_chooser(self) -> Response:
        people = self._visitors.people()
        roles = {p["id"]: self._visitors.role(p["id"]) for p in people}
        body = self._template.safe_substitute(
            title="Who are you? · Slack playground",
            user="",
            view="",
            version=pages.esc(self._version()),
            who="",
            sidebar="",
            main=pages.chooser(people, roles, self._about),
            composer="",
            modal="",
            modal_key="",
            layout="layout no-sidebar",
        )
        return HTMLResponse(body)

    async def _opened(self, user_id: str, view: str) -> None:
        """Opening the app's Home or Messages tab sends app_home_opened, as Slack does."""
        if view not in (pages.HOME, pages.DM):
            return
        tab = "home" if view == pages.HOME else "messages"
        driver = self._visitors.driver(user_id)
        try:
            await run_in_threadpool(driver.app_home_opened, user_id=user_id, tab=tab)
        except httpx.HTTPError as err:
            log.warning("app_home_opened for %s was not delivered: %s", user_id, err)

    async def permalink(self, request: Request) -> Response:
        """A message's permalink (chat.getPermalink on the fake) opens its conversation, with
        the message scrolled to and marked."""
        user_id = self._visitors.resolve(request.cookies.get(COOKIE))
        channel = request.path_params["channel"]
        stamp = request.path_params["stamp"].removeprefix("p")
        if user_id is not None and channel == self._ws.im_of(user_id):
            view = pages.DM
        else:
            view = self._screens.valid_view(channel)
        anchor = f"#m{stamp}" if stamp.isdigit() else ""
        return RedirectResponse(f"/?view={view}{anchor}", status_code=303)

    async def pane(self, request: Request) -> Response:
        user_id = self._who(request.query_params.get("as"))
        view = self._screens.valid_view(request.query_params.get("view"))
        regions = self._screens.regions(user_id, view)
        return JSONResponse({"ok": True, "version": self._version(), **regions.as_json()})

    async def wait(self, request: Request) -> Response:
        """Long poll: answers when anything changed since `since`, or after 20 s."""
        since = request.query_params.get("since", "")
        deadline = time.monotonic() + WAIT_SECONDS
        while self._version() == since and time.monotonic() < deadline:
            if self._stopping.is_set() or await request.is_disconnected():
                break
            await asyncio.sleep(WAIT_STEP_SECONDS)
        return JSONResponse({"version": self._version()})

    # ------------------------------------------------------------------ what people do
    async def send(self, request: Request) -> Response:
        data = await _body(request)
        user_id = self._who(data.get("as"))
        view = self._screens.valid_view(str(data.get("view") or ""))
        if view == pages.DM:
            channel_id = self._screens.dm_channel(user_id)
        elif view in {c["id"] for c in self._screens.channels()}:
            channel_id = view
        else:
            raise Problem("there is nothing to type into here")
        typed = composing.parse(str(data.get("text") or ""))
        if not typed.text and not typed.command:
            raise Problem("type a message or a command such as /reward help")
        text = composing.encode(
            typed.text,
            handles=self._screens.handles(),
            channels=self._screens.channel_ids(),
            groups=self._screens.group_handles(),
        )
        if typed.command is None:
            posted = self._ws.post_message(
                channel=channel_id, text=text, user=user_id, source="page"
            )
            if view == pages.DM:
                return _ok()
            # In a channel Slack sends the bot the message (message.channels), as it would.
            driver = self._visitors.driver(user_id)
            started = time.monotonic()
            event = payloads.message_event(posted)
            response = await run_in_threadpool(driver.event, event)
            return _answer(response, started, "The message")
        if typed.command not in COMMANDS:
            raise Problem(
                f"{typed.command} is not a valid command. In Slack, all messages that start "
                "with the “/” character are interpreted as commands."
            )
        driver = self._visitors.driver(user_id)
        started = time.monotonic()
        response = await run_in_threadpool(
            driver.command, text, user_id=user_id, channel_id=channel_id, command=typed.command
        )
        return _answer(response, started, typed.command)

    async def action(self, request: Request) -> Response:
        data = await _body(request)
        user_id = self._who(data.get("as"))
        container = data.get("container") or {}
        action_id = str(data.get("action_id") or "")
        driver = self._visitors.driver(user_id)
        message = view = None
        values = None
        offered: forms.Offered = {}
        if container.get("type") == "view":
            view = self._own_view(user_id, str(container.get("view_id") or ""))
            blocks = view.get("blocks") or []
            offered = self._visitors.offered(user_id, view["id"])
            if view.get("type") == "modal" and isinstance(data.get("values"), dict):
                values = forms.state_values(
                    view, data["values"], users=self._people_ids(), offered=offered
                )
        else:
            message = self._message(user_id, container)
            blocks = message.get("blocks") or []
        found = find_element(blocks, action_id)
        if found is None:
            raise Problem("that button or menu is no longer there", 409)
        block_id, element = found
        value = self._action_value(element, data.get("value"), offered.get(action_id, ()))
        started = time.monotonic()
        response = await run_in_threadpool(
            driver.block_action,
            user_id=user_id,
            action_id=action_id,
            value=value,
            block_id=block_id,
            message=message,
            view=view,
            channel_id=message["channel"] if message else None,
            values=values,
        )
        return _answer(response, started, "The click")

    async def react(self, request: Request) -> Response:
        """Add the person's reaction to a message, or take it away when it is theirs already
        (as clicking a reaction in Slack does); Slack then sends the bot the event."""
        data = await _body(request)
        user_id = self._who(data.get("as"))
        name = str(data.get("name") or "")
        if not name or len(name) > 100:
            raise Problem("pick an emoji to react with")
        container = data.get("container") or {}
        if container.get("ephemeral"):
            raise Problem("nobody can react to a message only you can see")
        message = self._message(user_id, container)
        mine = any(
            r.get("name") == name and user_id in (r.get("users") or [])
            for r in message.get("reactions") or []
        )
        driver = self._visitors.driver(user_id)
        started = time.monotonic()
        response = await run_in_threadpool(
            driver.react,
            user_id=user_id,
            channel_id=message["channel"],
            ts=message["ts"],
            name=name,
            added=not mine,
        )
        return _answer(response, started, "The reaction")

    def _message(self, user_id: str, container: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(container.get("channel") or ""), str(container.get("ts") or "")
        if container.get("ephemeral"):
            for found in self._ws.ephemerals(user_id):
                if found["ts"] == ts and found["channel"] == channel:
                    return found
            raise Problem("that message is gone", 404)
        try:
            return self._ws.message(channel, ts)
        except SlackError:
            raise Problem("that message is gone", 404) from None

    @staticmethod
    def _action_value(
        element: dict[str, Any], given: Any, offered: Sequence[Mapping[str, Any]] = ()
    ) -> str | dict[str, Any]:
        kind = element.get("type")
        if kind == "button":
            return str(element.get("value", ""))
        chosen = str(given or "")
        if kind in ("static_select", "overflow", "external_select", "radio_buttons"):
            options = list(element.get("options") or [])
            for group in element.get("option_groups") or []:
                options += list(group.get("options") or [])
            if kind == "external_select":
                options = forms.external_options(element, offered)
            match = [o for o in options if str(o.get("value")) == chosen]
            if not match:
                raise Problem("pick one of the options")
            return {"selected_option": dict(match[0])}
        if kind == "users_select":
            return {"selected_user": chosen}
        if kind == "conversations_select":
            return {"selected_conversation": chosen}
        if kind == "channels_select":
            return {"selected_channel": chosen}
        raise Problem(f"the playground can't use a {kind} here")

    async def submit(self, request: Request) -> Response:
        data = await _body(request)
        user_id = self._who(data.get("as"))
        view = self._top_modal(user_id, str(data.get("view_id") or ""))
        given = data.get("values")
        raw: dict[str, Any] = given if isinstance(given, dict) else {}
        raw = self._uploads(user_id, view, raw)
        offered = self._visitors.offered(user_id, view["id"])
        values = forms.state_values(view, raw, users=self._people_ids(), offered=offered)
        problems = forms.client_errors(view, values)
        if problems:  # Slack's client stops here; nothing reaches the bot
            self._visitors.save_draft(user_id, view=view, raw=raw, client_errors=problems)
            return _ok(errors=problems)
        self._visitors.save_draft(user_id, view=view, raw=raw, client_errors=None)
        driver = self._visitors.driver(user_id)
        started = time.monotonic()
        response = await run_in_threadpool(
            driver.view_submission, user_id=user_id, view=view, values=values
        )
        if all(v["id"] != view["id"] for v in self._ws.views.stack(user_id)):
            self._visitors.forget_draft(user_id, view["id"])
        return _answer(response, started, "The form")

    def _uploads(self, user_id: str, view: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        """A file picked in a form's file input ({name, content_b64}, read by the page) is
        uploaded to the fake Slack as the person, as Slack's client does before it submits;
        the form then carries the upload's item."""
        out = {block: dict(fields) for block, fields in raw.items() if isinstance(fields, dict)}
        for block in forms.input_blocks(view):
            element = block["element"]
            if element.get("type") != "file_input":
                continue
            block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
            picked = out.get(block_id, {}).get(action_id)
            if not isinstance(picked, dict) or "content_b64" not in picked:
                continue
            try:
                content = base64.b64decode(str(picked["content_b64"]), validate=True)
            except ValueError:
                raise Problem("that file could not be read") from None
            if len(content) > UPLOAD_MAX_BYTES:
                raise Problem(f"files of up to {UPLOAD_MAX_BYTES // 1_000_000} MB, please")
            name = str(picked.get("name") or "file")[:200]
            item = self._ws.files.from_user(
                user=user_id, filename=name, content=content, url_root=self._fake.root_url
            )
            out.setdefault(block_id, {})[action_id] = item
        return out

    async def suggest(self, request: Request) -> Response:
        """Typing in an external_select (`value`, in the view `view_id`, select `action_id`):
        the bot is asked for its options with a signed block_suggestion, as Slack asks, once
        `min_query_length` characters are typed; its options are remembered, so a pick sends
        the bot the very option it gave. Answers `options`: [{value, text}]."""
        data = await _body(request)
        user_id = self._who(data.get("as"))
        view = self._own_view(user_id, str(data.get("view_id") or ""))
        action_id = str(data.get("action_id") or "")
        found = find_element(view.get("blocks") or [], action_id)
        if found is None or found[1].get("type") != "external_select":
            raise Problem("that search box is no longer there", 409)
        block_id, element = found
        typed = str(data.get("value") or "")
        least = element.get("min_query_length")
        if len(typed) < (least if isinstance(least, int) else 3):
            return _ok(options=[])
        driver = self._visitors.driver(user_id)
        started = time.monotonic()
        try:
            answered = await run_in_threadpool(
                driver.block_suggestion,
                user_id=user_id,
                action_id=action_id,
                block_id=block_id,
                value=typed,
                view=view,
            )
        except httpx.HTTPStatusError as err:
            raise Problem(
                f"The search failed: the bot answered HTTP {err.response.status_code} "
                "(Slack would show “No results”)",
                502,
            ) from None
        if time.monotonic() - started > SLACK_ACK_SECONDS:
            return _ok(
                options=[],
                notice="The bot took more than 3 s to answer the search; Slack shows no options "
                "then.",
            )
        options = [
            o
            for o in answered[:OPTIONS_MAX]
            if isinstance(o, dict) and isinstance(o.get("text"), dict) and "value" in o
        ]
        self._visitors.remember_options(
            user_id, view_id=view["id"], action_id=action_id, options=options
        )
        shown = [{"value": str(o["value"]), "text": forms.option_label(o)} for o in options]
        return _ok(options=shown)

    def _top_modal(self, user_id: str, view_id: str) -> dict[str, Any]:
        stack = self._ws.views.stack(user_id)
        if not stack or stack[-1]["id"] != view_id:
            raise Problem("that form is no longer open", 409)
        return stack[-1]

    async def close(self, request: Request) -> Response:
        data = await _body(request)
        user_id = self._who(data.get("as"))
        view = self._top_modal(user_id, str(data.get("view_id") or ""))
        self._visitors.forget_draft(user_id, view["id"])
        if view.get("notify_on_close"):
            driver = self._visitors.driver(user_id)
            await run_in_threadpool(driver.view_closed, user_id=user_id, view=view)
        else:
            self._ws.views.close(user_id=user_id, view_id=view["id"])
        return _ok()

    async def shortcut(self, request: Request) -> Response:
        data = await _body(request)
        user_id = self._who(data.get("as"))
        try:
            callback = Shortcut(str(data.get("callback_id") or ""))
        except ValueError:
            raise Problem("no such shortcut") from None
        driver = self._visitors.driver(user_id)
        started = time.monotonic()
        if SHORTCUT_TYPES[callback] == "global":
            response = await run_in_threadpool(
                driver.shortcut, user_id=user_id, callback_id=str(callback)
            )
        else:
            container = data.get("container") or {}
            if container.get("ephemeral"):
                raise Problem("shortcuts don't work on messages only you can see")
            message = self._message(user_id, container)
            response = await run_in_threadpool(
                driver.message_shortcut,
                user_id=user_id,
                callback_id=str(callback),
                channel_id=message["channel"],
                message=message,
            )
        return _answer(response, started, "The shortcut")

    # ------------------------------------------------------------------ the playground's tools
    async def run_job(self, request: Request) -> Response:
        data = await _body(request)
        self._who(data.get("as"))
        name = str(data.get("name") or "")
        try:
            result = await run_in_threadpool(run_job, self._runtime, name)
        except KeyError:
            raise Problem(f"no job named {name!r}", 404) from None
        except Exception as err:
            log.exception("job %s failed when run from the playground", name)
            raise Problem(
                f"{name} failed ({type(err).__name__}); the console has details", 500
            ) from None
        line = f"{self._clock.now().strftime('%a %d %b %H:%M:%S')} · {self._named(result)}"
        self._job_results[name] = line
        return _ok(result=line)

    async def jump_clock(self, request: Request) -> Response:
        """Move the playground's clock (`jump`: day, week, monday or expiry) and run the jobs
        that fell due; the lines say where it went and what ran."""
        data = await _body(request)
        self._who(data.get("as"))
        name = str(data.get("jump") or "")
        try:
            jumped = await run_in_threadpool(self._clock.jump, name)
        except ClockError as err:
            raise Problem(str(err), 409) from None
        self._clock_log[:] = [self._named(line) for line in self._jump_lines(jumped)]
        return _ok(result=self._clock_log)

    def _named(self, line: str) -> str:
        """A job's account with channel ids shown as the page shows channels (`#kudos`)."""
        names = {c["id"]: c.get("name") for c in self._ws.channels() if c.get("name")}
        return _CHANNEL_ID.sub(lambda m: f"#{names[m[0]]}" if m[0] in names else m[0], line)

    @staticmethod
    def _jump_lines(jumped: Jumped) -> list[str]:
        fmt = "%a %d %b %Y %H:%M"
        lines = [f"Moved from {jumped.moved_from:{fmt}} to {jumped.moved_to:{fmt} %Z}."]
        if not jumped.ran:
            lines.append("No job fell due on the way.")
        for run in jumped.ran:
            when = run.scheduled_for.astimezone(jumped.moved_to.tzinfo)
            lines.append(f"{run.name} ({when:{fmt}}): {run.result}")
        return lines

    def _faults(self) -> Faults:
        return self._sandbox.faults

    async def set_fault(self, request: Request) -> Response:
        """Make the sandbox misbehave: `fault` (a preset's name), `target` (sendBalance or *),
        `times` ("1", "3", or "" for until cleared)."""
        data = await _body(request)
        self._who(data.get("as"))
        times = data.get("times")
        try:
            sandbox_control.apply(
                self._faults(),
                preset=str(data.get("fault") or ""),
                target=str(data.get("target") or sandbox_control.SEND),
                times="1" if times is None else str(times),
            )
        except ValueError as err:
            raise Problem(str(err)) from None
        return _ok()

    async def clear_fault(self, request: Request) -> Response:
        """Clear the faults of `operations` (a list), or all of them when it is not given."""
        data = await _body(request)
        self._who(data.get("as"))
        operations = data.get("operations")
        if operations is not None and (
            not isinstance(operations, list) or not all(isinstance(o, str) for o in operations)
        ):
            raise Problem("operations must be a list of names")
        try:
            sandbox_control.clear(self._faults(), operations)
        except ValueError as err:
            raise Problem(str(err)) from None
        return _ok()

    async def sandbox(self, request: Request) -> Response:
        found = self._sandbox_json()
        if found is None:
            raise Problem("the bot is not using the sandbox", 404)
        return JSONResponse(found)
