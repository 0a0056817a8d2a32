"""The App Home tab: published when someone opens it, republished whenever their rewards change.

Opening the tab (`app_home_opened`, tab "home") publishes a fresh view and records that this
person has an App Home; from then on `Notifier.on_change(user_ids)` (delivery, failure, in doubt,
approvals, settlements, cancellations) republishes it in the background through the
`HomeRefresher` (`runtime.home_refresher`, `bot.slack.home_refresh`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App

from bot.slack.ids import Event
from bot.slack.journal import ack_at_once, after_ack

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App) -> None:
    app.event(Event.APP_HOME_OPENED)(ack=ack_at_once, lazy=[home_opened])


@after_ack
def home_opened(event: dict[str, Any], runtime: Runtime) -> None:
    if event.get("tab", "home") != "home":
        return  # the Messages tab
    user_id = str(event.get("user") or "")
    if not user_id:
        return
    runtime.home_refresher.opened(user_id)
    runtime.home_refresher.publish_now(user_id, soon=True)  # never blank while Xoxoday is slow
