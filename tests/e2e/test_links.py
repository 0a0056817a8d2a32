"""`/reward link` and `/reward links` end to end: a link goes only into its recipient's DM, a
batch only into a CSV file in the admin's DM; the ledger keeps them encrypted and the audit
trail, the logs and every other Slack call never see them."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from storage import links as link_repo
from storage.models import AuditEvent, LinkBatch
from tests.e2e.harness import (
    ADMIN,
    BOB,
    GONE,
    HELPERBOT,
    MARIA,
    NOMAIL,
    BotHarness,
    actions_in,
    message_text,
)

LINK = re.compile(r"https://links\.sandbox\.invalid/r/[A-Za-z0-9]+")


def answers(bot: BotHarness, user: str) -> list[str]:
    """What the bot said after acknowledging (response_url follow-ups)."""
    return [message_text(m) for m in bot.fake.ephemerals(user, source="response_url")]


def ask(bot: BotHarness, text: str, *, user: str = ADMIN, marker: str = "") -> str:
    """Run `/reward text` and return the follow-up answer (which must contain `marker`)."""
    before = len(answers(bot, user))
    response = bot.driver.command(text, user_id=user)
    assert response.status_code == 200
    answer = bot.wait(lambda: answers(bot, user)[before:])[0]
    assert marker in answer
    return answer


def generate_calls(bot: BotHarness) -> list[dict[str, Any]]:
    return [r for r in bot.sandbox.requests if r["operation"] == "generateLink"]


def batches(bot: BotHarness) -> list[LinkBatch]:
    with bot.runtime.store.read_session() as session:
        return list(session.exec(select(LinkBatch).order_by(LinkBatch.id)).all())


def revealed(bot: BotHarness, batch_id: int) -> list[str]:
    with bot.runtime.store.session() as session:
        return link_repo.reveal_links(session, batch_id=batch_id)


def audit_text(bot: BotHarness) -> str:
    with bot.runtime.store.read_session() as session:
        events = session.exec(select(AuditEvent)).all()
        return json.dumps([e.model_dump(mode="json") for e in events])


def everything_else_slack_saw(bot: BotHarness, *, allowed_call: Any = None) -> str:
    """Every Slack API call, message, ephemeral and response_url post, except `allowed_call`."""
    fake = bot.fake
    calls = [c for c in fake.calls if c is not allowed_call and c != allowed_call]
    return json.dumps(
        {
            "calls": calls,
            "ephemerals": fake.ephemerals(),
            "responses": fake.responses(),
            "views": fake.views,
            "channel_messages": [m for m in fake.messages() if not m["channel"].startswith("D")],
        },
        default=str,
    )


def admin_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()  # the admin's time zone


# ── one link ─────────────────────────────────────────────────────────────────────────────


def test_a_link_reaches_only_its_recipient(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reply = ask(bot, f"link <@{MARIA}|maria> 7890", marker="reward link")
    assert "I sent <@UMARIA01> a reward link worth *500.00 INR*" in reply
    assert "*Thank You Link (India)*" in reply
    assert not LINK.search(reply)

    dm = bot.wait(lambda: bot.fake.dms_to(MARIA))[-1]
    found = LINK.findall(message_text(dm))
    assert len(set(found)) == 1
    link = found[0]
    assert link not in dm["text"]  # not in the notification either
    assert "<@UADMIN01> sent you a reward worth *500.00 INR*" in message_text(dm)
    expiry = admin_today() + timedelta(days=30)
    assert f"It works until *{expiry.day} {expiry:%B %Y}*" in message_text(dm)

    (call,) = generate_calls(bot)
    assert call["variables"]["data"]["links_quantity"] == 1
    assert call["variables"]["data"]["link_expiry"] == expiry.strftime("%d-%m-%Y")

    (batch,) = batches(bot)
    assert batch.status == "created" and batch.count == 1
    assert batch.campaign_name == "Thank You Link (India)"
    assert revealed(bot, batch.id) == [link]
    assert link not in (batch.links_encrypted or "")

    (dm_call,) = [
        c
        for c in bot.fake.calls_to("chat.postMessage")
        if c["args"].get("channel") == bot.fake.workspace.im_of(MARIA)
    ]
    assert link not in everything_else_slack_saw(bot, allowed_call=dm_call)
    assert link not in audit_text(bot)
    assert link not in caplog.text
    assert [m for m in bot.fake.messages() if link in json.dumps(m)] == [dm]


def test_a_link_with_an_expiry_date(bot: BotHarness) -> None:
    when = admin_today() + timedelta(days=90)
    ask(bot, f"link <@{MARIA}> 7891 {when:%d-%m-%Y}", marker="reward link")
    dm = message_text(bot.wait(lambda: bot.fake.dms_to(MARIA))[-1])
    assert f"It works until *{when.day} {when:%B %Y}*" in dm
    assert "worth *25.00 USD*" in dm and "Spot Award Link (US)" in dm
    (call,) = generate_calls(bot)
    assert call["variables"]["data"]["link_expiry"] == when.strftime("%d-%m-%Y")


def test_a_link_with_a_message_carries_it_to_the_recipient(bot: BotHarness) -> None:
    when = admin_today() + timedelta(days=45)
    text = f"link <@{MARIA}> 7891 {when:%d-%m-%Y} great quarter! <!channel> see https://a.test/q3"
    reply = ask(bot, text, marker="reward link")
    assert "in a DM with your message" in reply
    dm = message_text(bot.wait(lambda: bot.fake.dms_to(MARIA))[-1])
    assert ">great quarter! @channel see <https://a.test/q3>" in dm  # quoted, pinging nobody
    assert f"It works until *{when.day} {when:%B %Y}*" in dm
    (call,) = generate_calls(bot)
    assert call["variables"]["data"]["link_expiry"] == when.strftime("%d-%m-%Y")


def test_a_link_without_a_message_promises_none(bot: BotHarness) -> None:
    reply = ask(bot, f"link <@{MARIA}> 7890", marker="reward link")
    assert "in a DM." in reply and "your message" not in reply


def test_only_admins_can_send_links(bot: BotHarness) -> None:
    response = bot.driver.command(f"link <@{MARIA}> 7890", user_id=BOB)
    assert "Only admins can send reward links." in response.text
    response = bot.driver.command("links 7890 5", user_id=MARIA)
    assert "Only admins can make batches of reward links." in response.text
    bot.settle()
    assert generate_calls(bot) == [] and batches(bot) == []
    assert bot.fake.dms_to(MARIA) == []


def test_links_only_go_to_active_people_with_an_email(bot: BotHarness) -> None:
    for who, expected in [
        (NOMAIL, "Slack has no email address for <@UNOMAIL1>"),
        (HELPERBOT, "<@UBOT0001> is a bot: reward links are for people."),
        (GONE, "<@UGONE001>'s Slack account is deactivated"),
        ("UNOBODY99", "I can't find <@UNOBODY99> in this workspace."),
    ]:
        ask(bot, f"link <@{who}> 7890", marker=expected)
    assert generate_calls(bot) == [] and batches(bot) == []


@pytest.mark.parametrize(
    ("campaign", "expected"),
    [
        ("9999", "Xoxoday has no campaign `9999`, so no links were made."),
        ("7894", "Xoxoday didn't make the links: Campaign 7894 is disabled."),
    ],
)
def test_xoxoday_refusals_are_explained_and_recorded(
    bot: BotHarness, campaign: str, expected: str
) -> None:
    reply = ask(bot, f"link <@{MARIA}> {campaign}", marker="Xoxoday")
    assert expected in reply
    (batch,) = batches(bot)
    assert batch.status == "failed" and batch.links_encrypted is None
    assert bot.fake.dms_to(MARIA) == []


BAD_INPUT = [
    ("link", "Mention who you mean"),
    (f"link <@{MARIA}>", "Which campaign?"),
    (f"link <@{MARIA}> summer", "`summer` isn't a campaign id"),
    (f"link <@{MARIA}> 7890 31-02-2030", "`31-02-2030` isn't a date I can read"),
    (f"link <@{MARIA}> 7890 tomorrow", "`tomorrow` isn't a date I can read"),
    ("link maria 7890", "`maria` isn't a mention"),
    ("link @maria 7890", "I can't tell who `@maria` is"),
    ("links", "Which campaign?"),
    ("links 7890", "How many links?"),
    ("links 7890 0", "`0` isn't a number of links I can make. Ask for 1 to 1,000"),
    ("links 7890 1001", "`1001` isn't a number of links I can make"),
    ("links 7890 lots", "`lots` isn't a number of links I can make"),
    ("links 7890 5 2030-12-31", "`2030-12-31` isn't a date I can read"),
]


def test_bad_input_is_refused_in_the_ack(bot: BotHarness) -> None:
    for text, expected in BAD_INPUT:
        response = bot.driver.command(text, user_id=ADMIN)
        assert expected in response.text, text
    bot.settle()
    assert generate_calls(bot) == [] and batches(bot) == []
    assert answers(bot, ADMIN) == []  # nothing after the ack


def test_a_date_that_is_not_in_the_future_is_refused(bot: BotHarness) -> None:
    for command in (f"link <@{MARIA}> 7890", "links 7890 3"):
        for day in (admin_today(), date(2020, 1, 1)):
            reply = ask(bot, f"{command} {day:%d-%m-%Y}", marker="has to be after today")
            assert f"The expiry date `{day:%d-%m-%Y}` has to be after today." in reply
    assert generate_calls(bot) == [] and batches(bot) == []


def test_when_the_dm_fails_the_admin_is_told_and_the_link_stays_hidden(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot.fake.fail_next("chat.postMessage", "restricted_action")
    reply = ask(bot, f"link <@{MARIA}> 7890", marker="wouldn't let me DM")
    assert "Xoxoday made the link, but Slack wouldn't let me DM <@UMARIA01>" in reply
    (batch,) = batches(bot)
    (link,) = revealed(bot, batch.id)
    # Only the refused DM to Maria carried it.
    (holder,) = [c for c in bot.fake.calls if link in json.dumps(c, default=str)]
    assert holder["method"] == "chat.postMessage" and not holder["ok"]
    assert holder["args"]["channel"] == bot.fake.workspace.im_of(MARIA)
    assert not [m for m in bot.fake.messages() if link in json.dumps(m, default=str)]
    assert link not in json.dumps([bot.fake.ephemerals(), bot.fake.responses()], default=str)
    assert link not in caplog.text and link not in audit_text(bot)


def test_a_retried_command_makes_one_link(bot: BotHarness) -> None:
    text = f"link <@{MARIA}> 7890"
    bot.driver.command(text, user_id=ADMIN, trigger_id="trigger-link-1")
    bot.wait(lambda: bot.fake.dms_to(MARIA))
    again = bot.driver.command(text, user_id=ADMIN, trigger_id="trigger-link-1", retry_num=1)
    assert again.status_code == 200 and again.text == ""  # the same (empty) ack
    bot.settle()  # nothing more follows: the first delivery's answer stands
    assert len(generate_calls(bot)) == 1 and len(batches(bot)) == 1
    assert len(bot.fake.dms_to(MARIA)) == 1


# ── a batch ──────────────────────────────────────────────────────────────────────────────


def test_a_batch_arrives_as_a_csv_in_the_admins_dm(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    when = admin_today() + timedelta(days=60)
    reply = ask(bot, f"links 7892 3 {when:%d-%m-%Y}", marker="CSV file")
    assert "3 reward links from Team Lunch Link (UK) are in a CSV file in our DM" in reply
    assert not LINK.search(reply)

    (upload,) = bot.wait(lambda: bot.fake.files)
    assert upload["channel"] == bot.fake.workspace.im_of(ADMIN)
    assert upload["filename"].endswith(".csv")
    assert "3 reward links worth *20.00 GBP* from *Team Lunch Link (UK)*" in (
        upload["initial_comment"] or ""
    )
    rows = list(csv.DictReader(io.StringIO(upload["content"].decode("utf-8"))))
    assert [r["number"] for r in rows] == ["1", "2", "3"]
    links = [r["link"] for r in rows]
    assert all(LINK.fullmatch(link) for link in links) and len(set(links)) == 3
    assert {r["campaign_id"] for r in rows} == {"7892"}
    assert {r["campaign_name"] for r in rows} == {"Team Lunch Link (UK)"}
    assert {(r["value"], r["currency"]) for r in rows} == {("20", "GBP")}
    assert {r["expires_on"] for r in rows} == {when.strftime("%d-%m-%Y")}

    (call,) = generate_calls(bot)
    assert call["variables"]["data"]["links_quantity"] == 3
    (batch,) = batches(bot)
    assert batch.status == "created" and batch.recipient_id is None
    assert revealed(bot, batch.id) == links

    seen = everything_else_slack_saw(bot)
    for link in links:
        assert link not in seen
        assert link not in audit_text(bot)
        assert link not in caplog.text
        assert not [m for m in bot.fake.messages() if link in json.dumps(m, default=str)]
    assert "links_received" in audit_text(bot)  # the batch is in the audit trail


def test_a_batch_the_account_cannot_pay_for(bot: BotHarness) -> None:
    bot.sandbox.state.set_balance(Decimal(100))
    reply = ask(bot, "links 7890 5", marker="Xoxoday")
    assert "Xoxoday didn't make the links: Insufficient balance" in reply
    assert bot.fake.files == []
    (batch,) = batches(bot)
    assert batch.status == "failed" and "Insufficient balance" in (batch.message or "")


def test_a_batch_for_an_unknown_campaign(bot: BotHarness) -> None:
    reply = ask(bot, "links 123 2", marker="Xoxoday")
    assert "Xoxoday has no campaign `123`" in reply
    assert bot.fake.files == []


def test_when_the_upload_fails_the_admin_is_told(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot.fake.fail_next("files.completeUploadExternal", "invalid_channel")
    reply = ask(bot, "links 7890 2", marker="wouldn't take the file")
    assert "Xoxoday made 2 links, but Slack wouldn't take the file for our DM" in reply
    (batch,) = batches(bot)
    for link in revealed(bot, batch.id):
        assert link not in everything_else_slack_saw(bot)
        assert link not in caplog.text


def test_in_sandbox_mode_every_message_says_so(make_bot) -> None:
    bot = make_bot(PLUM_BASE_URL="sandbox")
    notice = "🧪 Sandbox: no real reward was sent."
    assert notice in ask(bot, f"link <@{MARIA}> 7890", marker="reward link")
    assert notice in message_text(bot.wait(lambda: bot.fake.dms_to(MARIA))[-1])
    assert notice in ask(bot, "links 7890 2", marker="CSV file")
    (upload,) = bot.wait(lambda: bot.fake.files)
    assert notice in (upload["initial_comment"] or "")


# ── /reward campaigns ────────────────────────────────────────────────────────────────────


def campaign_calls(bot: BotHarness) -> list[dict[str, Any]]:
    return [r for r in bot.sandbox.requests if r["operation"] == "campaignList"]


def test_admins_see_the_campaigns_to_pick_from(bot: BotHarness) -> None:
    reply = ask(bot, "campaigns", marker="Reward link campaigns")
    rows = [line for line in reply.splitlines() if line.startswith("`78")]
    assert rows[0].startswith("`7893` *Festive Gift Link (UAE)* · 100.00 AED")
    assert "`7890` *Thank You Link (India)* · 500.00 INR" in reply
    assert rows[-1].startswith("`7894` *Retired Campaign (US)*") and "_disabled_" in rows[-1]
    assert "/reward link @person 7893" in reply
    assert len(campaign_calls(bot)) == 1


def test_members_cannot_list_campaigns(bot: BotHarness) -> None:
    response = bot.driver.command("campaigns", user_id=BOB)
    assert "Only admins can see the reward link campaigns." in response.text
    bot.settle()
    assert campaign_calls(bot) == []


def test_a_wrong_campaign_is_answered_with_the_ones_to_pick_from(bot: BotHarness) -> None:
    reply = ask(bot, f"link <@{MARIA}> 4242", marker="no campaign")
    assert "Xoxoday has no campaign `4242`, so no links were made." in reply
    assert "Your campaigns: `7893` Festive Gift Link (UAE)" in reply and "`7894`" not in reply
    disabled = ask(bot, f"link <@{MARIA}> 7894", marker="disabled")
    assert "Campaign 7894 is disabled." in disabled and "Your campaigns: `7893`" in disabled
    assert len(campaign_calls(bot)) == 1  # kept for a minute


def test_xoxoday_down_while_listing_campaigns_is_said_plainly(bot: BotHarness) -> None:
    bot.sandbox.faults.set("campaignList", error="PIPE10017")
    reply = ask(bot, "campaigns", marker="couldn't reach Xoxoday")
    assert "Traceback" not in reply and "PIPE" not in reply


# ── the link form, from /reward campaigns ────────────────────────────────────────────────


def pick_campaign(bot: BotHarness, campaign: str) -> dict[str, Any]:
    """In `/reward campaigns`, pick `campaign` from "Send a link of…"; the form that opens."""
    ask(bot, "campaigns", marker="Reward link campaigns")
    listing = [e for e in bot.fake.ephemerals(ADMIN) if "link_campaign_pick" in actions_in(e)][-1]
    picker = next(
        e
        for b in listing["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "link_campaign_pick"
    )
    option = next(o for o in picker["options"] if o["value"] == campaign)
    assert "7891" not in [o["value"] for o in picker["options"] if "Retired" in o["text"]["text"]]
    clicked = bot.driver.block_action(
        user_id=ADMIN,
        action_id="link_campaign_pick",
        value={"selected_option": option},
        message=listing,
    )
    assert clicked.status_code == 200
    view = bot.wait(lambda: bot.fake.modal_stack(ADMIN))[-1]
    assert view["callback_id"] == "link_modal"
    return view


def link_form(
    recipient: str | None = MARIA, day: str | None = None, note: str | None = None
) -> dict[str, Any]:
    return {
        "link_recipient": {
            "link_recipient_select": {"type": "users_select", "selected_user": recipient}
        },
        "link_expiry": {"link_expiry_date": {"type": "datepicker", "selected_date": day}},
        "link_note": {"link_note_input": {"type": "plain_text_input", "value": note}},
    }


def test_a_campaign_picked_from_the_list_opens_a_form_that_sends_the_link(
    bot: BotHarness,
) -> None:
    view = pick_campaign(bot, "7891")
    assert "Spot Award Link (US)" in message_text(view) and "25.00 USD" in message_text(view)
    when = admin_today() + timedelta(days=60)
    submitted = bot.driver.view_submission(
        user_id=ADMIN,
        view=view,
        values=link_form(day=when.isoformat(), note="Great quarter <3 & thanks! @here"),
    )
    assert submitted.status_code == 200 and not submitted.content.strip()  # the form closes
    dm = message_text(bot.wait(lambda: bot.fake.dms_to(MARIA))[-1])
    assert ">Great quarter &lt;3 &amp; thanks! @here" in dm  # as typed, pinging nobody
    assert f"It works until *{when.day} {when:%B %Y}*" in dm
    told = bot.wait(lambda: [t for t in bot.dm_texts(ADMIN) if "reward link" in t])
    assert "I sent <@UMARIA01> a reward link worth *25.00 USD*" in told[0]
    assert "with your message" in told[0] and not LINK.search(told[0])
    (call,) = generate_calls(bot)
    assert call["variables"]["data"]["campaignId"] in (7891, "7891")
    assert call["variables"]["data"]["link_expiry"] == when.strftime("%d-%m-%Y")


def test_the_link_form_says_what_is_missing_beside_the_field(bot: BotHarness) -> None:
    view = pick_campaign(bot, "7890")
    answer = bot.driver.view_submission(
        user_id=ADMIN, view=view, values=link_form(recipient=None, day="2020-01-01")
    ).json()
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {
        "link_recipient": "Pick the person the link is for.",
        "link_expiry": "Pick a date after today.",
    }
    bot.settle()
    assert generate_calls(bot) == []
