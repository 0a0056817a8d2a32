"""manifest.yml: valid for Slack, and the same identifiers and scopes as bot/slack/ids.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.rewards.policy import Field
from bot.slack.ids import (
    BOT_SCOPES,
    SHORTCUT_TYPES,
    ActionId,
    BlockId,
    CallbackId,
    Command,
    Event,
    Shortcut,
)

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

# The scopes the code needs, and nothing more (the reasons are in manifest.yml and BOT_SCOPES).
EXPECTED_SCOPES = {
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "users:read.email",
    "users.profile:read",
    "files:write",
    "usergroups:read",
    "files:read",
    "reactions:read",
    "channels:history",
    "groups:history",
    "im:history",
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_is_valid_against_slacks_schema(
    manifest: dict[str, Any], shared_dir: Path
) -> None:
    schema = json.loads((shared_dir / "slack" / "manifest.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_check_catches_a_broken_manifest(manifest: dict[str, Any], shared_dir: Path) -> None:
    schema = json.loads((shared_dir / "slack" / "manifest.schema.json").read_text("utf-8"))
    broken = json.loads(json.dumps(manifest))
    broken["features"]["shortcuts"][0]["name"] = "A shortcut name far too long for Slack"
    broken["features"]["bot_user"]["colour"] = "purple"
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(broken))) == 2


def test_slash_command_escapes_mentions(manifest: dict[str, Any]) -> None:
    for command in manifest["features"]["slash_commands"]:
        assert command["should_escape"] is True, command["command"]


def test_commands_match_the_code(manifest: dict[str, Any]) -> None:
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert declared == {str(c) for c in Command}


def test_shortcuts_match_the_code(manifest: dict[str, Any]) -> None:
    declared = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert declared == {str(s): t for s, t in SHORTCUT_TYPES.items()}
    assert set(SHORTCUT_TYPES) == set(Shortcut)


def test_events_match_the_code(manifest: dict[str, Any]) -> None:
    declared = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert declared == {str(e) for e in Event}


def test_request_urls_point_at_the_bots_endpoint(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in manifest["features"]["slash_commands"]),
    ]
    assert len(urls) == 3
    for url in urls:
        assert url.startswith("https://") and url.endswith("/slack/events"), url
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_app_home_and_bot_user(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    assert features["bot_user"] == {"display_name": "rewardbot", "always_online": True}
    assert manifest["display_information"]["name"] == "Rewards"


def test_scopes_are_exactly_the_documented_set(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}, "no user scopes"
    assert len(scopes["bot"]) == len(set(scopes["bot"])), "a scope is listed twice"
    assert set(scopes["bot"]) == EXPECTED_SCOPES
    assert set(BOT_SCOPES) == EXPECTED_SCOPES
    assert all(reason.strip() for reason in BOT_SCOPES.values())


def test_scopes_each_have_a_reason_in_the_manifest() -> None:
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    for scope in EXPECTED_SCOPES:
        index = next(i for i, line in enumerate(lines) if line.strip() == f"- {scope}")
        assert lines[index - 1].strip().startswith("#"), f"{scope} has no comment above it"


@pytest.mark.parametrize(
    "enum", [Command, Shortcut, Event, CallbackId, BlockId, ActionId], ids=lambda e: e.__name__
)
def test_identifiers_are_unique_within_their_kind(enum: type) -> None:
    values = [str(member) for member in enum]  # type: ignore[attr-defined]
    assert len(values) == len(set(values))


def test_modal_blocks_match_the_policy_fields() -> None:
    # A decision's errors_by_field() becomes the modal's `response_action: errors` as is.
    assert {str(f) for f in Field} <= {str(b) for b in BlockId}
