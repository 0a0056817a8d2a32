"""Slack, as the bot will use it: the bot token (`auth.test`: the workspace and the bot user,
and the scopes Slack says it was granted against manifest.yml's, `bot.slack.ids.BOT_SCOPES`),
the app-level token in Socket Mode (`apps.connections.open`), and the admins (`users.info`:
people of this workspace, not deactivated, not bots). Tokens are never printed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.checks.lines import Line, fail, ok, skip, warn
from bot.checks.network import network_cause
from bot.checks.offline import secret_value
from bot.settings import SLACK_DEFAULT_API_URL, Settings
from bot.slack.ids import BOT_SCOPES

TIMEOUT = 10.0
COPY_BOT_TOKEN = "Copy OAuth & Permissions → Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN."
COPY_APP_TOKEN = (
    "Make one under Basic Information → App-Level Tokens with the connections:write scope and "
    "copy it (xapp-…) into SLACK_APP_TOKEN."
)
REINSTALLED = (
    "Give the app manifest.yml's scopes (OAuth & Permissions → Scopes, or paste manifest.yml "
    "again), reinstall it to the workspace, then copy the new Bot User OAuth Token into "
    "SLACK_BOT_TOKEN."
)
MEMBER_ID = "their Slack profile → ⋮ → Copy member ID"


@dataclass(frozen=True, slots=True)
class Team:
    """Who the bot token speaks for (`auth.test`)."""

    id: str
    name: str
    bot_user_id: str


def slack(settings: Settings, *, timeout: float = TIMEOUT) -> list[Line]:
    """Every Slack line, the admins' last."""
    token = secret_value(settings.SLACK_BOT_TOKEN)
    if not token:
        lines = [fail("Slack", f"SLACK_BOT_TOKEN is not set. {COPY_BOT_TOKEN}")]
        return [*lines, skip("Admins", "not checked: Slack has no bot token to ask")]
    client = WebClient(token=token, base_url=settings.SLACK_API_URL, timeout=int(timeout))
    lines, team = bot_token(client, api_url=settings.SLACK_API_URL)
    if settings.socket_mode:
        lines.append(app_token(settings, timeout=timeout))
    if team is None:
        lines.append(skip("Admins", "not checked: Slack refused the bot token"))
    else:
        lines.append(admins(client, settings.REWARD_ADMINS, team=team))
    return lines


def bot_token(client: WebClient, *, api_url: str) -> tuple[list[Line], Team | None]:
    """`auth.test`: the workspace and the bot user, then the scopes."""
    try:
        answer = client.auth_test()
    except SlackApiError as err:
        return [fail("Slack", _refused("the bot token", err, COPY_BOT_TOKEN))], None
    except OSError as err:  # URLError too: no answer
        return [fail("Slack", _unreachable(api_url, err))], None
    data: Mapping[str, Any] = answer.data if isinstance(answer.data, dict) else {}
    if not data.get("bot_id"):
        who = data.get("user") or "a person"
        return [
            fail(
                "Slack",
                f"SLACK_BOT_TOKEN is not the bot's token: it speaks for {who}. {COPY_BOT_TOKEN}",
            )
        ], None
    team = Team(
        id=str(data.get("team_id") or ""),
        name=str(data.get("team") or ""),
        bot_user_id=str(data.get("user_id") or ""),
    )
    said = ok(
        "Slack",
        f"workspace {team.name} ({team.id}), bot @{data.get('user') or '?'} ({team.bot_user_id})",
    )
    return [said, scopes(_header(answer.headers, "x-oauth-scopes"))], team


def scopes(granted_header: str | None) -> Line:
    """The scopes Slack says the bot token has, against manifest.yml's."""
    if granted_header is None:
        return warn("Slack", "Slack did not say which scopes the bot token has: not checked.")
    granted = {part.strip() for part in granted_header.split(",") if part.strip()}
    wanted = list(BOT_SCOPES)
    missing = [scope for scope in wanted if scope not in granted]
    if missing:
        return fail(
            "Slack",
            f"the bot token lacks {_listed(missing)}, which manifest.yml asks for. {REINSTALLED}",
        )
    extra = sorted(granted - set(wanted))
    if extra:
        return warn(
            "Slack",
            f"the bot token also has {_listed(extra)}, which the bot never uses: take "
            f"{'it' if len(extra) == 1 else 'them'} out of the app's scopes and reinstall it "
            "(manifest.yml lists what the bot needs).",
        )
    return ok("Slack", f"the bot token has the {len(wanted)} scopes manifest.yml asks for")


