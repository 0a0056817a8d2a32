"""Slack listeners, a module each; `register(app)` wires them all into the Bolt app.

Listeners are ordinary Bolt listeners: they take Bolt's arguments (`ack`, `body`, `respond`,
`context`, …) and `runtime`, the running bot's services (Bolt's context, where `bot.app` puts
them). A listener acks in the request's thread, then does its work as a lazy listener
decorated with `bot.slack.journal.after_ack`.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import (
    approval_actions,
    bulk,
    cancel,
    gifts,
    give_modal,
    group_reward,
    home,
    links,
    message_gifts,
    open_modal,
    people_dm,
    reactions,
    redeem,
    reports,
    reward_command,
    send_again,
    settle_actions,
    shortcuts,
    trust,
    undo,
)


def register(app: App) -> None:
    reward_command.register(app)
    approval_actions.register(app)
    settle_actions.register(app)
    send_again.register(app)
    undo.register(app)
    cancel.register(app)
    open_modal.register(app)
    give_modal.register(app)
    shortcuts.register(app)
    home.register(app)
    links.register(app)
    redeem.register(app)
    reports.register(app)
    reactions.register(app)
    people_dm.register(app)  # before message_gifts: its catch-all takes any message
    message_gifts.register(app)
    gifts.register(app)
    trust.register(app)
    group_reward.register(app)
    bulk.register(app)
