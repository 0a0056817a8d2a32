"""What the code registers with Bolt and what manifest.yml declares are the same set, and every
declared command, shortcut and event is answered by the running app (Bolt says 404 otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt import App

from tests.e2e.harness import BOB, BotHarness

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def declared() -> dict[str, set[str]]:
    features = yaml.safe_load(MANIFEST.read_text())["features"]
    settings = yaml.safe_load(MANIFEST.read_text())["settings"]
    return {
        "command": {c["command"] for c in features.get("slash_commands", [])},
        "shortcut": {s["callback_id"] for s in features.get("shortcuts", [])},
        # Slack delivers message.channels, message.groups and message.im as `message` events.
        "event": {e.split(".")[0] for e in settings["event_subscriptions"]["bot_events"]},
    }


def _key(constraint: Any) -> str:
    if isinstance(constraint, str):
        return constraint
    if isinstance(constraint, dict):
        return str(constraint.get("callback_id") or constraint.get("type"))
    return str(getattr(constraint, "pattern", constraint))


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {"command": set(), "shortcut": set(), "event": set()}
    kinds = {
        "command": "command",
        "shortcut": "shortcut",
        "global_shortcut": "shortcut",
        "message_shortcut": "shortcut",
        "event": "event",
    }
    for method, kind in kinds.items():
        original = getattr(App, method)

        def wrapper(self: App, constraint: Any, *args: Any, _o=original, _k=kind, **kw: Any):
            seen[_k].add(_key(constraint))
            return _o(self, constraint, *args, **kw)

        monkeypatch.setattr(App, method, wrapper)
    return seen


def test_registered_listeners_are_exactly_the_manifests(
    registered: dict[str, set[str]], make_bot
) -> None:
    make_bot()
    assert registered == declared()


def test_every_declared_entry_point_is_answered(bot: BotHarness) -> None:
    wanted = declared()
    for command in wanted["command"]:
        assert bot.driver.command("help", user_id=BOB, command=command).status_code == 200
    for callback_id in wanted["shortcut"]:
        if callback_id == "reward_message":
            message = bot.fake.workspace.post_message(
                channel="C0GENERAL", text="I fixed the build", user="UMARIA01"
            )
            response = bot.driver.message_shortcut(
                user_id=BOB, callback_id=callback_id, channel_id="C0GENERAL", message=message
            )
        else:
            response = bot.driver.shortcut(user_id=BOB, callback_id=callback_id)
        assert response.status_code == 200, callback_id
    assert "app_home_opened" in wanted["event"]
    assert bot.driver.app_home_opened(user_id=BOB).status_code == 200
