"""The sandbox notice: what it adds, which payloads get it (messages and modal / App Home views,
never inline errors, `clear`, empty acks or calls that post nothing), and that each way out of the
process adds it in sandbox mode (the Web API client, response_url replies, acks) and adds nothing
otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from sqlalchemy import create_engine

from bot.runtime import slack_client
from bot.settings import load_settings
from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.sandbox_notice import (
    SANDBOX_NOTICE,
    NoticingWebClient,
    notice_middleware,
    noticed,
    noticed_ack,
    noticed_call,
    noticing,
    noticing_client,
    with_sandbox_notice,
)
from bot.slack.blocks.common import message, text_only
from bot.slack.blocks.kit import section
from bot.slack.journal import RESUMING, RequestJournal
from storage.intake import IntakeJournal, Pending
from storage.types import utcnow
from tests.slack.blocks.blockkit_rules import check_message, everything

MARIA = "UMARIA01"
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Rewards"}, "blocks": []}
PLAIN = message("hello", [section("hi")])


def notices(payload: dict[str, Any]) -> int:
    """How many notice blocks the payload has."""
    return sum(SANDBOX_NOTICE in everything(b) for b in payload.get("blocks") or [])


# ── what it adds ─────────────────────────────────────────────────────────────────────────


def test_sandbox_notice_is_a_quiet_last_line_added_once() -> None:
    once = with_sandbox_notice(PLAIN)
    twice = with_sandbox_notice(once)
    assert once == twice
    assert once["text"] == "hello"  # the notification says nothing of it
    assert once["blocks"][-1]["elements"][0]["text"] == SANDBOX_NOTICE
    assert PLAIN["blocks"] == [section("hi")]  # the original is left alone


def test_sandbox_notice_survives_a_full_message() -> None:
    full = with_sandbox_notice(message("x" * 5000, [section(f"row {i}") for i in range(60)]))
    assert len(full["blocks"]) == 50
    assert full["blocks"][-1]["elements"][0]["text"] == SANDBOX_NOTICE
    assert SANDBOX_NOTICE not in full["text"]
    assert check_message(full) == []


def test_sandbox_notice_on_a_view_has_no_fallback_text() -> None:
    view = with_sandbox_notice({"type": "home", "blocks": [section("hi")]})
    assert "text" not in view
    assert view["blocks"][-1]["elements"][0]["text"] == SANDBOX_NOTICE


# ── which payloads get it ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "payload",
    [PLAIN, {"blocks": [section("only blocks")]}, MODAL],
    ids=["message", "blocks", "modal"],
)
def test_block_kit_messages_and_views_get_it(payload: dict[str, Any]) -> None:
    assert noticed(payload) == with_sandbox_notice(payload)
    assert SANDBOX_NOTICE in everything(noticed(payload))


@pytest.mark.parametrize(
    "payload",
    [{}, {"delete_original": True}, {"text": ""}, text_only("Only admins can do that.")],
    ids=["empty", "delete", "blank", "plain-text reply"],
)
def test_what_is_no_message_is_left_alone(payload: dict[str, Any]) -> None:
    assert noticed(payload) == payload


@pytest.mark.parametrize(
    "ack",
    [
        {},
        {"response_action": "errors", "errors": {"amount": "Type a whole number."}},
        {"response_action": "clear"},
        {"options": [{"text": {"type": "plain_text", "text": "a"}, "value": "a"}]},
    ],
    ids=["empty", "errors", "clear", "options"],
)
def test_acks_that_carry_no_message_are_left_alone(ack: dict[str, Any]) -> None:
    assert noticed_ack(ack) == ack


def test_acks_that_carry_a_message_or_a_view_get_it() -> None:
    assert noticed_ack(PLAIN) == with_sandbox_notice(PLAIN)
    updated = noticed_ack({"response_action": "update", "view": MODAL})
    assert updated == {"response_action": "update", "view": with_sandbox_notice(MODAL)}
    pushed = noticed_ack({"response_action": "push", "view": MODAL})
    assert notices(pushed["view"]) == 1


@pytest.mark.parametrize(
    "method, body",
    [
        ("conversations.open", {"users": MARIA}),
        ("users.info", {"user": MARIA}),
        ("chat.getPermalink", {"channel": "C1", "message_ts": "1.2"}),
        ("chat.delete", {"channel": "C1", "ts": "1.2"}),
        ("files.getUploadURLExternal", {"filename": "a.csv", "length": 3}),
        ("views.publish", {"user_id": MARIA}),  # no view: nothing to add to
    ],
)
def test_calls_that_post_nothing_people_read_are_left_alone(
    method: str, body: dict[str, Any]
) -> None:
    assert noticed_call(method, body) == body


def test_calls_that_post_messages_views_and_file_comments_get_it() -> None:
    for method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
        sent = noticed_call(method, {"channel": "C1", **PLAIN})
        assert sent == {"channel": "C1", **with_sandbox_notice(PLAIN)}
    for method in ("views.open", "views.push", "views.update", "views.publish"):
        assert notices(noticed_call(method, {"view": MODAL})["view"]) == 1
    comment = noticed_call("files.completeUploadExternal", {"initial_comment": "📊 chart"})
    assert comment["initial_comment"] == f"📊 chart\n{SANDBOX_NOTICE}"


def test_noticing_adds_it_however_the_message_is_passed() -> None:
    sent: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def send(*args: Any, **kwargs: Any) -> None:
        sent.append((args, kwargs))

    respond = noticing(send)
    respond(replace_original=True, **PLAIN)
    respond("hi")
    respond(dict(PLAIN))
    respond(delete_original=True)
    assert sent[0] == ((), {"replace_original": True, **with_sandbox_notice(PLAIN)})
    assert sent[1] == ((), {"text": "hi"})  # a plain-text reply concerns no reward
    assert sent[2] == ((with_sandbox_notice(PLAIN),), {})
    assert sent[3] == ((), {"delete_original": True})
    ack = noticing(send, noticed_ack)
    ack(response_action="errors", errors={"amount": "No."})
    assert sent[4] == ((), {"response_action": "errors", "errors": {"amount": "No."}})


# ── each way out ─────────────────────────────────────────────────────────────────────────


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(workspace=Workspace.demo()) as fake:
        yield fake


def _client(fake: FakeSlack, *, sandbox: bool) -> WebClient:
    """The bot's Slack client: the embedded sandbox's add-on makes it a noticing one."""
    settings = load_settings(
        SLACK_BOT_TOKEN="xoxb-fake",
        SLACK_API_URL=fake.api_url,
        PLUM_BASE_URL="sandbox" if sandbox else "https://plum.example/chef",
        PLUM_SENDER_EMAIL="people-ops@acme.test",
    )
    client = slack_client(settings)
    return noticing_client(client) if settings.uses_sandbox else client


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "live"])
def test_the_web_api_client_adds_it_only_in_sandbox_mode(fake: FakeSlack, sandbox: bool) -> None:
    """Egress 1: what the runtime's Slack client posts, publishes and opens."""
    client = _client(fake, sandbox=sandbox)
    assert isinstance(client, NoticingWebClient) is sandbox
    channel = client.conversations_open(users=MARIA)["channel"]["id"]  # answered as ever
    client.chat_postMessage(channel=channel, **PLAIN)
    client.views_publish(user_id=MARIA, view={"type": "home", "blocks": [section("home")]})
    [posted] = fake.dms_to(MARIA)
    assert notices(posted) == (1 if sandbox else 0)
    assert posted["text"] == "hello"
    home = fake.home(MARIA)
    assert home is not None and notices(home) == (1 if sandbox else 0)
    assert PLAIN == message("hello", [section("hi")])  # what the caller built is left alone


