"""`/reward link @person campaign [DD-MM-YYYY]` and `/reward links campaign count [DD-MM-YYYY]`
(admins only).

A single link goes only into the recipient's DM; a batch goes only into a CSV file in the admin's
DM. The replies, the logs and the audit trail never hold a link. slack_sdk dumps request and
response bodies at DEBUG level, so the DM that carries a link is posted through a client whose
logger stays at INFO.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.csv_cells import csv_cell
from bot.rewards.admin import only_admins
from bot.rewards.cards import LinkBatchCard, RewardLink
from bot.rewards.commands import GenerateLink, GenerateLinks, ListCampaigns
from bot.rewards.link_service import MadeLinks
from bot.rewards.refusal import Refusal
from bot.slack.blocks import links as link_blocks
from bot.slack.blocks.common import mention, text_only
from bot.slack.blocks.reward_messages import reward_note
from bot.slack.intake import request_key
from bot.slack.listeners.command_replies import later, reply

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

QUIET_LOGGER = "bot.slack.secret_messages"
CSV_COLUMNS = ("number", "link", "campaign_id", "campaign_name", "value", "currency", "expires_on")


def quiet_client(slack: WebClient) -> WebClient:
    """A copy of `slack` whose logger never dumps bodies (for the one message with a link). It is
    of `slack`'s own class, so it sends what `slack` would (the sandbox notice included)."""
    quiet = logging.getLogger(QUIET_LOGGER)
    quiet.setLevel(logging.INFO)
    return type(slack)(
        token=slack.token,
        base_url=slack.base_url,
        timeout=slack.timeout,
        ssl=slack.ssl,
        proxy=slack.proxy,
        headers=dict(slack.headers),
        retry_handlers=slack.retry_handlers,
        logger=quiet,
    )


def _start(runtime: Runtime, command: dict[str, Any], ack: Ack, *, doing: str) -> bool:
    """Refuse non-admins in the ack; else ack at once with nothing shown, the one answer
    following (a repeat of the same request from Slack stops at the ack: `bot.slack.intake`)."""
    refused = only_admins(runtime.settings, command["user_id"], doing=doing)
    if refused:
        ack(**text_only(refused.text))
        return False
    later(ack)  # recorded once in the intake journal
    return True


# ── one link, DM'd to one person ─────────────────────────────────────────────────────────


def send_link(
    runtime: Runtime, parsed: GenerateLink, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    if not _start(runtime, command, ack, doing="send reward links"):
        return
    admin_id = command["user_id"]
    made = runtime.links.make(
        admin_id=admin_id,
        team_id=command.get("team_id") or "",
        campaign_id=parsed.campaign_id,
        count=1,
        expiry=parsed.expiry,
        recipient_id=parsed.recipient,
        request_key=request_key(command),
    )
    runtime.notifier.on_change(runtime.settings.REWARD_ADMINS)  # "last link batches" at home
    if isinstance(made, Refusal):
        reply(respond, text_only(made.text))
        return
    link = RewardLink(
        recipient_id=parsed.recipient,
        admin_id=admin_id,
        url=made.links[0],
        campaign_id=made.campaign_id,
        campaign_name=made.campaign_name,
        amount=made.amount,
        currency=made.currency,
        expires_on=made.expires_on,
        note=parsed.note,
    )
    if not _dm_link(runtime, link):
        reply(
            respond,
            text_only(
                f"Xoxoday made the link, but Slack wouldn't let me DM {mention(link.recipient_id)}"
                f", so they don't have it. It's kept encrypted in the ledger (batch "
                f"{made.batch_id}) and shown nowhere else; you may need to void it in the "
                "Xoxoday dashboard.",
            ),
        )
        return
    reply(respond, link_blocks.link_sent_confirmation(link=link))


def _dm_link(runtime: Runtime, link: RewardLink) -> bool:
    payload = link_blocks.link_dm(link=link)
    try:
        channel = runtime.notifier.dm_channel(link.recipient_id)
        quiet_client(runtime.slack).chat_postMessage(channel=channel, **payload)
    except SlackApiError as err:
        log.warning("could not DM a reward link to %s: %s", link.recipient_id, _error(err))
        return False
    return True


def _error(err: SlackApiError) -> str:
    return str(err.response.get("error") or "error") if err.response else "error"


# ── a batch, as a CSV in the admin's DM ──────────────────────────────────────────────────


def send_links(
    runtime: Runtime, parsed: GenerateLinks, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    if not _start(runtime, command, ack, doing="make batches of reward links"):
        return
    admin_id = command["user_id"]
    made = runtime.links.make(
        admin_id=admin_id,
        team_id=command.get("team_id") or "",
        campaign_id=parsed.campaign_id,
        count=parsed.count,
        expiry=parsed.expiry,
        request_key=request_key(command),
    )
    runtime.notifier.on_change(runtime.settings.REWARD_ADMINS)  # "last link batches" at home
    if isinstance(made, Refusal):
        reply(respond, text_only(made.text))
        return
    card = LinkBatchCard(
        batch_id=str(made.batch_id),
        campaign_id=made.campaign_id,
        count=len(made.links),
        requested_by=admin_id,
        created_at=datetime.now(UTC),
        campaign_name=made.campaign_name,
        amount=made.amount,
        currency=made.currency,
        expires_on=made.expires_on,
        filename=csv_filename(made),
    )
    comment = link_blocks.link_batch_comment(batch=card)["text"]
    try:
        runtime.slack.files_upload_v2(
            channel=runtime.notifier.dm_channel(admin_id),
            filename=card.filename,
            title=card.filename,
            content=links_csv(made),
            initial_comment=comment,
        )
    except SlackApiError as err:
        log.warning("could not upload link batch %s: %s", made.batch_id, _error(err))
        reply(
            respond,
            text_only(
                f"Xoxoday made {len(made.links):,} links, but Slack wouldn't take the file for "
                f"our DM ({_error(err)}). They're kept encrypted in the ledger (batch "
                f"{made.batch_id}) and shown nowhere else; please don't ask for new ones before "
                "checking with whoever runs the bot.",
            ),
        )
        return
    reply(
        respond,
        reward_note(
            f"✅ {len(made.links):,} reward link{'s' if len(made.links) != 1 else ''} from "
            f"{made.campaign_name or 'campaign ' + made.campaign_id} are in a CSV file in our "
            "DM. The links aren't shown here; the audit trail records the batch without them."
        ),
    )


def csv_filename(made: MadeLinks) -> str:
    return f"reward-links-{made.campaign_id}-batch-{made.batch_id}.csv"


def links_csv(made: MadeLinks) -> str:
    """One row per link, with the campaign, value and expiry date (every cell guarded against
    spreadsheet formulas)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    expires_on = made.expires_on.strftime("%d-%m-%Y")
    for n, link in enumerate(made.links, start=1):
        row = (n, link, made.campaign_id, made.campaign_name, made.amount, made.currency)
        writer.writerow([csv_cell(value) for value in (*row, expires_on)])
    return out.getvalue()


# ── the campaigns to pick from ───────────────────────────────────────────────────────────


def list_campaigns(
    runtime: Runtime, parsed: ListCampaigns, command: dict[str, Any], ack: Ack, respond: Respond
) -> None:
    if not _start(runtime, command, ack, doing="see the reward link campaigns"):
        return
    found = runtime.links.campaigns(command["user_id"])
    if isinstance(found, Refusal):
        reply(respond, text_only(found.text))
        return
    reply(respond, link_blocks.campaigns_message(campaigns=found))
