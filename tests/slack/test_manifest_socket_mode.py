"""HTTP mode or Socket Mode: manifest.yml's own comment and the README's "Go live" say the same
request URLs are to be dropped for Socket Mode, they are every URL the manifest points at the
bot, and the manifest without them is still one Slack accepts."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "manifest.yml"
README = REPO / "README.md"
NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five"}


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def bot_urls(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Where the manifest points Slack at the bot (the values naming YOUR-HOST)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from bot_urls(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from bot_urls(value, (*path, index))
    elif isinstance(node, str) and "YOUR-HOST" in node:
        yield path


def named(path: tuple[str | int, ...]) -> str:
    """As the manifest's comment and the README name it."""
    if path[:2] == ("features", "slash_commands"):
        return f"the slash command's {path[-1]}"
    return ".".join(str(part) for part in path if part != "settings")


def flat(text: str) -> str:
    return re.sub(r"[`\s]+", " ", text)


def test_the_manifest_and_the_readme_name_the_same_urls_to_drop_for_socket_mode() -> None:
    paths = list(bot_urls(manifest()))
    names = [named(path) for path in paths]
    assert names == [
        "the slash command's url",
        "event_subscriptions.request_url",
        "interactivity.request_url",
        "interactivity.message_menu_options_url",
    ]
    comment = flat(
        " ".join(
            line.lstrip("# ")
            for line in MANIFEST.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        )
    )
    readme = flat(README.read_text(encoding="utf-8"))
    socket_mode = readme[readme.index("- Socket Mode (no public address)") :][:600]
    count = NUMBERS[len(paths)]
    assert f"drop the {count} URLs" in comment
    assert f"drop those {count} URLs" in socket_mode
    http_mode = readme[readme.index("- HTTP mode (a public address") :][:600]
    assert f"The {count} request URLs" in http_mode
    for name in names:
        assert name in comment, name
        assert name in http_mode, name


def test_without_them_the_manifest_is_still_valid_for_slack(shared_dir: Path) -> None:
    socket = copy.deepcopy(manifest())
    for path in bot_urls(manifest()):
        parent: Any = socket
        for part in path[:-1]:
            parent = parent[part]
        del parent[path[-1]]
    socket["settings"]["socket_mode_enabled"] = True
    assert not list(bot_urls(socket))
    schema = json.loads((shared_dir / "slack" / "manifest.schema.json").read_text("utf-8"))
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(socket))
    assert not errors, [e.message for e in errors]
