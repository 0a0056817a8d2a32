"""A people file dropped in the bot's DM (`message.im`): an admin's CSV of birthdays and start
dates, imported as `rewardbot people import FILE` imports it (issue 22, celebrations).

Only a person's CSV file shared in their DM with the bot is journaled (by Slack's event_id,
before the ack: a retried delivery imports once) and worked on after the ack
(`bot.rewards.people_dm.dropped_csv`); every other DM message is acknowledged and forgotten by
`message_gifts`' catch-all, never answered. A member who is not an admin is told, once, that
only admins import; their file is never downloaded. The bot never reads the DM's history: the
event names the file, read with files.info and url_private as `/reward bulk` reads its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App

from bot.rewards.celebrations import ImportResult
from bot.rewards.people_dm import DmImported, LooksLikeBulk, dropped_csv
from bot.rewards.people_import import MAX_BYTES, too_big
from bot.rewards.refusal import Refusal
from bot.slack.blocks import people_import as blocks
from bot.slack.blocks.common import text_only
from bot.slack.files import Downloaded, TooBig, read_upload
from bot.slack.journal import ack_at_once, after_ack

if TYPE_CHECKING:
    from bot.runtime import Runtime

MESSAGE = "message"  # how Slack delivers message.im


def register(app: App) -> None:
    """Before `message_gifts`, whose catch-all acknowledges every other message."""
    app.event(MESSAGE, matchers=[_dropped_csv])(ack=ack_at_once, lazy=[file_dropped])


def _dropped_csv(event: dict[str, Any]) -> bool:
    return dropped_csv(event) is not None


@after_ack
def file_dropped(event: dict[str, Any], runtime: Runtime) -> None:
    dropped = dropped_csv(event)
    if dropped is None:
        return
    refused = runtime.people_dm.refused(dropped.user_id)
    if refused is not None:  # never downloaded
        runtime.notifier.answer(dropped.user_id, text_only(refused.text))
        return
    got = read_upload(runtime.slack, dropped.file_id, max_bytes=MAX_BYTES)
    if isinstance(got, TooBig):
        too = DmImported(dropped.name, ImportResult(file=too_big(got.size)))
        runtime.notifier.answer(dropped.user_id, blocks.rejected(too))
        return
    if not isinstance(got, Downloaded):
        runtime.notifier.answer(dropped.user_id, text_only(f"{got.why} Nothing was imported."))
        return
    outcome = runtime.people_dm.import_dropped(dropped, got.data)
    if isinstance(outcome, Refusal | LooksLikeBulk):
        runtime.notifier.answer(dropped.user_id, text_only(outcome.text))
    elif outcome.result.file.ok:
        runtime.notifier.answer(dropped.user_id, blocks.imported(outcome))
    else:
        runtime.notifier.answer(dropped.user_id, blocks.rejected(outcome))
