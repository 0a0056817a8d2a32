"""The fake Web API, driven by the real slack_sdk WebClient (urllib over loopback)."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.simulators.fakeslack import FakeSlack, Workspace
from bot.simulators.fakeslack.server import ServerThread
from bot.slack.ids import BOT_SCOPES
from tests.e2e.harness import wait_until

MODAL = {
    "type": "modal",
    "callback_id": "reward_modal",
    "title": {"type": "plain_text", "text": "Send a reward"},
    "submit": {"type": "plain_text", "text": "Send"},
    "private_metadata": "C0GENERAL",
    "blocks": [
        {
            "type": "input",
            "block_id": "amount",
            "label": {"type": "plain_text", "text": "Points"},
            "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": False},
        }
    ],
}


def _error(call) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value.response["error"]


# ---------------------------------------------------------------------- auth
def test_auth_test_names_the_bot_and_is_recorded(fake: FakeSlack, client: WebClient) -> None:
    result = client.auth_test()
    assert result["team_id"] == "T0001"
    assert result["user_id"] == "UREWARDB"
    assert result["bot_id"] == "B0001"
    [call] = fake.calls_to("auth.test")
    assert call["token_ok"] is True and call["ok"] is True
    assert "token" not in call["args"]


def test_bad_or_missing_token(fake: FakeSlack) -> None:
    bad = WebClient(base_url=fake.api_url, token="xoxb-wrong")
    assert _error(bad.auth_test) == "invalid_auth"
    assert _error(lambda: bad.chat_postMessage(channel="C0GENERAL", text="x")) == "invalid_auth"
    anonymous = WebClient(base_url=fake.api_url)
    assert _error(lambda: anonymous.users_info(user="UMARIA01")) == "not_authed"
    assert fake.messages("C0GENERAL") == []
    assert [c["token_ok"] for c in fake.calls] == [False, False, False]


def test_the_bot_tokens_scopes_come_with_every_answer_as_slack_sends_them(
    fake: FakeSlack, client: WebClient
) -> None:
    answer = client.auth_test()
    assert set(answer.headers["x-oauth-scopes"].split(",")) == set(BOT_SCOPES)  # manifest.yml's
    refused = WebClient(base_url=fake.api_url, token="xoxb-wrong")
    with pytest.raises(SlackApiError) as caught:
        refused.auth_test()
    assert "x-oauth-scopes" not in caught.value.response.headers  # not for a refused token
    with FakeSlack(bot_token="xoxb-narrow", scopes=("commands", "chat:write")) as narrow:
        granted = WebClient(base_url=narrow.api_url, token="xoxb-narrow").auth_test()
        assert granted.headers["x-oauth-scopes"] == "commands,chat:write"


def test_the_app_level_token_opens_socket_mode_connections_and_nothing_else(
    fake: FakeSlack, client: WebClient
) -> None:
    app = WebClient(base_url=fake.api_url, token="xapp-fake")
    opened = app.apps_connections_open(app_token="xapp-fake")
    assert opened["url"].startswith("ws://127.0.0.1:")
    [call] = fake.calls_to("apps.connections.open")
    assert call["ok"] and call["token_ok"] and "token" not in call["args"]
    # each token where the other belongs, as Slack answers it
    assert _error(lambda: client.apps_connections_open(app_token="xoxb-fake")) == (
        "not_allowed_token_type"
    )
    assert _error(app.auth_test) == "not_allowed_token_type"
    wrong = WebClient(base_url=fake.api_url)
    assert _error(lambda: wrong.apps_connections_open(app_token="xapp-wrong")) == "invalid_auth"


def test_token_as_form_argument_is_accepted(fake: FakeSlack) -> None:
    request = urllib.request.Request(
        fake.api_url + "users.info",
        data=b"token=xoxb-fake&user=UBOB0001",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())
    assert body["ok"] is True and body["user"]["name"] == "bob"
    assert fake.calls_to("users.info")[0]["args"] == {"user": "UBOB0001"}


def test_unknown_method_is_answered_and_recorded(fake: FakeSlack, client: WebClient) -> None:
    assert _error(lambda: client.api_call("chat.scheduleMessageNow")) == "unknown_method"
    assert fake.calls_to("chat.scheduleMessageNow")[0]["error"] == "unknown_method"


# ---------------------------------------------------------------------- users
def test_users_info_shape(client: WebClient) -> None:
    user = client.users_info(user="UADMIN01")["user"]
    assert user["id"] == "UADMIN01" and user["team_id"] == "T0001"
    assert user["name"] == "ada" and user["is_admin"] is True
    assert user["deleted"] is False and user["is_bot"] is False
    assert user["tz"] == "Europe/London" and isinstance(user["tz_offset"], int)
    assert user["profile"]["email"] == "ada@acme.test"
    assert {"display_name", "real_name", "image_72"} <= set(user["profile"])


def test_users_info_edge_people(client: WebClient) -> None:
    assert "email" not in client.users_info(user="UNOMAIL1")["user"]["profile"]
    assert client.users_info(user="UGONE001")["user"]["deleted"] is True
    assert client.users_info(user="UBOT0001")["user"]["is_bot"] is True
    assert client.users_info(user="UREWARDB")["user"]["profile"]["bot_id"] == "B0001"
    tokyo = client.users_info(user="UCHEN001")["user"]
    assert tokyo["tz_offset"] == 9 * 3600
    assert _error(lambda: client.users_info(user="UNOBODY1")) == "user_not_found"


def test_users_lookup_by_email(client: WebClient) -> None:
    assert client.users_lookupByEmail(email="MARIA@acme.test")["user"]["id"] == "UMARIA01"
    assert _error(lambda: client.users_lookupByEmail(email="x@acme.test")) == "users_not_found"


def test_users_list_pages_with_cursor(client: WebClient) -> None:
    first = client.users_list(limit=4)
    assert len(first["members"]) == 4
    assert first["response_metadata"]["next_cursor"]
    ids = [m["id"] for page in client.users_list(limit=4) for m in page["members"]]
    assert len(ids) == len(set(ids)) == 9
    assert {"UADMIN01", "UGONE001", "UBOT0001", "UREWARDB"} <= set(ids)
    assert _error(lambda: client.users_list(cursor="bm9wZQ==")) == "invalid_cursor"


def test_added_user_is_served(fake: FakeSlack, client: WebClient) -> None:
    fake.workspace.add_user(id="UNEW0001", name="neo", email="neo@acme.test", tz="Asia/Kolkata")
    user = client.users_lookupByEmail(email="neo@acme.test")["user"]
    assert user["id"] == "UNEW0001" and user["tz_offset"] == 5 * 3600 + 1800


def test_team_info(client: WebClient) -> None:
    team = client.team_info()["team"]
    assert team["id"] == "T0001" and team["name"] == "Acme" and team["domain"] == "acme"


# ---------------------------------------------------------------------- conversations
def test_conversations_open_gives_a_stable_dm(fake: FakeSlack, client: WebClient) -> None:
    first = client.conversations_open(users="UMARIA01")
    again = client.conversations_open(users=["UMARIA01"])
    assert first["channel"]["id"].startswith("D")
    assert again["channel"]["id"] == first["channel"]["id"] and again["already_open"] is True
    assert client.conversations_open(users="UBOB0001")["channel"]["id"] != first["channel"]["id"]
    info = client.conversations_info(channel=first["channel"]["id"])["channel"]
    assert info["is_im"] is True and info["user"] == "UMARIA01"
    client.chat_postMessage(channel=first["channel"]["id"], text="Your reward arrived")
    assert [m["text"] for m in fake.dms_to("UMARIA01")] == ["Your reward arrived"]
    assert fake.dms_to("UBOB0001") == []


def test_conversations_open_refuses_gone_and_bots(client: WebClient) -> None:
    assert _error(lambda: client.conversations_open(users="UGONE001")) == "user_disabled"
    assert _error(lambda: client.conversations_open(users="UBOT0001")) == "cannot_dm_bot"
    assert _error(lambda: client.conversations_open(users="UNOBODY1")) == "user_not_found"


def test_conversations_info(client: WebClient) -> None:
    channel = client.conversations_info(channel="C0KUDOS")["channel"]
    assert channel["name"] == "kudos" and channel["is_member"] is True
    assert _error(lambda: client.conversations_info(channel="C0NOPE")) == "channel_not_found"


# ---------------------------------------------------------------------- chat
def test_post_message_to_channel(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Maria* got 50"}}]
    result = client.chat_postMessage(channel="C0KUDOS", text="Maria got 50", blocks=blocks)
    assert result["channel"] == "C0KUDOS" and result["ts"]
    assert result["message"]["bot_id"] == "B0001" and result["message"]["blocks"] == blocks
    [stored] = fake.messages("C0KUDOS")
    assert stored["ts"] == result["ts"] and stored["blocks"] == blocks
    assert stored["user"] == "UREWARDB" and stored["thread_ts"] is None
    assert fake.calls_to("chat.postMessage")[0]["args"]["blocks"] == blocks


def test_post_message_by_name_thread_and_user_id(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="#kudos", text="parent")
    reply = client.chat_postMessage(channel="C0KUDOS", text="reply", thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    dm = client.chat_postMessage(channel="UCHEN001", text="hello chen")
    assert dm["channel"].startswith("D")
    assert [m["text"] for m in fake.dms_to("UCHEN001")] == ["hello chen"]
    assert [m["ts"] for m in fake.messages("C0KUDOS")] == [parent["ts"], reply["ts"]]
    assert float(reply["ts"]) > float(parent["ts"])


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_errors(fake: FakeSlack, client: WebClient) -> None:
    fake.workspace.add_channel(id="C0RANDOM", name="random", bot_member=False)
    assert _error(lambda: client.chat_postMessage(channel="C0RANDOM", text="x")) == "not_in_channel"
    assert (
        _error(lambda: client.chat_postMessage(channel="C0NOPE", text="x")) == "channel_not_found"
    )
    assert _error(lambda: client.chat_postMessage(channel="C0KUDOS", text="")) == "no_text"
    too_long_header = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0KUDOS", text="x", blocks=too_long_header)
    assert caught.value.response["error"] == "invalid_blocks"
    assert "/blocks/0/text" in caught.value.response["response_metadata"]["messages"][0]
    assert fake.messages() == []


def test_post_ephemeral(fake: FakeSlack, client: WebClient) -> None:
    result = client.chat_postEphemeral(channel="C0GENERAL", user="UBOB0001", text="only you")
    [shown] = fake.ephemerals("UBOB0001")
    assert shown["ts"] == result["message_ts"] and shown["text"] == "only you"
    assert shown["channel"] == "C0GENERAL" and shown["source"] == "chat.postEphemeral"
    assert fake.ephemerals("UMARIA01") == [] and fake.messages() == []


def test_update_delete_and_permalink(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0GENERAL", text="Pending approval")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Approved"}}]
    updated = client.chat_update(
        channel="C0GENERAL", ts=posted["ts"], text="Approved", blocks=blocks
    )
    assert updated["ts"] == posted["ts"] and updated["text"] == "Approved"
    [stored] = fake.messages("C0GENERAL")
    assert stored["text"] == "Approved" and stored["blocks"] == blocks and "edited" in stored
    link = client.chat_getPermalink(channel="C0GENERAL", message_ts=posted["ts"])["permalink"]
    assert link.startswith(fake.root_url) and posted["ts"].replace(".", "") in link
    assert _error(lambda: client.chat_update(channel="C0GENERAL", ts="1.2", text="x")) == (
        "message_not_found"
    )
    client.chat_delete(channel="C0GENERAL", ts=posted["ts"])
    assert fake.messages("C0GENERAL") == []
    assert _error(lambda: client.chat_delete(channel="C0GENERAL", ts=posted["ts"])) == (
        "message_not_found"
    )


def test_reactions_add(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0KUDOS", text="yay")
    client.reactions_add(channel="C0KUDOS", timestamp=posted["ts"], name="tada")
    assert fake.messages("C0KUDOS")[0]["reactions"] == [
        {"name": "tada", "users": ["UREWARDB"], "count": 1}
    ]
    again = lambda: client.reactions_add(channel="C0KUDOS", timestamp=posted["ts"], name="tada")  # noqa: E731
    assert _error(again) == "already_reacted"


# ---------------------------------------------------------------------- views
def test_views_open_update_push(fake: FakeSlack, client: WebClient) -> None:
    trigger = fake.workspace.issue_trigger("UMARIA01")
    opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "reward_modal"
    assert opened["private_metadata"] == "C0GENERAL" and opened["hash"]
    assert [v["id"] for v in fake.modal_stack("UMARIA01")] == [opened["id"]]
    # a trigger works once, like Slack's
    assert _error(lambda: client.views_open(trigger_id=trigger, view=MODAL)) == (
        "exchanged_trigger_id"
    )
    assert _error(lambda: client.views_open(trigger_id="1.2.3", view=MODAL)) == (
        "invalid_trigger_id"
    )

    changed = dict(MODAL, title={"type": "plain_text", "text": "Confirm"})
    updated = client.views_update(view_id=opened["id"], view=changed, hash=opened["hash"])["view"]
    assert updated["id"] == opened["id"] and updated["title"]["text"] == "Confirm"
    stale = lambda: client.views_update(view_id=opened["id"], view=MODAL, hash=opened["hash"])  # noqa: E731
    assert _error(stale) == "hash_conflict"
    assert _error(lambda: client.views_update(view_id="VNOPE", view=MODAL)) == "not_found"

    pushed = client.views_push(trigger_id=fake.workspace.issue_trigger("UMARIA01"), view=MODAL)
    assert [v["id"] for v in fake.modal_stack("UMARIA01")] == [opened["id"], pushed["view"]["id"]]
    assert [v["method"] for v in fake.views] == ["views.open", "views.update", "views.push"]
    assert all(v["user_id"] == "UMARIA01" for v in fake.views)


def test_views_update_by_external_id(client: WebClient, fake: FakeSlack) -> None:
    trigger = fake.workspace.issue_trigger("UBOB0001")
    client.views_open(trigger_id=trigger, view=dict(MODAL, external_id="reward-42"))
    changed = dict(MODAL, private_metadata="C0KUDOS")
    updated = client.views_update(external_id="reward-42", view=changed)["view"]
    assert updated["private_metadata"] == "C0KUDOS"


def test_views_reject_what_slack_rejects(fake: FakeSlack, client: WebClient) -> None:
    long_title = dict(MODAL, title={"type": "plain_text", "text": "A title longer than 24 chars"})
    trigger = fake.workspace.issue_trigger("UMARIA01")
    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id=trigger, view=long_title)
    assert caught.value.response["error"] == "invalid_arguments"
    assert "/view/title/text" in caught.value.response["response_metadata"]["messages"][0]
    no_submit = {k: v for k, v in MODAL.items() if k != "submit"}
    assert _error(lambda: client.views_open(trigger_id=trigger, view=no_submit)) == (
        "invalid_arguments"
    )
    assert fake.modal_stack("UMARIA01") == []


def test_views_publish_home(fake: FakeSlack, client: WebClient) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Balance: 100"}}],
    }
    first = client.views_publish(user_id="UMARIA01", view=home)["view"]
    again = client.views_publish(user_id="UMARIA01", view=home)["view"]
    assert first["type"] == "home" and again["id"] == first["id"]
    assert fake.home("UMARIA01")["blocks"] == home["blocks"]
    assert fake.home("UBOB0001") is None
    assert _error(lambda: client.views_publish(user_id="UMARIA01", view=MODAL)) == (
        "invalid_arguments"
    )
    assert _error(lambda: client.views_publish(user_id="UNOBODY1", view=home)) == ("user_not_found")


# ---------------------------------------------------------------------- files
def test_files_upload_v2_end_to_end(fake: FakeSlack, client: WebClient) -> None:
    content = b"id,points\nUMARIA01,50\n"
    result = client.files_upload_v2(
        content=content,
        filename="audit.csv",
        title="Audit export",
        channel="C0GENERAL",
        initial_comment="Here is the export",
    )
    assert result["file"]["name"] == "audit.csv" and result["file"]["title"] == "Audit export"
    [uploaded] = fake.files
    assert uploaded["content"] == content and uploaded["filename"] == "audit.csv"
    assert uploaded["channel"] == "C0GENERAL"
    assert uploaded["initial_comment"] == "Here is the export"
    [shared] = fake.messages("C0GENERAL")
    assert shared["text"] == "Here is the export" and shared["files"][0]["id"] == uploaded["id"]
    assert [c["method"] for c in fake.calls] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    with urllib.request.urlopen(result["file"]["url_private"], timeout=5) as response:
        assert response.read() == content


def test_files_complete_without_upload_fails(client: WebClient) -> None:
    started = client.files_getUploadURLExternal(filename="x.csv", length=3)
    files = [{"id": started["file_id"], "title": "x"}]
    assert _error(lambda: client.files_completeUploadExternal(files=files)) == "file_not_found"


# ---------------------------------------------------------------------- response_url
def test_response_url_posts_are_recorded_and_shown(fake: FakeSlack) -> None:
    url = fake.response_url("cmd-1", channel="C0GENERAL", user="UMARIA01")
    WebhookClient(url).send(text="Only Maria sees this")
    WebhookClient(url).send(text="Everyone sees this", response_type="in_channel")
    assert [r["body"]["text"] for r in fake.responses("cmd-1")] == [
        "Only Maria sees this",
        "Everyone sees this",
    ]
    assert [e["text"] for e in fake.ephemerals("UMARIA01", source="response_url")] == [
        "Only Maria sees this"
    ]
    assert [m["text"] for m in fake.messages("C0GENERAL")] == ["Everyone sees this"]


def test_response_url_replaces_and_deletes_original(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0GENERAL", text="Approve 600 points?")
    original = {"channel": "C0GENERAL", "ts": posted["ts"], "ephemeral": False}
    url = fake.response_url("act-1", channel="C0GENERAL", user="UAPPR001", original=original)
    WebhookClient(url).send(text="Approved by arthur", replace_original=True)
    assert [m["text"] for m in fake.messages("C0GENERAL")] == ["Approved by arthur"]
    WebhookClient(url).send(text="", delete_original=True)
    assert fake.messages("C0GENERAL") == []
    assert [r["applied"] for r in fake.responses("act-1")] == [
        "replaced_original",
        "deleted_original",
    ]


def test_response_url_bare_key_only_records(fake: FakeSlack) -> None:
    response = WebhookClient(fake.response_url("plain")).send(text="hello")
    assert response.status_code == 200
    assert fake.responses() == [
        {
            "key": "plain",
            "body": {"text": "hello"},
            "at": fake.responses()[0]["at"],
            "applied": None,
        }
    ]


# ---------------------------------------------------------------------- faults
def test_fail_next_ratelimited_is_retried_by_slack_sdk(fake: FakeSlack) -> None:
    fake.fail_next("users.info", retry_after=0)
    patient = WebClient(
        base_url=fake.api_url,
        token="xoxb-fake",
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert patient.users_info(user="UMARIA01")["user"]["id"] == "UMARIA01"
    assert [c["error"] for c in fake.calls_to("users.info")] == ["ratelimited", None]


def test_fail_next_ratelimited_surfaces_without_retry(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", count=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="C0GENERAL", text="x")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] in ("7", ["7"])
    assert client.chat_postMessage(channel="C0GENERAL", text="x")["ok"] is True
    assert len(fake.messages("C0GENERAL")) == 1


def test_fail_next_other_error_is_a_200(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("conversations.open", "account_inactive")
    with pytest.raises(SlackApiError) as caught:
        client.conversations_open(users="UMARIA01")
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "account_inactive"
    assert client.conversations_open(users="UMARIA01")["ok"] is True


def test_slow_next_holds_the_call_and_says_so(fake: FakeSlack, client: WebClient) -> None:
    fake.slow_next("chat.postMessage", seconds=0.5)
    posting = threading.Thread(
        target=client.chat_postMessage, kwargs={"channel": "C0GENERAL", "text": "late"}
    )
    posting.start()
    wait_until(lambda: fake.held("chat.postMessage"), what="the call held")
    assert fake.held() == 1 and fake.held("users.info") == 0
    assert fake.calls_to("chat.postMessage") == []  # recorded once answered
    posting.join(10)
    assert fake.held() == 0
    assert [c["ok"] for c in fake.calls_to("chat.postMessage")] == [True]


def test_clear_calls(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    fake.clear_calls()
    assert fake.calls == []


def test_workspace_passed_in_is_served() -> None:
    ws = Workspace()
    ws.add_user(id="UONLY001", name="only", email="only@solo.test")
    with FakeSlack(workspace=ws, bot_token="xoxb-other") as fake:
        client = WebClient(base_url=fake.api_url, token="xoxb-other")
        assert client.users_lookupByEmail(email="only@solo.test")["user"]["id"] == "UONLY001"
        assert _error(lambda: client.users_info(user="UMARIA01")) == "user_not_found"


def test_app_mounted_in_another_server_with_public_url() -> None:
    fake = FakeSlack()
    outer = ServerThread(Starlette(routes=[Mount("/fake", app=fake.app)]), name="outer").start()
    fake.public_url = f"{outer.url}fake"
    try:
        assert fake.api_url == f"{outer.url}fake/api/"
        client = WebClient(base_url=fake.api_url, token="xoxb-fake", timeout=5)
        client.files_upload_v2(content=b"abc", filename="a.txt", channel="C0KUDOS")
        assert fake.files[0]["content"] == b"abc"
        WebhookClient(fake.response_url("k", channel="C0KUDOS", user="UBOB0001")).send(text="ok")
        assert fake.ephemerals("UBOB0001")[0]["text"] == "ok"
    finally:
        outer.stop()
