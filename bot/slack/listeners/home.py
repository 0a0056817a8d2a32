"""The App Home tab: published when someone opens it, republished whenever their rewards change.

Opening the tab (`app_home_opened`, tab "home") publishes a fresh view and records that this
person has an App Home; from then on `Notifier.on_change(user_ids)` (delivery, failure, in doubt,
approvals, settlements, cancellations) republishes it in the background through the
`HomeRefresher` (`runtime.home_refresher`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.rewards.home import HomeService
from bot.slack.blocks.home import home_view
from bot.slack.home_refresh import HomeRefresher
from bot.slack.ids import Event

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    refresher = home_refresher(runtime)

    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab
        user_id = str(event.get("user") or "")
        if not user_id:
            return
        refresher.opened(user_id)
        refresher.publish_now(user_id)

    runtime.intake.event(app, Event.APP_HOME_OPENED, on_home_opened)


def home_refresher(runtime: Runtime) -> HomeRefresher:
    """The runtime's refresher (made once), wired to `runtime.notifier.on_change`."""
    if runtime.home_refresher is not None:
        return runtime.home_refresher
    service = runtime.home
    refresher = HomeRefresher(
        publish=lambda user_id: publish_home(runtime, service, user_id), store=runtime.store
    )
    runtime.home_refresher = refresher
    runtime.notifier.set_change_hook(refresher.refresh)
    runtime.on_stop.append(refresher.stop)
    return refresher


def publish_home(runtime: Runtime, service: HomeService, user_id: str) -> None:
    home = service.home(user_id)
    spend = runtime.redeem is not None and bool(home.card.balance.points)
    redeem = runtime.redeem.button(user_id) if spend and runtime.redeem else None
    view = home_view(
        home=home.card,
        tz=home.tz,
        updated_at=datetime.now(UTC),
        redeem=redeem,
        gifts=runtime.gifts.may_open(user_id),
    )
    try:
        runtime.slack.views_publish(user_id=user_id, view=view)
    except SlackApiError as err:
        log.warning("could not publish %s's App Home: %s", user_id, err.response.get("error"))