def app_token(settings: Settings, *, timeout: float = TIMEOUT) -> Line:
    """Socket Mode: does SLACK_APP_TOKEN open a connection? (`apps.connections.open` hands out a
    connection URL; nothing connects to it here.)"""
    token = secret_value(settings.SLACK_APP_TOKEN) or ""
    client = WebClient(base_url=settings.SLACK_API_URL, timeout=int(timeout))
    try:
        client.apps_connections_open(app_token=token)
    except SlackApiError as err:
        return fail("Slack", _refused("SLACK_APP_TOKEN", err, COPY_APP_TOKEN))
    except OSError as err:  # URLError too: no answer
        return fail("Slack", _unreachable(settings.SLACK_API_URL, err))
    return ok("Slack", "SLACK_APP_TOKEN opens Socket Mode connections")


def admins(client: WebClient, admin_ids: list[str], *, team: Team) -> Line:
    """REWARD_ADMINS: each a person of this workspace, not deactivated, not a bot."""
    if not admin_ids:  # what serve can't start without: the Settings line says so
        return skip("Admins", "not checked: REWARD_ADMINS is not set")
    people: list[str] = []
    wrong: list[str] = []
    for user_id in admin_ids:
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except SlackApiError as err:
            error = _error(err)
            if error in ("user_not_found", "user_not_visible"):
                wrong.append(f"{user_id} is no one in workspace {team.name}")
                continue
            return fail("Admins", f"Slack refused users.info ({error}): not checked.")
        except OSError as err:  # URLError too: no answer
            return fail(
                "Admins", f"Slack did not answer users.info ({network_cause(err)}): not checked."
            )
        name = str(user.get("real_name") or user.get("name") or user_id)
        if user.get("deleted"):
            wrong.append(f"{user_id} ({name}) is deactivated")
        elif user.get("is_bot") or user.get("id") == team.bot_user_id:
            wrong.append(f"{user_id} ({name}) is a bot")
        elif user.get("team_id") and user.get("team_id") != team.id:
            wrong.append(f"{user_id} ({name}) is in another workspace")
        else:
            people.append(f"{name} ({user_id})")
    if wrong:
        return fail(
            "Admins",
            f"REWARD_ADMINS: {'; '.join(wrong)}. Set it to people's member ids ({MEMBER_ID}).",
        )
    return ok("Admins", ", ".join(people))


# --- what went wrong, for people ----------------------------------------------------------------


def _refused(what: str, err: SlackApiError, todo: str) -> str:
    error = _error(err)
    if error in ("invalid_auth", "not_authed"):
        return f"{what} was refused ({error}). {todo}"
    if error in ("account_inactive", "token_revoked", "token_expired"):
        return (
            f"{what} no longer works ({error}): the app was uninstalled or the token revoked. "
            f"Install the app again, then: {todo}"
        )
    if error == "not_allowed_token_type":
        return f"{what} is not the right kind of token ({error}). {todo}"
    if error == "missing_scope":
        return f"{what} lacks a scope it needs ({error}). {todo}"
    if error == "ratelimited":
        return "Slack is limiting how often it is asked (ratelimited). Try again in a minute."
    return f"Slack refused {what} ({error}). {todo}"


def _unreachable(api_url: str, err: BaseException) -> str:
    host = urlsplit(api_url).netloc or api_url
    where = "" if api_url == SLACK_DEFAULT_API_URL else " and SLACK_API_URL"
    return f"can't reach Slack at {host} ({network_cause(err)}). Check the network{where}."


def _error(err: SlackApiError) -> str:
    response = err.response
    error = response.get("error") if response is not None else None
    return str(error or "no answer")


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
