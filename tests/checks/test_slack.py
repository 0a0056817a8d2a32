"""The Slack checks against the fake Slack (the real slack_sdk client over loopback): the bot
token (workspace, bot user, scopes Slack says it has), the app token in Socket Mode, the admins;
what each failing line tells a person to do; no token ever in a line."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.checks import Status
from bot.checks.slack import scopes, slack
from bot.settings import Settings
from bot.simulators.fakeslack import FakeSlack
from bot.slack.ids import BOT_SCOPES
from tests.e2e.harness import ADMIN, APPROVER, GONE, HELPERBOT

Make = Callable[..., Settings]
BOT_TOKEN = "xoxb-check-secret-1"
APP_TOKEN = "xapp-check-secret-2"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as running:
        yield running


def slack_of(settings: Make, fake: FakeSlack, **values: str) -> list[str]:
    given = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake.api_url,
        "REWARD_ADMINS": f"{ADMIN},{APPROVER}",
        **values,
    }
    lines = slack(settings(**given), timeout=5)
    shown = [str(line) for line in lines]
    assert not any(secret in line for line in shown for secret in (BOT_TOKEN, APP_TOKEN))
    return shown


def test_a_working_bot_token_names_the_workspace_the_bot_and_the_admins(
    settings: Make, fake: FakeSlack
) -> None:
    assert slack_of(settings, fake) == [
        "ok   Slack: workspace Acme (T0001), bot @rewardbot (UREWARDB)",
        f"ok   Slack: the bot token has the {len(BOT_SCOPES)} scopes manifest.yml asks for",
        f"ok   Admins: Ada Lovelace ({ADMIN}), Arthur Approver ({APPROVER})",
    ]
    assert [call["method"] for call in fake.calls] == ["auth.test", "users.info", "users.info"]


def test_a_refused_bot_token_says_where_to_copy_it(settings: Make, fake: FakeSlack) -> None:
    lines = slack_of(settings, fake, SLACK_BOT_TOKEN="xoxb-wrong")
    assert lines == [
        "FAIL Slack: the bot token was refused (invalid_auth). Copy OAuth & Permissions → Bot "
        "User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN.",
        "skip Admins: not checked: Slack refused the bot token",
    ]
    uninstalled = FakeSlack(bot_token=BOT_TOKEN)
    with uninstalled:
        uninstalled.fail_next("auth.test", "account_inactive")
        [line, _] = slack_of(settings, uninstalled)
    assert line.startswith("FAIL Slack: the bot token no longer works (account_inactive): the app")
    assert "Install the app again" in line


def test_an_app_token_in_place_of_the_bot_token(settings: Make, fake: FakeSlack) -> None:
    [line, _] = slack_of(settings, fake, SLACK_BOT_TOKEN=APP_TOKEN)
    assert line.startswith(
        "FAIL Slack: the bot token is not the right kind of token (not_allowed_token_type). Copy"
    )


def test_missing_scopes_fail_naming_them_and_extra_ones_warn() -> None:
    granted = [scope for scope in BOT_SCOPES if scope not in ("files:write", "chat:write.public")]
    line = scopes(",".join(granted))
    assert line.status is Status.FAIL
    assert line.text.startswith(
        "the bot token lacks chat:write.public and files:write, which manifest.yml asks for. "
        "Give the app manifest.yml's scopes"
    )
    assert "reinstall it to the workspace" in line.text
    extra = scopes(",".join([*BOT_SCOPES, "admin.teams:write"]))
    assert extra.status is Status.WARN
    assert extra.text.startswith("the bot token also has admin.teams:write, which the bot never")
    assert scopes(None).status is Status.WARN


def test_the_scopes_slack_sends_are_the_ones_checked(settings: Make) -> None:
    narrow = ("commands", "chat:write", "users:read")
    with FakeSlack(bot_token=BOT_TOKEN, scopes=narrow) as fake:
        lines = slack_of(settings, fake)
    assert lines[1].startswith("FAIL Slack: the bot token lacks chat:write.public, im:write,")


def test_socket_mode_checks_the_app_token(settings: Make, fake: FakeSlack) -> None:
    lines = slack_of(settings, fake, SLACK_APP_TOKEN=APP_TOKEN)
    assert lines[2] == "ok   Slack: SLACK_APP_TOKEN opens Socket Mode connections"
    assert len(fake.calls_to("apps.connections.open")) == 1
    wrong = slack_of(settings, fake, SLACK_APP_TOKEN="xapp-wrong")
    assert wrong[2] == (
        "FAIL Slack: SLACK_APP_TOKEN was refused (invalid_auth). Make one under Basic "
        "Information → App-Level Tokens with the connections:write scope and copy it (xapp-…) "
        "into SLACK_APP_TOKEN."
    )
    bot_token = slack_of(settings, fake, SLACK_APP_TOKEN=BOT_TOKEN)
    assert bot_token[2].startswith(
        "FAIL Slack: SLACK_APP_TOKEN is not the right kind of token (not_allowed_token_type)."
    )
    http = slack_of(settings, fake)  # HTTP mode: no app token to check
    assert not any("SLACK_APP_TOKEN" in line for line in http)


def test_admins_that_are_not_people_of_this_workspace_fail_each_named(
    settings: Make, fake: FakeSlack
) -> None:
    lines = slack_of(settings, fake, REWARD_ADMINS=f"{ADMIN},{HELPERBOT},{GONE},UNOBODY01")
    assert lines[-1] == (
        f"FAIL Admins: REWARD_ADMINS: {HELPERBOT} (Helper Bot) is a bot; {GONE} (Gone Person) is "
        "deactivated; UNOBODY01 is no one in workspace Acme. Set it to people's member ids "
        "(their Slack profile → ⋮ → Copy member ID)."
    )
    bot_user = slack_of(settings, fake, REWARD_ADMINS="UREWARDB")
    assert bot_user[-1].startswith("FAIL Admins: REWARD_ADMINS: UREWARDB (Reward Bot) is a bot")
    none = slack_of(settings, fake, REWARD_ADMINS="")
    assert none[-1] == "skip Admins: not checked: REWARD_ADMINS is not set"


def test_no_bot_token_and_no_slack(settings: Make) -> None:
    assert [str(line) for line in slack(settings())] == [
        "FAIL Slack: SLACK_BOT_TOKEN is not set. Copy OAuth & Permissions → Bot User OAuth "
        "Token (xoxb-…) into SLACK_BOT_TOKEN.",
        "skip Admins: not checked: Slack has no bot token to ask",
    ]
    unreachable = slack(
        settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL="http://127.0.0.1:9/api/"), timeout=5
    )
    assert str(unreachable[0]) == (
        "FAIL Slack: can't reach Slack at 127.0.0.1:9 (connection refused). Check the network "
        "and SLACK_API_URL."
    )
