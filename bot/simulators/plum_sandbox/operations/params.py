"""Reading request parameters the way Plum does: loosely typed (numbers may be strings)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")


class ParamError(ValueError):
    """A parameter is missing or malformed; the message names it."""


def variables_of(body: dict[str, Any]) -> dict[str, Any]:
    variables = body.get("variables")
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise ParamError("variables must be a JSON object")
    return variables


def data_of(body: dict[str, Any]) -> dict[str, Any]:
    """`variables.data` (the usual home of an operation's parameters), or {}."""
    data = variables_of(body).get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamError("variables.data must be a JSON object")
    return data


def int_param(
    raw: Any,
    name: str,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    if raw is None or raw == "":
        if default is None:
            raise ParamError(f"{name} is required")
        return default
    if isinstance(raw, bool):
        raise ParamError(f"{name} must be a whole number")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ParamError(f"{name} must be a whole number, got {raw!r}") from None
    if value != value.to_integral_value():
        raise ParamError(f"{name} must be a whole number, got {raw!r}")
    number = int(value)
    if minimum is not None and number < minimum:
        raise ParamError(f"{name} must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise ParamError(f"{name} must be at most {maximum}")
    return number


def decimal_param(raw: Any, name: str) -> Decimal:
    if raw is None or raw == "" or isinstance(raw, bool):
        raise ParamError(f"{name} is required")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ParamError(f"{name} must be a number, got {raw!r}") from None
    if not value.is_finite():
        raise ParamError(f"{name} must be a number, got {raw!r}")
    return value


def str_param(raw: Any, name: str, *, required: bool = False) -> str:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise ParamError(f"{name} is required")
        return ""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ParamError(f"{name} must be a string")
    return str(raw).strip()


def email_param(raw: Any, name: str, *, required: bool = True) -> str:
    text = str_param(raw, name, required=required)
    if text and not _EMAIL.match(text):
        raise ParamError(f"{name} is not an email address")
    return text


def date_param(raw: Any, name: str, *, fmt: str = "%Y-%m-%d") -> date | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ParamError(f"{name} must be a date string")
    try:
        return datetime.strptime(raw.strip(), fmt).date()
    except ValueError:
        shown = fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
        raise ParamError(f"{name} must be a date like {shown}, got {raw!r}") from None


def bool_param(raw: Any, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no"):
        return False
    raise ParamError(f"{name} must be true or false")


def list_param(raw: Any, name: str) -> list[str]:
    """A list given as a JSON array or a comma-separated string."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list) and all(isinstance(v, str | int) for v in raw):
        return [str(v).strip() for v in raw]
    raise ParamError(f"{name} must be a list or a comma-separated string")


def page_slice(items: list[Any], *, limit: int, page: int) -> list[Any]:
    start = (page - 1) * limit
    return items[start : start + limit]
