"""`/reward link @person campaign [DD-MM-YYYY]` and `/reward links campaign count [DD-MM-YYYY]`
(admins only).

A single link goes only into the recipient's DM; a batch goes only into a CSV file in the admin's
DM. The replies, the logs and the audit trail never hold a link. slack_sdk dumps request and
response bodies at DEBUG level, so the DM that carries a link is posted through a client whose
logger stays at INFO.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rewards.admin import only_admins
from bot.rewards.cards import LinkBatchCard, RewardLink
from bot.rewards.commands import LINK_NOTE_MAX_CHARS, GenerateLink, GenerateLinks, ListCampaigns
from bot.rewards.link_service import MadeLinks, links_csv
from bot.rewards.refusal import Refusal
from bot.rewards.typed_text import clean_typed_text
from bot.slack.blocks import links as link_blocks
from bot.slack.blocks.common import escape_mrkdwn, mention, text_only
from bot.slack.blocks.reward_messages import reward_note
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.intake import request_key
from bot.slack.listeners.action_replies import notice_modal, tell, user_of
from bot.slack.listeners.command_replies import later, reply

if TYPE_CHECKING:
    from bot.runtime import Runtime

OUT_OF_DATE = "This form is out of date. Pick the campaign again in `/reward campaigns`."

log = logging.getLogger(__name__)

QUIET_LOGGER = "bot.slack.secret_messages"


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
    answer = give_link(
        runtime,
        parsed,
        admin_id=command["user_id"],
        team_id=command.get("team_id") or "",
        key=request_key(command),
    )
    reply(respond, answer)


def give_link(
    runtime: Runtime, parsed: GenerateLink, *, admin_id: str, team_id: str, key: str | None
) -> dict[str, Any]:
    """Make one link and DM it to its recipient (from the command or the link form); what the
    admin is told."""
    made = runtime.links.make(
        admin_id=admin_id,
        team_id=team_id,
        campaign_id=parsed.campaign_id,
        count=1,
        expiry=parsed.expiry,
        recipient_id=parsed.recipient,
        request_key=key,
    )
    runtime.notifier.on_change(runtime.settings.REWARD_ADMINS)  # "last link batches" at home
    if isinstance(made, Refusal):
        return text_only(made.text)
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
        return text_only(
            f"Xoxoday made the link, but Slack wouldn't let me DM {mention(link.recipient_id)}, "
            f"so they don't have it. It's kept encrypted in the ledger (batch {made.batch_id}) "
            "and shown nowhere else; you may need to void it in the Xoxoday dashboard."
        )
    return link_blocks.link_sent_confirmation(link=link)


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


# ── the link form, opened from /reward campaigns ─────────────────────────────────────────


def register(app: App, runtime: Runtime) -> None:
    def on_pick(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        open_link_form(runtime, body, respond)

    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submit_link_form(runtime, ack=ack, body=body, view=view)

    runtime.intake.action(app, ActionId.LINK_CAMPAIGN_PICK, on_pick)
    runtime.intake.view(app, CallbackId.LINK_MODAL, on_submit)


def open_link_form(runtime: Runtime, body: dict[str, Any], respond: Respond) -> None:
    admin_id = user_of(body)
    picked = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    found = runtime.links.campaigns(admin_id)  # only admins; kept a minute
    if isinstance(found, Refusal):
        tell(runtime, body, respond, found.text)
        return
    campaign = next((c for c in found if c.campaign_id == picked and c.enabled), None)
    if campaign is None:
        tell(
            runtime,
            body,
            respond,
            "That campaign isn't enabled any more. Type `/reward campaigns`.",
        )
        return
    view = link_blocks.link_modal(campaign=campaign, note_max=LINK_NOTE_MAX_CHARS)
    try:
        runtime.slack.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as err:
        log.info("could not open the link form: %s", _error(err))
        tell(runtime, body, respond, "I couldn't open the form in time. Pick the campaign again.")


def submit_link_form(
    runtime: Runtime, *, ack: Ack, body: dict[str, Any], view: dict[str, Any]
) -> None:
    """Check the form in its ack (errors beside the fields); then make the link and DM it, and
    tell the admin by DM how it went (a form has nowhere else to answer)."""
    admin_id = user_of(body)
    campaign = link_blocks.link_modal_campaign(view)
    values = (view.get("state") or {}).get("values") or {}

    def field(block: BlockId, action: ActionId) -> dict[str, Any]:
        found = (values.get(str(block)) or {}).get(str(action))
        return found if isinstance(found, dict) else {}

    recipient = field(BlockId.LINK_RECIPIENT, ActionId.LINK_RECIPIENT_SELECT).get("selected_user")
    day = field(BlockId.LINK_EXPIRY, ActionId.LINK_EXPIRY_DATE).get("selected_date")
    raw = str(field(BlockId.LINK_NOTE, ActionId.LINK_NOTE_INPUT).get("value") or "")
    errors: dict[str, str] = {}
    if not isinstance(recipient, str) or not recipient:
        errors[str(BlockId.LINK_RECIPIENT)] = "Pick the person the link is for."
    expiry: date | None = None
    if day:
        try:
            expiry = date.fromisoformat(str(day))
        except ValueError:
            errors[str(BlockId.LINK_EXPIRY)] = "Pick a date from the calendar."
        else:
            if expiry <= runtime.links.today(runtime.people.profile(admin_id).person.tz):
                errors[str(BlockId.LINK_EXPIRY)] = "Pick a date after today."
    note = clean_typed_text(raw).strip()
    if len(note) > LINK_NOTE_MAX_CHARS:
        errors[str(BlockId.LINK_NOTE)] = f"Please keep it to {LINK_NOTE_MAX_CHARS} characters."
    if campaign is None or not campaign.isdigit():
        ack(response_action="update", view=notice_modal("Send a reward link", OUT_OF_DATE))
        return
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()  # closes the form; the answer follows by DM
    parsed = GenerateLink(
        recipient=str(recipient),
        campaign_id=int(campaign),
        expiry=expiry,
        note=escape_mrkdwn(note) or None,  # typed in a form: raw text, kept as mrkdwn
    )
    answer = give_link(
        runtime,
        parsed,
        admin_id=admin_id,
        team_id=str((body.get("team") or {}).get("id") or ""),
        key=request_key(body),
    )
    runtime.notifier.dm(admin_id, answer)
