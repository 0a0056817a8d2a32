"""Reward links: the DM that gives one person their link (the only message that ever holds a
link), the admin's confirmation, and the comment on the CSV of a batch (neither holds a link).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote as url_quote

from bot.rewards.cards import CampaignLine, LinkBatchCard, RewardLink
from bot.slack.blocks.common import (
    MODAL_TITLE_MAX,
    SECTION_TEXT_MAX,
    clip,
    format_date,
    mention,
    message,
    money,
    one_line,
    quote,
    safe_mrkdwn,
    text_only,
)
from bot.slack.blocks.kit import Block, context, header, input_block, option, plain, section
from bot.slack.ids import ActionId, BlockId, CallbackId

Payload = dict[str, Any]
NOTE_MAX = 1500


def _campaign(name: str | None, campaign_id: str) -> str:
    if name and name.strip():
        return f"*{safe_mrkdwn(one_line(name))}*"
    return f"campaign {safe_mrkdwn(campaign_id)}"


def _value(link_amount: Any, currency: str | None) -> str:
    return f" worth *{money(link_amount, currency)}*" if link_amount is not None else ""


def _safe_url(url: str) -> str:
    """The link as a mrkdwn target: `<`, `>`, `|` and spaces percent-encoded (they would end
    `<…|…>` early) and `&` written `&amp;`, as Slack expects in mrkdwn."""
    encoded = url_quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")
    return encoded.replace("&", "&amp;")


def link_dm(*, link: RewardLink) -> Payload:
    """The DM that gives `link.recipient_id` their reward link, with the admin's note. The link
    is in the blocks only (not in the notification text)."""
    lead = (
        f"🎁 {mention(link.admin_id)} sent you a reward{_value(link.amount, link.currency)} "
        f"from {_campaign(link.campaign_name, link.campaign_id)}!"
    )
    blocks = [section(lead)]
    if link.note and link.note.strip():
        blocks.append(section(clip(quote(safe_mrkdwn(link.note.strip())), NOTE_MAX)))
    until = f" It works until *{format_date(link.expires_on)}*." if link.expires_on else ""
    url = _safe_url(link.url)
    blocks += [
        section(f"👉 <{url}|Open your reward> and pick what you like.{until}"),
        context("This link is yours alone: please don't share it."),
    ]
    text = f"{mention(link.admin_id)} sent you a reward. Open this DM to claim it."
    return message(text, blocks)


def link_sent_confirmation(*, link: RewardLink) -> Payload:
    """The admin's confirmation: who got which campaign's link. Never the link itself."""
    until = f", valid until {format_date(link.expires_on)}" if link.expires_on else ""
    how = "in a DM with your message" if link.note and link.note.strip() else "in a DM"
    lead = (
        f"✅ I sent {mention(link.recipient_id)} a reward link{_value(link.amount, link.currency)}"
        f" from {_campaign(link.campaign_name, link.campaign_id)}{until}, {how}. The link is "
        "only in their DM, so it isn't shown here."
    )
    blocks = [section(lead)]
    text = f"I sent {mention(link.recipient_id)} a reward link by DM."
    return message(text, blocks)


def link_batch_comment(*, batch: LinkBatchCard) -> Payload:
    """The `initial_comment` of the CSV file in the admin's DM (a `{"text"}` payload: file
    comments take text only). Describes the batch; the links are only in the file."""
    until = f", valid until {format_date(batch.expires_on)}" if batch.expires_on else ""
    count = f"{batch.count:,} reward link{'s' if batch.count != 1 else ''}"
    text = (
        f"🎁 Here are {count}{_value(batch.amount, batch.currency)} from "
        f"{_campaign(batch.campaign_name, batch.campaign_id)}{until}, one per row of the "
        "attached CSV. Anyone holding a link can redeem it, so keep the file private and give "
        "each link to one person. The audit trail records this batch without the links."
    )
    return text_only(clip(text, SECTION_TEXT_MAX))


def campaigns_message(*, campaigns: Sequence[CampaignLine]) -> Payload:
    """`/reward campaigns`: each campaign's id, name, value and country, enabled ones first,
    with how to send a link of one."""
    if not campaigns:
        text = (
            "Your Xoxoday account has no reward link campaigns yet. Create one in the Xoxoday "
            "dashboard (Reward Links → Campaigns), then send links with `/reward link`."
        )
        return message(text, [section(text)])
    enabled = [c for c in campaigns if c.enabled]
    rows = [_campaign_row(c) for c in campaigns]
    example = enabled[0].campaign_id if enabled else campaigns[0].campaign_id
    blocks: list[Block] = [header("Reward link campaigns")]
    blocks += [section("\n".join(chunk)) for chunk in _chunks(rows, CAMPAIGN_ROWS_PER_BLOCK)]
    if enabled:
        picker = {
            "type": "static_select",
            "action_id": str(ActionId.LINK_CAMPAIGN_PICK),
            "placeholder": plain("Send a link of…", 150),
            "options": [
                option(_campaign_label(c), c.campaign_id) for c in enabled[:MAX_PICKED_CAMPAIGNS]
            ],
        }
        blocks.append({"type": "actions", "block_id": str(BlockId.LINK_PICK), "elements": [picker]})
    blocks.append(
        context(
            f"Pick one above to send a link with a form, or type `/reward link @person "
            f"{example}`; a batch: `/reward links {example} 25`."
        )
    )
    count = f"{len(enabled):,} enabled" + (
        f", {len(campaigns) - len(enabled):,} disabled" if len(enabled) < len(campaigns) else ""
    )
    return message(f"Reward link campaigns: {count}.", blocks)


CAMPAIGN_ROWS_PER_BLOCK = 20


def _campaign_row(c: CampaignLine) -> str:
    name = safe_mrkdwn(one_line(c.name or "")) or "(no name)"
    value = f" · {money(c.amount, c.currency)}" if c.amount is not None else ""
    where = f" · {safe_mrkdwn(one_line(c.country))}" if c.country else ""
    state = "" if c.enabled else " · _disabled_"
    return f"`{safe_mrkdwn(c.campaign_id)}` *{name}*{value}{where}{state}"


def _chunks(rows: Sequence[str], size: int) -> list[list[str]]:
    return [list(rows[i : i + size]) for i in range(0, len(rows), size)]


MAX_PICKED_CAMPAIGNS = 100  # Slack's limit on a select's options
LINK_MODAL_META = "campaign"


def _campaign_label(c: CampaignLine) -> str:
    value = f" · {money(c.amount, c.currency)}" if c.amount is not None else ""
    return f"{one_line(c.name or '') or c.campaign_id}{value}"


def link_modal(*, campaign: CampaignLine, note_max: int) -> dict[str, Any]:
    """The "Send a reward link" form: one person, an expiry date and a message (both optional)
    for a campaign picked from `/reward campaigns` (`CallbackId.LINK_MODAL`)."""
    about = f"*{safe_mrkdwn(one_line(campaign.name or ''))}* (`{campaign.campaign_id}`)"
    if campaign.amount is not None:
        about += f" · worth {money(campaign.amount, campaign.currency)}"
    person = {
        "type": "users_select",
        "action_id": str(ActionId.LINK_RECIPIENT_SELECT),
        "placeholder": plain("Pick a person", 150),
    }
    expiry = {
        "type": "datepicker",
        "action_id": str(ActionId.LINK_EXPIRY_DATE),
        "placeholder": plain("30 days from today", 150),
    }
    note = {
        "type": "plain_text_input",
        "action_id": str(ActionId.LINK_NOTE_INPUT),
        "multiline": True,
        "max_length": note_max,
        "placeholder": plain("Thanks for a great quarter!", 150),
    }
    return {
        "type": "modal",
        "callback_id": str(CallbackId.LINK_MODAL),
        "title": plain("Send a reward link", MODAL_TITLE_MAX),
        "submit": plain("Send", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": json.dumps({LINK_MODAL_META: campaign.campaign_id}),
        "blocks": [
            section(about),
            input_block(block_id=BlockId.LINK_RECIPIENT, label="Who is it for?", element=person),
            input_block(
                block_id=BlockId.LINK_EXPIRY,
                label="Works until",
                element=expiry,
                optional=True,
                hint="Leave it empty for 30 days from today.",
            ),
            input_block(
                block_id=BlockId.LINK_NOTE,
                label="Your message",
                element=note,
                optional=True,
                hint="They see it in the DM with their link.",
            ),
            context("The link goes only to their DM; you get a confirmation here by DM."),
        ],
    }


def link_modal_campaign(view: Mapping[str, Any]) -> str | None:
    """The campaign id a link form was opened for (None: not one of ours)."""
    try:
        meta = json.loads(str(view.get("private_metadata") or ""))
    except ValueError:
        return None
    found = meta.get(LINK_MODAL_META) if isinstance(meta, dict) else None
    return found if isinstance(found, str) and found else None
