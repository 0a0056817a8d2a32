"""sendBalance, user_balance and cancelBalance (tag `storeAdmin`)."""

from __future__ import annotations

from typing import Any

from bot.simulators.plum_sandbox.errors import AppError
from bot.simulators.plum_sandbox.operations.base import Body, OpContext
from bot.simulators.plum_sandbox.operations.params import (
    ParamError,
    email_param,
    int_param,
    str_param,
    variables_of,
)
from bot.simulators.plum_sandbox.shapes import send_balance_body
from bot.simulators.plum_sandbox.state import InsufficientBalance, Recipient


def _points_error(op: str, message: str, *, title: str, status: int = 400) -> AppError:
    """No PLE code is documented for points: the app shape plus the result's own error flag."""
    flag: dict[str, Any] = (
        {"success": 0, "message": message}
        if op == "user_balance"
        else {"error": True, "message": message}
    )
    return AppError(None, message, error=title, status=status, extra={"data": {op: flag}})


def _recipients(fields: dict[str, Any]) -> list[Recipient]:
    raw = fields.get("recipients")
    if not isinstance(raw, list) or not raw:
        raise ParamError("recipients must be a non-empty list")
    out = []
    for i, item in enumerate(raw):
        where = f"recipients[{i}]"
        if not isinstance(item, dict):
            raise ParamError(f"{where} must be an object")
        out.append(
            Recipient(
                name=str_param(item.get("to_name"), f"{where}.to_name"),
                email=email_param(item.get("to_email"), f"{where}.to_email"),
                points=int_param(item.get("amount"), f"{where}.amount", minimum=1),
                citation=str_param(item.get("citation"), f"{where}.citation"),
            )
        )
    return out


def send_balance(ctx: OpContext, body: Body) -> Body:
    """Fields directly under `variables` (seed curl) or under `variables.recipients_data`."""
    variant = ctx.variant("sendBalance")
    try:
        variables = variables_of(body)
        nested = variables.get("recipients_data")
        fields = nested if isinstance(nested, dict) else variables
        sender = email_param(fields.get("sender_email"), "sender_email")
        months = int_param(fields.get("expiry_month"), "expiry_month", default=12, minimum=1)
        if months > 120:
            raise ParamError("expiry_month must be at most 120")
        recipients = _recipients(fields)
    except ParamError as err:
        raise _points_error("sendBalance", str(err), title="Invalid sendBalance request") from None
    if variant == "flat" and len(recipients) > 1:
        raise _points_error(
            "sendBalance",
            "This account answers sendBalance in the flat shape, which carries one recipient: "
            "send one recipient per call.",
            title="One recipient per call",
        )
    try:
        txs = ctx.state.send_points(
            sender_email=sender, expiry_months=months, recipients=recipients
        )
    except InsufficientBalance as err:
        raise _points_error("sendBalance", str(err), title="Insufficient balance") from None
    return send_balance_body(txs, variant=variant)


def user_balance(ctx: OpContext, body: Body) -> Body:
    try:
        user = variables_of(body).get("user_data")
        if not isinstance(user, dict):
            raise ParamError("variables.user_data {email | phone} is required")
        email = email_param(user.get("email"), "user_data.email", required=False)
        phone = str_param(user.get("phone"), "user_data.phone")
        if not email and not phone:
            raise ParamError("user_data needs email or phone")
    except ParamError as err:
        raise _points_error(
            "user_balance", str(err), title="Invalid user_balance request"
        ) from None
    if not email or not ctx.state.has_recipient(email):
        who = email or "this phone number"
        return {"data": {"user_balance": {"success": 0, "message": f"No user found for {who}"}}}
    return {
        "data": {
            "user_balance": {
                "success": 1,
                "message": "User balance fetched successfully",
                "data": {"total": ctx.state.points_of(email)},
            }
        }
    }


def cancel_balance(ctx: OpContext, body: Body) -> Body:
    """Whole transactions only, within 90 days, unredeemed; one result per unique_id."""
    try:
        variables = variables_of(body)
        nested = variables.get("recipients_data")
        fields = nested if isinstance(nested, dict) else variables
        raw = fields.get("recipients")
        if not isinstance(raw, list) or not raw:
            raise ParamError("recipients_data.recipients must be a non-empty list")
    except ParamError as err:
        raise _points_error(
            "cancelBalance", str(err), title="Invalid cancelBalance request"
        ) from None
    results: list[dict[str, Any]] = []
    for item in raw:
        given = item.get("unique_id") if isinstance(item, dict) else None
        try:
            unique_id = int_param(given, "unique_id")
        except ParamError as err:
            results.append({"unique_id": given, "success": False, "message": str(err)})
            continue
        outcome = ctx.state.cancel_points(unique_id)
        results.append(
            {"unique_id": unique_id, "success": outcome.success, "message": outcome.message}
        )
    done = sum(1 for r in results if r["success"])
    return {
        "data": {
            "cancelBalance": {
                "error": done == 0,
                "message": (
                    "Cancellation processed successfully"
                    if done == len(results)
                    else f"{done} of {len(results)} transaction(s) cancelled"
                ),
                "recipients": results,
            }
        }
    }
