"""Slack listeners: one small callback per file; `register(app, runtime)` wires them all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from bot.slack.listeners import (
    approval_actions,
    cancel,
    gifts,
    give_modal,
    home,
    links,
    open_modal,
    redeem,
    reward_command,
    settle_actions,
    shortcuts,
)

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    reward_command.register(app, runtime)
    approval_actions.register(app, runtime)
    settle_actions.register(app, runtime)
    cancel.register(app, runtime)
    open_modal.register(app, runtime)
    give_modal.register(app, runtime)
    shortcuts.register(app, runtime)
    home.register(app, runtime)
    links.register(app, runtime)
    redeem.register(app, runtime)
    gifts.register(app, runtime)
