"""`/reward link @person campaign [DD-MM-YYYY]` and `/reward links campaign count [DD-MM-YYYY]`
(admins only).

A single link goes only into the recipient's DM; a batch goes only into a CSV file in the admin's
DM. The replies, the logs and the audit trail never hold a link. slack_sdk dumps request and
response bodies at DEBUG level, so the DM that carries a link is posted through a client whose
logger stays at INFO.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.rewards.commands import LINK_NOTE_MAX_CHARS, GenerateLink, GenerateLinks, ListCampaigns
from bot.rewards.refusal import Refusal
from bot.rewards.typed_text import clean_typed_text
from bot.slack.blocks import links as link_blocks
from bot.slack.blocks.common import escape_mrkdwn, mention, text_only
from bot.slack.blocks.reward_messages import reward_note
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.journal import ack_at_once, after_ack, request_key
from bot.slack.listeners.action_replies import notice_modal, open_soon, tell, user_of
from bot.slack.listeners.in_time import answer_soon, soon

if TYPE_CHECKING:
    from bot.runtime import Runtime

OUT_OF_DATE = "This form is out of date. Pick the campaign again in `/reward campaigns`."

log = logging.getLogger(__name__)

# ── one link, DM'd to one person ─────────────────────────────────────────────────────────


def send_link(
    runtime: Runtime, parsed: GenerateLink, command: dict[str, Any], respond: Respond
) -> None:
    answer_soon(
        respond,
        lambda: give_link(
            runtime,
            parsed,
            admin_id=command["user_id"],
            team_id=command.get("team_id") or "",
            key=request_key(command),
        ),
        fetching="making the reward link",
    )


def give_link(
    runtime: Runtime, parsed: GenerateLink, *, admin_id: str, team_id: str, key: str | None
) -> dict[str, Any]:
    """One link, made and DM'd to its recipient (from the command or the link form); what the
    admin is told."""
    given = runtime.links.give_link(
        admin_id=admin_id,
        team_id=team_id,
        campaign_id=parsed.campaign_id,
        recipient_id=parsed.recipient,
        expiry=parsed.expiry,
        note=parsed.note,
        request_key=key,
    )
    if isinstance(given, Refusal):
        return text_only(given.text)
    if not given.delivered:
        return text_only(
            f"Xoxoday made the link, but Slack wouldn't let me DM {mention(parsed.recipient)}, "
            f"so they don't have it. It's kept encrypted in the ledger (batch {given.batch_id}) "
            "and shown nowhere else; you may need to void it in the Xoxoday dashboard."
        )
    return link_blocks.link_sent_confirmation(link=given.link)


# ── a batch, as a CSV in the admin's DM ──────────────────────────────────────────────────


def send_links(
    runtime: Runtime, parsed: GenerateLinks, command: dict[str, Any], respond: Respond
) -> None:
    answer_soon(
        respond,
        lambda: links_answer(runtime, parsed, command),
        fetching=f"making {parsed.count:,} reward links",
    )


def links_answer(
    runtime: Runtime, parsed: GenerateLinks, command: dict[str, Any]
) -> dict[str, Any]:
    """A batch made and sent as a CSV to the admin's DM; what the admin is told."""
    found = runtime.links.make_batch(
        admin_id=command["user_id"],
        team_id=command.get("team_id") or "",
        campaign_id=parsed.campaign_id,
        count=parsed.count,
        expiry=parsed.expiry,
        request_key=request_key(command),
    )
    if isinstance(found, Refusal):
        return text_only(found.text)
    made = found.made
    if not found.delivered:
        return text_only(
            f"Xoxoday made {len(made.links):,} links, but Slack wouldn't take the file for "
            f"our DM. They're kept encrypted in the ledger (batch {made.batch_id}) and shown "
            "nowhere else; please don't ask for new ones before checking with whoever runs "
            "the bot.",
        )
    return reward_note(
        f"✅ {len(made.links):,} reward link{'s' if len(made.links) != 1 else ''} from "
        f"{made.campaign_name or 'campaign ' + made.campaign_id} are in a CSV file in our "
        "DM. The links aren't shown here; the audit trail records the batch without them."
    )


# ── the campaigns to pick from ───────────────────────────────────────────────────────────


def list_campaigns(
    runtime: Runtime, parsed: ListCampaigns, command: dict[str, Any], respond: Respond
) -> None:
    def campaigns() -> dict[str, Any]:
        found = runtime.links.campaigns(command["user_id"])
        if isinstance(found, Refusal):
            return text_only(found.text)
        return link_blocks.campaigns_message(campaigns=found)

    answer_soon(respond, campaigns, fetching="fetching the reward link campaigns")


# ── the link form, opened from /reward campaigns ─────────────────────────────────────────


def register(app: App) -> None:
    app.action(ActionId.LINK_CAMPAIGN_PICK)(ack=ack_at_once, lazy=[open_link_form])
    app.view(CallbackId.LINK_MODAL)(ack=check_link_form, lazy=[send_form_link])


@after_ack
def open_link_form(body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    admin_id = user_of(body)
    picked = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")

    def form() -> dict[str, Any]:
        found = runtime.links.campaigns(admin_id)  # only admins; kept a minute
        if isinstance(found, Refusal):
            return notice_modal("Send a reward link", found.text)
        campaign = next((c for c in found if c.campaign_id == picked and c.enabled), None)
        if campaign is None:
            return notice_modal(
                "Send a reward link",
                "That campaign isn't enabled any more. Type `/reward campaigns`.",
            )
        return link_blocks.link_modal(campaign=campaign, note_max=LINK_NOTE_MAX_CHARS)

    if not body.get("trigger_id"):
        return
    opened = open_soon(
        runtime.slack,
        trigger_id=body["trigger_id"],
        build=form,
        waiting=notice_modal("Send a reward link", CAMPAIGN_SLOW),
        what="the link form",
    )
    if not opened:
        tell(runtime, body, respond, "I couldn't open the form in time. Pick the campaign again.")


CAMPAIGN_SLOW = (
    "⏳ Reading the campaign from Xoxoday, which is slow to answer right now. The form shows "
    "here as soon as it does."
)
LINK_SLOW = (
    "⏳ Making the reward link: Xoxoday is slow to answer right now. I'll tell you here how it "
    "went."
)


FORM_LINK = "link_form"  # context: the link the checked form asks for


def check_link_form(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, runtime: Runtime
) -> None:
    """Check the form in its ack (errors beside the fields); the link is made after the ack
    (`send_form_link`), and the admin told by DM how it went (a form has nowhere else to
    answer)."""
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
    context[FORM_LINK] = GenerateLink(
        recipient=str(recipient),
        campaign_id=int(campaign),
        expiry=expiry,
        note=escape_mrkdwn(note) or None,  # typed in a form: raw text, kept as mrkdwn
    )
    ack()  # closes the form; the answer follows by DM


@after_ack
def send_form_link(body: dict[str, Any], context: BoltContext, runtime: Runtime) -> None:
    parsed = context.get(FORM_LINK)
    if not isinstance(parsed, GenerateLink):
        return  # the form was refused in its ack
    admin_id = user_of(body)
    answer = soon(
        lambda: give_link(
            runtime,
            parsed,
            admin_id=admin_id,
            team_id=str((body.get("team") or {}).get("id") or ""),
            key=request_key(body),
        ),
        meanwhile=lambda: runtime.notifier.answer(admin_id, text_only(LINK_SLOW)),
    )
    runtime.notifier.answer(admin_id, answer)
