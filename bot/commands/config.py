"""`rewardbot config`: check the configuration and show it, secrets masked."""

from __future__ import annotations

import argparse

from pydantic import SecretStr

from bot.settings import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="check the configuration and show it (secrets masked)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    names = list(type(settings).model_fields)
    width = max(len(name) for name in names) + 2  # every value in one column
    for name in names:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "set (hidden)" if value.get_secret_value() else "empty"
        elif value is None or value == []:
            shown = "not set"
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = str(value)
        print(f"{name:<{width}}{shown}")
    return 0
