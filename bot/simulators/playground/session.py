"""Who is at the page, and what the page remembers for each person.

The visitor picks a seeded person; the choice travels in the URL (`?as=UMARIA01`) and a cookie,
so two browser tabs can be two people. Each person gets a SlackDriver (their requests are
signed and posted to the bot as Slack posts them), the draft of a modal they submitted (so a
refused form keeps what they typed), and what they have already seen in each conversation
(for the unread counts in the sidebar), and the options the bot answered their searches in a
form's external selects with.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.simulators.fakeslack import FakeSlack, SlackDriver

COOKIE = "playground_as"
OFFERED_MAX = 1000  # options remembered per external select
OFFERED_VIEWS = 20  # views whose external selects are remembered, per person


@dataclass
class Draft:
    """A modal as last submitted: the raw values, and the errors Slack's client found (when
    the form never reached the bot) or None when the bot got it (its errors are on the view)."""

    view_hash: str
    raw: Mapping[str, Mapping[str, Any]]
    client_errors: dict[str, str] | None
    rev: int


@dataclass
class Visitor:
    user_id: str
    driver: SlackDriver
    drafts: dict[str, Draft] = field(default_factory=dict)  # view id -> draft
    seen: dict[str, float] = field(default_factory=dict)  # channel id -> newest ts seen
    # view id -> action id -> option value -> the option the bot answered a search with
    offered: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)


class Visitors:
    def __init__(
        self,
        *,
        fake: FakeSlack,
        bot_url: str,
        signing_secret: str,
        admins: Sequence[str] = (),
        approvers: Sequence[str] = (),
    ) -> None:
        self._fake = fake
        self._bot_url = bot_url
        self._secret = signing_secret
        self._lock = threading.RLock()
        self._visitors: dict[str, Visitor] = {}
        self._revs = itertools.count(1)
        self.admins = tuple(admins)
        self.approvers = tuple(approvers)

    def __repr__(self) -> str:
        return f"Visitors(bot_url={self._bot_url!r}, people={len(self._visitors)})"

    # ------------------------------------------------------------------ who
    def people(self) -> list[dict[str, Any]]:
        """The people a visitor may be: everyone in the workspace who is neither a bot nor
        deactivated, admins first, then approvers, then the rest."""
        found = [
            u for u in self._fake.workspace.users() if not u.get("is_bot") and not u["deleted"]
        ]
        return sorted(found, key=lambda u: (self.rank(u["id"]), u.get("real_name", "")))

    def rank(self, user_id: str) -> int:
        if user_id in self.admins:
            return 0
        return 1 if user_id in self.approvers else 2

    def role(self, user_id: str) -> str:
        return ("admin", "approver", "member")[self.rank(user_id)]

    def resolve(self, *candidates: str | None) -> str | None:
        """The first candidate that is someone a visitor may be."""
        allowed = {u["id"] for u in self.people()}
        for candidate in candidates:
            if candidate and candidate in allowed:
                return candidate
        return None

    def visitor(self, user_id: str) -> Visitor:
        with self._lock:
            found = self._visitors.get(user_id)
            if found is None:
                driver = SlackDriver(
                    bot_url=self._bot_url,
                    signing_secret=self._secret,
                    fake=self._fake,
                    team_id=self._fake.workspace.team["id"],
                )
                found = self._visitors[user_id] = Visitor(user_id=user_id, driver=driver)
            return found

    def driver(self, user_id: str) -> SlackDriver:
        return self.visitor(user_id).driver

    # ------------------------------------------------------------------ drafts
    def save_draft(
        self,
        user_id: str,
        *,
        view: Mapping[str, Any],
        raw: Mapping[str, Mapping[str, Any]],
        client_errors: dict[str, str] | None,
    ) -> None:
        with self._lock:
            drafts = self.visitor(user_id).drafts
            drafts[str(view.get("id"))] = Draft(
                view_hash=str(view.get("hash", "")),
                raw=raw,
                client_errors=client_errors,
                rev=next(self._revs),
            )

    def draft(self, user_id: str, view: Mapping[str, Any]) -> Draft | None:
        """The draft of this view as shown now (a view updated since is a new form)."""
        with self._lock:
            found = self._visitors.get(user_id)
            draft = found.drafts.get(str(view.get("id"))) if found else None
            return draft if draft and draft.view_hash == view.get("hash") else None

    def forget_draft(self, user_id: str, view_id: str) -> None:
        with self._lock:
            found = self._visitors.get(user_id)
            if found:
                found.drafts.pop(view_id, None)

    # ------------------------------------------------------------------ external selects
    def remember_options(
        self, user_id: str, *, view_id: str, action_id: str, options: Sequence[Mapping[str, Any]]
    ) -> None:
        """What the bot answered a search in this view's external select with: a pick is one of
        these (Slack sends the option object the app gave). The latest answer wins per value;
        a view keeps at most OFFERED_MAX options per select."""
        with self._lock:
            views = self.visitor(user_id).offered
            kept = views.setdefault(view_id, {}).setdefault(action_id, {})
            for found in options:
                kept.pop(str(found.get("value")), None)
                kept[str(found.get("value"))] = dict(found)
            while len(kept) > OFFERED_MAX:
                kept.pop(next(iter(kept)))
            while len(views) > OFFERED_VIEWS:
                views.pop(next(iter(views)))

    def offered(self, user_id: str, view_id: str) -> dict[str, list[dict[str, Any]]]:
        """{action id: options} the bot offered in this view's external selects."""
        with self._lock:
            found = self._visitors.get(user_id)
            kept = found.offered.get(view_id, {}) if found else {}
            return {action: list(options.values()) for action, options in kept.items()}

    # ------------------------------------------------------------------ unread
    def mark_seen(
        self, user_id: str, channel_id: str, messages: Sequence[Mapping[str, Any]]
    ) -> None:
        newest = max((float(m["ts"]) for m in messages), default=0.0)
        with self._lock:
            seen = self.visitor(user_id).seen
            seen[channel_id] = max(seen.get(channel_id, 0.0), newest)

    def unread(self, user_id: str, channel_id: str, messages: Sequence[Mapping[str, Any]]) -> int:
        with self._lock:
            found = self._visitors.get(user_id)
            since = found.seen.get(channel_id, 0.0) if found else 0.0
        return sum(1 for m in messages if float(m["ts"]) > since and m.get("user") != user_id)

    def close(self) -> None:
        with self._lock:
            for found in self._visitors.values():
                found.driver.close()
            self._visitors.clear()
