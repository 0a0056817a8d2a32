"""Reward links: campaignList, generateLink and generateLinkEmail (sendLinks)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.simulators.plum_sandbox.catalogue import CAMPAIGNS, CAMPAIGNS_BY_ID, Campaign
from bot.simulators.plum_sandbox.errors import AppError
from bot.simulators.plum_sandbox.operations.base import Body, OpContext
from bot.simulators.plum_sandbox.operations.params import (
    ParamError,
    bool_param,
    data_of,
    date_param,
    email_param,
    int_param,
    list_param,
    str_param,
    variables_of,
)
from bot.simulators.plum_sandbox.state import InsufficientBalance

MAX_LINKS = 1000


def _link_error(op: str, message: str, *, title: str, status: int = 400) -> AppError:
    return AppError(
        None,
        message,
        error=title,
        status=status,
        extra={"data": {op: {"success": 0, "message": message}}},
    )


def _campaign_item(c: Campaign) -> dict[str, Any]:
    return {
        "campaignId": c.campaign_id,
        "campaignName": c.name,
        "denomination_value": c.denomination,
        "currencyCode": c.currency,
        "countryName": c.country_name,
        "enabled": c.enabled,
    }


def campaign_list(ctx: OpContext, body: Body) -> Body:
    try:
        add = variables_of(body).get("add_data") or {}
        if not isinstance(add, dict):
            raise ParamError("variables.add_data must be an object")
        limit = int_param(add.get("limit"), "limit", default=10, minimum=1, maximum=500)
        offset = int_param(add.get("offset"), "offset", default=0, minimum=0)
        name = str_param(add.get("name"), "name").lower()
        enabled = bool_param(add.get("enabled"), "enabled")
    except ParamError as err:
        raise _link_error("campaignList", str(err), title="Invalid campaignList request") from None
    found = [
        c
        for c in CAMPAIGNS
        if (not name or name in c.name.lower()) and (enabled is None or c.enabled == enabled)
    ]
    return {
        "data": {
            "campaignList": {
                "success": 1,
                "message": f"{len(found)} campaign(s)",
                "total": len(found),
                "data": [_campaign_item(c) for c in found[offset : offset + limit]],
            }
        }
    }


def _campaign(op: str, raw: Any) -> Campaign:
    try:
        campaign_id = int_param(raw, "campaignId")
    except ParamError as err:
        raise _link_error(op, str(err), title="Invalid campaignId") from None
    campaign = CAMPAIGNS_BY_ID.get(campaign_id)
    if campaign is None:
        raise _link_error(
            op,
            f"No campaign {campaign_id}; see campaignList.",
            title="Campaign not found",
            status=404,
        )
    if not campaign.enabled:
        raise _link_error(op, f"Campaign {campaign_id} is disabled.", title="Campaign disabled")
    return campaign


def _expiry(op: str, raw: Any, today: date) -> date:
    try:
        expiry = date_param(raw, "link_expiry", fmt="%d-%m-%Y")
    except ParamError as err:
        raise _link_error(op, str(err), title="Invalid link_expiry") from None
    if expiry is None:
        raise _link_error(op, "link_expiry (DD-MM-YYYY) is required", title="Invalid link_expiry")
    if expiry < today:
        raise _link_error(
            op, f"link_expiry {raw} is in the past; use a future date.", title="Invalid link_expiry"
        )
    return expiry


def _campaign_fields(c: Campaign) -> dict[str, Any]:
    return {
        "campaignName": c.name,
        "campaignId": str(c.campaign_id),
        "denomination_value": c.denomination,
        "countryName": c.country_name,
        "currencyCode": c.currency,
    }


def generate_link(ctx: OpContext, body: Body) -> Body:
    op = "generateLink"
    try:
        data = data_of(body)
    except ParamError as err:
        raise _link_error(op, str(err), title="Invalid generateLink request") from None
    campaign = _campaign(op, data.get("campaignId"))
    try:
        quantity = int_param(
            data.get("links_quantity"), "links_quantity", minimum=1, maximum=MAX_LINKS
        )
    except ParamError as err:
        raise _link_error(op, str(err), title="Invalid links_quantity") from None
    expiry = _expiry(op, data.get("link_expiry"), ctx.state.now().date())
    try:
        batch, links = ctx.state.create_link_batch(
            campaign=campaign, quantity=quantity, link_expiry=expiry
        )
    except InsufficientBalance as err:
        raise _link_error(op, str(err), title="Insufficient balance") from None
    return {
        "data": {
            op: {
                "success": 1,
                "message": "Links generated successfully",
                "links": links,
                "batchId": batch.batch_id,
                **_campaign_fields(campaign),
            }
        }
    }


def generate_link_email(ctx: OpContext, body: Body) -> Body:
    """Links emailed by Xoxoday: one per address; the links are not in the answer."""
    op = "generateLinkEmail"
    try:
        data = data_of(body)
        emails = list_param(data.get("email_ids"), "email_ids")
        if not emails:
            raise ParamError("email_ids (comma-separated addresses) is required")
        if len(emails) > MAX_LINKS:
            raise ParamError(f"at most {MAX_LINKS} email_ids per call")
        for i, email in enumerate(emails):
            email_param(email, f"email_ids[{i}]")
    except ParamError as err:
        raise _link_error(op, str(err), title="Invalid sendLinks request") from None
    campaign = _campaign(op, data.get("campaignId"))
    expiry = _expiry(op, data.get("link_expiry"), ctx.state.now().date())
    try:
        batch, _links = ctx.state.create_link_batch(
            campaign=campaign, quantity=len(emails), link_expiry=expiry, emailed_to=len(emails)
        )
    except InsufficientBalance as err:
        raise _link_error(op, str(err), title="Insufficient balance") from None
    return {
        "data": {
            op: {
                "success": 1,
                "message": f"Links sent to {len(emails)} email address(es)",
                "batchId": batch.batch_id,
                "emails_sent": len(emails),
                **_campaign_fields(campaign),
            }
        }
    }
