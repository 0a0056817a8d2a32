"""One person's screen, read from the live state: which messages, which Home, which modal.

`Screens.regions(user_id, view)` returns the HTML of the regions the page swaps in when
something changes (sidebar, main pane, modal) plus a key for the modal, so the page only
redraws a form when the form itself changed (never under the person's typing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.simulators.fakeslack import FakeSlack
from bot.simulators.playground import pages
from bot.simulators.playground.clock import PlaygroundClock
from bot.simulators.playground.jobs import JobInfo
from bot.simulators.playground.render import Directory
from bot.simulators.playground.sandbox_view import SandboxView
from bot.simulators.playground.session import Visitors

DEFAULT_VIEW = "C0GENERAL"


@dataclass(frozen=True, slots=True)
class Regions:
    title: str
    sidebar: str
    main: str
    modal: str
    modal_key: str
    composer: str  # empty where there is nothing to type into

    def as_json(self) -> dict[str, str]:
        return {
            "title": self.title,
            "sidebar": self.sidebar,
            "main": self.main,
            "modal": self.modal,
            "modal_key": self.modal_key,
        }


class Screens:
    def __init__(
        self,
        *,
        fake: FakeSlack,
        visitors: Visitors,
        sandbox: Callable[[], SandboxView | None],
        jobs: Callable[[], list[JobInfo] | None],
        job_results: Mapping[str, str],
        clock: PlaygroundClock,
        clock_log: Sequence[str],
        reactions: Sequence[str] = (),
    ) -> None:
        self._reactions = tuple(reactions)  # the emoji that give, offered under messages
        self._fake = fake
        self._ws = fake.workspace
        self._visitors = visitors
        self._sandbox = sandbox
        self._jobs = jobs
        self._job_results = job_results
        self._clock = clock
        self._clock_log = clock_log

    def channels(self) -> list[dict[str, Any]]:
        return [
            c
            for c in self._ws.channels()
            if not c.get("is_im") and not c.get("is_archived") and c.get("name")
        ]

    def valid_view(self, view: str | None) -> str:
        known = {c["id"] for c in self.channels()} | {pages.DM, pages.HOME, *pages.TOOLS}
        if view == pages.JOBS and self._jobs() is None:
            return DEFAULT_VIEW
        return view if view is not None and view in known else DEFAULT_VIEW

    def screen(self, user_id: str, view: str) -> pages.Screen:
        names = Directory.from_lists(self._ws.users(), self._ws.channels())
        return pages.Screen(
            me=self._ws.user(user_id),
            view=view,
            names=names,
            role=self._visitors.role(user_id),
            reactions=tuple(self._reactions),
        )

    def handles(self) -> dict[str, str]:
        """Lowercase handle → user id, for @mentions typed in the composer."""
        return {str(u["name"]).lower(): u["id"] for u in self._ws.users() if not u["deleted"]}

    def group_handles(self) -> dict[str, str]:
        """Lowercase handle → user group id, for @design-team typed in the composer."""
        return {str(g["handle"]).lower(): str(g["id"]) for g in self._ws.usergroups()}

    def mentionable(self) -> list[pages.Mentionable]:
        """Whom the composer's @-autocomplete offers: everyone active but the app itself,
        people before bots, by name (as Slack lists them)."""
        found = [
            (bool(u.get("is_bot")), str(u.get("real_name") or u["name"]), u)
            for u in self._ws.users()
            if not u["deleted"] and u["id"] not in (self._ws.bot_user_id, "USLACKBOT")
        ]
        return [
            pages.Mentionable(user_id=u["id"], handle=str(u["name"]), name=name)
            for _, name, u in sorted(found, key=lambda f: (f[0], f[1]))
        ]

    def channel_ids(self) -> dict[str, str]:
        return {str(c["name"]): c["id"] for c in self.channels()}

    def dm_channel(self, user_id: str) -> str:
        found = self._ws.im_of(user_id)
        return found if found else self._ws.open_im(user_id)[0]

    def _conversation(self, user_id: str, channel_id: str) -> list[dict[str, Any]]:
        messages = self._ws.messages(channel_id)
        ephemerals = [e for e in self._ws.ephemerals(user_id) if e["channel"] == channel_id]
        return sorted([*messages, *ephemerals], key=lambda m: float(m["ts"]))

    def _unread(self, user_id: str, view: str) -> dict[str, int]:
        counts = {}
        for channel in self.channels():
            if channel["id"] != view:
                messages = self._conversation(user_id, channel["id"])
                counts[channel["id"]] = self._visitors.unread(user_id, channel["id"], messages)
        im = self._ws.im_of(user_id)
        if im and view != pages.DM:
            counts[pages.DM] = self._visitors.unread(user_id, im, self._conversation(user_id, im))
        return counts

    def regions(self, user_id: str, view: str) -> Regions:
        screen = self.screen(user_id, view)
        channels = self.channels()
        title, main, composer = self._main(screen, channels)
        unread = self._unread(user_id, view)
        sidebar = pages.sidebar(
            screen, channels=channels, unread=unread, jobs=self._jobs() is not None
        )
        modal, key = self._modal(screen)
        return Regions(
            title=title, sidebar=sidebar, main=main, modal=modal, modal_key=key, composer=composer
        )

    def _main(self, screen: pages.Screen, channels: list[dict[str, Any]]) -> tuple[str, str, str]:
        view, user_id = screen.view, screen.user_id
        people = self.mentionable()
        if view == pages.HOME:
            return pages.APP_NAME, pages.home_pane(screen, self._ws.views.home(user_id)), ""
        if view == pages.SANDBOX:
            return "Plum sandbox", pages.sandbox_pane(self._sandbox()), ""
        if view == pages.JOBS:
            main = pages.jobs_pane(
                self._jobs(), self._job_results, clock=self.clock_view(), last_jump=self._clock_log
            )
            return "Scheduled jobs", main, ""
        if view == pages.DM:
            im = self.dm_channel(user_id)
            messages = self._conversation(user_id, im)
            self._visitors.mark_seen(user_id, im, messages)
            composer = pages.composer(
                screen, placeholder="Message rewardbot — try /reward balance", people=people
            )
            return "rewardbot", pages.dm_pane(screen, messages=messages), composer
        channel = next(c for c in channels if c["id"] == view)
        messages = self._conversation(user_id, view)
        self._visitors.mark_seen(user_id, view, messages)
        name = str(channel["name"])
        composer = pages.composer(
            screen,
            placeholder=f"Message #{name} — try /reward @maria 50 thanks for the demo",
            people=people,
        )
        subtitle = (
            "Type a slash command below (<code>/reward help</code>), or a message to reward "
            "with its ⋮ menu."
        )
        main = pages.conversation(
            screen, title=f"# {pages.esc(name)}", subtitle=subtitle, messages=messages
        )
        return f"#{name}", main, composer

    def clock_view(self) -> pages.ClockView:
        return pages.ClockView(
            now=self._clock.now(), ahead=self._clock.ahead(), jumps=self._clock.jumps()
        )

    def _modal(self, screen: pages.Screen) -> tuple[str, str]:
        stack = self._ws.views.stack(screen.user_id)
        if not stack:
            return "", ""
        view = stack[-1]
        draft = self._visitors.draft(screen.user_id, view)
        if draft is None:
            raw, errors, rev = None, dict(view.get("errors") or {}), 0
        else:
            bot_errors = dict(view.get("errors") or {})
            raw = draft.raw
            errors = draft.client_errors if draft.client_errors is not None else bot_errors
            rev = draft.rev
        offered = self._visitors.offered(screen.user_id, view["id"])
        html = pages.modal_html(
            view, screen, draft=raw, errors=errors, depth=len(stack), offered=offered
        )
        shown = json.dumps(errors, sort_keys=True)
        return html, f"{view['id']}:{view.get('hash', '')}:{rev}:{shown}"
