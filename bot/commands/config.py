"""`rewardbot config`: check the configuration and show it, secrets masked.

Every variable on a line of its own, names in one column and values in the next. A variable
`serve` refuses to start without says so on its line, and a last line names them all; the exit
status is then 1 (0 when `serve` would start).
"""

from __future__ import annotations

import argparse

from pydantic import SecretStr

from bot.settings import Settings, load_settings, missing_for_serve

GAP = 2  # spaces between the names and the values


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "config",
        help="check the configuration and show it (secrets masked)",
        description="Show the effective configuration, secrets masked, and mark each variable "
        "`rewardbot serve` refuses to start without. Exit status 1 when there is one.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    for line in lines(settings):
        print(line)
    return 1 if missing_for_serve(settings) else 0


def lines(settings: Settings) -> list[str]:
    missing = {item.name: item for item in missing_for_serve(settings)}
    names = list(type(settings).model_fields)
    width = max(len(name) for name in names) + GAP
    out = []
    for name in names:
        shown = show(getattr(settings, name))
        item = missing.get(name)
        if item is not None:
            shown += ": serve needs it" + (f" {item.why}" if item.why else "")
            shown += f" (or {item.instead})" if item.instead else ""
        out.append(f"{name:<{width}}{shown}")
    if missing:
        listed = ", ".join(missing)
        out += ["", f"rewardbot serve won't start until these are set: {listed}."]
    return out


def show(value: object) -> str:
    """A value as a person reads it: secrets hidden, lists comma-separated, 24.0 as 24."""
    if isinstance(value, SecretStr):
        return "set (hidden)" if value.get_secret_value() else "not set"
    if value is None or value == []:
        return "not set"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