def _entry(body: dict[str, Any], *, age: timedelta = timedelta(0)) -> Pending:
    return Pending(
        entry_id=1,
        key="command:1.2",
        kind="command:/reward",
        user_id=MARIA,
        body=body,
        received_at=utcnow() - age,
        claimed_at=None,
        resumes=0,
    )


def _resuming_app(fake: FakeSlack, tmp_path: Path, *, sandbox: bool) -> App:
    """A Bolt app with the bot's journal middleware (and the notice's, in sandbox mode, first,
    as the embedded sandbox's add-on installs it) whose `/reward` answers twice: a message
    through `respond` and a plain line."""
    app = App(
        client=WebClient(token="xoxb-fake", base_url=fake.api_url),
        token_verification_enabled=False,
        request_verification_enabled=False,
        process_before_response=True,
    )
    if sandbox:
        app.use(notice_middleware)
    journal = IntakeJournal(engine=create_engine(f"sqlite:///{tmp_path / 'j.db'}"), worker_id="t")
    app.use(RequestJournal(journal).middleware)

    @app.command("/reward")
    def answer(ack: Any, respond: Any) -> None:
        ack()
        respond(**PLAIN)
        respond(text="I restarted")

    return app


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "live"])
def test_late_replies_add_it_only_in_sandbox_mode(
    fake: FakeSlack, tmp_path: Path, sandbox: bool
) -> None:
    """Egress 2: a resumed request's answers, through its response_url while it is valid, else
    by DM."""
    app = _resuming_app(fake, tmp_path, sandbox=sandbox)
    url = fake.response_url("late", user=MARIA)
    body = {"command": "/reward", "user_id": MARIA, "response_url": url, "text": "balance"}
    app.dispatch(BoltRequest(body=body, mode="socket_mode", context={RESUMING: _entry(body)}))
    hooked, plain = [r["body"] for r in fake.responses("late")]
    assert notices(hooked) == (1 if sandbox else 0)
    assert SANDBOX_NOTICE not in hooked["text"]
    assert notices(plain) == 0 and plain["text"] == "I restarted"  # plain text: no notice
    stale = _entry(body, age=timedelta(hours=1))  # the response_url has expired: DMs
    app.dispatch(BoltRequest(body=body, mode="socket_mode", context={RESUMING: stale}))
    dm, dm_plain = fake.dms_to(MARIA)
    assert notices(dm) == (1 if sandbox else 0)
    assert dm_plain["text"] == "I restarted"
    assert len(fake.responses("late")) == 2  # nothing more to the expired URL
